"""Pipelined requests through the proxy to a resource host: all sent in one write before any answer is read.

    python3 pipelined_session.py PROXY_PORT CA_FILE HOST PATH BEARER [BEARER...]

Sends CONNECT HOST:443, then over TLS (trusting CA_FILE only) one GET of PATH per bearer token, all at once, then
reads the answers (Content-Length or chunked bodies) and prints their statuses, one per line, in the order they
came. Every read waits at most 30 s.
"""
import sys

from tunnel import open_tls


class Reader:
    def __init__(self, stream):
        self.stream, self.buffer = stream, b""

    def fill(self):
        chunk = self.stream.recv(65536)
        if not chunk:
            raise SystemExit("closed before every answer came")
        self.buffer += chunk

    def line(self):
        while b"\r\n" not in self.buffer:
            self.fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode("latin-1")

    def exactly(self, count):
        while len(self.buffer) < count:
            self.fill()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def answer(self):
        status = self.line().split(" ")[1]
        headers = {}
        while True:
            line = self.line()
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            self.exactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.line().split(";")[0], 16)
                self.exactly(size + 2)
                if size == 0:
                    break
        return status


def main():
    port, ca, host, path = sys.argv[1:5]
    bearers = sys.argv[5:]
    stream = open_tls(port, ca, host)
    stream.sendall(b"".join(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {bearer}\r\n\r\n".encode() for bearer in bearers))
    reader = Reader(stream)
    for _ in bearers:
        print(reader.answer(), flush=True)


main()

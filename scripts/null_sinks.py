"""Receivers that acknowledge and discard, for measuring what shipping costs TenantGate itself.

A SIEM runs on other machines; on this 2-core box any receiver takes CPU beside the proxy. These answer each sink's
protocol as its receiver does and keep nothing:

  syslog (TCP)   reads and drops; TenantGate counts a batch delivered once TCP has acknowledged it
  OTLP/HTTP      POST /v1/logs -> 200 {}
  Splunk HEC     POST /services/collector/event -> an ackId; POST /services/collector/ack -> every ackId indexed
  Sentinel       POST /TENANT/oauth2/v2.0/token -> a token; POST /dataCollectionRules/... -> 204
  webhook        POST anything else -> 200

Run it under `chrt --idle 0`: it then takes only the CPU nothing else wants. On this machine idle-priority work must
also give the core back often, or a woken proxy thread can wait for it for milliseconds (a busy loop at idle
priority, 11 ms in every 100, took the bench's 1-in-flight p99 from 0.8 to 2.0 ms; the same loop calling
`sched_yield` every 30 µs left it at 0.7 ms). So every read is at most 16 KiB and is followed by `sched_yield`, and
HTTP is parsed by hand in a few steps (`http.server` parses headers with the email package: hundreds of µs at once).

usage: null_sinks.py SYSLOG_PORT HTTP_PORT     One process, a thread per connection; counts bytes on SIGTERM.
"""
import json
import os
import re
import signal
import socket
import sys
import threading

received = {"syslog": 0, "http": 0}
CHUNK = 16 << 10
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
ACK_IDS = re.compile(rb"\d+")


def read(connection):
    data = connection.recv(CHUNK)
    os.sched_yield()
    return data


def drain_syslog(connection):
    while data := read(connection):
        received["syslog"] += len(data)


class HTTPConnection:
    acks = [0]
    lock = threading.Lock()

    def __init__(self, connection):
        self.connection, self.buffered = connection, b""

    def serve(self):
        while (request := self.request()) is not None:
            path, body = request
            self.connection.sendall(self.answer(path, body))
            os.sched_yield()

    def request(self):
        """(path, body) of the next request, or None once the client has closed."""
        while b"\r\n\r\n" not in self.buffered:
            if not (data := read(self.connection)):
                return None
            self.buffered += data
        head, _, rest = self.buffered.partition(b"\r\n\r\n")
        length = CONTENT_LENGTH.search(head)
        remaining = int(length.group(1)) if length else 0
        received["http"] += remaining
        path = head.split(b" ", 2)[1].partition(b"?")[0].decode()
        # Only the Splunk ack request's body is read; the others are counted and dropped a chunk at a time.
        keep = path.startswith("/services/collector/ack")
        body = [rest[:remaining]] if keep else []
        self.buffered = rest[remaining:]
        remaining -= min(remaining, len(rest))
        while remaining > 0:
            if not (data := read(self.connection)):
                return None
            if keep:
                body.append(data[:remaining])
            self.buffered = data[remaining:]
            remaining -= min(remaining, len(data))
        return path, b"".join(body)

    def answer(self, path, body):
        if path.endswith("/oauth2/v2.0/token"):
            return response(200, {"token_type": "Bearer", "expires_in": 3600, "access_token": "e30.e30.c2ln"})
        if path.startswith("/services/collector/event"):
            with self.lock:
                self.acks[0] += 1
                return response(200, {"text": "Success", "code": 0, "ackId": self.acks[0]})
        if path.startswith("/services/collector/ack"):
            return response(200, {"acks": {ack.decode(): True for ack in ACK_IDS.findall(body)}})
        if path.startswith("/dataCollectionRules/"):
            return response(204)
        return response(200, {})


def response(status, obj=None):
    body = b"" if obj is None else json.dumps(obj).encode()
    reason = {200: "OK", 204: "No Content"}[status]
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
            .encode() + body)


def listen(port, handle):
    server = socket.create_server(("127.0.0.1", port))  # SO_REUSEADDR is set on POSIX

    def accept():
        while True:
            connection, _ = server.accept()
            threading.Thread(target=lambda: serve(connection, handle), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def serve(connection, handle):
    with connection:
        try:
            handle(connection)
        except OSError:
            pass


def main():
    syslog_port, http_port = int(sys.argv[1]), int(sys.argv[2])
    listen(syslog_port, drain_syslog)
    listen(http_port, lambda connection: HTTPConnection(connection).serve())
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print("listening", flush=True)
    while not stopped.wait(1):
        pass
    print(json.dumps(received), flush=True)


if __name__ == "__main__":
    main()

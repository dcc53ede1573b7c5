"""A hostile resource host over TLS: it reads a request's head, then answers without end but never makes progress, for
at most 60 s a connection. `trickle` sends an answer's head one header line a second, never ending it; `extension`
sends a whole head, then a chunk-size line whose extension never ends, as fast as it is taken.

usage: endless_answer.py PORT CERTIFICATE KEY trickle|extension
"""
import socket
import ssl
import sys
import threading
import time


def answer(connection, mode):
    deadline = time.monotonic() + 60
    try:
        connection.settimeout(5)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = connection.recv(4096)
            if not chunk:
                return
            head += chunk
        if mode == "trickle":
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while time.monotonic() < deadline:
                connection.sendall(b"X-Slow: 1\r\n")
                time.sleep(1)
        else:
            connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=")
            while time.monotonic() < deadline:
                connection.sendall(b"a" * 65536)
    except OSError:
        pass
    finally:
        connection.close()


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2], sys.argv[3])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(16)
while True:
    raw, _ = server.accept()
    try:
        tls = context.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError):
        raw.close()
        continue
    threading.Thread(target=answer, args=(tls, sys.argv[4]), daemon=True).start()

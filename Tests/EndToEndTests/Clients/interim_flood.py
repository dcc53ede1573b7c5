"""A plain-HTTP origin that answers every request with interim answers (`100 Continue`) and never a final one,
for as long as its peer reads them (at most 60 s a connection). Prints, per connection, the bytes it got written
once the peer stops reading.

usage: interim_flood.py PORT
"""
import socket
import sys
import threading
import time

INTERIM = b"HTTP/1.1 100 Continue\r\n\r\n" * 512


def flood(connection):
    written = 0
    deadline = time.monotonic() + 60
    try:
        connection.settimeout(5)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = connection.recv(4096)
            if not chunk:
                return
            head += chunk
        while time.monotonic() < deadline:
            connection.sendall(INTERIM)
            written += len(INTERIM)
    except OSError:
        pass
    finally:
        print(f"written {written}", flush=True)
        connection.close()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(16)
while True:
    connection, _ = server.accept()
    threading.Thread(target=flood, args=(connection,), daemon=True).start()

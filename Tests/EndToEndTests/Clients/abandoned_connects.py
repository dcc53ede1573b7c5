"""Clients that CONNECT, or send a plain GET, to a destination that never answers and hang up at once (review 41 F2):
the proxy's connects for them must end with them, not hold a descriptor each for the whole connect timeout.

Makes a black hole (a listener that never accepts, its backlog filled, so further SYNs are dropped), then COUNT
clients each send a CONNECT or a GET (METHOD) for it through the proxy and close at once. Prints "descriptors BEFORE AFTER" (the proxy's
open descriptors before, and one second after the last client left).

usage: abandoned_connects.py PROXY_PORT PROXY_PID HOLE_PORT COUNT CONNECT|GET
"""
import os
import socket
import struct
import sys
import time

proxy_port, pid, port, count = (int(argument) for argument in sys.argv[1:5])
target = f"127.0.0.1:{port}" if sys.argv[5] == "CONNECT" else f"http://127.0.0.1:{port}/"
hole = socket.socket()
hole.bind(("127.0.0.1", port))
hole.listen(0)
fillers = []
for _ in range(4):
    filler = socket.socket()
    filler.setblocking(False)
    try:
        filler.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fillers.append(filler)
time.sleep(0.3)
before = len(os.listdir(f"/proc/{pid}/fd"))
for _ in range(count):
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.settimeout(5)
    client.connect(("127.0.0.1", proxy_port))
    client.sendall(f"{sys.argv[5]} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    time.sleep(0.002)
    client.close()
time.sleep(1)
print("descriptors", before, len(os.listdir(f"/proc/{pid}/fd")), flush=True)
for filler in fillers:
    filler.close()
hole.close()

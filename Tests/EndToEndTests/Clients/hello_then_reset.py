"""A TLS ClientHello naming SNI, sent from SOURCE to ADDRESS:443, then after WAIT seconds a reset (SO_LINGER 0): a
client that leaves before it is answered. COUNT times, one after another; prints "sent COUNT".

usage: hello_then_reset.py SNI ADDRESS SOURCE COUNT WAIT
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hello_probe import python_hello  # noqa: E402

sni, address, source, count, wait = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
hello = python_hello(sni)
for _ in range(count):
    connection = socket.socket()
    connection.bind((source, 0))
    connection.settimeout(5)
    connection.connect((address, 443))
    connection.sendall(hello)
    time.sleep(wait)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
print("sent", count)

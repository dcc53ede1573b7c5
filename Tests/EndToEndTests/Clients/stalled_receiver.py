"""A TCP receiver that accepts connections and never reads from them, as a syslog receiver whose queue is full
stops reading: its receive buffer is kept small, so a sender's writes soon find no room. Runs until killed.

usage: stalled_receiver.py PORT   (prints "listening" once it listens)
"""
import socket
import sys
import time

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
# Set before listen, so accepted connections inherit it and advertise a small window.
server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(16)
print("listening", flush=True)
held = []
while True:
    connection, _ = server.accept()
    held.append(connection)
    time.sleep(0.01)

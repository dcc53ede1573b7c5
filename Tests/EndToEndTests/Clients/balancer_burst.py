"""Connections from a trusted balancer's address that never send their PROXY protocol header.

usage: balancer_burst.py PORT SOURCE close COUNT   opens and at once closes COUNT connections; prints "closed COUNT"
       balancer_burst.py PORT SOURCE hold COUNT    opens COUNT and keeps them; prints, for the last one, the status
                                                   line it is answered within 5 s ("none" if nothing)
"""
import socket
import sys

port, source, mode, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])


def connect():
    client = socket.socket()
    client.bind((source, 0))
    client.settimeout(5)
    client.connect(("127.0.0.1", port))
    return client


if mode == "close":
    for _ in range(count):
        connect().close()
    print("closed", count)
else:
    held = [connect() for _ in range(count)]
    try:
        answer = held[-1].recv(200).split(b"\r\n")[0].decode(errors="replace")
    except socket.timeout:
        answer = "none"
    print(answer or "none")
    for client in held:
        client.close()

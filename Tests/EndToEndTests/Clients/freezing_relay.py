"""A TCP relay on loopback that can model a silent network partition: while FREEZE_FILE exists it moves no byte in
either direction and resets nothing (connections stay open; new ones are accepted and never answered), as a dropped
route or a stalled middlebox does. Ends after LIFETIME seconds.

    python3 freezing_relay.py LISTEN_PORT TARGET_PORT FREEZE_FILE LIFETIME
"""
import os
import select
import socket
import sys
import time

listen_port, target_port, freeze, lifetime = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", listen_port))
listener.listen(64)
peers = {}
end = time.monotonic() + lifetime
while time.monotonic() < end:
    frozen = os.path.exists(freeze)
    readable, _, _ = select.select([listener] + ([] if frozen else list(peers)), [], [], 0.05)
    for sock in readable:
        if sock is listener:
            client, _ = listener.accept()
            if frozen:
                peers[client] = None  # accepted during the partition, never answered
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", target_port))
            except OSError:
                client.close()
                continue
            peers[client], peers[upstream] = upstream, client
            continue
        peer = peers.get(sock)
        if peer is None:
            continue
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            for closing in (sock, peer):
                peers.pop(closing, None)
                closing.close()
            continue
        try:
            peer.sendall(data)
        except OSError:
            pass

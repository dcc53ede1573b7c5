"""Plain-http answers a client never reads, counted in the proxy's body budget (review 35 F1). Run as root; it
re-runs itself in a network namespace of its own, where TCP send buffers are capped at 64 KiB, so that an answer
nobody reads stays in the proxy rather than in the kernel. Starts an origin that answers each request with
1,000,000 bytes and `tenantgate serve`; 40 connections from 127.0.0.5 each send one GET and never read (40 MB,
past the 32 MiB an address may hold); then one more request from 127.0.0.5 and one from 127.0.0.6, both read.
Prints the two statuses ("same address NNN", "other address NNN"); everything it starts is stopped, every wait is
bounded.

usage: unread_plain_answers.py TENANTGATE_BINARY POLICIES_DIRECTORY
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

if os.environ.get("UNREAD_PLAIN_IN_NAMESPACE") != "1":
    os.environ["UNREAD_PLAIN_IN_NAMESPACE"] = "1"
    os.execvp("unshare", ["unshare", "-n", sys.executable] + sys.argv)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["sysctl", "-q", "-w", "net.ipv4.tcp_wmem=4096 16384 65536"], check=True)

BODY = b"a" * 1_000_000
origin = socket.socket()
origin.bind(("127.0.0.1", 0))
origin.listen(128)
origin_port = origin.getsockname()[1]


def answer(connection):
    try:
        connection.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = connection.recv(65536)
            if not chunk:
                return
            head += chunk
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
    except OSError:
        pass
    finally:
        connection.close()


def accept():
    while True:
        try:
            connection, _ = origin.accept()
        except OSError:
            return
        threading.Thread(target=answer, args=(connection,), daemon=True).start()


threading.Thread(target=accept, daemon=True).start()
directory = tempfile.mkdtemp()
proxy = subprocess.Popen(
    [sys.argv[1], "serve", "--listen", "127.0.0.1:0", "--policies", sys.argv[2], "--ca-cert",
     f"{directory}/ca.pem", "--ca-key", f"{directory}/ca.key", "--audit-log", f"{directory}/audit.jsonl",
     "--allow-http-port", str(origin_port), "--allow-destination", "127.0.0.0/8"],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
held = []
try:
    deadline = time.monotonic() + 20
    line = ""
    while "listening on" not in line and time.monotonic() < deadline:
        line = proxy.stdout.readline()
    proxy_port = int(line.rsplit(":", 1)[1])
    request = f"GET http://127.0.0.1:{origin_port}/x HTTP/1.1\r\nHost: 127.0.0.1:{origin_port}\r\n\r\n".encode()

    def connect(source):
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.bind((source, 0))
        client.settimeout(20)
        client.connect(("127.0.0.1", proxy_port))
        client.sendall(request)
        return client

    for _ in range(40):
        held.append(connect("127.0.0.5"))
        time.sleep(0.02)
    time.sleep(2)

    def status(source):
        client = connect(source)
        try:
            return client.recv(64).split(b" ")[1].decode()
        except (OSError, IndexError):
            return "none"
        finally:
            client.close()

    print("same address", status("127.0.0.5"), flush=True)
    print("other address", status("127.0.0.6"), flush=True)
finally:
    for client in held:
        client.close()
    proxy.kill()
    proxy.wait()

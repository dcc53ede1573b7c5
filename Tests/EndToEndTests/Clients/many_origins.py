"""One client connection naming many plain-http origins once each, then leaving (review 41 F1): the upstream
connections the proxy keeps idle for them must stay within its bound, not one descriptor per origin.

Starts ORIGINS origins (one listener each on 127.0.<2+i//250>.<1+i%250>, all on one port, answering every request
with a small keep-alive 200) and `tenantgate serve`; sends one GET per origin on one connection, reading each answer;
closes it; then prints "answered N" and "descriptors BEFORE AFTER" (the proxy's open descriptors before the client
came and once it has gone, while every origin still holds its connection open). Everything it starts is stopped,
every wait bounded.

usage: many_origins.py TENANTGATE_BINARY POLICIES_DIRECTORY ORIGINS
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

binary, policies, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
addresses = [f"127.0.{2 + i // 250}.{1 + i % 250}" for i in range(count)]
first = socket.socket()
first.bind((addresses[0], 0))
port = first.getsockname()[1]
listeners = [first] + [socket.socket() for _ in addresses[1:]]
for listener, address in zip(listeners[1:], addresses[1:]):
    listener.bind((address, port))
held = []


def answer(connection):
    connection.settimeout(60)
    try:
        while True:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                head += chunk
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        pass


def accept(listener):
    listener.listen(16)
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        held.append(connection)
        threading.Thread(target=answer, args=(connection,), daemon=True).start()


for listener in listeners:
    threading.Thread(target=accept, args=(listener,), daemon=True).start()


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


directory = tempfile.mkdtemp()
proxy = subprocess.Popen(
    [binary, "serve", "--listen", "127.0.0.1:0", "--policies", policies, "--ca-cert", f"{directory}/ca.pem",
     "--ca-key", f"{directory}/ca.key", "--audit-log", f"{directory}/audit.jsonl", "--allow-http-port", str(port),
     "--allow-destination", "127.0.0.0/8"],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    deadline = time.monotonic() + 20
    line = ""
    while "listening on" not in line and time.monotonic() < deadline:
        line = proxy.stdout.readline()
    proxy_port = int(line.rsplit(":", 1)[1])
    before = descriptors(proxy.pid)
    client = socket.create_connection(("127.0.0.1", proxy_port), timeout=20)
    answered = 0
    for address in addresses:
        client.sendall(f"GET http://{address}:{port}/ HTTP/1.1\r\nHost: {address}:{port}\r\n\r\n".encode())
        reply = b""
        while not reply.endswith(b"ok") and len(reply) < 65536:
            chunk = client.recv(4096)
            if not chunk:
                break
            reply += chunk
        if not reply.startswith(b"HTTP/1.1 200"):
            break
        answered += 1
    client.close()
    time.sleep(1)
    print("answered", answered, flush=True)
    print("descriptors", before, descriptors(proxy.pid), flush=True)
finally:
    proxy.kill()
    proxy.wait()
    for socket_ in listeners + held:
        socket_.close()

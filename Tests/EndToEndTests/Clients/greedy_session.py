"""Clients that take more than their share inside intercepted sessions, each bounded in time.

    python3 greedy_session.py upgrade-flood PROXY_PORT CA_FILE HOST PATH SECONDS [BEARER]
        Sends a GET asking to switch to a WebSocket, then 16 KiB blocks of junk for at most SECONDS without waiting
        for the answer; prints "closed after N MiB" when the proxy ends the connection, else "open after N MiB".
    python3 greedy_session.py pipeline-unread PROXY_PORT CA_FILE HOST PATH SECONDS
        Pipelines GETs of PATH (each with a 30 KB header) with a small receive buffer and never reads an answer;
        prints "blocked after N requests" once the proxy stops taking them, else "sent N requests".
    python3 greedy_session.py hold-forms PROXY_PORT CA_FILE HOST COUNT TOKEN_HOST TENANT
        Opens COUNT sessions to HOST, each posting a 1 MiB form that stops 16 bytes short, and holds them; then,
        from 127.0.0.2, posts a token request to TOKEN_HOST for TENANT; prints "held N", then that exchange's
        status. Every session closes at the end.
    python3 greedy_session.py hang-up PROXY_PORT CA_FILE HOST TENANT
        Posts a token request that the mock STS answers after 1.5 s, and closes 0.3 s after sending it.
    python3 greedy_session.py end-behind PROXY_PORT CA_FILE HOST TENANT garbage|overflow
        Posts a token request to /common that the mock STS answers after 1.5 s with a token of TENANT and, in the same
        write, what ends the session: a line that is not HTTP, or 17 pipelined GETs (one more than may wait); prints
        how many bytes came back before the proxy closed (within 5 s).
    python3 greedy_session.py stalled-downloads PROXY_PORT CA_FILE HOST COUNT PID BEARER
        Opens COUNT sessions to HOST, each starting a 1 GiB download with a 4 KiB receive buffer and reading nothing;
        prints "held N grew M MiB": how much the resident memory of process PID grew while they stalled (after 3 s).
    python3 greedy_session.py tiny-chunks PROXY_PORT CA_FILE HOST COUNT WRITES PID BEARER
        Opens COUNT sessions to HOST, each uploading WRITES writes of 2,000 1-byte chunks to /mock/stream/upload, then
        reads the mock's answer; prints "intact N grew M MiB": how many uploads the mock received whole (length and
        SHA-256), and how much the resident memory of process PID grew meanwhile.
"""
import hashlib
import socket
import sys
import time

from tunnel import open_tls, read_answer, read_answer_with_body

JUNK = b"x" * 16384


def upgrade_flood(port, ca, host, path, seconds, bearer=None):
    stream = open_tls(port, ca, host)
    authorization = f"Authorization: Bearer {bearer}\r\n" if bearer else ""
    stream.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{authorization}Connection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
    )
    stream.settimeout(5)
    sent, end = 0, time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            stream.sendall(JUNK)
            sent += len(JUNK)
    except OSError:
        print(f"closed after {sent >> 20} MiB")
        return
    print(f"open after {sent >> 20} MiB")


def pipeline_unread(port, ca, host, path, seconds):
    stream = open_tls(port, ca, host)
    stream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nx-pad: {'p' * 30000}\r\n\r\n".encode()
    stream.settimeout(3)
    sent, end = 0, time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            stream.sendall(request)
            sent += 1
    except (socket.timeout, OSError):
        print(f"blocked after {sent} requests")
        return
    print(f"sent {sent} requests")


def token_request(host, tenant, extra=""):
    body = f"grant_type=client_credentials&client_id=greedy&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default{extra}"
    return (
        f"POST /{tenant}/oauth2/v2.0/token HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def hold_forms(port, ca, host, count, token_host, tenant):
    length = 1 << 20
    head = (
        f"POST /v1.0/me HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    held = []
    try:
        for _ in range(count):
            stream = open_tls(port, ca, host)
            stream.sendall(head + b"a=" + b"b" * (length - 18))
            stream.settimeout(0.2)
            try:
                if stream.recv(100):
                    stream.close()
                    continue
            except (socket.timeout, OSError):
                pass
            held.append(stream)
        print(f"held {len(held)}")
        probe = open_tls(port, ca, token_host, source="127.0.0.2")
        probe.sendall(token_request(token_host, tenant))
        print(read_answer(probe))
    finally:
        for stream in held:
            stream.close()


def hang_up(port, ca, host, tenant):
    stream = open_tls(port, ca, host)
    stream.sendall(token_request(host, tenant, "&mock_delay_ms=1500"))
    time.sleep(0.3)
    stream.close()


def end_behind(port, ca, host, tenant, ending):
    stream = open_tls(port, ca, host)
    request = token_request(host, "common", f"&mock_tid={tenant}&mock_delay_ms=1500")
    if ending == "garbage":
        rest = b"NOT HTTP\r\n\r\n"
    else:
        rest = f"GET /common/discovery/v2.0/keys HTTP/1.1\r\nHost: {host}\r\n\r\n".encode() * 17
    stream.sendall(request + rest)
    stream.settimeout(5)
    received = b""
    try:
        while chunk := stream.recv(65536):
            received += chunk
    except OSError:
        pass
    statuses = " ".join(line.split(b" ")[1].decode() for line in received.split(b"\r\n") if line.startswith(b"HTTP/1.1 "))
    print(f"received {len(received)} bytes, statuses [{statuses}]")


def resident_mebibytes(pid):
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def stalled_downloads(port, ca, host, count, pid, bearer):
    before = resident_mebibytes(pid)
    streams = []
    for _ in range(count):
        stream = open_tls(port, ca, host)
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stream.sendall(
            f"GET /mock/stream/download?bytes={1 << 30} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {bearer}\r\n\r\n".encode()
        )
        streams.append(stream)
    time.sleep(3)
    grown = resident_mebibytes(pid) - before
    print(f"held {len(streams)} grew {grown:.0f} MiB")
    for stream in streams:
        stream.close()


def tiny_chunks(port, ca, host, count, writes, pid, bearer):
    before = resident_mebibytes(pid)
    streams = []
    for _ in range(count):
        stream = open_tls(port, ca, host)
        stream.sendall(
            f"PUT /mock/stream/upload HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {bearer}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        stream.settimeout(30)
        streams.append(stream)
    # One byte per chunk, 2,000 chunks per write, each session in turn, as fast as the proxy takes them. A number of
    # writes, not a time: what the sockets buffer in a time is up to megabytes, whose 1-byte chunks a debug build
    # under a loaded CI machine took longer to work through than the answer's timeout.
    pattern = b"".join(b"1\r\n" + bytes([65 + index % 26]) + b"\r\n" for index in range(2000))
    body = bytes(65 + index % 26 for index in range(2000))
    sent = [0] * count
    broken = set()
    grown = 0
    for _ in range(writes):
        for index, stream in enumerate(streams):
            if index in broken:
                continue
            try:
                stream.sendall(pattern)
                sent[index] += 1
            except OSError:  # a write that waited 30 s: the proxy stopped taking the upload
                broken.add(index)
        grown = max(grown, resident_mebibytes(pid) - before)
    intact = 0
    for index, stream in enumerate(streams):
        try:
            if index not in broken:
                stream.settimeout(30)
                stream.sendall(b"0\r\n\r\n")
                answer = read_answer_with_body(stream)[1].decode()
                expected = hashlib.sha256(body * sent[index]).hexdigest()
                if f'"received_bytes":{len(body) * sent[index]}' in answer and expected in answer:
                    intact += 1
        except OSError:
            pass
        stream.close()
        grown = max(grown, resident_mebibytes(pid) - before)
    print(f"intact {intact} grew {grown:.0f} MiB")



if __name__ == "__main__":
    mode, port, ca, host = sys.argv[1:5]
    rest = sys.argv[5:]
    if mode == "upgrade-flood":
        upgrade_flood(port, ca, host, rest[0], float(rest[1]), *rest[2:3])
    elif mode == "pipeline-unread":
        pipeline_unread(port, ca, host, rest[0], float(rest[1]))
    elif mode == "hold-forms":
        hold_forms(port, ca, host, int(rest[0]), rest[1], rest[2])
    elif mode == "hang-up":
        hang_up(port, ca, host, rest[0])
    elif mode == "end-behind":
        end_behind(port, ca, host, rest[0], rest[1])
    elif mode == "tiny-chunks":
        tiny_chunks(port, ca, host, int(rest[0]), int(rest[1]), rest[2], rest[3])
    elif mode == "stalled-downloads":
        stalled_downloads(port, ca, host, int(rest[0]), rest[1], rest[2])
    else:
        raise SystemExit("unknown mode " + mode)

"""A WebSocket through the proxy to a resource host.

    python3 websocket_session.py [--body-when FILE] [--echoed FILE] PROXY_PORT CA_FILE HOST PATH BEARER MESSAGE
        [HOLD_SECONDS]

Sends CONNECT HOST:443, then over TLS (trusting CA_FILE only) the upgrade request with the bearer token, and prints
the answer's status ("ended" when the connection ends before one). After a 101 it sends MESSAGE in one masked text
frame, prints the payload of the frame that comes back, then closes; a connection ended instead prints "ended". Every read waits at most 30 s. With
HOLD_SECONDS it keeps the WebSocket open instead and prints "ended" when the proxy ends the connection within that
time, else "open". With --body-when, the upgrade request carries a body of one byte, sent only once FILE exists
(waiting at most 30 s; the mock answers the upgrade once the request is whole). With --echoed, FILE is created once
the echo has come back, so a test can change the policy after it, not after a guessed time.
"""
import base64
import os
import struct
import sys
import time

from tunnel import open_tls, read_head


def read_exactly(stream, count):
    data = b""
    while len(data) < count:
        chunk = stream.recv(count - len(data))
        if not chunk:
            raise SystemExit("closed after %d of %d bytes" % (len(data), count))
        data += chunk
    return data


def send_frame(stream, opcode, payload):
    mask = os.urandom(4)
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    else:
        header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    stream.sendall(header + mask + masked)


def read_frame(stream):
    first, second = read_exactly(stream, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", read_exactly(stream, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read_exactly(stream, 8))[0]
    if second & 0x80:
        raise SystemExit("a server frame must not be masked")
    return first & 0x0F, read_exactly(stream, length)


def main():
    arguments = sys.argv[1:]
    options = {}
    while arguments[0] in ("--body-when", "--echoed"):
        options[arguments[0]] = arguments[1]
        arguments = arguments[2:]
    body_when = options.get("--body-when")
    port, ca, host, path, bearer, message = arguments[:6]
    stream = open_tls(port, ca, host)
    key = base64.b64encode(os.urandom(16)).decode()
    length = "Content-Length: 1\r\n" if body_when is not None else ""
    stream.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {bearer}\r\n"
                    f"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    f"Sec-WebSocket-Key: {key}\r\n{length}\r\n").encode())
    if body_when is not None:
        deadline = time.monotonic() + 30
        while not os.path.exists(body_when):
            if time.monotonic() > deadline:
                raise SystemExit("no %s within 30 s" % body_when)
            time.sleep(0.05)
        stream.sendall(b"x")
    try:
        status = read_head(stream).split("\r\n")[0].split(" ")[1]
    except (OSError, SystemExit):
        print("ended", flush=True)
        return
    print(status, flush=True)
    if status != "101":
        return
    try:
        send_frame(stream, 0x1, message.encode())
        opcode, payload = read_frame(stream)
    except (SystemExit, OSError):
        print("ended", flush=True)
        return
    print("text" if opcode == 0x1 else "opcode %d" % opcode, payload.decode(), flush=True)
    if "--echoed" in options:
        open(options["--echoed"], "w").close()
    if len(arguments) > 6:
        stream.settimeout(float(arguments[6]))
        try:
            print("ended" if not stream.recv(1) else "more", flush=True)
        except TimeoutError:
            print("open", flush=True)
        except OSError:
            print("ended", flush=True)
        return
    send_frame(stream, 0x8, struct.pack("!H", 1000))
    opcode, _ = read_frame(stream)
    print("closed" if opcode == 0x8 else "opcode %d" % opcode, flush=True)


main()

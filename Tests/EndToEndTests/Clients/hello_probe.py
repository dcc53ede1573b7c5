"""Sends a CONNECT through the proxy, then a TLS ClientHello of the chosen shape, and prints what happened.

    python3 hello_probe.py PROXY_PORT TARGET HELLO
    HELLO: sni:NAME | nosni | ech:PUBLIC_NAME | sslv2

Prints the CONNECT answer's status line (spaces as _) and "answered" when the far side sent bytes back after the
hello (a tunnel or an interception), "closed" when the proxy closed instead.
"""
import os
import socket
import ssl
import struct
import sys


def python_hello(server_name):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def ech_hello(public_name):
    """A TLS 1.3 ClientHello with an encrypted_client_hello extension (0xfe0d) and the public name as its SNI."""
    name = public_name.encode()
    sni = struct.pack("!HHHBH", 0x0000, len(name) + 5, len(name) + 3, 0, len(name)) + name
    ech = struct.pack("!HH", 0xFE0D, 10) + bytes([0, 0, 1, 0, 1, 7, 0, 0, 0, 0])
    extensions = sni + ech
    body = (b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
            + struct.pack("!H", len(extensions)) + extensions)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def sslv2_hello():
    """A ClientHello in the SSL 2.0-compatible format (RFC 5246 appendix E.2) asking for TLS 1.2: no extensions, so
    no SNI, and a first byte that is not a TLS record's."""
    ciphers = bytes([0x00, 0x00, 0x9C, 0x00, 0x00, 0x2F])
    challenge = os.urandom(32)
    body = bytes([0x01, 0x03, 0x03]) + struct.pack("!HHH", len(ciphers), 0, len(challenge)) + ciphers + challenge
    return struct.pack("!H", 0x8000 | len(body)) + body


def main():
    port, target, shape = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if shape == "nosni":
        hello = python_hello(None)
    elif shape.startswith("sni:"):
        hello = python_hello(shape[4:])
    elif shape.startswith("ech:"):
        hello = ech_hello(shape[4:])
    elif shape == "sslv2":
        hello = sslv2_hello()
    else:
        raise SystemExit(f"unknown hello shape {shape}")
    # The CONNECT's answer may wait for a name lookup (a slow resolver on a loaded machine): up to 30 s.
    proxy = socket.create_connection(("127.0.0.1", port), timeout=30)
    proxy.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = proxy.recv(200).split(b"\r\n")[0].decode()
    proxy.settimeout(5)
    proxy.sendall(hello)
    try:
        closed = proxy.recv(100) == b""
    except (ConnectionResetError, socket.timeout):
        closed = True
    print(head.replace(" ", "_"), "closed" if closed else "answered")


if __name__ == "__main__":
    main()

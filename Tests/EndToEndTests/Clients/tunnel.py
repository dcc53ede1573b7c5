"""What the test clients share: a CONNECT through the proxy, then TLS to the host named in it."""
import socket
import ssl


def open_tls(proxy_port, ca, host, source=None, preamble=b""):
    """CONNECT host:443 through the proxy on proxy_port (at most 30 s per read), then TLS trusting ca only.
    From the loopback address `source` when given, with `preamble` (a PROXY protocol header) sent first."""
    raw = socket.create_connection(
        ("127.0.0.1", int(proxy_port)), timeout=30, source_address=(source, 0) if source else None
    )
    raw.sendall(preamble + f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    established = read_head(raw, "the proxy closed before answering the CONNECT")
    if " 200 " not in established.split("\r\n")[0]:
        raise SystemExit("CONNECT refused: " + established)
    return ssl.create_default_context(cafile=ca).wrap_socket(raw, server_hostname=host)


def read_head(stream, closed="closed before the answer's head ended"):
    """Reads an answer's head, byte by byte so nothing after it is taken; exits with `closed` if the peer closes."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = stream.recv(1)
        if not chunk:
            raise SystemExit(closed)
        head += chunk
    return head.decode("latin-1")


def read_answer(stream):
    """Reads one HTTP/1.1 answer with a Content-Length body; returns its status code."""
    return read_answer_with_body(stream)[0]


def read_answer_with_body(stream):
    """Reads one HTTP/1.1 answer with a Content-Length body; returns its status code and its body."""
    lines = read_head(stream).split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = b""
    while len(body) < length:
        chunk = stream.recv(length - len(body))
        if not chunk:
            raise SystemExit("closed inside the answer's body")
        body += chunk
    return lines[0].split(" ")[1], body

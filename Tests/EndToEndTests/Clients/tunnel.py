"""What the test clients share: a CONNECT through the proxy, then TLS to the host named in it."""
import socket
import ssl


def open_tls(proxy_port, ca, host):
    """CONNECT host:443 through the proxy on proxy_port (at most 30 s per read), then TLS trusting ca only."""
    raw = socket.create_connection(("127.0.0.1", int(proxy_port)), timeout=30)
    raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    established = b""
    while b"\r\n\r\n" not in established:
        chunk = raw.recv(1)
        if not chunk:
            raise SystemExit("the proxy closed before answering the CONNECT")
        established += chunk
    if b" 200 " not in established.split(b"\r\n")[0]:
        raise SystemExit("CONNECT refused: " + established.decode("latin-1"))
    return ssl.create_default_context(cafile=ca).wrap_socket(raw, server_hostname=host)

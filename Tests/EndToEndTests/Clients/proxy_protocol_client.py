"""A token exchange through the proxy from a chosen loopback address, with a PROXY protocol v1 header or none first
(curl sends its --haproxy-protocol header inside the tunnel, not to the proxy, so it cannot play a balancer).

    python3 proxy_protocol_client.py PROXY_PORT CA_FILE SOURCE HEADER TENANT FORM

HEADER is `none` or `v1:ADDRESS` (the client the header names). Prints `connect STATUS` when the CONNECT is
refused, else `exchange STATUS` for POST /TENANT/oauth2/v2.0/token with FORM to login.microsoftonline.com.
"""
import sys

from tunnel import open_tls, read_answer


def main():
    port, ca, source, header, tenant, form = sys.argv[1:7]
    preamble = b""
    if header.startswith("v1:"):
        preamble = f"PROXY TCP4 {header[3:]} 127.0.0.1 40000 {port}\r\n".encode()
    try:
        stream = open_tls(port, ca, "login.microsoftonline.com", source=source, preamble=preamble)
    except SystemExit as refused:
        # "CONNECT refused: HTTP/1.1 400 Bad Request…", or the proxy closed without an answer.
        words = str(refused).split("\r\n")[0].split(" ")
        print(f"connect {words[3] if len(words) > 3 and words[2].startswith('HTTP/') else 'closed'}")
        return
    body = form.encode()
    stream.sendall(
        f"POST /{tenant}/oauth2/v2.0/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\n".encode()
        + b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    print(f"exchange {read_answer(stream)}")


if __name__ == "__main__":
    main()

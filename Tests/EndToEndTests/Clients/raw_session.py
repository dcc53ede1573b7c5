"""Sends bytes inside an intercepted session and prints how long the proxy took and the first line it answered.

    python3 raw_session.py PROXY_PORT CA_FILE HOST PAYLOAD [SECONDS]

PAYLOAD is written with Python escapes (\\r\\n). Reading stops when the proxy closes or after SECONDS (10 unless
given); prints "ELAPSED FIRST_LINE", with "<timeout>" after what arrived when the proxy neither answered nor closed.
"""
import socket
import ssl
import sys
import time

from tunnel import open_tls


def main():
    port, ca, host, payload = sys.argv[1:5]
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
    stream = open_tls(port, ca, host)
    stream.settimeout(seconds)
    start = time.monotonic()
    stream.sendall(payload.encode().decode("unicode_escape").encode("latin-1"))
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = stream.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        data += b"<timeout>"
    except (ssl.SSLError, ConnectionError):
        pass
    print("%.2f %s" % (time.monotonic() - start, data.decode("latin-1").split("\r\n")[0]))


if __name__ == "__main__":
    main()

"""One connection through the proxy to a resource host, kept open across a policy change.

    python3 resource_session.py PROXY_PORT CA_FILE HOST PATH BEARER TRIGGER_FILE

Sends CONNECT HOST:443, then over TLS (trusting CA_FILE only) GET PATH with the bearer token, prints the status,
waits (at most 30 s) until TRIGGER_FILE exists, sends the same request on the same connection and prints its status.
"""
import os
import sys
import time

from tunnel import open_tls, read_answer


def main():
    port, ca, host, path, bearer, trigger = sys.argv[1:7]
    stream = open_tls(port, ca, host)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {bearer}\r\n\r\n".encode()
    stream.sendall(request)
    print(read_answer(stream), flush=True)
    deadline = time.monotonic() + 30
    while not os.path.exists(trigger):
        if time.monotonic() > deadline:
            raise SystemExit("no trigger within 30 s")
        time.sleep(0.05)
    stream.sendall(request)
    print(read_answer(stream), flush=True)


main()

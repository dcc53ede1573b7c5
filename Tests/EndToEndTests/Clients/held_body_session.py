"""A write whose last byte is held back across a policy change.

    python3 held_body_session.py PROXY_PORT CA_FILE HOST PATH BEARER TRIGGER_FILE

Sends CONNECT HOST:443, then over TLS (trusting CA_FILE only) POST PATH with the bearer token and a JSON body of
declared length, all of it but its last byte; waits (at most 30 s) until TRIGGER_FILE exists, sends the last byte and
prints the answer's status, or "closed" when the proxy ends the connection instead.
"""
import os
import sys
import time

from tunnel import open_tls, read_answer


def main():
    port, ca, host, path, bearer, trigger = sys.argv[1:7]
    stream = open_tls(port, ca, host)
    body = b'{"message": {"subject": "held back"}}'
    stream.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {bearer}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:-1]
    )
    deadline = time.monotonic() + 30
    while not os.path.exists(trigger):
        if time.monotonic() > deadline:
            raise SystemExit("no trigger within 30 s")
        time.sleep(0.05)
    try:
        stream.sendall(body[-1:])
        print(read_answer(stream), flush=True)
    except (OSError, SystemExit):
        print("closed", flush=True)


main()

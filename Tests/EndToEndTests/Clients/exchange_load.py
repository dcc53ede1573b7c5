"""Token exchanges through one or more proxies, back to back, until a stop file appears (or a time limit passes):
the load a test keeps up while it does something else (restarts the policy store).

    python3 exchange_load.py STOP_FILE SECONDS CA MAKER_TOKEN PROXY_PORT[,PROXY_PORT...] PATH=STATUS [PATH=STATUS...]

Each exchange is a CONNECT to login.microsoftonline.com, TLS verified against CA, and a client credentials POST to
PATH; its answer must have STATUS. Prints one JSON line: exchanges made, and the first unexpected answers.
"""
import http.client
import json
import os
import ssl
import sys
import time

FORM = "grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&client_secret=s3cr3t-value"


def exchange(context, port, token, path):
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    connection.set_tunnel("login.microsoftonline.com", 443, headers={"Proxy-Authorization": f"Bearer {token}"})
    try:
        connection.request("POST", path, body=FORM,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        return connection.getresponse().status
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def main():
    stop_file, seconds, ca, token, ports = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    expectations = [(pair.rsplit("=", 1)[0], int(pair.rsplit("=", 1)[1])) for pair in sys.argv[6:]]
    context = ssl.create_default_context(cafile=ca)
    end = time.monotonic() + seconds
    made, unexpected = 0, []
    while time.monotonic() < end and not os.path.exists(stop_file):
        for port in ports.split(","):
            for path, status in expectations:
                answer = exchange(context, int(port), token, path)
                made += 1
                if answer != status and len(unexpected) < 5:
                    unexpected.append({"port": port, "path": path, "expected": str(status), "got": str(answer)})
    print(json.dumps({"exchanges": made, "unexpected": unexpected}))


main()

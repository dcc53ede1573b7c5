"""Records every POST it receives (path, JSON body, time) as one JSON line in OUTPUT, and answers 200, or 500 to a
path that starts with /fail (a webhook that is down).

usage: webhook_receiver.py PORT OUTPUT     Prints "listening" once it listens.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, output = int(sys.argv[1]), sys.argv[2]


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with open(output, "a") as out:
            out.write(json.dumps({"path": self.path, "body": json.loads(body), "received_at": time.time()}) + "\n")
        self.send_response(500 if self.path.startswith("/fail") else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", port), Receiver)
print("listening", flush=True)
server.serve_forever()

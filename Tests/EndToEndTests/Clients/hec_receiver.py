"""A Splunk HTTP Event Collector with indexer acknowledgement, for the shipper's tests.

POST /services/collector/event needs `Authorization: Splunk TOKEN` and `X-Splunk-Request-Channel`; its body is
events, one JSON object after another, each with time, host, source, sourcetype and event. It answers an ackId;
POST /services/collector/ack?channel=... says an ackId is indexed only from its second poll on, and only then are
its events written to OUTPUT (one JSON line each, with the time), as an indexer would make them searchable. The first
REFUSE_FIRST event posts get 503 "Server is busy".

usage: hec_receiver.py PORT OUTPUT TOKEN [REFUSE_FIRST [CERTIFICATE KEY]]     Prints "listening" once it listens;
with a certificate and its key, over TLS.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, output, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
refuse = [int(sys.argv[4]) if len(sys.argv) > 4 else 0]
pending = {}  # ackId -> (polls so far, events)
next_ack = [0]


class Collector(BaseHTTPRequestHandler):
    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
        if self.headers.get("authorization") != "Splunk " + token:
            return self.answer(401, {"text": "Invalid token", "code": 4})
        if not self.headers.get("x-splunk-request-channel"):
            return self.answer(400, {"text": "Data channel is missing", "code": 10})
        if self.path.startswith("/services/collector/event"):
            if refuse[0] > 0:
                refuse[0] -= 1
                return self.answer(503, {"text": "Server is busy", "code": 9})
            decoder, events, index = json.JSONDecoder(), [], 0
            while index < len(body):
                while index < len(body) and body[index].isspace():
                    index += 1
                if index == len(body):
                    break
                event, index = decoder.raw_decode(body, index)
                for field in ("time", "host", "source", "sourcetype", "event"):
                    if field not in event:
                        return self.answer(400, {"text": "Event field is required", "code": 12})
                events.append(event)
            ack = next_ack[0]
            next_ack[0] += 1
            pending[ack] = [0, events]
            return self.answer(200, {"text": "Success", "code": 0, "ackId": ack})
        if self.path.startswith("/services/collector/ack"):
            acks = {}
            for ack in json.loads(body)["acks"]:
                entry = pending.get(ack)
                if entry is None:
                    acks[str(ack)] = False
                    continue
                entry[0] += 1
                indexed = entry[0] >= 2
                if indexed and entry[1] is not None:
                    with open(output, "a") as out:
                        for event in entry[1]:
                            out.write(json.dumps(dict(event, received_at=time.time())) + "\n")
                    entry[1] = None
                acks[str(ack)] = indexed
            return self.answer(200, {"acks": acks})
        return self.answer(404, {"text": "not found"})

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", port), Collector)
if len(sys.argv) > 6:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[5], sys.argv[6])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("listening", flush=True)
server.serve_forever()

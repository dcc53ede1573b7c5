"""The Azure Monitor Logs Ingestion API, for the shipper's Sentinel sink: POST
/dataCollectionRules/DCR/streams/STREAM?api-version=2023-01-01 with a bearer JWT and a JSON array of at most 1 MB,
each row holding the ASIM fields its schema makes mandatory (Authentication 0.1.3, AuditEvent 0.1), else 400.
Answers 204 and writes each row to OUTPUT as one JSON line; the first request gets 429 with Retry-After: 1.
POST /TENANT/oauth2/v2.0/token stands in for Entra when the measurement script has no STS: a JWT-shaped token.

usage: sentinel_ingestion.py PORT OUTPUT     Prints "listening" once it listens.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, output = int(sys.argv[1]), sys.argv[2]
throttled = [False]
COMMON = ["TimeGenerated", "EventCount", "EventStartTime", "EventEndTime", "EventType", "EventResult",
          "EventProduct", "EventVendor", "EventSchema", "EventSchemaVersion", "Dvc"]
MANDATORY = {
    ("Authentication", "0.1.3"): COMMON,
    ("AuditEvent", "0.1"): COMMON + ["Operation", "Object", "ObjectType"],
}


class Ingestion(BaseHTTPRequestHandler):
    def refuse(self, status, message, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(json.dumps({"error": {"code": status, "message": message}}).encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        path, _, query = self.path.partition("?")
        if path.endswith("/oauth2/v2.0/token") and b"grant_type=client_credentials" in body:
            answer = json.dumps({"token_type": "Bearer", "expires_in": 3600, "access_token": "e30.e30.c2ln"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            return
        parts = path.strip("/").split("/")
        if len(parts) != 4 or parts[0] != "dataCollectionRules" or parts[2] != "streams" \
                or query != "api-version=2023-01-01":
            return self.refuse(404, "unknown rule or stream: " + self.path)
        bearer = self.headers.get("authorization", "")
        if not bearer.startswith("Bearer ") or bearer[7:].count(".") != 2:
            return self.refuse(401, "a bearer token is required")
        if len(body) > 1_000_000:
            return self.refuse(413, "the call is larger than 1 MB")
        if not throttled[0]:
            throttled[0] = True
            return self.refuse(429, "too many requests", [("retry-after", "1")])
        rows = json.loads(body)
        for row in rows:
            schema = (row.get("EventSchema"), row.get("EventSchemaVersion"))
            missing = [field for field in MANDATORY.get(schema, ["EventSchema"]) if row.get(field) in (None, "")]
            if missing:
                return self.refuse(400, "missing %s for %s" % (missing, schema))
        with open(output, "a") as out:
            for row in rows:
                out.write(json.dumps({"stream": parts[3], "rule": parts[1], "row": row, "received_at": time.time()}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", port), Ingestion)
print("listening", flush=True)
server.serve_forever()

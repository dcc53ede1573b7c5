"""An OTLP/HTTP logs receiver for the shipper's tests, built on the published protobuf definitions
(opentelemetry-proto): each request's JSON is parsed strictly into ExportLogsServiceRequest (an unknown field or a
wrong type is a 400), and every log record is written to OUTPUT as one JSON line, with the time it arrived.

usage: otlp_receiver.py PORT OUTPUT [REFUSE_FIRST [lenient]]   (the first REFUSE_FIRST requests get 503,
Retry-After: 1; REFUSE_FIRST may instead be a JSON list of Retry-After values, one refusal each, as a hostile or
broken sink would say them, where "trickle" instead answers 200 and sends its 64 KiB body a byte every half second,
for at most two minutes, and "redirect" answers 302 to /moved, where a GET or a POST gets 200 and records nothing; `lenient` reads the JSON without the protobuf definitions, which are slower than 5,000 records a
second: for measuring the shipper, not for checking what it sends). Prints "listening" once it listens.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

port, output = int(sys.argv[1]), sys.argv[2]
refusals = json.loads(sys.argv[3]) if len(sys.argv) > 3 else 0
retry_after = refusals if isinstance(refusals, list) else ["1"] * refusals
lenient = len(sys.argv) > 4 and sys.argv[4] == "lenient"


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/moved":
            return self.answer_moved()
        if retry_after and retry_after[0] == "trickle":
            retry_after.pop(0)
            return self.trickle()
        if retry_after and retry_after[0] == "redirect":
            retry_after.pop(0)
            self.send_response(302)
            self.send_header("location", "/moved")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if retry_after:
            self.send_response(503)
            self.send_header("retry-after", retry_after.pop(0))
            self.end_headers()
            return
        if lenient:
            return self.record_leniently(json.loads(body))
        try:
            request = json_format.Parse(body, ExportLogsServiceRequest())
        except json_format.ParseError as error:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(str(error).encode())
            return
        with open(output, "a") as out:
            for resource_logs in request.resource_logs:
                resource = {a.key: value(a.value) for a in resource_logs.resource.attributes}
                for scope_logs in resource_logs.scope_logs:
                    for record in scope_logs.log_records:
                        out.write(json.dumps({
                            "received_at": time.time(),
                            "path": self.path,
                            "content_type": self.headers.get("content-type"),
                            "resource": resource,
                            "scope": scope_logs.scope.name,
                            "time_unix_nano": record.time_unix_nano,
                            "severity_number": record.severity_number,
                            "severity_text": record.severity_text,
                            "body": record.body.string_value,
                            "attributes": {a.key: value(a.value) for a in record.attributes},
                        }) + "\n")
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self):
        if self.path != "/moved":
            self.send_response(404)
            self.end_headers()
            return
        self.answer_moved()

    def answer_moved(self):
        """A login page or a moved collector: a 200 that took no record."""
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def trickle(self):
        self.send_response(200)
        self.send_header("content-length", str(64 * 1024))
        self.end_headers()
        try:
            for _ in range(240):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the sender gave up and closed the connection
        self.close_connection = True

    def record_leniently(self, request):
        def plain(value):
            if "arrayValue" in value:
                return [plain(v) for v in value["arrayValue"].get("values", [])]
            return next(iter(value.values()))
        with open(output, "a") as out:
            for resource_logs in request["resourceLogs"]:
                for scope_logs in resource_logs["scopeLogs"]:
                    for record in scope_logs["logRecords"]:
                        out.write(json.dumps({
                            "received_at": time.time(),
                            "attributes": {a["key"]: plain(a["value"]) for a in record.get("attributes", [])},
                        }) + "\n")
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", port), Receiver)
print("listening", flush=True)
server.serve_forever()

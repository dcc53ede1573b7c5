"""Receivers that acknowledge and discard, for measuring what shipping costs TenantGate itself.

A SIEM runs on other machines; on this 2-core box the end-to-end tests' receivers (which parse every line) would
measure their own parsing. These answer each sink's protocol as its receiver does and keep nothing:

  syslog (TCP)   reads and drops; TenantGate counts a batch delivered once TCP has acknowledged it
  OTLP/HTTP      POST /v1/logs -> 200 {}
  Splunk HEC     POST /services/collector/event -> an ackId; POST /services/collector/ack -> every ackId indexed
  Sentinel       POST /TENANT/oauth2/v2.0/token -> a token; POST /dataCollectionRules/... -> 204
  webhook        POST anything else -> 200

usage: null_sinks.py SYSLOG_PORT HTTP_PORT     One process, a thread per connection; counts bytes on SIGTERM.
"""
import json
import signal
import socketserver
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

received = {"syslog": 0, "http": 0}


class Syslog(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(1 << 16)
            if not data:
                return
            received["syslog"] += len(data)


class Acknowledging(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    acks = [0]

    def log_message(self, *_):
        pass

    def answer(self, status, obj=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        received["http"] += len(body)
        path = self.path.partition("?")[0]
        if path.endswith("/oauth2/v2.0/token"):
            return self.answer(200, {"token_type": "Bearer", "expires_in": 3600, "access_token": "e30.e30.c2ln"})
        if path.startswith("/services/collector/event"):
            self.acks[0] += 1
            return self.answer(200, {"text": "Success", "code": 0, "ackId": self.acks[0]})
        if path.startswith("/services/collector/ack"):
            return self.answer(200, {"acks": {str(ack): True for ack in json.loads(body)["acks"]}})
        if path.startswith("/dataCollectionRules/"):
            return self.answer(204)
        return self.answer(200, {})


def main():
    syslog_port, http_port = int(sys.argv[1]), int(sys.argv[2])
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    syslog = socketserver.ThreadingTCPServer(("127.0.0.1", syslog_port), Syslog)
    syslog.daemon_threads = True
    http = ThreadingHTTPServer(("127.0.0.1", http_port), Acknowledging)
    http.daemon_threads = True
    threading.Thread(target=syslog.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: (print(json.dumps(received), flush=True), sys.exit(0)))
    print("listening", flush=True)
    http.serve_forever()


if __name__ == "__main__":
    main()

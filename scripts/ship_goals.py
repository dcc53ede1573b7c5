"""The shipping goals of issue 27, measured with `tenantgate ship` and real receivers on loopback.

1. Lag: audit lines appended at RATE lines/s for SECONDS, shipped to rsyslog (syslog over TCP), the OTLP receiver
   (reading leniently: the protobuf definitions' JSON parser is slower than the rate; the tests parse strictly),
   the Splunk HEC mock (indexer acknowledgement) and the Sentinel ingestion mock at once; per sink, the p50/p99 of
   (time the receiver got the line - the line's own time).
2. Alerts: among those lines, NEW_PAIRS lines of tenant pairs never seen before, spread over the run; the p99 of
   (webhook received - line time).
3. Loss: rsyslog stopped for OUTAGE seconds while lines keep coming, the shipper killed with SIGKILL during the
   outage and started again, rsyslog started again; every line must arrive, and what arrived twice is counted.

usage: ship_goals.py --bin TENANTGATE --rate 5000 --seconds 60 --outage 600 --new-pairs 100
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "EndToEndTests", "Clients")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, process, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a receiver exited early ({process.args[:3]})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def start(args, port):
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, process)
    return process


def stop(process, sig=signal.SIGTERM):
    if process and process.poll() is None:
        process.send_signal(sig)
        process.wait(timeout=30)


class Rsyslog:
    def __init__(self, directory, port):
        self.port, self.output = port, os.path.join(directory, "rsyslog.log")
        self.config = os.path.join(directory, "rsyslog.conf")
        with open(self.config, "w") as out:
            out.write(f'''global(workDirectory="{directory}")
module(load="imtcp")
template(name="timed" type="string" string="%timegenerated:::date-rfc3339% %rawmsg%\\n")
ruleset(name="received") {{ action(type="omfile" file="{self.output}" template="timed") }}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="received")
''')
        self.pid = os.path.join(directory, "rsyslog.pid")
        self.process = None

    def start(self):
        if os.path.exists(self.pid):
            os.remove(self.pid)
        self.process = start(["/usr/sbin/rsyslogd", "-n", "-f", self.config, "-i", self.pid], self.port)

    def stop(self):
        stop(self.process)

    def received(self):
        """(correlation id, received at) for every message, in order."""
        seen = []
        if not os.path.exists(self.output):
            return seen
        with open(self.output) as lines:
            for line in lines:
                at, _, rest = line.partition(" ")
                marker = rest.find('correlation_id="')
                if marker < 0:
                    continue
                ident = rest[marker + 16:rest.index('"', marker + 16)]
                seen.append((ident, datetime.fromisoformat(at).timestamp()))
        return seen


def json_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def iso(at):
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def start_test_receivers(directory, ports, token):
    """The end-to-end tests' receivers for OTLP (read leniently), Splunk HEC (with `token`), Sentinel and webhooks,
    each writing what it got in `directory`; rsyslog is started on its own (`Rsyslog`)."""
    python = sys.executable
    return [
        start([python, f"{CLIENTS}/otlp_receiver.py", str(ports["otlp"]), f"{directory}/otlp.jsonl", "0", "lenient"],
              ports["otlp"]),
        start([python, f"{CLIENTS}/hec_receiver.py", str(ports["hec"]), f"{directory}/hec.jsonl", token],
              ports["hec"]),
        start([python, f"{CLIENTS}/sentinel_ingestion.py", str(ports["sentinel"]), f"{directory}/sentinel.jsonl"],
              ports["sentinel"]),
        start([python, f"{CLIENTS}/webhook_receiver.py", str(ports["webhook"]), f"{directory}/webhook.jsonl"],
              ports["webhook"]),
    ]


def sink_arguments(ports, secret, state):
    """Every sink and the alerts, as `tenantgate ship` and `serve` take them: syslog, OTLP, Splunk and Sentinel (its
    token from the ingestion mock) on `ports`, the secrets from the file `secret`, positions in `state`."""
    sentinel = (f"sentinel+http://127.0.0.1:{ports['sentinel']}/dataCollectionRules/dcr-1/streams/Custom-TenantGate"
                f"?tenant=contoso.onmicrosoft.com&client_id=app&authority=http://127.0.0.1:{ports['sentinel']}")
    return ["--ship-state", state,
            "--ship", f"syslog://127.0.0.1:{ports['syslog']}", "--ship", f"otlp+http://127.0.0.1:{ports['otlp']}",
            "--ship", f"splunk+http://127.0.0.1:{ports['hec']}", "--ship", sentinel,
            "--ship-secret", f"splunk={secret}", "--ship-secret", f"sentinel={secret}",
            "--alert-webhook", f"http://127.0.0.1:{ports['webhook']}/hook", "--alert-refusals-per-minute", "0"]


class Writer(threading.Thread):
    """Appends audit-shaped lines at `rate` per second, each with its own time and correlation ID; every
    `pair_every`-th line names a tenant pair not seen before."""

    def __init__(self, path, rate, seconds, prefix, pairs=0):
        super().__init__(daemon=True)
        self.path, self.rate, self.seconds, self.prefix, self.pairs = path, rate, seconds, prefix, pairs
        self.written = {}  # correlation id -> line time
        self.pair_lines = {}  # pair -> line time

    def run(self):
        total = self.rate * self.seconds
        pair_every = max(1, total // self.pairs) if self.pairs else 0
        started = time.time()
        with open(self.path, "a", buffering=1 << 16) as out:
            for index in range(total):
                due = started + index / self.rate
                delay = due - time.time()
                if delay > 0:
                    time.sleep(delay)
                now = time.time()
                ident = f"{self.prefix}-{index}"
                creator, sign_in = "bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0", "0da59725-89fe-4a2f-bf22-fd4536c9baac"
                if pair_every and index % pair_every == 0 and len(self.pair_lines) < self.pairs:
                    sign_in = f"00000000-0000-4000-8000-{len(self.pair_lines):012d}"
                    self.pair_lines[sign_in] = now
                out.write(json.dumps({
                    "time": iso(now), "decision": "allowed", "directions": [], "creator_tenant": creator,
                    "sign_in_tenant": sign_in, "host": "login.microsoftonline.com", "path": "/token",
                    "client_id": "e002ab83-2360-4092-bd0b-5a4c52f2f15a", "reason": "measured", "rule": None,
                    "correlation_id": ident, "setting": "tenantIsolation",
                }) + "\n")
                self.written[ident] = now
                if index % 100 == 99:
                    out.flush()


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--outage", type=int, default=600)
    parser.add_argument("--new-pairs", type=int, default=100)
    options = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="tenantgate-ship-goals-")
    audit = os.path.join(directory, "audit.jsonl")
    open(audit, "w").close()
    secret = os.path.join(directory, "secret")
    with open(secret, "w") as out:
        out.write("s3cr3t\n")
    os.chmod(secret, 0o600)
    ports = {name: free_port() for name in ("syslog", "otlp", "hec", "sentinel", "webhook")}
    rsyslog = Rsyslog(directory, ports["syslog"])
    rsyslog.start()
    receivers = start_test_receivers(directory, ports, token="s3cr3t")
    ship = [options.bin, "ship", "--audit-log", audit] + sink_arguments(ports, secret, f"{directory}/state")
    log = open(f"{directory}/ship.log", "a")
    shipper = subprocess.Popen(ship, stdout=log, stderr=log)
    time.sleep(1)
    try:
        # 1 and 2: lag and alerts at the rate.
        writer = Writer(audit, options.rate, options.seconds, "lag", options.new_pairs)
        writer.start()
        writer.join()
        expected = len(writer.written)
        sinks = {
            "syslog": lambda: rsyslog.received(),
            "otlp": lambda: [(r["attributes"].get("tenantgate.correlation_id"), r["received_at"])
                             for r in json_lines(f"{directory}/otlp.jsonl")],
            "splunk": lambda: [(r["event"]["correlation_id"], r["received_at"])
                               for r in json_lines(f"{directory}/hec.jsonl")],
            "sentinel": lambda: [(r["row"]["EventOriginalUid"], r["received_at"])
                                 for r in json_lines(f"{directory}/sentinel.jsonl")],
        }
        deadline = time.time() + 120
        while time.time() < deadline and any(
                len({i for i, _ in read() if i and i.startswith("lag-")}) < expected for read in sinks.values()):
            time.sleep(1)
        print(f"lag: {expected} lines at {options.rate}/s for {options.seconds} s, every sink at once")
        for name, read in sinks.items():
            first = {}
            for ident, at in read():
                if ident and ident.startswith("lag-") and ident not in first:
                    first[ident] = at
            lags = [first[i] - writer.written[i] for i in first]
            print(f"  {name:9} {len(first)}/{expected} lines, lag p50 {percentile(lags, 0.5):.2f} s, "
                  f"p99 {percentile(lags, 0.99):.2f} s, max {max(lags, default=float('nan')):.2f} s")
        alerts = {p["body"]["sign_in_tenant"]: p["received_at"] for p in json_lines(f"{directory}/webhook.jsonl")
                  if p["body"].get("alert") == "new_tenant_pair" and p["body"]["sign_in_tenant"] in writer.pair_lines}
        delays = [alerts[p] - at for p, at in writer.pair_lines.items() if p in alerts]
        print(f"alerts: {len(alerts)}/{len(writer.pair_lines)} new pairs raised, delay p50 "
              f"{percentile(delays, 0.5):.2f} s, p99 {percentile(delays, 0.99):.2f} s")

        # 3: an outage of the syslog receiver, and a kill -9 of the shipper in the middle of it.
        rsyslog.stop()
        outage = Writer(audit, max(1, options.rate // 10), options.outage, "outage")
        outage.start()
        time.sleep(options.outage / 2)
        shipper.send_signal(signal.SIGKILL)
        shipper.wait()
        shipper = subprocess.Popen(ship, stdout=log, stderr=log)
        outage.join()
        rsyslog.start()
        wanted = set(outage.written)
        deadline = time.time() + 300
        while time.time() < deadline and not wanted <= {i for i, _ in rsyslog.received()}:
            time.sleep(1)
        received = [i for i, _ in rsyslog.received() if i.startswith("outage-")]
        missing = wanted - set(received)
        print(f"loss: {options.outage} s syslog outage, shipper killed (SIGKILL) at {options.outage // 2} s and "
              f"restarted: {len(wanted)} lines written, {len(missing)} lost, {len(received) - len(set(received))} "
              f"sent twice")
        return 1 if missing else 0
    finally:
        stop(shipper, signal.SIGKILL)
        rsyslog.stop()
        for receiver in receivers:
            stop(receiver, signal.SIGKILL)
        log.close()
        print(f"(files in {directory})")


if __name__ == "__main__":
    sys.exit(main())

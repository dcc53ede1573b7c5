"""What shipping costs a line, in CPU: `tenantgate ship` over a backlog of decision lines, to receivers that answer
and discard (`null_sinks.py`, at idle priority), until every sink's saved position is at the end of the file; the
shipper's user and system time from /proc divided by the lines.

A backlog lets the sinks drift apart (Splunk waits for its acknowledgements), so lines parsed once for every sink
are parsed again more often than when following a live file: an upper bound of the live cost.

usage: ship_cpu_per_line.py --bin TENANTGATE [--bin OTHER ...] --lines 100000 --rounds 2 \
       --sinks "syslog otlp splunk sentinel alerts"
Several binaries are run in turn, round after round, so a change of the machine's speed falls on each alike.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

from ship_goals import free_port

NULL_SINKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "null_sinks.py")
SINKS = ("syslog", "otlp", "splunk", "sentinel", "alerts")


def decision_line(number):
    """A line as the proxy writes an allowed exchange, with its own time and correlation ID; 50 tenant pairs."""
    return json.dumps({
        "time": "2026-12-05T20:%02d:%02d.%03dZ" % (number // 60000 % 60, number // 1000 % 60, number % 1000),
        "decision": "allowed", "directions": ["outbound"],
        "creator_tenant": "bb1b10fb-a1ff-4ca4-b979-03fcf4af%04d" % (number % 50),
        "sign_in_tenant": "8ac90d1b-d459-4375-a421-dd0005f9d0d1", "host": "login.microsoftonline.com",
        "path": "/8ac90d1b-d459-4375-a421-dd0005f9d0d1/oauth2/v2.0/token",
        "client_id": "e002ab83-2360-4092-bd0b-5a4c52f2f15a", "setting": "outbound, users and groups",
        "reason": "the creator tenant's outbound rule for the sign-in tenant allows this connection",
        "rule": "fabrikam.onmicrosoft.com", "correlation_id": str(uuid.UUID(int=number)), "error_code": None,
    }, separators=(",", ":"))


def sink_arguments(sinks, syslog_port, http_port, secret):
    arguments = []
    if "syslog" in sinks:
        arguments += ["--ship", f"syslog://127.0.0.1:{syslog_port}"]
    if "otlp" in sinks:
        arguments += ["--ship", f"otlp+http://127.0.0.1:{http_port}"]
    if "splunk" in sinks:
        arguments += ["--ship", f"splunk+http://127.0.0.1:{http_port}", "--ship-secret", f"splunk={secret}"]
    if "sentinel" in sinks:
        arguments += ["--ship", f"sentinel+http://127.0.0.1:{http_port}/dataCollectionRules/dcr-1/streams/"
                      f"Custom-TenantGate?tenant=contoso.onmicrosoft.com&client_id=app"
                      f"&authority=http://127.0.0.1:{http_port}", "--ship-secret", f"sentinel={secret}"]
    if "alerts" in sinks:
        arguments += ["--alert-webhook", f"http://127.0.0.1:{http_port}/hook", "--alert-refusals-per-minute", "0"]
    return arguments


def shipped_to_end(state, sinks, size):
    """Whether every sink, and the alerts, have saved a position at the end of the file."""
    done = 0
    for name in os.listdir(state) if os.path.isdir(state) else []:
        if name.endswith(".position.json"):
            try:
                with open(os.path.join(state, name)) as file:
                    done += json.load(file).get("offset", 0) >= size
            except (OSError, ValueError):
                pass  # being written
    return done >= len(sinks)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def measure(binary, audit, lines, sinks, directory):
    """(user, system) µs a line, wall seconds."""
    size = os.path.getsize(audit)
    syslog_port, http_port = free_port(), free_port()
    receivers = subprocess.Popen(["chrt", "--idle", "0", sys.executable, NULL_SINKS, str(syslog_port),
                                  str(http_port)], stdout=subprocess.PIPE, text=True)
    receivers.stdout.readline()
    secret = os.path.join(directory, "secret")
    with open(secret, "w") as file:
        file.write("s3cret\n")
    os.chmod(secret, 0o600)
    state = tempfile.mkdtemp(dir=directory, prefix="state-")
    log = open(os.path.join(directory, "ship.log"), "a")
    start = time.monotonic()
    shipper = subprocess.Popen([binary, "ship", "--audit-log", audit, "--ship-state", state]
                               + sink_arguments(sinks, syslog_port, http_port, secret), stdout=log, stderr=log)
    try:
        while not shipped_to_end(state, sinks, size):
            if shipper.poll() is not None:
                sys.exit(f"the shipper stopped (status {shipper.returncode}); see {log.name}")
            if time.monotonic() - start > 300:
                sys.exit(f"not shipped within 300 s; see {log.name}")
            time.sleep(0.1)
        wall = time.monotonic() - start
        user, system = cpu_seconds(shipper.pid)
    finally:
        shipper.terminate()
        shipper.wait()
        receivers.terminate()
        receivers.wait()
    return user * 1e6 / lines, system * 1e6 / lines, wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", action="append", required=True)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sinks", default=" ".join(SINKS))
    options = parser.parse_args()
    sinks = options.sinks.split()
    if unknown := [sink for sink in sinks if sink not in SINKS]:
        sys.exit(f"unknown sinks {unknown}: use {', '.join(SINKS)}")
    directory = tempfile.mkdtemp(prefix="tenantgate-ship-cpu-")
    audit = os.path.join(directory, "audit.jsonl")
    with open(audit, "w") as file:
        for number in range(options.lines):
            file.write(decision_line(number) + "\n")
    print(f"{options.lines:,} lines, {os.path.getsize(audit) / options.lines:.0f} bytes each; sinks: {' '.join(sinks)}")
    for round_number in range(1, options.rounds + 1):
        for binary in options.bin:
            user, system, wall = measure(binary, audit, options.lines, sinks, directory)
            print(f"round {round_number} {binary}: {user + system:.1f} µs a line (user {user:.1f}, system "
                  f"{system:.1f}), {wall:.1f} s")
    print(f"files in {directory}")


if __name__ == "__main__":
    main()

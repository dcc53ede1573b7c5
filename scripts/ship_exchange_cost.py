"""Issue 27's last goal, measured: what shipping to every sink costs the token exchange, as a ratio to Squid.

Each round runs the shared bench (`../shared/bench/run-peers.sh`, Squid and TenantGate, the settings asked) twice:
once with TenantGate's defaults, once with every sink on (`--ship` to rsyslog, the OTLP receiver, the Splunk HEC
mock and the Sentinel ingestion mock, and `--alert-webhook`). Within each run TenantGate's figure is divided by
Squid's, so a change of the machine's speed between runs cancels out; the script prints, per setting, the median
over the rounds of each run's ratio, and how much worse the ratio is with shipping (goal: p99 less than 2% worse).

The receivers stand for a SIEM on other machines. RECEIVERS=null (the default) runs `null_sinks.py`, which answers
every sink's protocol and keeps nothing, under `chrt --idle 0` and giving the core back after every read of 16 KiB
(see its docstring: idle priority alone still stalled the proxy), so on this 2-core machine it takes only the CPU
that the proxy, Squid, the mock STS and the load generator leave; RECEIVERS=tests runs the end-to-end tests' receivers
(which parse every line) and rsyslog as ordinary processes beside the proxy: the worst case.

usage: ship_exchange_cost.py --bin TENANTGATE --bench ../shared/bench --settings "ka16 ka1" --rounds 3 \
       [--receivers null|tests]
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile

from ship_goals import Rsyslog, free_port, sink_arguments, start, start_test_receivers, stop


def bench(bench_dir, binary, settings, extra_args):
    """One run of the shared bench: {(peer, setting): loadgen result with the proxy's CPU}."""
    environment = dict(os.environ, TENANTGATE_BIN=binary, PEERS="squid tenantgate", SETTINGS=settings,
                       REPEAT="1", TENANTGATE_ARGS=extra_args)
    run = subprocess.run(["./run-peers.sh"], cwd=bench_dir, env=environment, capture_output=True, text=True,
                         timeout=900)
    if run.returncode != 0:
        sys.exit(f"the shared bench failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    written = re.search(r"wrote (\S+\.md) and (\S+\.jsonl)", run.stdout)
    results = {}
    with open(os.path.join(bench_dir, written.group(2))) as lines:
        for line in lines:
            record = json.loads(line)
            if record["kind"] == "check" and not record["verdict"]["ok"]:
                sys.exit(f"a behaviour check failed: {record}")
            if record["kind"] == "run":
                result = record["loadgen"]
                result["cpu_us"] = record["proxy_cpu_s"] * 1e6 / max(1, result["requests"])
                results[(record["peer"], record["setting"])] = result
    return results, written.group(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--bench", required=True)
    parser.add_argument("--settings", default="ka16 ka1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--receivers", choices=("null", "tests"), default="null")
    options = parser.parse_args()
    binary = os.path.abspath(options.bin)
    directory = tempfile.mkdtemp(prefix="tenantgate-ship-cost-")
    secret = os.path.join(directory, "secret")
    with open(secret, "w") as out:
        out.write("s3cr3t\n")
    os.chmod(secret, 0o600)
    if options.receivers == "null":
        syslog_port, http_port = free_port(), free_port()
        receivers = [start(["chrt", "--idle", "0", sys.executable,
                            os.path.join(os.path.dirname(__file__), "null_sinks.py"), str(syslog_port),
                            str(http_port)], http_port)]
        ports = {"syslog": syslog_port, "otlp": http_port, "hec": http_port, "sentinel": http_port,
                 "webhook": http_port}
    else:
        ports = {name: free_port() for name in ("syslog", "otlp", "hec", "sentinel", "webhook")}
        rsyslog = Rsyslog(directory, ports["syslog"])
        rsyslog.start()
        receivers = [rsyslog.process] + start_test_receivers(directory, ports, token="s3cr3t")
    # TENANTGATE_ARGS is split on spaces by the bench: no argument here has one.
    shipping = " ".join(sink_arguments(ports, secret, f"{directory}/state"))
    settings = options.settings.split()
    ratios = {(setting, shipped): {"rps": [], "p99": [], "cpu_us": []} for setting in settings
              for shipped in (False, True)}
    try:
        for round_number in range(1, options.rounds + 1):
            for shipped in (False, True):
                results, report = bench(options.bench, binary, options.settings, shipping if shipped else "")
                label = "every sink on" if shipped else "no shipping  "
                for setting in settings:
                    ours, squid = results[("tenantgate", setting)], results[("squid", setting)]
                    for key, value in (("rps", ours["rps"] / squid["rps"]),
                                       ("p99", ours["latency_ms"]["p99"] / squid["latency_ms"]["p99"]),
                                       ("cpu_us", ours["cpu_us"] / squid["cpu_us"])):
                        ratios[(setting, shipped)][key].append(value)
                    print(f"round {round_number} {label} {setting}: TenantGate {ours['rps']:,.0f} req/s p99 "
                          f"{ours['latency_ms']['p99']:.2f} ms {ours['cpu_us']:.0f} µs/req | Squid "
                          f"{squid['rps']:,.0f} req/s p99 {squid['latency_ms']['p99']:.2f} ms "
                          f"{squid['cpu_us']:.0f} µs/req ({report})", flush=True)
        print(f"\nmedian over {options.rounds} rounds of TenantGate ÷ Squid in the same run "
              f"(receivers: {options.receivers})")
        print("| setting | figure | no shipping | every sink on | change |")
        print("|---|---|---:|---:|---:|")
        for setting in settings:
            for key, name in (("p99", "p99 latency"), ("rps", "requests/s"), ("cpu_us", "CPU per request")):
                off = statistics.median(ratios[(setting, False)][key])
                on = statistics.median(ratios[(setting, True)][key])
                print(f"| {setting} | {name} | {off:.3f}x | {on:.3f}x | {100 * (on / off - 1):+.1f}% |")
        positions = sorted(os.listdir(os.path.join(directory, "state"))) if os.path.isdir(
            os.path.join(directory, "state")) else []
        print(f"\nshipping state: {', '.join(positions)} (files in {directory})")
        return 0
    finally:
        for receiver in receivers:
            stop(receiver)


if __name__ == "__main__":
    sys.exit(main())

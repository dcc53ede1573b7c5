"""Slow clients against TenantGate, and what an ordinary client feels meanwhile; exit 1 when a goal is missed.

    python3 scripts/slow_clients.py --proxy 127.0.0.1:PORT --pid PID --cafile CA --bearer-file F --path P \
        [--slow 10000] [--interval 5] [--duration 60] [--baseline 15] \
        [--max-added-p99-ms 10] [--max-rss-mib 256] [--max-failures 0]

1. baseline: for --baseline seconds, one client sends token exchanges one after another through the proxy
   (keep-alive, CONNECT + TLS once per connection, a new connection every 50 exchanges); latencies recorded.
2. load: a separate process opens --slow connections to the proxy; each sends the start of a request head, then one
   more byte every --interval seconds, forever (a slowloris); when the proxy closes one (408 at its request-head
   deadline), it is opened again. Meanwhile the same client measures again, for --duration seconds, in this
   process: the slow clients' event loop never shares an interpreter (or its lock) with the measurement.
Prints one JSON object: p50/p99/max with and without the slow clients, the proxy's RSS at each phase and its peak
(VmRSS and VmHWM of /proc/PID/status, PID being the proxy's own process), how many slow connections were open at
most, how many got 408, how many could not connect, and each goal with its figure.

Goals (exit 1, naming each one missed): the p99 under load exceeds the baseline p99 by at most --max-added-p99-ms;
the proxy's peak RSS is at most --max-rss-mib; the measuring client sees at most --max-failures failed exchanges
under load; and the load was really applied (all --slow connections open at once at some point). The defaults are
not figures the README states as targets: 10 ms and 256 MiB leave room over its recorded run (3.3 ms added,
169 MiB).
Everything talks to 127.0.0.1 only; every loop is bounded by --duration.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import ssl
import sys
import time

from bench_tunnel_memory import read_http_response


def status_kib(pid, field):
    """A figure of the proxy's /proc/PID/status in KiB (VmRSS: resident now; VmHWM: the peak since it started)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def ancestors():
    """This process and the ones that started it (none of them is the proxy)."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        with open(f"/proc/{pid}/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    return pids


def measure(args, seconds):
    """Sequential token exchanges for `seconds`: latencies in ms and failures."""
    host, port = args.proxy.rsplit(":", 1)
    context = ssl.create_default_context(cafile=args.cafile)
    form = "grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&client_secret=bench"
    request = (f"POST {args.path} HTTP/1.1\r\nHost: login.microsoftonline.com\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n{form}").encode()
    latencies, failures, tls, used = [], 0, None, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if tls is None or used >= 50:
                if tls is not None:
                    tls.close()
                raw = socket.create_connection((host, int(port)), timeout=10)
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                raw.sendall(f"CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\n"
                            f"Proxy-Authorization: Bearer {args.bearer}\r\n\r\n".encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    part = raw.recv(1)
                    if not part:
                        raise ConnectionError("CONNECT refused")
                    head += part
                if b" 200 " not in head.split(b"\r\n", 1)[0]:
                    raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                tls = context.wrap_socket(raw, server_hostname="login.microsoftonline.com")
                used = 0
            start = time.perf_counter()
            tls.sendall(request)
            status, _, _ = read_http_response(tls)
            latencies.append((time.perf_counter() - start) * 1000)
            used += 1
            if status != 200:
                failures += 1
        except (OSError, ConnectionError, ssl.SSLError):
            failures += 1
            tls = None
            time.sleep(0.05)
    return latencies, failures


def summary(latencies):
    ordered = sorted(latencies)
    if not ordered:
        return {"count": 0}
    pick = lambda p: round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)
    return {"count": len(ordered), "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(ordered[-1], 2)}


# The slow-client process's counters, shared with the measuring process (written by one process only).
OPEN, PEAK, ANSWERED_408, ANSWERED_503, CONNECT_FAILURES = range(5)


async def slowloris(proxy, slow, interval, stop_at, stats):
    host, port = proxy.rsplit(":", 1)

    async def one():
        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.open_connection(host, int(port))
            except OSError:
                stats[CONNECT_FAILURES] += 1
                await asyncio.sleep(1)
                continue
            stats[OPEN] += 1
            stats[PEAK] = max(stats[PEAK], stats[OPEN])
            try:
                writer.write(b"GET http://example.invalid/ HTTP/1.1\r\nX-Slow: ")
                await writer.drain()
                while time.monotonic() < stop_at:
                    try:
                        answer = await asyncio.wait_for(reader.read(4096), timeout=interval)
                    except asyncio.TimeoutError:
                        writer.write(b"x")
                        await writer.drain()
                        continue
                    if answer.startswith(b"HTTP/1.1 408"):
                        stats[ANSWERED_408] += 1
                    elif answer.startswith(b"HTTP/1.1 503"):
                        stats[ANSWERED_503] += 1
                    break
            except OSError:
                pass
            finally:
                stats[OPEN] -= 1
                writer.close()

    tasks = []
    for index in range(slow):
        tasks.append(asyncio.create_task(one()))
        if index % 500 == 499:
            await asyncio.sleep(0.1)  # open them over a few seconds, not in one burst of SYNs
    await asyncio.gather(*tasks)


def slow_client_process(proxy, slow, interval, seconds, stats):
    """The load generator's own process: its event loop of `slow` sockets, for `seconds`."""
    asyncio.run(slowloris(proxy, slow, interval, time.monotonic() + seconds, stats))


def goals(args, result):
    """Each goal as {goal, value, met}; a figure that could not be measured misses its goal."""
    base, loaded = result["baseline"], result["with_slow_clients"]
    added = (round(loaded["p99_ms"] - base["p99_ms"], 2)
             if base.get("count") and loaded.get("count") else None)
    peak_mib = round(result["rss_peak_kib"] / 1024, 1)
    return {
        "added_p99_ms": {"goal": f"<= {args.max_added_p99_ms} ms", "value": added,
                         "met": added is not None and added <= args.max_added_p99_ms},
        "rss_peak_mib": {"goal": f"<= {args.max_rss_mib} MiB", "value": peak_mib,
                         "met": peak_mib <= args.max_rss_mib},
        "failures_under_load": {"goal": f"<= {args.max_failures}", "value": loaded["failures"],
                                "met": loaded["failures"] <= args.max_failures},
        "slow_clients_open_at_once": {"goal": f">= {args.slow}", "value": result["slow"]["peak"],
                                      "met": result["slow"]["peak"] >= args.slow},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--pid", type=int, required=True, help="the proxy's own process (its /proc/PID/status)")
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--bearer-file", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--slow", type=int, default=10000)
    parser.add_argument("--interval", type=float, default=5)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--baseline", type=float, default=15)
    parser.add_argument("--max-added-p99-ms", type=float, default=10,
                        help="goal: p99 under load minus the baseline p99, at most this (default 10)")
    parser.add_argument("--max-rss-mib", type=float, default=256,
                        help="goal: the proxy's peak resident memory, at most this (default 256)")
    parser.add_argument("--max-failures", type=int, default=0,
                        help="goal: failed exchanges of the measuring client under load, at most this (default 0)")
    args = parser.parse_args()
    with open(args.bearer_file) as handle:
        args.bearer = handle.read().strip()
    if args.pid in ancestors() or not os.path.exists(f"/proc/{args.pid}/status"):
        parser.error(f"--pid {args.pid} is not the proxy's running process")

    with open(f"/proc/{args.pid}/comm") as comm:
        result = {"proxy_pid": args.pid, "proxy_comm": comm.read().strip(), "slow_clients": args.slow,
                  "interval_s": args.interval, "rss_idle_kib": rss_kib(args.pid)}
    latencies, failures = measure(args, args.baseline)
    result["baseline"] = summary(latencies) | {"failures": failures}

    stats = multiprocessing.Array("q", 5, lock=False)
    load = multiprocessing.Process(target=slow_client_process, name="slow-clients", daemon=True,
                                   args=(args.proxy, args.slow, args.interval, args.duration + 10, stats))
    load.start()
    try:
        time.sleep(10)  # let the slow clients connect first
        latencies, failures = measure(args, args.duration)
        result["rss_loaded_kib"] = rss_kib(args.pid)
        result["slow_open_when_measured"] = stats[OPEN]
        load.join(args.duration + 60)
    finally:
        if load.is_alive():
            load.terminate()
            load.join(10)
    result["with_slow_clients"] = summary(latencies) | {"failures": failures}
    result["slow"] = {"peak": stats[PEAK], "answered_408": stats[ANSWERED_408], "answered_503": stats[ANSWERED_503],
                      "connect_failures": stats[CONNECT_FAILURES], "process_exit": load.exitcode}
    result["rss_after_kib"] = rss_kib(args.pid)
    result["rss_peak_kib"] = max(status_kib(args.pid, "VmHWM"), result["rss_idle_kib"], result["rss_loaded_kib"],
                                 result["rss_after_kib"])
    result["goals"] = goals(args, result)
    print(json.dumps(result), flush=True)
    missed = [(name, goal) for name, goal in result["goals"].items() if not goal["met"]]
    for name, goal in missed:
        print(f"goal missed: {name} = {goal['value']} (goal {goal['goal']})", file=sys.stderr)
    if load.exitcode != 0:
        print(f"the slow-client process ended with status {load.exitcode}", file=sys.stderr)
    return 1 if missed or load.exitcode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())

"""Slow clients against TenantGate, and what an ordinary client feels meanwhile.

    python3 scripts/slow_clients.py --proxy 127.0.0.1:PORT --pid PID --cafile CA --bearer-file F --path P \
        [--slow 10000] [--interval 5] [--duration 60] [--baseline 15]

1. baseline: for --baseline seconds, one client sends token exchanges one after another through the proxy
   (keep-alive, CONNECT + TLS once per connection, a new connection every 50 exchanges); latencies recorded.
2. load: --slow connections open to the proxy; each sends the start of a request head, then one more byte every
   --interval seconds, forever (a slowloris); when the proxy closes one (408 at its request-head deadline), it is
   opened again. Meanwhile the same client measures again, for --duration seconds.
Prints one JSON object: p50/p99/max with and without the slow clients, the proxy's RSS at each phase (from /proc),
how many slow connections were open at most, how many got 408, and how many could not connect.
Everything talks to 127.0.0.1 only; every loop is bounded by --duration.
"""
import argparse
import asyncio
import json
import socket
import ssl
import threading
import time

from bench_tunnel_memory import read_http_response


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(args, seconds, stop):
    """Sequential token exchanges for `seconds`: latencies in ms and failures."""
    host, port = args.proxy.rsplit(":", 1)
    context = ssl.create_default_context(cafile=args.cafile)
    form = "grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&client_secret=bench"
    request = (f"POST {args.path} HTTP/1.1\r\nHost: login.microsoftonline.com\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n{form}").encode()
    latencies, failures, tls, used = [], 0, None, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop.is_set():
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


async def slowloris(args, stats, stop_at):
    host, port = args.proxy.rsplit(":", 1)

    async def one(index):
        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.open_connection(host, int(port))
            except OSError:
                stats["connect_failures"] += 1
                await asyncio.sleep(1)
                continue
            stats["open"] += 1
            stats["peak"] = max(stats["peak"], stats["open"])
            try:
                writer.write(b"GET http://example.invalid/ HTTP/1.1\r\nX-Slow: ")
                await writer.drain()
                while time.monotonic() < stop_at:
                    try:
                        answer = await asyncio.wait_for(reader.read(4096), timeout=args.interval)
                    except asyncio.TimeoutError:
                        writer.write(b"x")
                        await writer.drain()
                        continue
                    if answer.startswith(b"HTTP/1.1 408"):
                        stats["answered_408"] += 1
                    elif answer.startswith(b"HTTP/1.1 503"):
                        stats["answered_503"] += 1
                    break
            except OSError:
                pass
            finally:
                stats["open"] -= 1
                writer.close()

    tasks = []
    for index in range(args.slow):
        tasks.append(asyncio.create_task(one(index)))
        if index % 500 == 499:
            await asyncio.sleep(0.1)  # open them over a few seconds, not in one burst of SYNs
    await asyncio.gather(*tasks)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--bearer-file", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--slow", type=int, default=10000)
    parser.add_argument("--interval", type=float, default=5)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--baseline", type=float, default=15)
    args = parser.parse_args()
    with open(args.bearer_file) as handle:
        args.bearer = handle.read().strip()

    stop = threading.Event()
    result = {"slow_clients": args.slow, "interval_s": args.interval, "rss_idle_kib": rss_kib(args.pid)}
    latencies, failures = measure(args, args.baseline, stop)
    result["baseline"] = summary(latencies) | {"failures": failures}

    stats = {"open": 0, "peak": 0, "answered_408": 0, "answered_503": 0, "connect_failures": 0}
    stop_at = time.monotonic() + args.duration + 10
    loaded = {}

    def measure_under_load():
        time.sleep(10)  # let the slow clients connect first
        loaded["latencies"], loaded["failures"] = measure(args, args.duration, stop)
        result["rss_loaded_kib"] = rss_kib(args.pid)
        result["slow_open_when_measured"] = stats["open"]

    thread = threading.Thread(target=measure_under_load)
    thread.start()
    asyncio.run(slowloris(args, stats, stop_at))
    thread.join()
    result["with_slow_clients"] = summary(loaded["latencies"]) | {"failures": loaded["failures"]}
    result["slow"] = {k: stats[k] for k in ("peak", "answered_408", "answered_503", "connect_failures")}
    result["rss_after_kib"] = rss_kib(args.pid)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Helper of scripts/bench-tunnel-memory.sh (python3 standard library only).

Subcommands (each prints one JSON object on stdout unless noted):
  free-port                     a free TCP port on 127.0.0.1 (plain text)
  sink --port-file F            TCP sink/source/echo server on 127.0.0.1:0 until SIGTERM
  check-sts --cafile F          one token request straight to the mock STS on 127.0.0.1:443
  bulk --proxy P --target T     CONNECT tunnels (or direct) moving bulk data: MB/s
  latency --proxy P --target T  round trips of small messages on one tunnel: percentiles
  idle-tunnels / idle-intercepted --pid PID
                                open N idle connections through the proxy, then read the proxy's
                                VmRSS and count the connections still open
  rss --pid PID                 VmRSS / VmHWM / threads of a process
  table F                       the final Markdown table from the JSON lines in F (plain text)

Sink protocol (first byte from the client): 'D' + 8-byte length: the server sends that many bytes;
'U' + 8-byte length: the server reads that many bytes, then answers b'K'; 'E': echo, the server reads
MSG bytes and answers them in two writes (so a proxy that delays small writes shows it); anything
else or nothing: the connection stays idle until the client closes it.
"""

import argparse
import concurrent.futures
import json
import os
import select
import signal
import socket
import ssl
import statistics
import struct
import sys
import threading
import time

CHUNK = 1 << 20
ECHO_SIZE = 100


def log(message):
    print(f"-- {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- sink server


def recv_exact(sock, count):
    data = bytearray()
    while len(data) < count:
        part = sock.recv(count - len(data))
        if not part:
            return None
        data += part
    return bytes(data)


def serve_client(conn):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        command = conn.recv(1)
        if command == b"D":
            header = recv_exact(conn, 8)
            if header is None:
                return
            remaining = struct.unpack("!Q", header)[0]
            block = memoryview(bytes(CHUNK))
            while remaining > 0:
                n = min(remaining, CHUNK)
                conn.sendall(block[:n])
                remaining -= n
            recv_exact(conn, 1)  # wait for the client's close, so nothing is cut short
        elif command == b"U":
            header = recv_exact(conn, 8)
            if header is None:
                return
            remaining = struct.unpack("!Q", header)[0]
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            while remaining > 0:
                n = conn.recv_into(view, min(remaining, CHUNK))
                if n == 0:
                    return
                remaining -= n
            conn.sendall(b"K")
        elif command == b"E":
            half = ECHO_SIZE // 2
            while True:
                message = recv_exact(conn, ECHO_SIZE)
                if message is None:
                    return
                conn.sendall(message[:half])
                conn.sendall(message[half:])
        else:
            while conn.recv(65536):
                pass
    except OSError:
        pass
    finally:
        conn.close()


def cmd_sink(args):
    threading.stack_size(256 * 1024)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    port = listener.getsockname()[1]
    with open(args.port_file + ".tmp", "w") as handle:
        handle.write(f"{port}\n")
    os.rename(args.port_file + ".tmp", args.port_file)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_client, args=(conn,), daemon=True).start()


def cmd_free_port(_args):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------- clients


def split_hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def open_tunnel(proxy, target, timeout, bearer=None):
    """A TCP connection to `target` (host:port), through `proxy` with CONNECT unless proxy is 'none'."""
    if proxy == "none":
        sock = socket.create_connection(split_hostport(target), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    sock = socket.create_connection(split_hostport(proxy), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
        if bearer:
            request += f"Proxy-Authorization: Bearer {bearer}\r\n"
        request += "\r\n"
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            part = sock.recv(1)  # byte by byte: nothing after the head may be consumed here
            if not part:
                raise ConnectionError(f"proxy closed during CONNECT {target}")
            head += part
            if len(head) > 16384:
                raise ConnectionError("CONNECT answer head too long")
        status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
        parts = status_line.split()
        if len(parts) < 2 or parts[1] != "200":
            raise ConnectionError(f"CONNECT {target}: {status_line}")
        return sock
    except BaseException:
        sock.close()
        raise


def cmd_bulk(args):
    total = int(args.total_mb * 1_000_000)
    per_client = total // args.clients
    rounds = []
    for _ in range(args.rounds):
        socks = [open_tunnel(args.proxy, args.target, args.timeout) for _ in range(args.clients)]
        barrier = threading.Barrier(args.clients + 1, timeout=args.timeout)
        errors = []

        def worker(sock):
            try:
                barrier.wait()
                if args.direction == "down":
                    sock.sendall(b"D" + struct.pack("!Q", per_client))
                    buffer = bytearray(CHUNK)
                    view = memoryview(buffer)
                    got = 0
                    while got < per_client:
                        n = sock.recv_into(view, CHUNK)
                        if n == 0:
                            raise ConnectionError(f"closed after {got} of {per_client} bytes")
                        got += n
                else:
                    sock.sendall(b"U" + struct.pack("!Q", per_client))
                    block = memoryview(bytes(CHUNK))
                    remaining = per_client
                    while remaining > 0:
                        n = min(remaining, CHUNK)
                        sock.sendall(block[:n])
                        remaining -= n
                    if recv_exact(sock, 1) != b"K":
                        raise ConnectionError("no acknowledgement of the upload")
            except BaseException as error:  # reported below
                errors.append(repr(error))
            finally:
                sock.close()

        threads = [threading.Thread(target=worker, args=(s,)) for s in socks]
        for thread in threads:
            thread.start()
        barrier.wait()
        start = time.monotonic()
        for thread in threads:
            thread.join(args.timeout)
        elapsed = time.monotonic() - start
        if errors or any(t.is_alive() for t in threads):
            print(json.dumps({"error": errors[:3] or ["timed out"]}))
            return 1
        rounds.append(per_client * args.clients / elapsed / 1e6)
    print(json.dumps({"mb_per_s": statistics.median(rounds), "rounds": [round(r, 1) for r in rounds],
                      "clients": args.clients, "total_mb": args.total_mb}))
    return 0


def cmd_latency(args):
    sock = open_tunnel(args.proxy, args.target, args.timeout)
    try:
        sock.sendall(b"E")
        half = ECHO_SIZE // 2
        message = os.urandom(ECHO_SIZE)
        samples = []
        stop_at = time.monotonic() + args.max_seconds
        for index in range(args.warmup + args.rounds):
            if time.monotonic() > stop_at:
                break  # a proxy that stalls for tens of ms per round would take minutes: report what was measured
            start = time.perf_counter()
            sock.sendall(message[:half])  # two writes, as an unlucky client would: Nagle would show here
            sock.sendall(message[half:])
            answer = recv_exact(sock, ECHO_SIZE)
            elapsed = time.perf_counter() - start
            if answer != message:
                print(json.dumps({"error": f"echo mismatch at round {index}"}))
                return 1
            if index >= args.warmup:
                samples.append(elapsed * 1000)
    finally:
        sock.close()
    if not samples:
        print(json.dumps({"error": "no round trip measured in time"}))
        return 1
    samples.sort()

    def pct(p):
        return samples[min(len(samples) - 1, int(p / 100 * len(samples)))]

    print(json.dumps({"p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": samples[-1],
                      "over_10ms": sum(1 for s in samples if s > 10), "rounds": len(samples)}))
    return 0


# ---------------------------------------------------------------------------------------------- memory


def proc_status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            values[key] = value.strip()
    return {"rss_kb": int(values["VmRSS"].split()[0]), "hwm_kb": int(values["VmHWM"].split()[0]),
            "threads": int(values["Threads"])}


def socket_fds(pid):
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


def established_to_port(port):
    """ESTABLISHED TCP sockets whose local port is `port` (the proxy's side of client connections)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        count += 1
        except OSError:
            pass
    return count


def still_open(socks):
    """Connections with nothing to read and no hang-up: open and idle."""
    poller = select.poll()
    for sock in socks:
        poller.register(sock.fileno(), select.POLLIN | select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    fired = {fd for fd, _ in poller.poll(0)}
    return sum(1 for sock in socks if sock.fileno() not in fired)


def read_http_response(sock):
    head = b""
    while b"\r\n\r\n" not in head:
        part = sock.recv(4096)
        if not part:
            raise ConnectionError("closed before the response head")
        head += part
    head, _, body = head.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(body) < length:
            part = sock.recv(65536)
            if not part:
                raise ConnectionError("closed inside the response body")
            body += part
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while not body.endswith(b"0\r\n\r\n"):
            part = sock.recv(65536)
            if not part:
                raise ConnectionError("closed inside a chunked body")
            body += part
    return status, headers, body


def open_idle(args, index):
    if args.mode == "tunnels":
        sock = open_tunnel(args.proxy, args.target, args.timeout)
        return sock, None
    sock = open_tunnel(args.proxy, f"{args.host}:443", args.timeout, bearer=args.bearer)
    tls = args.context.wrap_socket(sock, server_hostname=args.host)
    body = (f"grant_type=client_credentials&client_id={args.client_id}"
            f"&client_secret=bench-secret-{index}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default").encode()
    request = (f"POST {args.path} HTTP/1.1\r\nHost: {args.host}\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n").encode() + body
    tls.sendall(request)
    status, _, _ = read_http_response(tls)
    return tls, status


def cmd_idle(args):
    args.bearer = None
    if args.mode == "intercepted":
        args.context = ssl.create_default_context(cafile=args.cafile)
        if args.bearer_file and os.path.exists(args.bearer_file):
            with open(args.bearer_file) as handle:
                args.bearer = handle.read().strip()
    deadline = time.monotonic() + args.open_deadline
    socks, statuses, errors = [], {}, []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = [pool.submit(open_idle, args, i) for i in range(args.count)]
        for future in futures:
            try:
                sock, status = future.result(timeout=max(0.1, deadline - time.monotonic()))
                socks.append(sock)
                if status is not None:
                    statuses[status] = statuses.get(status, 0) + 1
            except BaseException as error:
                errors.append(repr(error))
                future.cancel()
    opened_in = time.monotonic() - started
    time.sleep(args.settle)  # let the proxy finish its work and the counts settle
    status = proc_status(args.pid)
    result = {
        "mode": args.mode, "requested": args.count, "opened": len(socks), "open_at_measurement": still_open(socks),
        "proxy_established": established_to_port(split_hostport(args.proxy)[1]),
        "proxy_socket_fds": socket_fds(args.pid), "rss_kb": status["rss_kb"], "hwm_kb": status["hwm_kb"],
        "threads": status["threads"], "open_seconds": round(opened_in, 1),
        "measured_after_s": round(time.monotonic() - started, 1), "errors": len(errors), "first_errors": errors[:3],
        "bearer": bool(args.bearer),
    }
    if args.mode == "intercepted":
        result["statuses"] = {str(k): v for k, v in statuses.items()}
    print(json.dumps(result))
    for sock in socks:
        try:
            sock.close()
        except OSError:
            pass
    return 0 if not errors else 1


def cmd_rss(args):
    print(json.dumps(proc_status(args.pid)))
    return 0


def cmd_check_sts(args):
    context = ssl.create_default_context(cafile=args.cafile)
    with socket.create_connection(("127.0.0.1", args.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=args.host) as tls:
            body = b"grant_type=client_credentials&client_id=x&client_secret=y"
            tls.sendall((f"POST {args.path} HTTP/1.1\r\nHost: {args.host}\r\nContent-Length: {len(body)}\r\n"
                         "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n").encode()
                        + body)
            status, _, _ = read_http_response(tls)
    print(json.dumps({"status": status}))
    return 0 if status == 200 else 1


# ---------------------------------------------------------------------------------------------- table


def cmd_table(args):
    rows = {}
    with open(args.results) as handle:
        for line in handle:
            line = line.strip()
            if line:
                record = json.loads(line)
                rows[(record["peer"], record["metric"])] = record["value"]

    def get(peer, metric, key=None):
        value = rows.get((peer, metric))
        if value is None:
            return None
        return value.get(key) if key else value

    def mb(kb):
        return None if kb is None else kb / 1024

    def fmt(value, digits=1):
        if value is None:
            return "—"
        return f"{value:,.{digits}f}"

    def verdict(value, limit):
        if value is None:
            return "not measured"
        if value <= limit:
            return "yes"
        return f"**no**: {value - limit:,.1f} MiB over ({value / limit:.2f}× the target)"

    out = []
    add = out.append
    down, up, lat = get("direct", "bulk_down"), get("direct", "bulk_up"), get("direct", "latency")
    if down and up and lat:
        add(f"Reference without a proxy (same sink and client): download {down['mb_per_s']:,.0f} MB/s, "
            f"upload {up['mb_per_s']:,.0f} MB/s, round trip {lat['p50_ms']:.3f} ms p50, {lat['p99_ms']:.3f} ms p99.")
        add("")
    add("| metric | TenantGate | tinyproxy | target | met? |")
    add("|---|---:|---:|---:|---|")
    for direction, label in (("down", "download (sink → client)"), ("up", "upload (client → sink)")):
        tg = get("tenantgate", f"bulk_{direction}", "mb_per_s")
        tp = get("tinyproxy", f"bulk_{direction}", "mb_per_s")
        clients = get("tenantgate", f"bulk_{direction}", "clients") or get("tinyproxy", f"bulk_{direction}", "clients")
        total = get("tenantgate", f"bulk_{direction}", "total_mb") or get("tinyproxy", f"bulk_{direction}", "total_mb")
        add(f"| blind tunnel throughput, {label}, {clients or '?'} clients, {total or 0:g} MB, MB/s (median of rounds) "
            f"| {fmt(tg)} | {fmt(tp)} | — | — |")
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99"), ("max_ms", "max")):
        tg = get("tenantgate", "latency", key)
        tp = get("tinyproxy", "latency", key)
        target, met = "—", "—"
        if key == "p50_ms":
            target = "< 1 ms"
            met = "—" if tg is None else ("yes" if tg < 1 else f"**no**: {tg - 1:.3f} ms over")
        add(f"| tunnel round trip, {ECHO_SIZE} B each way in 2 writes, one tunnel, {label}, ms "
            f"| {fmt(tg, 3)} | {fmt(tp, 3)} | {target} | {met} |")
    tg = get("tenantgate", "latency", "over_10ms")
    tp = get("tinyproxy", "latency", "over_10ms")
    add(f"| tunnel round trips measured (after 200 warm-up; at most 60 s) | {fmt(get('tenantgate', 'latency', 'rounds'), 0)} "
        f"| {fmt(get('tinyproxy', 'latency', 'rounds'), 0)} | — | — |")
    add(f"| tunnel round trips over 10 ms (stalls) | {fmt(tg, 0)} | {fmt(tp, 0)} | 0 | "
        f"{'—' if tg is None else ('yes' if tg == 0 else '**no**')} |")

    add(f"| RSS idle, a second after start, MiB | {fmt(mb(get('tenantgate', 'idle_tunnels_base', 'rss_kb')))} "
        f"| {fmt(mb(get('tinyproxy', 'idle_tunnels_base', 'rss_kb')))} | — | — |")
    for mode, limit, plural, singular in (
            ("tunnels", 64, "idle blind tunnels", "idle blind tunnel"),
            ("intercepted", 128, "idle intercepted keep-alive connections", "idle intercepted connection")):
        tg = get("tenantgate", f"idle_{mode}")
        tp = get("tinyproxy", f"idle_{mode}")
        count = (tg or tp or {}).get("requested", 1000)
        tg_mb = mb(tg["rss_kb"]) if tg else None
        tp_mb = mb(tp["rss_kb"]) if tp else None
        add(f"| RSS with {count:,} {plural}, MiB | {fmt(tg_mb)} | {fmt(tp_mb)} | ≤ {limit} MiB | {verdict(tg_mb, limit)} |")

        def opened(record):
            if not record:
                return "—"
            text = (f"{record['open_at_measurement']:,}/{record['requested']:,}, proxy side "
                    f"{record['proxy_established']:,} established, at {record['measured_after_s']:g} s")
            if "statuses" in record:
                text += ", answers " + ", ".join(f"{k}×{v}" for k, v in sorted(record["statuses"].items()))
            return text
        all_open = tg and tg["open_at_measurement"] == count and tg["proxy_established"] >= count
        add(f"| connections open at that measurement | {opened(tg)} | {opened(tp)} | {count:,} | "
            f"{'—' if not tg else ('yes' if all_open else '**no**')} |")

        def per_connection(peer, record):
            base = get(peer, f"idle_{mode}_base", "rss_kb")
            if not record or base is None:
                return "—"
            return f"{(record['rss_kb'] - base) / max(1, record['open_at_measurement']):,.1f}"
        add(f"| RSS added per {singular}, KiB (over the same instance idle) "
            f"| {per_connection('tenantgate', tg)} | {per_connection('tinyproxy', tp)} | — | — |")
    print("\n".join(out))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("free-port").set_defaults(func=cmd_free_port)
    p = sub.add_parser("sink")
    p.add_argument("--port-file", required=True)
    p.set_defaults(func=cmd_sink)
    p = sub.add_parser("check-sts")
    p.add_argument("--cafile", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--host", default="login.microsoftonline.com")
    p.add_argument("--path", required=True)
    p.set_defaults(func=cmd_check_sts)
    for name, func in (("bulk", cmd_bulk), ("latency", cmd_latency)):
        p = sub.add_parser(name)
        p.add_argument("--proxy", required=True, help="HOST:PORT of the proxy, or 'none' for direct")
        p.add_argument("--target", required=True)
        p.add_argument("--timeout", type=float, default=60)
        if name == "bulk":
            p.add_argument("--direction", choices=["down", "up"], required=True)
            p.add_argument("--total-mb", type=float, default=256)
            p.add_argument("--clients", type=int, default=8)
            p.add_argument("--rounds", type=int, default=3)
        else:
            p.add_argument("--rounds", type=int, default=2000)
            p.add_argument("--warmup", type=int, default=200)
            p.add_argument("--max-seconds", type=float, default=60, help="stop early after this long")
        p.set_defaults(func=func)
    for name, mode in (("idle-tunnels", "tunnels"), ("idle-intercepted", "intercepted")):
        p = sub.add_parser(name)
        p.add_argument("--proxy", required=True)
        p.add_argument("--pid", type=int, required=True)
        p.add_argument("--count", type=int, default=1000)
        p.add_argument("--parallel", type=int, default=16)
        p.add_argument("--timeout", type=float, default=10, help="per socket operation")
        p.add_argument("--open-deadline", type=float, default=90, help="for opening all connections")
        p.add_argument("--settle", type=float, default=2)
        if mode == "tunnels":
            p.add_argument("--target", required=True)
        else:
            p.add_argument("--host", default="login.microsoftonline.com")
            p.add_argument("--path", required=True)
            p.add_argument("--cafile", required=True)
            p.add_argument("--client-id", default="e002ab83-2360-4092-bd0b-5a4c52f2f15a")
            p.add_argument("--bearer-file")
        p.set_defaults(func=cmd_idle, mode=mode)
    p = sub.add_parser("rss")
    p.add_argument("--pid", type=int, required=True)
    p.set_defaults(func=cmd_rss)
    p = sub.add_parser("table")
    p.add_argument("results")
    p.set_defaults(func=cmd_table)
    args = parser.parse_args()
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Issue 25's data-path figures, side by side in one run, through the same mock resource host.

Squid (ssl-bump, no policy) and TenantGate (every request on graph.microsoft.com judged), and TenantGate with the
host intercepted but not judged (`--intercept-host` instead of `--resource-host`: the cost of judging), one after
the other in front of `tenantgate-mock` serving graph.microsoft.com with the shared bench's certificate on
127.0.0.1:$STS_PORT:

  1. small JSON GETs with a Fabrikam Graph token, keep-alive, 16 in flight (the shared bench's loadgen):
     requests/s, the proxy's CPU per request, p99;
  2. one download (1 GiB) and one upload (256 MiB) with curl: MB/s, and the proxy's resident memory before and at
     its peak (sampled every 100 ms); not for the unjudged TenantGate, whose intercepted-only sessions read
     bodies whole.

Needs the shared bench set up once (`../shared/bench/setup.sh`, as root) and release builds of `tenantgate` and
`tenantgate-mock`. Stops the shared bench's nginx STS if it runs (it holds the port the mock needs).

    scripts/bench-resource-streams        # DURATION=10 WARMUP=2 DOWNLOAD_MIB=1024 UPLOAD_MIB=256
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.environ.get("BENCH", os.path.join(os.path.dirname(ROOT), "shared", "bench"))
RELEASE = os.path.join(ROOT, ".build", "release")
DURATION = os.environ.get("DURATION", "10")
WARMUP = os.environ.get("WARMUP", "2")
DOWNLOAD_BYTES = int(os.environ.get("DOWNLOAD_MIB", "1024")) << 20
UPLOAD_BYTES = int(os.environ.get("UPLOAD_MIB", "256")) << 20


def common(name):
    """A value of the shared bench's common.sh (ports, directories, host names)."""
    return subprocess.run(["bash", "-c", 'source "$0/common.sh"; printf %s "${!1}"', BENCH, name],
                          capture_output=True, text=True, check=True).stdout


STS_PORT, PKI, RUN, GRAPH = common("STS_PORT"), common("PKI_DIR"), common("RUN_DIR"), common("GRAPH_HOST")
LOADGEN, SQUID_PORT = common("LOADGEN"), common("SQUID_PORT")
TOKENS = os.path.join(RUN, "sts", "tokens")


def die(message):
    sys.exit("bench-resource-streams: " + message)


def tree(root):
    """The process `root` and its descendants (Squid's helpers start sessions of their own)."""
    parents = {}
    for line in subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout.splitlines():
        pid, ppid = line.split()
        parents[int(pid)] = int(ppid)
    found = []
    for pid in parents:
        walk = pid
        for _ in range(64):
            if walk == root:
                found.append(pid)
                break
            walk = parents.get(walk, 1)
            if walk <= 1:
                break
    return found


def cpu_ticks(root):
    total = 0
    for pid in tree(root):
        try:
            fields = open("/proc/%d/stat" % pid).read().rsplit(") ", 1)[1].split()
            total += sum(int(value) for value in fields[11:15])
        except OSError:
            pass
    return total


def resident_mib(root):
    total = 0
    for pid in tree(root):
        try:
            for line in open("/proc/%d/status" % pid):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total // 1024


class Peak:
    """Samples a process tree's resident memory every 100 ms while a transfer runs (bounded: 30 minutes)."""

    def __init__(self, root):
        self.root, self.peak, self.done = root, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        for _ in range(18000):
            self.peak = max(self.peak, resident_mib(self.root))
            if self.done.wait(0.1):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.done.set()
        self.thread.join()


class Peer:
    def __init__(self, name, directory, port, ca, pidfile, by_name, judges, binary=None):
        self.name, self.directory, self.port, self.ca = name, directory, port, ca
        self.pidfile, self.by_name, self.judges, self.binary = pidfile, by_name, judges, binary

    def environment(self):
        env = dict(os.environ)
        if self.binary:
            env["TENANTGATE_BIN"] = self.binary
        return env

    def start(self):
        subprocess.run([os.path.join(BENCH, "peers", self.directory, "start.sh")], env=self.environment(), check=True,
                       stdout=subprocess.DEVNULL, timeout=60)
        self.pid = int(open(self.pidfile).read().strip())

    def stop(self):
        subprocess.run([os.path.join(BENCH, "peers", self.directory, "stop.sh")], env=self.environment(),
                       stdout=subprocess.DEVNULL, timeout=60)

    def client_options(self):
        """What loadgen and curl need to go through this peer to the mock: its CA (and the mock's, for a peer that
        does not intercept), and where an unnamed CONNECT goes."""
        options = ["--cacert", self.trust, "-x", "http://127.0.0.1:%s" % self.port]
        if not self.by_name:
            options += ["--connect-to", "%s:443:127.0.0.1:%s" % (GRAPH, STS_PORT)]
        return options


def bearer(tenant):
    return "Authorization: Bearer " + open(os.path.join(TOKENS, "graph-%s.jwt" % tenant)).read().strip()


def curl(peer, arguments, timeout=600):
    maker = open(os.path.join(TOKENS, "maker-contoso.jwt")).read().strip()
    command = ["curl", "-s", "-m", str(timeout)] + peer.client_options() + [
        "--proxy-header", "Proxy-Authorization: Bearer " + maker] + arguments
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout + 30).stdout


def small_gets(peer):
    before = cpu_ticks(peer.pid)
    started = time.time()
    output = subprocess.run(
        [LOADGEN] + peer.client_options() + ["--timeout", "10", "-c", "16", "--get", "-H", bearer("fabrikam"),
                                             "-d", DURATION, "-w", WARMUP, "--proxy-bearer",
                                             "@" + os.path.join(TOKENS, "maker-contoso.jwt"), "--json",
                                             "--label", peer.name, "https://%s/v1.0/me" % GRAPH],
        capture_output=True, text=True, timeout=int(DURATION) + int(WARMUP) + 60).stdout
    elapsed = time.time() - started
    result = json.loads(output)
    # The CPU is counted over the whole run, warm-up included; so are its requests (rps over the window, scaled).
    requests = result["rps"] * elapsed
    cpu_seconds = (cpu_ticks(peer.pid) - before) / os.sysconf("SC_CLK_TCK")
    return result, cpu_seconds * 1e6 / max(requests, 1)


def transfers(peer, upload_path, upload_digest):
    base = resident_mib(peer.pid)
    with Peak(peer.pid) as down:
        output = curl(peer, ["-H", bearer("fabrikam"), "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{speed_download}",
                             "https://%s/mock/stream/download?bytes=%d" % (GRAPH, DOWNLOAD_BYTES)])
    status, size, speed = output.split()
    if status != "200" or int(size) != DOWNLOAD_BYTES:
        die("%s: download answered %s with %s bytes" % (peer.name, status, size))
    download = (float(speed) / 1e6, down.peak)
    with Peak(peer.pid) as up:
        output = curl(peer, ["-H", bearer("fabrikam"), "-H", "Content-Type: application/octet-stream",
                             "--data-binary", "@" + upload_path, "-w", "\n%{http_code} %{speed_upload}",
                             "https://%s/mock/stream/upload" % GRAPH])
    body, _, tail = output.rpartition("\n")
    status, speed = tail.split()
    if status != "200" or upload_digest not in body:
        die("%s: upload answered %s: %s" % (peer.name, status, body[:300]))
    return base, download, (float(speed) / 1e6, up.peak)


def check(peer):
    """The behaviour before the figures: a Fabrikam token passes; a Northwind one is refused by a judging peer."""
    allowed = curl(peer, ["-H", bearer("fabrikam"), "-o", "/dev/null", "-w", "%{http_code}", "https://%s/v1.0/me" % GRAPH], 20)
    refused = curl(peer, ["-H", bearer("northwind"), "-o", "/dev/null", "-w", "%{http_code}", "https://%s/v1.0/me" % GRAPH], 20)
    wanted = "403" if peer.judges else "200"
    if allowed != "200" or refused != wanted:
        die("%s: Fabrikam token %s (want 200), Northwind token %s (want %s)" % (peer.name, allowed, refused, wanted))


def main():
    tenantgate = os.path.join(RELEASE, "tenantgate")
    mock = os.path.join(RELEASE, "tenantgate-mock")
    for binary in (tenantgate, mock, LOADGEN):
        if not os.access(binary, os.X_OK):
            die("%s is missing: swift build -c release --product tenantgate; swift build -c release --product "
                "tenantgate-mock; ../shared/bench/setup.sh" % binary)
    work = tempfile.mkdtemp(prefix="bench-resource-streams-")
    # TenantGate with the host intercepted but not judged: the same binary, --intercept-host for --resource-host.
    unjudged = os.path.join(work, "tenantgate-unjudged")
    with open(unjudged, "w") as script:
        script.write('#!/bin/sh\nfor a in "$@"; do shift; [ "$a" = --resource-host ] && a=--intercept-host; '
                     'set -- "$@" "$a"; done\nexec %s "$@"\n' % tenantgate)
    os.chmod(unjudged, 0o755)
    trust = os.path.join(work, "trust.pem")
    subprocess.run([os.path.join(BENCH, "sts", "stop.sh")], stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(BENCH, "sts", "mint-tokens.sh")], stdout=subprocess.DEVNULL, check=True)
    mock_process = subprocess.Popen(
        [mock, "--listen", "127.0.0.1:" + STS_PORT, "--certificate", os.path.join(PKI, GRAPH + ".pem"),
         "--key", os.path.join(PKI, GRAPH + ".key")], stdout=subprocess.PIPE, text=True, start_new_session=True)
    upload_path = os.path.join(work, "upload.bin")
    try:
        if "listening on" not in mock_process.stdout.readline():
            die("tenantgate-mock did not start")
        with open(upload_path, "wb") as upload:
            for _ in range(UPLOAD_BYTES >> 20):
                upload.write(os.urandom(1 << 20))
        upload_digest = hashlib.sha256(open(upload_path, "rb").read()).hexdigest()
        peers = [
            Peer("squid", "squid", SQUID_PORT, os.path.join(PKI, "intercept-ca.pem"),
                 os.path.join(RUN, "squid", "squid.pid"), by_name=False, judges=False),
            Peer("tenantgate", "tenantgate", "8804", os.path.join(RUN, "tenantgate", "ca.pem"),
                 os.path.join(RUN, "tenantgate", "tenantgate.pid"), by_name=True, judges=True, binary=tenantgate),
            Peer("tenantgate, not judged", "tenantgate", "8804", os.path.join(RUN, "tenantgate", "ca.pem"),
                 os.path.join(RUN, "tenantgate", "tenantgate.pid"), by_name=True, judges=False, binary=unjudged),
        ]
        rows = []
        for peer in peers:
            peer.start()
            try:
                with open(trust, "w") as out:
                    out.write(open(peer.ca).read() + open(os.path.join(PKI, "sts-ca.pem")).read())
                peer.trust = trust
                check(peer)
                result, cpu_per_request = small_gets(peer)
                line = "%-24s %8.0f req/s  %6.1f us CPU/req  p99 %5.2f ms" % (
                    peer.name, result["rps"], cpu_per_request, result["latency_ms"]["p99"])
                # An intercepted host that is not judged is served by the token hosts' handler, which reads
                # bodies whole (within --max-body-bytes): only its small requests compare.
                transferred = (0, (0, 0), (0, 0))
                if peer.binary != unjudged:
                    transferred = transfers(peer, upload_path, upload_digest)
                    base, download, upload = transferred
                    line += "  download %7.1f MB/s (RSS %d -> %d MiB)  upload %7.1f MB/s (RSS %d -> %d MiB)" % (
                        download[0], base, download[1], upload[0], base, upload[1])
                rows.append((peer.name, result, cpu_per_request) + transferred)
                print(line, flush=True)
            finally:
                peer.stop()
        squid, judged, plain = rows
        print()
        print("TenantGate / Squid: %.2fx requests/s, %.2fx CPU per request, %.2fx download MB/s, %.2fx upload MB/s" % (
            judged[1]["rps"] / squid[1]["rps"], judged[2] / squid[2], judged[4][0] / squid[4][0],
            judged[5][0] / squid[5][0]))
        print("judging: %.1f us CPU per request (judged %.1f, intercepted only %.1f)" % (
            judged[2] - plain[2], judged[2], plain[2]))
    finally:
        os.killpg(mock_process.pid, 15)
        mock_process.wait(timeout=10)
        for path in (upload_path, unjudged, trust):
            if os.path.exists(path):
                os.remove(path)
        os.rmdir(work)


main()

#!/usr/bin/env bash
# Blind CONNECT tunnel throughput and latency, TenantGate beside tinyproxy in one run, and TenantGate's resident
# memory idle, with 1,000 idle blind tunnels and with 1,000 idle intercepted keep-alive connections: what the
# shared side-by-side bench (../shared/bench) does not measure.
#
#   scripts/bench-tunnel-memory.sh                 # from the project root, after swift build -c release
#   TENANTGATE_BIN=/path/to/tenantgate scripts/bench-tunnel-memory.sh
#
# Settings (environment): TENANTGATE_BIN (.build/release/tenantgate), IDLE_CONNECTIONS (1000),
# BULK_MB (256, per direction and round), BULK_CLIENTS (8), BULK_ROUNDS (3), LATENCY_ROUNDS (2000),
# KEEP_TMP=1 keeps the temp dir (logs, audit log, CA, results).
#
# Everything listens on 127.0.0.1: a Python sink/source/echo server (scripts/bench_tunnel_memory.py), tinyproxy,
# TenantGate (a fresh instance per memory scenario, so that one scenario's freed memory does not count in the
# next), and the shared bench's mock STS (nginx on 127.0.0.1:443, started here with its PKI and run dir in the temp
# dir, or reused when it is already running). Each process has its own PID file and is stopped by that PID
# (SIGTERM, then SIGKILL after a bounded wait) when the script exits, however it exits.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SHARED_BENCH="$ROOT/../shared/bench"
HELPER="$ROOT/scripts/bench_tunnel_memory.py"
TENANTGATE_BIN="${TENANTGATE_BIN:-.build/release/tenantgate}"
IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-1000}"
BULK_MB="${BULK_MB:-256}"
BULK_CLIENTS="${BULK_CLIENTS:-8}"
BULK_ROUNDS="${BULK_ROUNDS:-3}"
LATENCY_ROUNDS="${LATENCY_ROUNDS:-2000}"

[ -x "$TENANTGATE_BIN" ] || { echo "error: no TenantGate binary at $TENANTGATE_BIN (swift build -c release, or set TENANTGATE_BIN)" >&2; exit 1; }
[ -f "$SHARED_BENCH/common.sh" ] || { echo "error: the shared bench is not at $SHARED_BENCH" >&2; exit 1; }
command -v tinyproxy >/dev/null || { echo "error: tinyproxy is not installed (see ../shared/bench/setup.sh)" >&2; exit 1; }
TENANTGATE_BIN="$(cd "$(dirname "$TENANTGATE_BIN")" && pwd)/$(basename "$TENANTGATE_BIN")"

TMP="$(mktemp -d /tmp/tenantgate-bench-tunnel.XXXXXX)"
chmod 755 "$TMP"   # tinyproxy drops to its own user and must reach its log here
export RUN_DIR="$TMP/shared-run" PKI_DIR="$TMP/pki"
# The shared bench's helpers: pidfile_alive, stop_pidfile, wait_port, note, die; tenants and host names.
# shellcheck source=../../shared/bench/common.sh
source "$SHARED_BENCH/common.sh"
RESULTS="$TMP/results.jsonl"
: > "$RESULTS"
PIDFILES=()

cleanup() {
    local status=$? file i
    trap - EXIT INT TERM
    for ((i = ${#PIDFILES[@]} - 1; i >= 0; i--)); do
        file="${PIDFILES[$i]}"
        [ -s "$file" ] && stop_pidfile "$file" 10
    done
    if [ "${KEEP_TMP:-0}" = 1 ] || [ "$status" != 0 ]; then
        echo "-- temp dir kept: $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Record one measurement: peer, metric, and the helper's JSON.
record() { printf '{"peer":"%s","metric":"%s","value":%s}\n' "$1" "$2" "$3" >> "$RESULTS"; }
helper() { python3 "$HELPER" "$@"; }
# json FIELD: one field of the JSON object on stdin.
json() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(round(v, 3) if isinstance(v, float) else v)' "$1"; }

# Descriptors: every tunnel is two sockets in the proxy, and the client holds 1,000 more.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
    ulimit -n 8192 || die "cannot raise the open-file limit to 8192 (hard limit $(ulimit -Hn))"
fi

echo "## machine"
echo "date:      $(date -u '+%F %T UTC')"
echo "cpus:      $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "memory:    $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
echo "kernel:    $(uname -r)"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the run: other work on the machine skews throughput and latency)"
echo "tenantgate: $TENANTGATE_BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ', uncommitted changes'))"
echo "tinyproxy: $(tinyproxy -v 2>&1 | head -1)"
echo "python:    $(python3 --version 2>&1)"
echo "open files: $(ulimit -n)"
echo

# --- the mock STS (shared bench), for the intercepted scenario -------------------------------------------------
TOKEN_PATH="/$T_FABRIKAM/oauth2/v2.0/token"     # Contoso -> Fabrikam: allowed by policies/ (outbound rule)
if (exec 3<>"/dev/tcp/127.0.0.1/$STS_PORT") 2>/dev/null; then
    # Someone runs a mock STS already (e.g. the shared bench with its default dirs): use it, leave it running.
    STS_CA="$BENCH_DIR/pki/out/sts-ca.pem"
    BEARER_FILE="$BENCH_DIR/.run/sts/tokens/maker-contoso.jwt"
    [ -s "$STS_CA" ] || die "127.0.0.1:$STS_PORT is in use but $STS_CA does not exist: is it the shared mock STS?"
    note "reusing the mock STS already on 127.0.0.1:$STS_PORT"
else
    note "starting the shared bench's mock STS (PKI and run dir in $TMP)"
    PIDFILES+=("$RUN_DIR/sts/nginx.pid")
    "$SHARED_BENCH/sts/start.sh" >"$TMP/sts-start.log" 2>&1 || { cat "$TMP/sts-start.log" >&2; die "the mock STS did not start"; }
    STS_CA="$PKI_DIR/sts-ca.pem"
    BEARER_FILE="$RUN_DIR/sts/tokens/maker-contoso.jwt"
fi
helper check-sts --cafile "$STS_CA" --port "$STS_PORT" --path "$TOKEN_PATH" >/dev/null \
    || die "the mock STS on 127.0.0.1:$STS_PORT does not answer a token request with 200 (CA $STS_CA)"

# --- the sink: bulk source/sink, echo, idle holder -------------------------------------------------------------
mkdir -p "$TMP/sink"
PIDFILES+=("$TMP/sink/sink.pid")
python3 "$HELPER" sink --port-file "$TMP/sink/port" </dev/null >"$TMP/sink/log" 2>&1 &
echo $! > "$TMP/sink/sink.pid"
for _ in $(seq 100); do [ -s "$TMP/sink/port" ] && break; sleep 0.1; done
[ -s "$TMP/sink/port" ] || die "the sink server did not start; see $TMP/sink/log"
SINK_PORT="$(cat "$TMP/sink/port")"
TARGET="127.0.0.1:$SINK_PORT"   # an IP literal: no proxy intercepts it, CONNECT makes a blind tunnel

# --- starting and stopping the proxies --------------------------------------------------------------------------
start_tinyproxy() {
    local d="$TMP/tinyproxy"
    mkdir -p "$d"
    chown tinyproxy: "$d" 2>/dev/null || true
    TP_PORT="$(helper free-port)"
    cat > "$d/tinyproxy.conf" <<CONF
# Generated by scripts/bench-tunnel-memory.sh. As ../shared/bench/peers/tinyproxy, plus the sink's port and
# room for the idle tunnels.
User tinyproxy
Group tinyproxy
Port $TP_PORT
Listen 127.0.0.1
Timeout 600
MaxClients $((IDLE_CONNECTIONS + 64))
LogLevel Error
LogFile "$d/tinyproxy.log"
Allow 127.0.0.1
DisableViaHeader Yes
ConnectPort 443
ConnectPort $SINK_PORT
CONF
    PIDFILES+=("$d/tinyproxy.pid")
    setsid tinyproxy -d -c "$d/tinyproxy.conf" </dev/null >>"$d/stdout.log" 2>&1 &
    echo $! > "$d/tinyproxy.pid"
    wait_port "$TP_PORT" || die "tinyproxy did not start; see $d/stdout.log"
    PROXY_PID="$(cat "$d/tinyproxy.pid")"
    PROXY="127.0.0.1:$TP_PORT"
    note "tinyproxy on $PROXY (pid $PROXY_PID)"
}

# start_tenantgate NAME: a fresh instance with its own CA (created on first run), audit log and PID file.
start_tenantgate() {
    local d="$TMP/tenantgate-$1" i
    mkdir -p "$d"
    chmod 700 "$d"
    PIDFILES+=("$d/tenantgate.pid")
    setsid "$TENANTGATE_BIN" serve \
        --listen 127.0.0.1:0 \
        --policies "$ROOT/policies" \
        --ca-cert "$TMP/tenantgate-ca/ca.pem" --ca-key "$TMP/tenantgate-ca/ca.key" \
        --upstream-ca "$STS_CA" \
        --upstream-override "$ENTRA_HOST:443=127.0.0.1:$STS_PORT" \
        --audit-log "$d/audit.jsonl" \
        --mode enforce \
        --default-creator-tenant "$T_CONTOSO" \
        --allow-connect-port "$SINK_PORT" --allow-destination 127.0.0.0/8 \
        </dev/null >"$d/stdout.log" 2>"$d/stderr.log" &
    echo $! > "$d/tenantgate.pid"
    for ((i = 0; i < 150; i++)); do   # up to 15 s for the contract's "listening on HOST:PORT" line
        grep -q '^listening on ' "$d/stdout.log" && break
        pidfile_alive "$d/tenantgate.pid" || die "tenantgate exited; see $d/stderr.log"
        sleep 0.1
    done
    grep -q '^listening on ' "$d/stdout.log" || die "tenantgate printed no 'listening on' line in 15 s; see $d/stderr.log"
    PROXY="$(grep -m1 '^listening on ' "$d/stdout.log" | sed 's/^listening on //')"
    PROXY="${PROXY#\[}"; PROXY="${PROXY/]:/:}"
    PROXY_PID="$(cat "$d/tenantgate.pid")"
    note "tenantgate ($1) on $PROXY (pid $PROXY_PID)"
}

stop_proxy() { stop_pidfile "$1" 15; }

# measure_idle PEER MODE: RSS of the fresh instance idle (a second after start), then with IDLE_CONNECTIONS idle
# connections open (measured 2 s after the last one opened, while all are still open).
measure_idle() {
    local peer="$1" mode="$2" out
    sleep 1
    record "$peer" "idle_${mode}_base" "$(helper rss --pid "$PROXY_PID")"
    if [ "$mode" = tunnels ]; then
        out="$(timeout 180 python3 "$HELPER" idle-tunnels --proxy "$PROXY" --pid "$PROXY_PID" \
            --count "$IDLE_CONNECTIONS" --target "$TARGET")" || note "$peer: some tunnels failed: $out"
    else
        out="$(timeout 180 python3 "$HELPER" idle-intercepted --proxy "$PROXY" --pid "$PROXY_PID" \
            --count "$IDLE_CONNECTIONS" --path "$TOKEN_PATH" --cafile "$TMP/tenantgate-ca/ca.pem" \
            --bearer-file "$BEARER_FILE")" || note "$peer: some intercepted connections failed: $out"
    fi
    [ -n "$out" ] || die "$peer: the idle-$mode client printed nothing"
    record "$peer" "idle_$mode" "$out"
    note "$peer idle $mode: $(echo "$out" | json rss_kb) kB RSS, $(echo "$out" | json open_at_measurement) open"
}

measure_tunnel() {
    local peer="$1" direction out
    for direction in down up; do
        out="$(timeout 300 python3 "$HELPER" bulk --proxy "$2" --target "$TARGET" --direction "$direction" \
            --total-mb "$BULK_MB" --clients "$BULK_CLIENTS" --rounds "$BULK_ROUNDS")" || die "$peer bulk $direction: $out"
        record "$peer" "bulk_$direction" "$out"
        note "$peer bulk $direction: $(echo "$out" | json mb_per_s) MB/s"
    done
    out="$(timeout 120 python3 "$HELPER" latency --proxy "$2" --target "$TARGET" --rounds "$LATENCY_ROUNDS")" \
        || die "$peer latency: $out"
    record "$peer" latency "$out"
    note "$peer round trip p50 $(echo "$out" | json p50_ms) ms, p99 $(echo "$out" | json p99_ms) ms"
}

# --- the runs ---------------------------------------------------------------------------------------------------
note "direct (no proxy), for reference"
measure_tunnel direct none

start_tinyproxy
measure_idle tinyproxy tunnels
measure_tunnel tinyproxy "$PROXY"
stop_proxy "$TMP/tinyproxy/tinyproxy.pid"

start_tenantgate tunnels
measure_idle tenantgate tunnels
measure_tunnel tenantgate "$PROXY"
stop_proxy "$TMP/tenantgate-tunnels/tenantgate.pid"

start_tenantgate intercepted
measure_idle tenantgate intercepted
stop_proxy "$TMP/tenantgate-intercepted/tenantgate.pid"

# --- the report -------------------------------------------------------------------------------------------------
echo
echo "## results (load at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "Throughput MB = 10^6 bytes; memory in MiB (VmRSS of a fresh proxy process per scenario). 'met?' judges TenantGate."
echo
helper table "$RESULTS"

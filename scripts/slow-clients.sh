#!/usr/bin/env bash
# 10,000 slow clients (one byte every few seconds, a slowloris) against TenantGate while an ordinary client measures
# its token exchanges: p50/p99 with and without them, and the proxy's resident memory. Exit 1 when a goal is missed
# (scripts/slow_clients.py: added p99 at most MAX_ADDED_P99_MS, default 10; the proxy's peak RSS at most MAX_RSS_MIB,
# default 256; no failed exchange under load; all SLOW connections open at once), each one missed named.
#
#   swift build -c release && scripts/slow-clients.sh
#   SLOW=10000 INTERVAL=5 DURATION=60 TENANTGATE_BIN=.build/release/tenantgate scripts/slow-clients.sh
#   MAX_ADDED_P99_MS=5 MAX_RSS_MIB=200 scripts/slow-clients.sh
#
# Uses the shared bench's mock STS (nginx on 127.0.0.1:443; started here with its PKI in a temp dir, or reused when
# running) and policies/ (Contoso -> Fabrikam, allowed). TenantGate runs with its default deadlines, so a slow client
# gets 408 after the 30 s request-head deadline and connects again; --max-connections and, since every client here
# is 127.0.0.1, --max-connections-per-client are raised above SLOW so the measuring client is not the one turned away. Everything on 127.0.0.1; every process stopped by its PID at exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SHARED_BENCH="$ROOT/../shared/bench"
TENANTGATE_BIN="${TENANTGATE_BIN:-.build/release/tenantgate}"
SLOW="${SLOW:-10000}"
INTERVAL="${INTERVAL:-5}"
DURATION="${DURATION:-60}"
[ -x "$TENANTGATE_BIN" ] || { echo "error: no TenantGate binary at $TENANTGATE_BIN" >&2; exit 1; }
TENANTGATE_BIN="$(cd "$(dirname "$TENANTGATE_BIN")" && pwd)/$(basename "$TENANTGATE_BIN")"
ulimit -n "$(ulimit -Hn)"   # 10,000 slow clients need as many descriptors in the proxy and in the client

TMP="$(mktemp -d /tmp/tenantgate-slow.XXXXXX)"
export RUN_DIR="$TMP/shared-run" PKI_DIR="$TMP/pki"
# shellcheck source=../../shared/bench/common.sh
source "$SHARED_BENCH/common.sh"
PIDFILES=()
cleanup() {
    local status=$? i
    trap - EXIT INT TERM
    for ((i = ${#PIDFILES[@]} - 1; i >= 0; i--)); do [ -s "${PIDFILES[$i]}" ] && stop_pidfile "${PIDFILES[$i]}" 10; done
    [ "$status" = 0 ] && rm -rf "$TMP" || echo "-- temp dir kept: $TMP" >&2
    exit "$status"
}
trap cleanup EXIT INT TERM

if (exec 3<>"/dev/tcp/127.0.0.1/$STS_PORT") 2>/dev/null; then
    STS_CA="$BENCH_DIR/pki/out/sts-ca.pem"; TOKENS="$BENCH_DIR/.run/sts/tokens"
    note "reusing the mock STS on 127.0.0.1:$STS_PORT"
else
    PIDFILES+=("$RUN_DIR/sts/nginx.pid")
    "$SHARED_BENCH/sts/start.sh" >"$TMP/sts.log" 2>&1 || { cat "$TMP/sts.log" >&2; die "the mock STS did not start"; }
    STS_CA="$PKI_DIR/sts-ca.pem"; TOKENS="$RUN_DIR/sts/tokens"
fi

mkdir -p "$TMP/tg" && chmod 700 "$TMP/tg"
PIDFILES+=("$TMP/tg/pid")
setsid "$TENANTGATE_BIN" serve --listen 127.0.0.1:0 --policies "$ROOT/policies" \
    --ca-cert "$TMP/tg/ca.pem" --ca-key "$TMP/tg/ca.key" --upstream-ca "$STS_CA" \
    --upstream-override "$ENTRA_HOST:443=127.0.0.1:$STS_PORT" --audit-log "$TMP/tg/audit.jsonl" \
    --creator-jwks "$TOKENS/jwks.json" --creator-audience "https://service.powerapps.com/" \
    --max-connections $((SLOW + 2000)) --max-connections-per-client $((SLOW + 2000)) </dev/null >"$TMP/tg/stdout.log" 2>"$TMP/tg/stderr.log" &
echo $! > "$TMP/tg/pid"
for _ in $(seq 150); do grep -q '^listening on ' "$TMP/tg/stdout.log" && break; sleep 0.1; done
PROXY="$(grep -m1 '^listening on ' "$TMP/tg/stdout.log" | sed 's/^listening on //')" || die "tenantgate did not start"
# The memory figures are read from /proc/PID of the proxy itself: the recorded PID must be the binary, not a launcher.
[ "$(readlink "/proc/$(cat "$TMP/tg/pid")/exe")" = "$(readlink -f "$TENANTGATE_BIN")" ] \
    || die "pid $(cat "$TMP/tg/pid") is not $TENANTGATE_BIN"
note "tenantgate on $PROXY (pid $(cat "$TMP/tg/pid")), $SLOW slow clients, one byte every $INTERVAL s, for $DURATION s"
python3 "$ROOT/scripts/slow_clients.py" --proxy "$PROXY" --pid "$(cat "$TMP/tg/pid")" --cafile "$TMP/tg/ca.pem" \
    --bearer-file "$TOKENS/maker-contoso.jwt" --path "/$T_FABRIKAM/oauth2/v2.0/token" \
    --slow "$SLOW" --interval "$INTERVAL" --duration "$DURATION" \
    ${MAX_ADDED_P99_MS:+--max-added-p99-ms "$MAX_ADDED_P99_MS"} ${MAX_RSS_MIB:+--max-rss-mib "$MAX_RSS_MIB"} \
    | tee "$TMP/result.json"

#!/usr/bin/env bash
# audit-kill9.sh -- does every token exchange a client got an answer for survive `kill -9` in the audit log?
#
# SPEC 4: a token response reaches the client only after its audit line is written. This script checks that
# promise from outside: it runs keep-alive load through a release `tenantgate serve`, kills the proxy with
# SIGKILL in the middle of it, and reconciles what the clients received against the audit file.
#
# It builds nothing. It needs:
#   TENANTGATE_BIN   a tenantgate binary (release build), e.g. .build/release/tenantgate
#   the shared bench (BENCH_DIR, default /work/shared/bench), set up once with its setup.sh: its mock Entra STS
#   (nginx, https://127.0.0.1:443; started here when not running, and then stopped again), its PKI
#   (pki/out: the interception CA TenantGate gets a copy of, the STS's CA) and its load generator (loadgen/).
# Settings (environment):
#   TG_PORT (8814)       the proxy's port on 127.0.0.1
#   DURATION (6)         seconds of load;     KILL_AFTER (3)   seconds into it the proxy gets SIGKILL
#   POWER_CUT (0)        1: a power cut at the kill too (below)
#   CONCURRENCY (8)      keep-alive transfers in flight for the allowed load
#   TENANTGATE_ARGS      extra `serve` flags, e.g. "--audit-fsync never" (word-split)
#   KEEP=1               keep the work directory (audit file, logs) instead of removing it
#
# The load, both through the proxy, with the creator tenant Contoso (the bench's maker token):
#   allowed: Contoso -> Fabrikam (bench loadgen, --json): each answer is the STS's 200, passed through unchanged.
#   blocked: Contoso -> Northwind (curl, 20 requests per keep-alive connection): TenantGate's own 403, whose body
#            carries `correlation_id`.
# Reconciliation:
#   403: every correlation_id a client received must be in the audit file (decision "blocked").
#   200: the answers carry no correlation ID (TenantGate passes the STS's response through), so these are
#        reconciled on counts: 200 answers received <= audit lines with decision "allowed" for Fabrikam's token
#        path. (An exchange killed between its line and its answer leaves a line with no answer: allowed, not lost.)
#   Prints `acknowledged N, in audit file M, lost K`; also malformed lines (a write torn by the kill).
# Exit: 0 nothing lost; 1 something lost; 2 the run could not be made or proves nothing (no answers, no kill).
#
# What it proves and what not: SIGKILL ends the process, not the kernel, so lines already written sit in the page
# cache and reach the file whatever --audit-fsync says; this checks the ordering "line written, then answer".
# POWER_CUT=1 also plays a power cut at the kill: the audit file loses every page its last fdatasync did not cover,
# and the next start must write the answered lines back from the audit journal (`--audit-fsync always`). A real
# reset of the VM is the test this plays.
#
# Everything listens on and talks to 127.0.0.1. Every wait and loop is bounded in time. Processes started here are
# stopped by their PID, never by name.
set -euo pipefail

BENCH_DIR="${BENCH_DIR:-/work/shared/bench}"
[ -r "$BENCH_DIR/common.sh" ] || { echo "error: no bench at $BENCH_DIR (set BENCH_DIR)" >&2; exit 2; }
# shellcheck source=/dev/null
source "$BENCH_DIR/common.sh"
die() { echo "error: $*" >&2; exit 2; }

TG_PORT="${TG_PORT:-8814}"
DURATION="${DURATION:-6}"
KILL_AFTER="${KILL_AFTER:-3}"
CONCURRENCY="${CONCURRENCY:-8}"
BIN="${TENANTGATE_BIN:-}"
[ -n "$BIN" ] && [ -x "$BIN" ] || die "set TENANTGATE_BIN to a tenantgate binary"
[ -x "$LOADGEN" ] || die "no load generator at $LOADGEN: run the bench's setup.sh"
command -v curl >/dev/null && command -v python3 >/dev/null || die "needs curl and python3"
(( KILL_AFTER < DURATION )) || die "KILL_AFTER ($KILL_AFTER) must be less than DURATION ($DURATION)"
require_free_port "$TG_PORT"

WORK="$(mktemp -d /tmp/audit-kill9.XXXXXX)"
STS_PIDFILE="$RUN_DIR/sts/nginx.pid"
started_sts=0
tg_pid=""
load_pid=""
blocked_pid=""

cleanup() {
    local pid
    for pid in "$tg_pid" "$load_pid" "$blocked_pid"; do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    if [ "$started_sts" = 1 ]; then "$BENCH_DIR/sts/stop.sh" >/dev/null 2>&1 || true; fi
    if [ "${KEEP:-0}" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
    return 0
}
trap cleanup EXIT

# 1. The mock STS: the bench's, reused when it runs, else started here (and stopped at exit).
if pidfile_alive "$STS_PIDFILE"; then
    note "reusing the running mock STS (pid $(cat "$STS_PIDFILE"))"
else
    "$BENCH_DIR/sts/start.sh" >&2 || die "the mock STS did not start"
    started_sts=1
fi
MAKER_TOKEN="$RUN_DIR/sts/tokens/maker-contoso.jwt"
[ -s "$MAKER_TOKEN" ] || die "no maker token at $MAKER_TOKEN"

# 2. TenantGate, as the bench starts it (peers/tenantgate/start.sh), with its audit file here.
install -m 600 "$PKI_DIR/intercept-ca.key" "$WORK/ca.key"
install -m 644 "$PKI_DIR/intercept-ca.pem" "$WORK/ca.pem"
AUDIT="$WORK/audit.jsonl"
creator_args=()
if "$BIN" serve --help 2>&1 | grep -q -- '--creator-jwks'; then
    creator_args=(--creator-jwks "$RUN_DIR/sts/tokens/jwks.json" --creator-audience "https://service.powerapps.com/")
fi
# Starts it and waits for its "listening on" line; $1 names its logs.
start_tenantgate() {
    # shellcheck disable=SC2086 # TENANTGATE_ARGS is a list of flags
    setsid "$BIN" serve \
        --listen "127.0.0.1:$TG_PORT" \
        --policies "$POLICY_DIR" \
        --ca-cert "$WORK/ca.pem" --ca-key "$WORK/ca.key" \
        --upstream-ca "$PKI_DIR/sts-ca.pem" \
        --upstream-override "$ENTRA_HOST:443=127.0.0.1:$STS_PORT" \
        --upstream-override "$ADO_HOST:443=127.0.0.1:$STS_PORT" \
        --audit-log "$AUDIT" \
        --mode enforce \
        "${creator_args[@]}" \
        ${TENANTGATE_ARGS:-} </dev/null >"$WORK/$1.stdout.log" 2>"$WORK/$1.stderr.log" &
    tg_pid=$!
    for _ in $(seq 150); do   # up to 15 s for "listening on HOST:PORT"
        grep -q '^listening on ' "$WORK/$1.stdout.log" && break
        kill -0 "$tg_pid" 2>/dev/null || { cat "$WORK/$1.stderr.log" >&2; die "tenantgate exited at start"; }
        sleep 0.1
    done
    grep -q '^listening on ' "$WORK/$1.stdout.log" || die "tenantgate printed no 'listening on' line in 15 s"
}
start_tenantgate serve
note "tenantgate $(grep -m1 '^listening on ' "$WORK/serve.stdout.log") (pid $tg_pid), audit $AUDIT ${TENANTGATE_ARGS:-}"

PROXY="http://127.0.0.1:$TG_PORT"
URL_ALLOWED="https://$ENTRA_HOST/$T_FABRIKAM/oauth2/v2.0/token"
URL_BLOCKED="https://$ENTRA_HOST/$T_NORTHWIND/oauth2/v2.0/token"

# 3. Load: allowed exchanges from loadgen, blocked ones from curl, both for DURATION seconds.
"$LOADGEN" -x "$PROXY" --cacert "$WORK/ca.pem" --proxy-bearer "@$MAKER_TOKEN" \
    -c "$CONCURRENCY" -d "$DURATION" --timeout 5 --json "$URL_ALLOWED" >"$WORK/loadgen.json" 2>"$WORK/loadgen.err" &
load_pid=$!
(
    urls=()
    for _ in $(seq 20); do urls+=("$URL_BLOCKED"); done
    end=$((SECONDS + DURATION))
    while (( SECONDS < end )); do
        # One connection, 20 requests on it; each body on its own line.
        curl -sS --max-time 5 -x "$PROXY" --proxy-header "Proxy-Authorization: Bearer $(cat "$MAKER_TOKEN")" \
            --cacert "$WORK/ca.pem" -d grant_type=client_credentials -w '\n' "${urls[@]}" \
            >>"$WORK/blocked.out" 2>>"$WORK/curl.err" || sleep 0.05
    done
) &
blocked_pid=$!

sleep "$KILL_AFTER"
kill -0 "$tg_pid" 2>/dev/null || die "tenantgate died before the kill; see $WORK/serve.stderr.log"
lines_at_kill=$(wc -l <"$AUDIT")
kill -KILL "$tg_pid"
{ wait "$tg_pid"; } 2>/dev/null || true   # reaped quietly (no "Killed" job notice)
tg_pid=""
note "SIGKILL to tenantgate after ${KILL_AFTER} s of load; $lines_at_kill audit lines just before"
for _ in $(seq $(( (DURATION - KILL_AFTER + 15) * 10 ))); do   # loadgen stops at DURATION; curl within 5 s after
    kill -0 "$load_pid" 2>/dev/null || kill -0 "$blocked_pid" 2>/dev/null || break
    sleep 0.1
done
wait "$load_pid" 2>/dev/null || true
wait "$blocked_pid" 2>/dev/null || true
load_pid=""
blocked_pid=""

# 3b. POWER_CUT=1: the machine, not only the process, stopped at the kill. The disk then holds what the last
# fdatasync of the audit file covered, and the audit journal (issue 26) beside it; the rest of the file's pages are
# gone. Played by cutting the file where the journal's first batch after its checkpoint begins, then starting
# tenantgate again, which writes the journal's lines back, and stopping it.
if [ "${POWER_CUT:-0}" = 1 ]; then
    journal="$WORK/.audit.jsonl.journal"
    [ -s "$journal" ] || die "POWER_CUT=1: no audit journal at $journal (a binary before issue 26, or no direct I/O here)"
    cut_at=$(python3 - "$journal" "$AUDIT" <<'EOF'
import os, struct, sys
journal, audit = open(sys.argv[1], "rb").read(), sys.argv[2]
size = os.path.getsize(audit)
magic, _, checkpoint = struct.unpack_from("<4sIQ", journal, 0)
if magic != b"TGJC" or len(journal) < 8192:
    print(size); sys.exit()
magic, _, sequence, _, count = struct.unpack_from("<4sIQII", journal, 4096)
if magic != b"TGJB" or sequence != checkpoint + 1 or count == 0:
    print(size); sys.exit()
_, _, offset, _ = struct.unpack_from("<QQQQ", journal, 4096 + 24)
print(min(offset, size))
EOF
)
    before=$(wc -l <"$AUDIT")
    truncate -s "$cut_at" "$AUDIT"
    # The machine's crash starts another boot: the checkpoint's boot ID (bytes 16..<56) names none.
    dd if=/dev/zero of="$journal" bs=1 seek=16 count=40 conv=notrunc status=none
    note "power cut played: audit file cut to $cut_at bytes, $(wc -l <"$AUDIT") of $before lines left"
    start_tenantgate restart
    kill -TERM "$tg_pid"
    { wait "$tg_pid"; } 2>/dev/null || true
    tg_pid=""
    note "restart: $(grep -o 'restored [0-9]* bytes of audit lines' "$WORK/restart.stderr.log" || echo 'nothing restored'), $(wc -l <"$AUDIT") lines"
fi

# 4. Reconcile.
set +e
python3 - "$WORK/loadgen.json" "$WORK/blocked.out" "$AUDIT" "$T_FABRIKAM" <<'EOF'
import json, re, sys

loadgen_path, blocked_path, audit_path, fabrikam = sys.argv[1:5]
try:
    load = json.loads(open(loadgen_path).read().strip().splitlines()[-1])
except (OSError, IndexError, ValueError) as error:
    print(f"error: no loadgen result ({error})", file=sys.stderr)
    sys.exit(2)
ok_answers = int(load.get("status", {}).get("200", 0))
other = {code: n for code, n in load.get("status", {}).items() if code != "200"}

blocked_ids = set()
try:
    with open(blocked_path, errors="replace") as blocked:
        for line in blocked:
            if '"error":"access_denied"' in line:
                blocked_ids.update(re.findall(r'"correlation_id":"([0-9a-f-]{36})"', line))
except FileNotFoundError:
    pass

allowed_lines, audit_ids, malformed, total = 0, set(), 0, 0
with open(audit_path, "rb") as audit:
    for raw in audit:
        total += 1
        try:
            event = json.loads(raw)
        except ValueError:
            malformed += 1
            continue
        if event.get("decision") == "allowed" and f"/{fabrikam}/" in event.get("path", ""):
            allowed_lines += 1
        if event.get("decision") == "blocked":
            audit_ids.add(event.get("correlation_id"))

missing_blocked = blocked_ids - audit_ids
acknowledged = ok_answers + len(blocked_ids)
in_audit = min(ok_answers, allowed_lines) + len(blocked_ids) - len(missing_blocked)
lost = acknowledged - in_audit
print(f"200 answers (loadgen): {ok_answers}; audit lines allowed: {allowed_lines}"
      f"{'' if not other else f'; other statuses {other}'}; loadgen errors after the kill: {load.get('errors', 0)}")
print(f"403 answers with a correlation_id (curl): {len(blocked_ids)}; of them in the audit file: "
      f"{len(blocked_ids) - len(missing_blocked)}")
print(f"audit file: {total} lines, {malformed} malformed")
for missing in sorted(missing_blocked)[:10]:
    print(f"  missing: {missing}")
print(f"acknowledged {acknowledged}, in audit file {in_audit}, lost {lost}")
if acknowledged == 0 or int(load.get("errors", 0)) == 0:
    print("error: no answers, or no failed transfers after the kill: this run proves nothing", file=sys.stderr)
    sys.exit(2)
sys.exit(1 if lost > 0 else 0)
EOF
status=$?
set -e
exit "$status"

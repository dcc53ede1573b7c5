#!/usr/bin/env bash
# Admin-change propagation across a fleet: a PostgreSQL of its own (Debian's server, initdb in a temporary
# directory, loopback only, durable commits as in production), the example policies imported with
# `tenantgate policies import`, then `tenantgate-simulate --fleet` starts three `serve` instances sharing it, changes
# the Northwind rule through one instance's admin API after another and times the others' next exchanges.
# Exits non-zero if any exchange was decided under the old policy after the notification reached its instance.
#
#   scripts/fleet-propagation.sh [ROUNDS] [INSTANCES]     (default 200 rounds, 3 instances)
#   DATA_PLANE=1: time Graph requests on connections kept open across the changes instead of token exchanges
#   TENANTGATE_BIN=.build/release/tenantgate (default; built with `swift build -c release` when missing, with
#   tenantgate-simulate beside it)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-200}
instances=${2:-3}
bin=${TENANTGATE_BIN:-.build/release/tenantgate}
simulate="$(dirname "$bin")/tenantgate-simulate"
[[ -x $bin ]] || swift build -c release --product tenantgate
[[ -x $simulate ]] || swift build -c release --product tenantgate-simulate

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -n $pg_bin ]] || { echo "no PostgreSQL server: apt-get install postgresql" >&2; exit 2; }
work=$(mktemp -d /tmp/tenantgate-fleet-pg-XXXXXX)
# PostgreSQL refuses to run as root: as root, its programs run as the postgres user.
as_server=()
if [[ $(id -u) == 0 ]]; then
    chown postgres:postgres "$work"
    as_server=(setpriv --reuid=postgres --regid=postgres --clear-groups)
fi
server=""
cleanup() {
    if [[ -n $server ]]; then
        kill -INT "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"${as_server[@]}" "$pg_bin/initdb" -D "$work/data" -U tenantgate --auth=trust -E UTF8 >"$work/initdb.log"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_server[@]}" "$pg_bin/postgres" -D "$work/data" -h 127.0.0.1 -p "$port" -k "$work" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 2; }
    sleep 0.1
done
"$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" || { echo "PostgreSQL did not start" >&2; exit 2; }

store="postgres://tenantgate@127.0.0.1:$port/postgres?sslmode=disable"
"$bin" policies import policies --policy-store "$store"
data_plane=()
[[ ${DATA_PLANE:-0} == 1 ]] && data_plane=(--data-plane)
"$simulate" --serve-binary "$bin" --fleet "$instances" --propagation "$rounds" --policy-store "$store" "${data_plane[@]}"

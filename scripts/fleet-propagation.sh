#!/usr/bin/env bash
# Admin-change propagation across a fleet: a PostgreSQL of its own (scripts/lib/loopback-postgres.sh), the
# example policies imported with `tenantgate policies import`, then `tenantgate-simulate --fleet` starts three `serve` instances sharing it, changes
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

source scripts/lib/loopback-postgres.sh
start_loopback_postgres
"$bin" policies import policies --policy-store "$store"
data_plane=()
[[ ${DATA_PLANE:-0} == 1 ]] && data_plane=(--data-plane)
"$simulate" --serve-binary "$bin" --fleet "$instances" --propagation "$rounds" --policy-store "$store" "${data_plane[@]}"

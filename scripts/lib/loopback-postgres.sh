# Sourced by scripts that need a PostgreSQL of their own: Debian's server, initdb in a temporary directory,
# loopback only, durable commits as in production. `start_loopback_postgres` sets `store` to its URL and stops the
# server and removes its files when the calling script exits.

start_loopback_postgres() {
    local pg_bin
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $pg_bin ]] || { echo "no PostgreSQL server: apt-get install postgresql" >&2; exit 2; }
    pg_work=$(mktemp -d /tmp/tenantgate-pg-XXXXXX)
    # PostgreSQL refuses to run as root: as root, its programs run as the postgres user.
    local as_server=()
    if [[ $(id -u) == 0 ]]; then
        chown postgres:postgres "$pg_work"
        as_server=(setpriv --reuid=postgres --regid=postgres --clear-groups)
    fi
    pg_server=""
    trap stop_loopback_postgres EXIT
    "${as_server[@]}" "$pg_bin/initdb" -D "$pg_work/data" -U tenantgate --auth=trust -E UTF8 >"$pg_work/initdb.log"
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as_server[@]}" "$pg_bin/postgres" -D "$pg_work/data" -h 127.0.0.1 -p "$port" -k "$pg_work" \
        >"$pg_work/server.log" 2>&1 &
    pg_server=$!
    for _ in $(seq 1 300); do
        "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        kill -0 "$pg_server" 2>/dev/null || { cat "$pg_work/server.log" >&2; exit 2; }
        sleep 0.1
    done
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" || { echo "PostgreSQL did not start" >&2; exit 2; }
    store="postgres://tenantgate@127.0.0.1:$port/postgres?sslmode=disable"
}

stop_loopback_postgres() {
    if [[ -n ${pg_server:-} ]]; then
        kill -INT "$pg_server" 2>/dev/null || true
        wait "$pg_server" 2>/dev/null || true
    fi
    rm -rf "${pg_work:-/nonexistent}"
}

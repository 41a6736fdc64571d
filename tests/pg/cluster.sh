#!/bin/sh
# A private PostgreSQL 15 cluster for the tests.
#
#   sh tests/pg/cluster.sh start DIR PORT   initdb into DIR/data (unless there;
#                                           DIR's parents must let postgres through),
#                                           start on 127.0.0.1:PORT with its unix
#                                           socket in DIR; prints the base URI
#   sh tests/pg/cluster.sh stop DIR         fast shutdown (no error if not running)
#   sh tests/pg/cluster.sh restart DIR      stop, then start again on the same port
#   sh tests/pg/cluster.sh destroy DIR      stop and remove DIR
#
# The cluster is owned by the `postgres` user (initdb refuses root): as root the
# binaries run through `runuser -u postgres --`. It listens on 127.0.0.1 only,
# trusts local connections (tests only), and trades durability for speed
# (fsync off). Binaries: $PG_BIN, default /usr/lib/postgresql/15/bin; when they
# are missing, scripts/install-deps.sh installs them first.
set -eu
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
HERE=$(cd "$(dirname "$0")" && pwd)

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

need_binaries() {
    [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && return 0
    sh "$HERE/../../scripts/install-deps.sh" >&2
    [ -x "$PG_BIN/initdb" ] || { echo "cluster.sh: no PostgreSQL binaries in $PG_BIN" >&2; exit 1; }
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: cluster.sh start|stop|restart|destroy DIR [PORT]" >&2; exit 2; }

start() {
    port=$1
    need_binaries
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir"
    fi
    chmod 0700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
            --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    echo "$port" >"$dir/port"
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { tail -n 30 "$dir/server.log" >&2; exit 1; }
    echo "postgresql://postgres@127.0.0.1:$port/"
}

stop() {
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

case $cmd in
start) start "${3:?PORT}" ;;
stop) stop ;;
restart) stop; start "$(cat "$dir/port")" ;;
destroy) stop; rm -rf "$dir" ;;
*) echo "cluster.sh: unknown command $cmd" >&2; exit 2 ;;
esac

#!/bin/sh
# Several nodes on one PostgreSQL database: what scale-out buys and costs.
#
#   sh bench/multinode.sh [SECONDS] [WRITES]     (defaults 10 and 1000)
#
# 1. Verify throughput: one node under one wrk, then two nodes, each under
#    its own wrk at the same time (the sum is the cluster's rate). Each wrk
#    has 2 threads and 64 connections, GET /api/v1/verify with one key.
# 2. Propagation: WRITES writes on node A (deactivate / activate a key, in
#    turn); after each write's response, node B is asked (verify, a kept-alive
#    connection, no pause) until it answers the new state. Reported: the time
#    from A's response to B's first matching answer, and (stricter) from the
#    moment the write request was sent to A; median, p99 and max.
# Needs build/keystile (or $KEYSTILE_BIN), wrk, python3 and PostgreSQL 15
# binaries (tests/pg/cluster.sh: a private cluster on 127.0.0.1, fsync off,
# removed at the end). Everything listens on 127.0.0.1 and is stopped on exit.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${KEYSTILE_BIN:-$ROOT/build/keystile}
SECS=${1:-10}
WRITES=${2:-1000}
[ -x "$BIN" ] || { echo "multinode.sh: no $BIN (run make)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "multinode.sh: wrk is missing" >&2; exit 1; }
WORK=$(mktemp -d /tmp/keystile-bench-mn.XXXXXX)
PGDIR=$WORK/pg
chmod 711 "$WORK" # the postgres user must reach $PGDIR
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    sh "$ROOT/tests/pg/cluster.sh" destroy "$PGDIR" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

BASE=$(sh "$ROOT/tests/pg/cluster.sh" start "$PGDIR" "$(port)")
psql -X -q -c "CREATE DATABASE bench" "${BASE}postgres"
DB="${BASE}bench"
head -c 32 /dev/urandom >"$WORK/secret"
chmod 600 "$WORK/secret"
OWNER=$("$BIN" account create acme --db "$DB" --secret-file "$WORK/secret")
KEY=$(echo "$OWNER" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
TOKEN=$(echo "$OWNER" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

start_node() { # port -> pid in $!
    "$BIN" serve --db "$DB" --secret-file "$WORK/secret" --listen "127.0.0.1:$1" \
        --access-log none >"$WORK/node-$1.log" 2>&1 &
    PIDS="$PIDS $!"
    i=0
    until curl -sf "http://127.0.0.1:$1/healthz" >/dev/null; do
        i=$((i + 1)); [ $i -lt 200 ] || { cat "$WORK/node-$1.log" >&2; exit 1; }
        sleep 0.05
    done
}
PA=$(port); start_node "$PA"
PB=$(port); start_node "$PB"

rate() { # wrk output -> requests/s
    awk '/Requests\/sec/ {print $2}'
}
run_wrk() { # port
    wrk -t2 -c64 -d"${SECS}s" -H "X-API-Key: $KEY" -H "X-API-Token: $TOKEN" \
        "http://127.0.0.1:$1/api/v1/verify" >"$WORK/wrk-$1.txt"
}
non2xx() { awk '/Non-2xx/ {print $NF}' "$WORK/wrk-$1.txt"; }

echo "== verify throughput ($(nproc) CPUs, ${SECS}s per run)"
run_wrk "$PA"
ONE=$(rate <"$WORK/wrk-$PA.txt")
echo "one node:  $ONE req/s $(non2xx "$PA")"
run_wrk "$PA" & W1=$!
run_wrk "$PB" & W2=$!
wait $W1 $W2
A2=$(rate <"$WORK/wrk-$PA.txt")
B2=$(rate <"$WORK/wrk-$PB.txt")
echo "two nodes: $A2 + $B2 = $(python3 -c "print(round($A2 + $B2, 2))") req/s $(non2xx "$PA")$(non2xx "$PB")"

echo "== write on A -> enforced on B ($WRITES writes)"
python3 - "$PA" "$PB" "$KEY" "$TOKEN" "$WRITES" <<'EOF'
import http.client, json, statistics, sys, time
pa, pb, key, token, writes = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
own = {"X-API-Key": key, "X-API-Token": token}
a = http.client.HTTPConnection("127.0.0.1", pa)
b = http.client.HTTPConnection("127.0.0.1", pb)

def call(conn, method, path, body=None, headers=own):
    h = dict(headers)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    return r.status, r.read()

st, body = call(a, "POST", "/api/v1/accounts/acme/keys", {"name": "bench target"})
assert st == 201, body
target = json.loads(body)
cred = {"X-API-Key": target["key"], "X-API-Token": target["token"]}
path = "/api/v1/accounts/acme/keys/" + target["key"]
lat, from_send, polls = [], [], 0
for i in range(writes):
    active = i % 2 == 1  # the first write deactivates
    sent = time.perf_counter()
    st, body = call(a, "PATCH", path, {"status": "active" if active else "inactive"})
    assert st == 200, body
    t0 = time.perf_counter()
    while True:
        st, _ = call(b, "GET", "/api/v1/verify", headers=cred)
        polls += 1
        if (st == 200) == active:
            break
        if time.perf_counter() - t0 > 5:
            sys.exit("node B did not follow write %d within 5 s" % i)
    done = time.perf_counter()
    lat.append(done - t0)
    from_send.append(done - sent)
ms = lambda v: "%.2f ms" % (v * 1000)
print("writes: %d, verify polls on B: %d" % (len(lat), polls))
for name, v in (("from A's response", lat), ("from sending the write", from_send)):
    v.sort()
    print("%-24s median %s  p99 %s  max %s  (all under 1 s: %s)" % (
        name + ":", ms(statistics.median(v)), ms(v[int(len(v) * 0.99) - 1]), ms(v[-1]), v[-1] < 1.0))
EOF

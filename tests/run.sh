#!/bin/sh
# Runs every test suite and ends with one line "N passed, M failed".
# BUILD selects the build folder (build, or build/san for SANITIZE=1).
# Suites: scripts/checksrc (banned functions in src/), the C unit tests
# (build/tests/<module>/test_*, mirroring src/; test_store_pg starts its own
# PostgreSQL cluster), the fuzz corpus replays, the HTTP tests
# (tests/http/run.py) against the real binary, the same HTTP tests and the
# multi-node tests against PostgreSQL (tests/pg/run.py, a private cluster per
# shard), the CLI and the browser tests. Each prints its own "suite: N
# passed, M failed" line; this script adds them up.
#
#   sh tests/run.sh            every suite
#   sh tests/run.sh valgrind   only the HTTP suite, every server under valgrind
#                              (KEYSTILE_VALGRIND=1; make test-valgrind)
#
# The suites run in lanes, at once: most of their time is spent waiting on
# servers, databases, sleeps and timeouts, not on the CPU, so on a 2-core
# machine seven lanes take about a third of the time of one. Every suite starts its
# own servers on free loopback ports in its own temporary folder, so none
# depends on another or on the order. A lane's output is printed whole when
# it ends (lanes in a fixed order), each suite with the seconds it took.
# TEST_LANES=1 runs everything in one lane, in order, printing as it goes.
#
# Every suite runs in its own process under timeout(1): UNIT_TIMEOUT seconds
# (default 300) for a unit binary or a corpus replay, SUITE_TIMEOUT (default
# 1800) for the HTTP, PostgreSQL, CLI and browser suites. A suite that runs
# out of time is killed and counted as one failure, with a line saying so.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MODE=${1:-all}
TEST_LANES=${TEST_LANES:-7}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1800}
BIN="$ROOT/$BUILD/keystile"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
out="$work/suite.out" # one suite's output; each lane has its own

count() { # adds the last "N passed, M failed" line of $out; a suite without one failed
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -z "$line" ]; then
        echo "  (suite printed no result line: counted as 1 failure)"
        failed=$((failed + 1))
        return
    fi
    p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
    f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
    passed=$((passed + p))
    failed=$((failed + f))
}

run_suite() { # name, seconds, command...
    name=$1
    secs=$2
    shift 2
    t0=$(date +%s)
    timeout --kill-after=10 "$secs" "$@" >"$out" 2>&1
    rc=$?
    echo "== $name ($(($(date +%s) - t0)) s)"
    cat "$out"
    count
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "  TIMEOUT: $name did not finish within ${secs}s and was killed: counted as 1 failure"
        failed=$((failed + 1))
    elif [ $rc -ne 0 ] && ! grep -qE '[1-9][0-9]* failed' "$out"; then
        echo "  ($name exited $rc without reporting a failure: counted as 1 failure)"
        failed=$((failed + 1))
    fi
}

# ---- the lanes: each a list of suites, run in order ----------------------

lane_unit() { # checksrc, unit binaries, corpus replays, CLI, browser
    run_suite "checksrc" "$UNIT_TIMEOUT" python3 scripts/checksrc src
    for t in "$BUILD"/tests/*/test_*; do
        [ -x "$t" ] || continue
        run_suite "${t#"$BUILD"/tests/}" "$UNIT_TIMEOUT" "$t"
    done
    for t in "$BUILD"/fuzz-replay/fuzz_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        run_suite "$name (corpus replay)" "$UNIT_TIMEOUT" "$t" "fuzz/corpus/${name#fuzz_}"
    done
    [ -f tests/cli/run.py ] && KEYSTILE_BIN="$BIN" run_suite "cli" "$SUITE_TIMEOUT" python3 tests/cli/run.py
    # Browser tests: playwright-core from npm (installed here if missing) driving Debian's Chromium.
    if [ -f tests/browser/run.mjs ]; then
        for m in playwright-core jsqr pngjs; do # tests/browser/package.json's devDependencies
            if [ ! -d "tests/browser/node_modules/$m" ]; then
                (cd tests/browser && npm ci --silent --no-audit --no-fund >/dev/null 2>&1)
                break
            fi
        done
        KEYSTILE_BIN="$BIN" KEYSTILE_DOCS_SCREENSHOT=${KEYSTILE_DOCS_SCREENSHOT:-0} \
            run_suite "browser" "$SUITE_TIMEOUT" node tests/browser/run.mjs
    fi
}

lane_http() { # K/N: one shard of the HTTP suite
    KEYSTILE_BIN="$BIN" run_suite "http (shard $1)" "$SUITE_TIMEOUT" python3 tests/http/run.py --shard "$1"
}

lane_pg() { # K/N: one shard of the PostgreSQL suites
    KEYSTILE_BIN="$BIN" run_suite "postgresql: http + multinode (shard $1)" "$SUITE_TIMEOUT" \
        python3 tests/pg/run.py --shard "$1"
}

if [ "$MODE" = valgrind ]; then
    export KEYSTILE_VALGRIND=1
    lanes="http:1/2 http:2/2" # valgrind is CPU-bound: one lane per core
else
    lanes="unit http:1/3 http:2/3 http:3/3 pg:1/3 pg:2/3 pg:3/3"
fi

# ---- run them ------------------------------------------------------------

if [ "$TEST_LANES" -le 1 ]; then
    for l in $lanes; do
        "lane_${l%%:*}" ${l#*:}
    done
    # (a lane without ":" passes its own name as $1; lane_unit ignores it)
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi

# Each lane in the background, with its own output and counts; at most
# TEST_LANES at once. Printed in the order of $lanes as each one ends.
i=0
pids=""
for l in $lanes; do
    i=$((i + 1))
    while [ "$(jobs -p | wc -l)" -ge "$TEST_LANES" ]; do
        sleep 1
    done
    (
        passed=0
        failed=0
        out="$work/lane$i.suite"
        "lane_${l%%:*}" ${l#*:} >"$work/lane$i.log" 2>&1
        echo "$passed $failed" >"$work/lane$i.count"
    ) &
    pids="$pids $!"
done
i=0
for pid in $pids; do
    i=$((i + 1))
    wait "$pid"
    cat "$work/lane$i.log"
    if [ -s "$work/lane$i.count" ]; then
        read -r p f <"$work/lane$i.count"
        passed=$((passed + p))
        failed=$((failed + f))
    else
        echo "  (lane $i ended without its counts: counted as 1 failure)"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# Runs every test suite and ends with one line "N passed, M failed".
# BUILD selects the build folder (build, or build/san for SANITIZE=1).
# Suites: scripts/checksrc (banned functions in src/), the C unit tests
# (build/tests/<module>/test_*, mirroring src/; test_store_pg starts its own
# PostgreSQL cluster), the fuzz corpus replays, then the HTTP tests
# (tests/http/run.py) against the real binary, then the same HTTP tests and
# the multi-node tests against PostgreSQL (tests/pg/run.py, one private
# cluster), the CLI and the browser tests. Each prints its own "suite: N
# passed, M failed" line; this script adds them up.
#
# Every suite runs in its own process under timeout(1): UNIT_TIMEOUT seconds
# (default 300) for a unit binary or a corpus replay, SUITE_TIMEOUT (default
# 1800) for the HTTP, PostgreSQL, CLI and browser suites. A suite that runs
# out of time is killed and counted as one failure, with a line saying so.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

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

UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1800}

run_suite() { # name, seconds, command...
    name=$1
    secs=$2
    shift 2
    echo "== $name"
    timeout --kill-after=10 "$secs" "$@" >"$out" 2>&1
    rc=$?
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

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
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
KEYSTILE_BIN="$ROOT/$BUILD/keystile" run_suite "http" "$SUITE_TIMEOUT" python3 tests/http/run.py
KEYSTILE_BIN="$ROOT/$BUILD/keystile" run_suite "postgresql (http + multinode)" "$SUITE_TIMEOUT" python3 tests/pg/run.py
[ -f tests/cli/run.py ] && KEYSTILE_BIN="$ROOT/$BUILD/keystile" run_suite "cli" "$SUITE_TIMEOUT" python3 tests/cli/run.py
# Browser tests: playwright-core from npm (installed here if missing) driving Debian's Chromium.
if [ -f tests/browser/run.mjs ]; then
    for m in playwright-core jsqr pngjs; do # tests/browser/package.json's devDependencies
        if [ ! -d "tests/browser/node_modules/$m" ]; then
            (cd tests/browser && npm ci --silent --no-audit --no-fund >/dev/null 2>&1)
            break
        fi
    done
    KEYSTILE_BIN="$ROOT/$BUILD/keystile" KEYSTILE_DOCS_SCREENSHOT=${KEYSTILE_DOCS_SCREENSHOT:-0} \
        run_suite "browser" "$SUITE_TIMEOUT" node tests/browser/run.mjs
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env python3
"""PostgreSQL tests: python3 tests/pg/run.py [http] [multinode] [--shard K/N] [-q] [FILTER...]

Starts a private PostgreSQL 15 cluster (tests/pg/cluster.sh: initdb into a temp
dir as the postgres user, 127.0.0.1 only, a free port), then runs
  http       the HTTP suite of tests/http against PostgreSQL-backed servers
             (harness.Server with KEYSTILE_TEST_DB_URL: a fresh database each),
             less the tests that inspect the SQLite file itself (SQLITE_ONLY);
  multinode  tests/pg/test_*.py: several nodes on one database
(both when neither is named), and destroys the cluster at the end, also on
failure or SIGTERM. FILTER keeps tests whose id contains it; --shard K/N runs
the K-th of N disjoint parts of each (as tests/http/run.py), with its own cluster. Prints a
"<part>: N passed, M failed" line per part, and last the total in the same form.
"""
import os
import signal
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HTTP = os.path.join(ROOT, "tests", "http")
sys.path.insert(0, HTTP)
sys.path.insert(0, HERE)

import pgcluster  # noqa: E402
import sharding  # noqa: E402  (tests/http/sharding.py: imports no harness)

# Tests of the HTTP suite that are about SQLite, its file or its directory, with why.
SQLITE_ONLY = {
    "test_crash_loop.": "opens the SQLite file after kill -9 loops",
    "test_secrets.TestNoPlaintextTokens": "scans the SQLite file (tests/pg/test_nodes.py scans a dump)",
    "test_serve_options.": "runs keystile serve itself with --db as a file, no --secret-file",
    "test_login_share.TestSigningKeyRotation": "runs keystile signing-key rotate without --secret-file",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def http_runner():
    """tests/http/run.py as a module (for its Result class)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("http_run", os.path.join(HTTP, "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_part(name, start_dir, filters, skip, verbose, shard):
    http_run = http_runner()
    loader = unittest.TestLoader()
    suite = loader.discover(start_dir, pattern="test_*.py", top_level_dir=start_dir)
    tests = [t for t in iter_tests(suite)
             if not any(k in t.id() for k in skip)
             and (not filters or any(f in t.id() for f in filters))]
    by_class = {}
    for t in tests:
        by_class.setdefault(type(t), []).append(t)
    ordered = unittest.TestSuite()
    for k in sharding.shard_classes(list(by_class), *shard, weight=lambda c: len(by_class[c])):
        ordered.addTests(by_class[k])
    result = http_run.Result(verbose)
    start = time.time()
    ordered.run(result)
    for kind, items in (("FAIL", result.failures), ("ERROR", result.errors)):
        for test, err in items:
            print("=" * 70)
            print("%s: %s" % (kind, getattr(test, "id", lambda: str(test))()))
            print("-" * 70)
            print(err)
    passed = len([t for t in result.passed if t not in result.failed_ids])
    failed = len(result.failed_ids)
    print("%s: ran %d tests in %.1fs" % (name, result.testsRun, time.time() - start))
    print("%s: %d passed, %d failed" % (name, passed, failed), flush=True)
    return passed, failed


def main(argv):
    argv = list(argv)
    shard = sharding.parse_shard(argv)
    parts = [a for a in argv if a in ("http", "multinode")] or ["http", "multinode"]
    filters = [a for a in argv if a not in parts and not a.startswith("-")]
    verbose = "-q" not in argv
    try:
        cluster = pgcluster.Cluster.create(free_port())
    except Exception as e:
        print("cannot start a PostgreSQL cluster: %s" % e)
        print("0 passed, 1 failed")
        return 1
    os.environ["KEYSTILE_TEST_DB_URL"] = cluster.url
    os.environ["KEYSTILE_TEST_PG_DIR"] = cluster.dir

    def on_term(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    passed = failed = 0
    try:
        import harness  # after the environment is set: reads KEYSTILE_TEST_DB_URL
        if harness.PG_URL != cluster.url:  # else every test would quietly run on SQLite or skip
            raise RuntimeError("the harness was imported before KEYSTILE_TEST_DB_URL was set")
        for part in parts:
            if part == "http":
                p, f = run_part("pg-http", HTTP, filters, SQLITE_ONLY, verbose, shard)
            else:
                p, f = run_part("pg-multinode", HERE, filters, {}, verbose, shard)
            passed += p
            failed += f
        harness._stop_all()
    finally:
        try:
            cluster.destroy()
        except Exception as e:
            print("cannot destroy the cluster in %s: %s" % (cluster.dir, e))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

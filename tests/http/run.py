#!/usr/bin/env python3
"""Runs the HTTP tests: python3 tests/http/run.py [--shard K/N] [-q] [FILTER...]

FILTER keeps the tests whose id (module.Class.test_name) contains it; several
filters keep the union. --shard K/N runs the K-th of N disjoint parts (whole
test classes, dealt out in turn), so tests/run.sh can run N at once. The last line is exactly "N passed, M failed" (plus
", K skipped" when tests were skipped); errors count as failed. Exit code 1 if
anything failed, else 0.
"""
import os
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402  (registers the atexit/SIGTERM server cleanup)
from sharding import parse_shard, shard_classes  # noqa: E402


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


class Result(unittest.TestResult):
    def __init__(self, verbose):
        super().__init__()
        self.verbose = verbose
        self.passed = []
        self.failed_ids = []  # one entry per failing test (subtests folded in)
        self._start = 0.0

    def startTest(self, test):
        super().startTest(test)
        self._start = time.time()

    def stopTest(self, test):
        super().stopTest(test)
        self._start = 0.0

    def _line(self, test, word):
        if self.verbose:
            took = ""
            if isinstance(test, unittest.TestCase) and self._start:
                took = " (%.2fs)" % (time.time() - self._start)
            print("%-6s %s%s" % (word, test.id(), took), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed.append(test.id())
        self._line(test, "ok")

    def _fail(self, test, word):
        tid = getattr(test, "id", lambda: str(test))()
        if tid not in self.failed_ids:
            self.failed_ids.append(tid)
            self._line(test, word)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, "ERROR")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None and test.id() not in self.failed_ids:
            self.failed_ids.append(test.id())
            self._line(test, "FAIL")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, "skip")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed.append(test.id())

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._fail(test, "FAIL")


def main(argv):
    argv = list(argv)
    shard_k, shard_n = parse_shard(argv)
    filters = [a for a in argv if not a.startswith("-")]
    verbose = "-q" not in argv
    loader = unittest.TestLoader()
    try:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    except Exception:
        traceback.print_exc()
        print("0 passed, 1 failed")
        return 1
    tests = list(iter_tests(suite))
    if filters:
        tests = [t for t in tests if any(f in t.id() for f in filters)]
    # Keep classes together so each class starts its server once.
    run_suite = unittest.TestSuite()
    by_class = {}
    order = []
    for t in tests:
        k = type(t)
        if k not in by_class:
            by_class[k] = []
            order.append(k)
        by_class[k].append(t)
    for k in shard_classes(order, shard_k, shard_n, lambda c: len(by_class[c])):
        run_suite.addTests(by_class[k])

    result = Result(verbose)
    start = time.time()
    run_suite.run(result)
    elapsed = time.time() - start

    problems = [("FAIL", t, e) for t, e in result.failures] + \
               [("ERROR", t, e) for t, e in result.errors] + \
               [("UNEXPECTED SUCCESS", t, "") for t in result.unexpectedSuccesses]
    for kind, test, err in problems:
        print("=" * 70)
        print("%s: %s" % (kind, getattr(test, "id", lambda: str(test))()))
        print("-" * 70)
        print(err)
    # Module import errors appear as failed tests named unittest.loader._FailedTest;
    # a class whose setUpClass fails counts as one failure. A test with failing
    # subtests counts once.
    passed = len([t for t in result.passed if t not in result.failed_ids])
    failed = len(result.failed_ids)
    skipped = len(result.skipped)
    print("-" * 70)
    print("ran %d tests in %.1fs" % (result.testsRun, elapsed))
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    harness._stop_all()
    sys.exit(rc)

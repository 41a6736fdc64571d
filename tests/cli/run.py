#!/usr/bin/env python3
"""Runs the command-line client tests: python3 tests/cli/run.py [-v] [FILTER...]

Discovers tests/cli/test_*.py with unittest. The binary is $KEYSTILE_BIN
(default <repo>/build/keystile). FILTER keeps the tests whose id contains it.
Prints one line per failure (and per test with -v), then a last line exactly
"N passed, M failed" (", K skipped" follows when tests were skipped); errors
count as failures. Exit 1 when anything failed, else 0.
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


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
        self.passed = 0

    def _say(self, word, test, detail=None):
        if self.verbose or detail:
            print("%-5s %s" % (word, test.id()), flush=True)
        if detail:
            print("      " + detail.rstrip().replace("\n", "\n      "), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._say("ok", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._say("FAIL", test, self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._say("ERROR", test, self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._say("skip", test, None)
        if not self.verbose:
            print("skip  %s: %s" % (test.id(), reason), flush=True)


def main(argv):
    verbose = "-v" in argv
    filters = [a for a in argv if a != "-v"]
    loaded = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    suite = unittest.TestSuite()
    for t in iter_tests(loaded):
        if not filters or any(f in t.id() for f in filters):
            suite.addTest(t)
    result = Result(verbose)
    start = time.time()
    suite.run(result)
    failed = len(result.failures) + len(result.errors)
    line = "%d passed, %d failed" % (result.passed, failed)
    if result.skipped:
        line += ", %d skipped" % len(result.skipped)
    print("cli tests took %.1f s" % (time.time() - start))
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Splitting a test run into disjoint shards (tests/http/run.py, tests/pg/run.py).

No imports of the harness here: tests/pg/run.py must parse its arguments
before it sets KEYSTILE_TEST_DB_URL, which the harness reads when imported.
"""


def parse_shard(argv):
    """(k, n) from "--shard K/N" in argv (removed from it); (1, 1) without."""
    if "--shard" not in argv:
        return 1, 1
    i = argv.index("--shard")
    try:
        k, n = (int(x) for x in argv[i + 1].split("/"))
    except (IndexError, ValueError):
        raise SystemExit("--shard takes K/N, e.g. --shard 1/2")
    if not 1 <= k <= n:
        raise SystemExit("--shard K/N needs 1 <= K <= N")
    del argv[i:i + 2]
    return k, n


def shard_classes(classes, k, n, weight=lambda c: 1):
    """The K-th of N parts of a list of test classes: the heaviest class
    first into the lightest part, by weight (tests per class, say), ties
    broken by name, so every run deals them out the same way."""
    parts = [[0, []] for _ in range(n)]
    ordered = sorted(classes, key=lambda c: (-weight(c), c.__module__, c.__qualname__))
    for c in ordered:
        lightest = min(range(n), key=lambda i: (parts[i][0], i))
        parts[lightest][0] += weight(c)
        parts[lightest][1].append(c)
    chosen = set(parts[k - 1][1])
    return [c for c in classes if c in chosen]  # in the caller's order

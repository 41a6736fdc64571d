#!/usr/bin/env python3
"""Two builds of keystile under the same verify load, side by side: the A/B
behind each change of issue 20 ("Verify at the machine's limit").

    python3 bench/ab_verify.py BIN_A BIN_B [--rounds R] [--duration S]
                               [--keys N] [--limits] [--build DIR]

Seeds a store of N keys (default 1,000,000; --limits: every key with 3
allowed ranges and a rate limit, as `make bench`'s second row) with
DIR/bench/seed, copies it for B (each server its own file, so their
flushes never meet), starts `BIN serve --threads 1` on each copy, warms
both up, then runs R rounds (default 6) of `wrk -t1 -c32` for S seconds
(default 10) on each, alternating which goes first, over the same 70% of
the sampled credentials as `make bench`. Prints every round and the
medians: req/s and server CPU per request (utime+stime / requests), and
the CPU per request of each thread by name (MHD-... answers requests;
ks-flusher, ks-sweeper and the others are background work). A benchmark,
not a test: nothing is asserted. Servers stop after the run, or by
themselves after --limit seconds; the temporary folder is removed.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (its servers, wrk and CPU readings)


def measure(args, srv):
    """One round on srv: req/s, us CPU per request, {thread: us per request}."""
    t0 = run.threads_s(srv.pid)
    res = run.wrk(args, srv.port, "verify.lua", [args.creds, 1, args.last])
    t1 = run.threads_s(srv.pid)
    n = max(res["requests"], 1)
    per = {k: (v - t0.get(k, 0.0)) * 1e6 / n for k, v in t1.items()}
    return res["rps"], sum(per.values()), per


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bin_a")
    ap.add_argument("bin_b")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--sample", type=int, default=100000)
    ap.add_argument("--limits", action="store_true", help="every key with allowed ranges and a rate limit")
    ap.add_argument("--build", default="build")
    ap.add_argument("--limit", type=int, default=3600, help="seconds any server may live")
    args = ap.parse_args()
    run.TMP = tempfile.mkdtemp(prefix="keystile-ab-")
    os.chmod(run.TMP, 0o700)
    try:
        seed = os.path.join(run.ROOT, args.build, "bench", "seed")
        db_a = os.path.join(run.TMP, "a.db")
        env = dict(os.environ, KS_SEED_LIMITS="1") if args.limits else None
        run.log("seeding %d keys%s ..." % (args.keys, " with limits" if args.limits else ""))
        subprocess.run(["timeout", str(args.limit), seed, db_a, str(args.keys), run.TMP, str(args.sample)],
                       stdout=subprocess.DEVNULL, check=True, env=env)
        db_b = os.path.join(run.TMP, "b.db")
        shutil.copyfile(db_a, db_b)
        shutil.copyfile(db_a + ".secret", db_b + ".secret")
        os.chmod(db_b + ".secret", 0o600)
        args.creds, args.last = os.path.join(run.TMP, "creds.txt"), int(args.sample * 0.7)
        servers = {}
        for name, binary, db in (("A", args.bin_a, db_a), ("B", args.bin_b, db_b)):
            args.bin = binary
            servers[name] = run.start_keystile(args, db, name, 1)
            run.wrk(args, servers[name].port, "verify.lua", [args.creds, 1, args.last], duration=2)  # warm-up
        got = {"A": [], "B": []}
        for i in range(args.rounds):
            for name in ("A", "B") if i % 2 == 0 else ("B", "A"):
                rps, cpu, per = measure(args, servers[name])
                got[name].append((rps, cpu, per))
                busy = ", ".join("%s %.3f" % (k, v) for k, v in sorted(per.items(), key=lambda x: -x[1]) if v >= 0.005)
                print("round %d %s: %.0f req/s, %.3f us CPU/request (%s)" % (i + 1, name, rps, cpu, busy), flush=True)
        med = {}
        for name in ("A", "B"):
            rounds = got[name]
            names = sorted({k for _, _, per in rounds for k in per})
            threads = {k: statistics.median(per.get(k, 0.0) for _, _, per in rounds) for k in names}
            med[name] = (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds))
            print("%s (%s): median %.0f req/s, %.3f us CPU/request; by thread: %s" % (
                name, getattr(args, "bin_" + name.lower()), med[name][0], med[name][1],
                ", ".join("%s %.3f" % (k, v) for k, v in sorted(threads.items(), key=lambda x: -x[1]) if v >= 0.005)))
        print("B / A: req/s %.3f, CPU per request %.3f" % (med["B"][0] / med["A"][0], med["B"][1] / med["A"][1]))
    finally:
        run.cleanup()


if __name__ == "__main__":
    main()

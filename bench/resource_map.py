#!/usr/bin/env python3
"""The resource map's cost on verify (issue 18), run by `make bench`:

    python3 bench/resource_map.py [--bin build/keystile] [--duration S] [--rounds R]
                                  [--calls N | --no-callgrind] [--no-wrk] [--out FILE]

Two `keystile serve --threads 1` servers on fresh SQLite stores, one with
`--resource-map` of 200 rules (five methods, literal, `*` and `**` patterns),
one without. Both get the same forward-auth calls: GET /api/v1/verify with
the account's Owner credential and X-Forwarded-Method / X-Forwarded-Uri
rotating over 200 requests, one per rule, each resolving to a resource the
Owner holds (view-api-keys), so every answer is 200 on both; without a map the
forwarded headers are read by nothing. So the difference is the map's work:
the header lookups, the path normalisation, the trie walk, the resource copy
and the resource check.
1. req/s: `wrk -t1 -c32` (bench/verify_forwarded.lua), rounds alternating the
   servers; the ratio is with map / without, per round, median of rounds.
   Target >= 0.95. On a shared machine req/s move by tens of percent between
   rounds, hence:
   The server's CPU time (utime+stime from /proc) per request in the same
   runs, with map / without: target <= 1.05.
2. instructions per verify under callgrind (N calls on one keep-alive
   connection, all threads counted), with map and without: load-independent,
   but user space only (the kernel's network work, a large part of a
   verify's cost, is not counted), so its ratio overstates the map's share.
A benchmark, not a test. Writes its section ("## Resource map") of
bench/RESULTS.md unless --out -. Everything lives in temporary directories
removed at the end; every server runs under `timeout`.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import management_cost  # noqa: E402
import run as bench_run  # noqa: E402

METHODS = ["GET", "POST", "PUT", "DELETE", "*"]
PATTERNS = ["/api/v1/svc%d/items/*", "/api/v1/svc%d/**", "/api/v1/svc%d", "/api/v1/svc%d/items/*/notes/*"]
SAMPLES = ["/api/v1/svc%d/items/42", "/api/v1/svc%d/a/b/c?x=1", "/api/v1/svc%d", "/api/v1/svc%d/items/7/notes/3"]


def write_map(d):
    """200 rules and 200 requests, request i matched first by rule i."""
    rules, reqs = [], []
    for i in range(200):
        m = METHODS[i % 5]
        rules.append("%s %s view-api-keys" % (m, PATTERNS[i % 4] % i))
        reqs.append("%s %s" % ("PATCH" if m == "*" else m, SAMPLES[i % 4] % i))
    path = os.path.join(d, "resources.map")
    with open(path, "w") as f:
        f.write("# bench: 200 rules\n" + "\n".join(rules) + "\n")
    with open(os.path.join(d, "requests.txt"), "w") as f:
        f.write("\n".join(reqs) + "\n")
    return path, os.path.join(d, "requests.txt"), reqs


def forwarded(srv, req):
    method, uri = req.split(" ", 1)
    srv.conn.request("GET", "/api/v1/verify", headers={
        "X-API-Key": srv.owner["key"], "X-API-Token": srv.owner["token"],
        "X-Forwarded-Method": method, "X-Forwarded-Uri": uri})
    r = srv.conn.getresponse()
    r.read()
    return r.status


def instructions(binary, extra, reqs, calls):
    srv = management_cost.Server(binary, True, ["--threads", "1"] + extra)
    try:
        for i in range(200):
            if forwarded(srv, reqs[i % len(reqs)]) != 200:
                raise RuntimeError("verify did not answer 200 (%s)" % extra)
        srv.instructions_begin()
        for i in range(calls):
            forwarded(srv, reqs[i % len(reqs)])
        return srv.instructions_end() / calls
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "keystile"))
    ap.add_argument("--build", help="build folder (make bench passes it): BUILD/keystile")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-wrk", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    if args.build:
        args.bin = os.path.join(ROOT, args.build, "keystile")
    d = tempfile.mkdtemp(prefix="ks-bench-map-")
    rows = []
    try:
        map_path, req_path, reqs = write_map(d)
        with_map = ["--resource-map", map_path]
        if not args.no_wrk:
            servers = {"map": management_cost.Server(args.bin, False, ["--threads", "1"] + with_map),
                       "none": management_cost.Server(args.bin, False, ["--threads", "1"])}
            rps = {"map": [], "none": []}
            cpu = {"map": [], "none": []}
            try:
                for srv in servers.values():
                    bench_run.wrk(args, srv.port, "verify_forwarded.lua",
                                  [srv.owner["key"], srv.owner["token"], req_path], duration=2)
                for i in range(args.rounds):
                    for name in (("none", "map") if i % 2 == 0 else ("map", "none")):
                        srv = servers[name]
                        c0 = management_cost.cpu_seconds(srv.pid)
                        res = bench_run.wrk(args, srv.port, "verify_forwarded.lua",
                                            [srv.owner["key"], srv.owner["token"], req_path])
                        cpu[name].append((management_cost.cpu_seconds(srv.pid) - c0) * 1e6 / res["requests"])
                        if res["status_errors"] or res["errors"]:
                            raise RuntimeError("verify answered errors (%s): %r" % (name, res))
                        rps[name].append(res["rps"])
            finally:
                for srv in servers.values():
                    srv.stop()
            per_round = [a / b for a, b in zip(rps["map"], rps["none"])]
            ratio = statistics.median(per_round)
            rows.append(("verify as forward-auth, `--resource-map` of 200 rules vs none (wrk -t1 -c32, %d x %d s)"
                         % (args.rounds, args.duration),
                         "%.0f req/s (**%.3f** x none; rounds %s)" % (
                             statistics.median(rps["map"]), ratio, ", ".join("%.3f" % x for x in per_round)),
                         "no map: %.0f req/s" % statistics.median(rps["none"]), ">= 0.95 x none",
                         bench_run.verdict(ratio >= 0.95)))
            cpu_ratio = statistics.median([a / b for a, b in zip(cpu["map"], cpu["none"])])
            rows.append(("server CPU (utime+stime) per forward-auth verify in those runs, map vs none",
                         "%.2f us (**%.3f** x none)" % (statistics.median(cpu["map"]), cpu_ratio),
                         "no map: %.2f us" % statistics.median(cpu["none"]), "<= 1.05 x none",
                         bench_run.verdict(cpu_ratio <= 1.05)))
        if not args.no_callgrind and shutil.which("valgrind") and shutil.which("callgrind_control"):
            on = instructions(args.bin, with_map, reqs, args.calls)
            off = instructions(args.bin, [], reqs, args.calls)
            rows.append(("instructions per forward-auth verify under callgrind (%d calls), 200-rule map vs none"
                         % args.calls, "%.0f (**%.3f** x none, +%.0f)" % (on, on / off, on - off),
                         "no map: %.0f" % off, "- (user space only: the kernel's share of a "
                         "request is not counted, so this ratio overstates the cost)", "-"))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    head = ["| figure | Keystile | baseline | target | verdict |", "|---|---|---|---|---|"]
    body = ["| %s |" % " | ".join(r) for r in rows]
    text = "\n".join(head + body)
    print(text)
    if args.out != "-":
        old = open(args.out).read() if os.path.exists(args.out) else ""
        section = ("## Resource map\n\n`python3 bench/resource_map.py` (run by `make bench`; see its docstring).\n\n"
                   + text + "\n")
        start = old.find("## Resource map\n")
        if start >= 0:
            end = old.find("\n## ", start + 1)
            old = old[:start] + section + (old[end + 1:] if end >= 0 else "")
        else:
            old = old.rstrip("\n") + "\n\n" + section
        with open(args.out, "w") as f:
            f.write(old)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What one management call (and, for scale, one verify) costs the server,
for two builds side by side.

    python3 bench/management_cost.py BASELINE_BIN [CANDIDATE_BIN] [--calls N] [--callgrind]

Starts each `keystile serve` on a free loopback port in its own temporary
directory (SQLite, a fresh account), makes the same management calls over one
keep-alive connection, and prints for each kind of call the server's CPU per
call (utime + stime of the server process over the calls, from /proc, divided
by the number of calls) and the client-side latency, then the ratio
candidate / baseline. With --callgrind the servers run under valgrind's
callgrind and the figure is instructions per call (the counters are zeroed
before and dumped after each kind of call with callgrind_control), which
does not move with the machine's load. A benchmark, not a test: nothing is
asserted. Servers
run under `timeout` and are stopped at the end; the temporary directories are
removed.
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run import free_port  # noqa: E402  (one that also checks nobody listens there)
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


class Server:
    """`keystile serve` of binary on a free loopback port (SQLite, account
    `bench`, its Owner in self.owner), under callgrind when asked; extra:
    more serve options. Also used by bench/verify_cost.py."""

    def __init__(self, binary, callgrind=False, extra=()):
        self.dir = tempfile.mkdtemp(prefix="ks-bench-")
        os.chmod(self.dir, 0o700)
        db = os.path.join(self.dir, "k.db")
        out = subprocess.run([binary, "account", "create", "bench", "--db", db], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        self.owner = json.loads(out.stdout.decode().strip().splitlines()[-1])
        self.port = free_port()
        self.callgrind = callgrind
        wrap = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.%%p" % self.dir] if callgrind else []
        self.proc = subprocess.Popen(["timeout", "900"] + wrap + [binary, "serve", "--db", db, "--listen",
                                      "127.0.0.1:%d" % self.port, "--access-log", "none"] + list(extra),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + (60 if callgrind else 10)
        while True:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                if self.call("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        # timeout(1) is the parent: the server is its only child.
        kids = open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)).read().split()
        self.pid = int(kids[0])

    def call(self, method, path, body=None):
        headers = {"X-API-Key": self.owner["key"], "X-API-Token": self.owner["token"]}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        return r.status, (json.loads(raw) if raw else None)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


    def instructions_begin(self):
        subprocess.run(["callgrind_control", "-z", str(self.pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def instructions_end(self):
        """Instructions since instructions_begin (all threads), from a dump."""
        before = set(os.listdir(self.dir))
        subprocess.run(["callgrind_control", "-d", str(self.pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = 0
        for name in sorted(set(os.listdir(self.dir)) - before):
            with open(os.path.join(self.dir, name)) as f:
                for line in f:
                    if line.startswith("totals:") or line.startswith("summary:"):
                        total += int(line.split()[1])
                        break
        return total


def measure(srv, calls):
    """{kind: (cpu_us_per_call, wall_us_per_call)} for each kind of call."""
    base = "/api/v1/accounts/bench"
    role = "bench role %d" % time.monotonic_ns()
    status, _ = srv.call("POST", base + "/roles", {"name": role, "resources": ["orders.read"]})
    assert status == 201, status
    status, key = srv.call("POST", base + "/keys", {"name": "target", "roles": [role]})
    assert status == 201, status
    target = key["key"]
    kinds = {
        # the hot path, for comparison: the Owner's own credentials
        "verify": lambda i: ("GET", "/api/v1/verify", None, 200),
        # a read: only the route's resource is checked
        "show key": lambda i: ("GET", base + "/keys/" + target, None, 200),
        # the target's authority and the roles given are checked too
        "edit key roles": lambda i: ("PATCH", base + "/keys/" + target, {"roles": [role]}, 200),
        # the target's authority
        "renew later + delete old": None,
    }
    out = {}
    for name, build in kinds.items():
        if srv.callgrind:
            srv.instructions_begin()
        t0, c0 = time.perf_counter(), cpu_seconds(srv.pid)
        n = 0
        for i in range(calls):
            if build is None:
                st1, _ = srv.call("POST", base + "/keys/%s/renew" % target, {"delete_old": "later"})
                st2, _ = srv.call("DELETE", base + "/keys/%s/old-token" % target)
                assert (st1, st2) == (200, 200), (st1, st2)
                n += 2
                continue
            method, path, body, want = build(i)
            st, _ = srv.call(method, path, body)
            assert st == want, (name, st)
            n += 1
        wall, cpu = time.perf_counter() - t0, cpu_seconds(srv.pid) - c0
        if srv.callgrind:
            out[name] = (srv.instructions_end() / n, wall / n * 1e6)
        else:
            out[name] = (cpu / n * 1e6, wall / n * 1e6)
    return out


def main(argv):
    calls = 2000
    callgrind = "--callgrind" in argv
    if callgrind:
        argv.remove("--callgrind")
    if "--calls" in argv:
        i = argv.index("--calls")
        calls = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 2
    bins = argv[1:3] if len(argv) > 2 else [argv[1], os.path.join(ROOT, "build", "keystile")]
    results = []
    for b in bins:
        srv = Server(b, callgrind)
        try:
            measure(srv, calls // 10)  # warm up
            results.append(measure(srv, calls))
        finally:
            srv.stop()
    unit = "instr" if callgrind else "cpu us"
    print("management call cost, %d calls each, SQLite, one keep-alive connection%s" % (
        calls, ", under callgrind" if callgrind else ""))
    print("%-26s %14s %14s %14s %14s %8s" % ("call", "base " + unit, "base wall us", "cand " + unit,
                                               "cand wall us", "x"))
    for kind in results[0]:
        b, c = results[0][kind], results[-1][kind]
        ratio = "%8.2f" % (c[0] / b[0]) if b[0] > 0 else "%8s" % "-"  # CPU ticks are 10 ms: too few calls read 0
        print("%-26s %14.1f %14.1f %14.1f %14.1f %s" % (kind, b[0], b[1], c[0], c[1], ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

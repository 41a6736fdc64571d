#!/usr/bin/env python3
"""What one verify costs the server, by build and flags, in instructions.

    python3 bench/verify_cost.py [BASELINE_BIN] [--calls N] [--cpu]

For each configuration, starts `keystile serve` (SQLite, a fresh account)
under valgrind's callgrind, sends N verifies over one keep-alive connection,
and prints the server's instructions per verify (callgrind counters zeroed
before and dumped after the calls: all threads), for a valid token and for a
wrong one. Configurations: this build (build/keystile) with the
failed-credential throttle on (the default) and off (--failed-auth-limit 0),
and BASELINE_BIN when given (e.g. a build of main before the abuse limits).
Instruction counts do not move with the machine's load, unlike req/s on a
shared machine; --cpu measures utime+stime per verify instead, without
valgrind. A benchmark, not a test: nothing is asserted. `make bench` gives the
req/s figures (bench/run.py); this is the steady companion, run by hand.
"""
import http.client
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from management_cost import cpu_seconds, free_port  # noqa: E402

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def wrong_token():
    body = "".join(random.choice(BASE62) for _ in range(43))
    n, crc = zlib.crc32(body.encode()) & 0xFFFFFFFF, ""
    while n:
        n, d = divmod(n, 62)
        crc = BASE62[d] + crc
    return "kstt_" + body + crc.rjust(6, "0")


class Server:
    def __init__(self, binary, extra, callgrind):
        self.dir = tempfile.mkdtemp(prefix="ks-verify-cost-")
        os.chmod(self.dir, 0o700)
        db = os.path.join(self.dir, "k.db")
        out = subprocess.run([binary, "account", "create", "bench", "--db", db], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        self.owner = json.loads(out.stdout.decode().strip().splitlines()[-1])
        self.port = free_port()
        wrap = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.%%p" % self.dir] if callgrind else []
        self.proc = subprocess.Popen(["timeout", "900"] + wrap + [binary, "serve", "--db", db, "--listen",
                                      "127.0.0.1:%d" % self.port, "--access-log", "none", "--threads", "1"]
                                     + list(extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if self.get({})[0] == 200:
                    break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        kids = open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)).read().split()
        self.pid = int(kids[0])

    def get(self, headers, path="/healthz"):
        self.conn.request("GET", path, headers=headers)
        r = self.conn.getresponse()
        r.read()
        return r.status, r

    def verify(self, token):
        return self.get({"X-API-Key": self.owner["key"], "X-API-Token": token}, "/api/v1/verify")[0]

    def zero(self):
        subprocess.run(["callgrind_control", "-z", str(self.pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def instructions(self):
        before = set(os.listdir(self.dir))
        subprocess.run(["callgrind_control", "-d", str(self.pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        total = 0
        for name in sorted(set(os.listdir(self.dir)) - before):
            with open(os.path.join(self.dir, name)) as f:
                for line in f:
                    if line.startswith("totals:") or line.startswith("summary:"):
                        total += int(line.split()[1])
                        break
        return total

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def measure(srv, calls, callgrind):
    out = {}
    wrong = [wrong_token() for _ in range(calls)]
    for kind in ("valid token", "wrong token"):
        for i in range(min(200, calls)):  # warm up
            srv.verify(srv.owner["token"] if kind == "valid token" else wrong[i])
        if callgrind:
            srv.zero()
        c0 = cpu_seconds(srv.pid)
        statuses = {}
        for i in range(calls):
            st = srv.verify(srv.owner["token"] if kind == "valid token" else wrong[i])
            statuses[st] = statuses.get(st, 0) + 1
        cost = srv.instructions() / calls if callgrind else (cpu_seconds(srv.pid) - c0) * 1e6 / calls
        out[kind] = (cost, statuses)
    return out


def main(argv):
    calls, callgrind = 5000, "--cpu" not in argv
    argv = [a for a in argv if a != "--cpu"]
    if "--calls" in argv:
        i = argv.index("--calls")
        calls = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) > 1 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 2
    this = os.path.join(ROOT, "build", "keystile")
    configs = [("this build, throttle off (--failed-auth-limit 0)", this, ["--failed-auth-limit", "0"]),
               ("this build, throttle on (default)", this, [])]
    if len(argv) > 1:
        configs.insert(0, ("baseline %s" % argv[1], argv[1], []))
    unit = "instructions" if callgrind else "cpu us"
    print("server %s per verify, %d verifies each, one keep-alive connection, SQLite" % (unit, calls))
    rows = []
    for name, binary, extra in configs:
        srv = Server(binary, extra, callgrind)
        try:
            rows.append((name, measure(srv, calls, callgrind)))
        finally:
            srv.stop()
    ref = rows[0][1]
    for name, res in rows:
        print("%-58s valid %10.1f (%.3f x)  wrong %10.1f (%.3f x)  answers %s / %s" % (
            name, res["valid token"][0], res["valid token"][0] / ref["valid token"][0],
            res["wrong token"][0], res["wrong token"][0] / ref["wrong token"][0],
            res["valid token"][1], res["wrong token"][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

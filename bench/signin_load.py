#!/usr/bin/env python3
"""What concurrent person sign-ins (Argon2id) do to verify throughput.

Run by hand (never in make test):  make all bench-bins && python3 bench/signin_load.py

Seeds a store with keys (bench/seed), starts `keystile serve` on loopback,
invites and sets up one person through the API, then alternates, for
--rounds rounds:
  idle    wrk -t1 -c32 (bench/verify.lua) on GET /api/v1/verify alone;
  loaded  the same wrk while --signins Python threads loop
          POST /api/v1/session {"email","password"} (each one Argon2id
          verification, 64 MiB; at most half the CPUs' worth, 1 to 4, run at
          once in the server).
For each phase it prints verify requests/s and p99 latency, sign-ins/s, and
the server's CPU (utime+stime from /proc/PID/stat) per verify request; then
the medians and the ratio loaded / idle. The person signs in with the right
password, so the lockout never triggers. Everything lives in a fresh 0700
temporary directory removed at the end; the server runs under `timeout`.
Python 3 standard library; needs wrk (Debian wrk).
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as benchrun  # noqa: E402  (servers, ports, wrk, cleanup)

PASSWORD = "bench password, long enough"


def api(port, method, path, body=None, key=None, token=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("X-API-Key", key)
        req.add_header("X-API-Token", token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read() or b"null")


def cpu_seconds(pid):
    """utime + stime of the process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SignInLoop(threading.Thread):
    """Signs the person in again and again on one keep-alive connection."""

    def __init__(self, port, email, stop):
        super().__init__(daemon=True)
        self.port, self.email, self.stop = port, email, stop
        self.ok, self.failed, self.latencies = 0, 0, []

    def run(self):
        body = json.dumps({"email": self.email, "password": PASSWORD})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            t = time.time()
            try:
                conn.request("POST", "/api/v1/session", body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status == 201:
                    self.ok += 1
                    self.latencies.append(time.time() - t)
                else:
                    self.failed += 1
            except OSError:
                self.failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.close()


def phase(args, server, creds, email, signins):
    stop = threading.Event()
    loops = [SignInLoop(server.port, email, stop) for _ in range(signins)]
    for t in loops:
        t.start()
    if loops:
        time.sleep(1)  # let the sign-ins reach a steady state first
    cpu0, t0 = cpu_seconds(server.pid), time.time()
    ok0 = sum(t.ok for t in loops)
    w = benchrun.wrk(args, server.port, "verify.lua", [creds, 1, args.sample])
    cpu1, t1 = cpu_seconds(server.pid), time.time()
    ok1 = sum(t.ok for t in loops)
    stop.set()
    for t in loops:
        t.join(timeout=120)
    lat = sorted(x for t in loops for x in t.latencies)
    failed = sum(t.failed for t in loops)
    if failed:
        raise RuntimeError("%d sign-ins failed" % failed)
    cpu = cpu1 - cpu0
    return {"rps": w["rps"], "p99_us": w["p99_us"], "errors": w["errors"] + w["status_errors"],
            "verify_requests": w["requests"], "signins_per_s": (ok1 - ok0) / (t1 - t0),
            "signin_p50_ms": 1000 * lat[len(lat) // 2] if lat else 0,
            "cpu_s": cpu, "cpu_us_per_verify": 1e6 * cpu / max(1, w["requests"])}


def show(tag, p):
    line = ("%-6s verify %8.0f req/s  p99 %6.1f ms  errors %d  server CPU %5.1f us/verify"
            % (tag, p["rps"], p["p99_us"] / 1000, p["errors"], p["cpu_us_per_verify"]))
    if p["signins_per_s"]:
        line += "  sign-ins %5.1f/s (p50 %.0f ms)" % (p["signins_per_s"], p["signin_p50_ms"])
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--sample", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--signins", type=int, default=20, help="concurrent sign-in loops in the loaded phase")
    ap.add_argument("--limit", type=int, default=900, help="seconds the server may live")
    args = ap.parse_args()
    args.bin = os.path.join(benchrun.ROOT, args.build, "keystile")
    args.seed = os.path.join(benchrun.ROOT, args.build, "bench", "seed")
    for path in (args.bin, args.seed):
        if not os.access(path, os.X_OK):
            sys.exit("missing %s: run make all bench-bins" % path)

    benchrun.atexit.register(benchrun.cleanup)
    benchrun.signal.signal(benchrun.signal.SIGTERM, benchrun.on_signal)
    benchrun.TMP = tmp = benchrun.tempfile.mkdtemp(prefix="keystile-signin-bench-")
    os.chmod(tmp, 0o700)
    m = benchrun.machine()
    print("machine: %(nproc)s x %(cpu)s, load before %(load_before)s" % m, flush=True)
    db = os.path.join(tmp, "k.db")
    benchrun.subprocess.run(["timeout", "600", args.seed, db, str(args.keys), tmp, str(args.sample)],
                            stdout=benchrun.subprocess.DEVNULL, check=True)
    with open(os.path.join(tmp, "owner.txt")) as f:
        owner_key, owner_token = f.read().split()
    creds = os.path.join(tmp, "creds.txt")
    server = benchrun.start_keystile(args, db, "signin")

    email = "bench-person@example.com"
    status, person = api(server.port, "POST", "/api/v1/accounts/bench/users",
                         {"email": email, "roles": ["Owner"]}, owner_key, owner_token)
    inv = person["invite_url"].rsplit("/", 1)[1]
    api(server.port, "POST", "/api/v1/invites/%s/accept" % inv, {"password": PASSWORD})
    print("keys %d (verify rotates over %d), %d s per phase, %d rounds, %d concurrent sign-ins when loaded"
          % (args.keys, args.sample, args.duration, args.rounds, args.signins), flush=True)

    idle, loaded = [], []
    for r in range(args.rounds):
        p = phase(args, server, creds, email, 0)
        show("idle", p)
        idle.append(p)
        p = phase(args, server, creds, email, args.signins)
        show("loaded", p)
        loaded.append(p)

    def med(rows, k):
        return statistics.median(x[k] for x in rows)

    print("\nmedians of %d rounds:" % args.rounds)
    print("| | verify req/s | verify p99 | server CPU per verify | sign-ins/s |")
    print("|---|---|---|---|---|")
    print("| idle | %.0f | %.1f ms | %.1f us | - |" % (med(idle, "rps"), med(idle, "p99_us") / 1000,
                                                   med(idle, "cpu_us_per_verify")))
    print("| %d sign-ins looping | %.0f | %.1f ms | %.1f us (all server CPU, Argon2id included) | %.1f |"
          % (args.signins, med(loaded, "rps"), med(loaded, "p99_us") / 1000, med(loaded, "cpu_us_per_verify"),
             med(loaded, "signins_per_s")))
    ratios = [l["rps"] / i["rps"] for i, l in zip(idle, loaded)]
    print("verify throughput loaded / idle: %.2f (medians); per round (each loaded phase against the idle "
          "phase just before it): %s, median %.2f"
          % (med(loaded, "rps") / med(idle, "rps"), " ".join("%.2f" % r for r in ratios), statistics.median(ratios)))
    # What the sign-ins cost: the loaded phase's CPU less its verifies at the idle price.
    per_signin = statistics.median(
        (p["cpu_s"] - p["verify_requests"] * med(idle, "cpu_us_per_verify") / 1e6) / max(1e-9, p["signins_per_s"] *
                                                                                        args.duration)
        for p in loaded)
    print("server CPU per sign-in (loaded CPU less its verifies at the idle cost): %.0f ms" % (1000 * per_signin))
    server.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Keystile benchmarks (issue #5): `make bench`, or python3 bench/run.py [options].

Seeds a store with N keys through the bulk import (bench/seed), starts
`keystile serve` and nginx (`location / { return 204; }`, one worker) on
loopback, drives both with the same wrk client and Lua script, and prints
each figure next to its baseline and target; the Markdown table goes to
bench/RESULTS.md (--out). Everything lives in a fresh temporary directory
(credentials included) that is removed at the end; every process started
runs under `timeout`, so it stops even if this script is killed.

Python 3 standard library only; needs wrk and nginx (Debian wrk, nginx-light).
"""
import argparse
import atexit
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROCS = []          # (name, Popen) still to stop
TMP = None


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def cleanup():
    for name, p in reversed(PROCS):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    PROCS.clear()
    if TMP and not os.environ.get("KEYSTILE_BENCH_KEEP"):
        shutil.rmtree(TMP, ignore_errors=True)


def on_signal(signum, frame):
    cleanup()
    sys.exit(128 + signum)


def free_port():
    """A loopback port nobody listens on (keystile binds with SO_REUSEPORT,
    so a server already on the port would silently share the traffic)."""
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        probe = socket.socket()
        probe.settimeout(0.2)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            return port
        finally:
            probe.close()
    raise RuntimeError("no free port")


def child_pid(pid):
    """The process `timeout` started."""
    for _ in range(100):
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            pass
        time.sleep(0.02)
    return pid


def cpu_split_s(pid, tid=None):
    """(utime, stime) of a process (or of its thread tid) so far, in seconds
    (/proc/PID/stat, /proc/PID/task/TID/stat)."""
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%s/stat" % (pid, tid)
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_s(pid):
    """utime + stime of a process so far, in seconds."""
    return sum(cpu_split_s(pid))


def cpu_tree_split_s(pid):
    """cpu_split_s of pid and every process below it (nginx's master and its worker)."""
    user, system, todo = 0.0, 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            u, s = cpu_split_s(p)
            user, system = user + u, system + s
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return user, system


def cpu_tree_s(pid):
    return sum(cpu_tree_split_s(pid))


def threads_s(pid):
    """{thread name: utime+stime seconds} of a process (threads of one name
    summed; a thread that ended meanwhile is left out)."""
    out = {}
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            out[name] = out.get(name, 0.0) + sum(cpu_split_s(pid, tid))
        except OSError:
            pass
    return out


def background_s(pid):
    """utime+stime of a libmicrohttpd server's threads other than the
    library's own (named "MHD-..."), which answer every request: for
    keystile serve the flusher (last-used and usage writes), the change
    feed, the sweeper and the management pool. 0 for other servers."""
    threads = threads_s(pid)
    if not any(n.startswith("MHD-") for n in threads):
        return 0.0
    return sum(s for n, s in threads.items() if not n.startswith("MHD-"))


def wrk_cpu(args, srv, script, script_args, **kw):
    """wrk against srv, with the server's CPU per request (utime+stime of
    its processes over the run / requests, in us) as res["cpu_us"], and its
    two parts: res["user_us"] (the server's own code and libraries) and
    res["sys_us"] (the kernel's work for it: mostly TCP on loopback); and
    res["background_us"], the part of it spent in a libmicrohttpd server's
    other threads (background_s)."""
    u0, s0, b0 = cpu_tree_split_s(srv.pid) + (background_s(srv.pid),)
    res = wrk(args, srv.port, script, script_args, **kw)
    u1, s1, b1 = cpu_tree_split_s(srv.pid) + (background_s(srv.pid),)
    n = max(res["requests"], 1)
    res["user_us"], res["sys_us"] = (u1 - u0) * 1e6 / n, (s1 - s0) * 1e6 / n
    res["background_us"] = (b1 - b0) * 1e6 / n
    res["cpu_us"] = res["user_us"] + res["sys_us"]
    return res


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def wrong_creds(creds, out, n):
    """The first n keys of creds with well-formed tokens no server issued
    (right checksum: each is looked up and hashed, as a guess is)."""
    import random
    import zlib
    rnd = random.Random(17)
    with open(creds) as f, open(out, "w") as w:
        for i, line in enumerate(f):
            if i >= n:
                break
            body = "".join(rnd.choice(BASE62) for _ in range(43))
            c, crc = zlib.crc32(body.encode()) & 0xFFFFFFFF, ""
            while c:
                c, d = divmod(c, 62)
                crc = BASE62[d] + crc
            w.write("%s kstt_%s%s\n" % (line.split()[0], body, crc.rjust(6, "0")))


def throttle_section(args, db, creds, verify_args, r):
    """Verify throughput and server CPU per request with the failed-credential
    throttle on (serve's default) and off (--failed-auth-limit 0), two
    servers on the same database measured in alternating rounds: valid
    credentials (the throttle is never consulted), then a flood of wrong
    tokens from one address (on: 429 past the limit; off: 401)."""
    wrong = os.path.join(TMP, "wrong.txt")
    wrong_creds(creds, wrong, 10000)
    on = start_keystile(args, db, "throttle-on", args.threads)
    off = start_keystile(args, db, "throttle-off", args.threads, ["--failed-auth-limit", "0"])
    out = {"on": {"rps": [], "cpu_us": [], "bad_rps": [], "bad_cpu_us": []},
           "off": {"rps": [], "cpu_us": [], "bad_rps": [], "bad_cpu_us": []}}
    for srv in (on, off):
        wrk(args, srv.port, "verify.lua", verify_args, duration=2)
    for i in range(args.rounds):
        order = (("off", off), ("on", on)) if i % 2 == 0 else (("on", on), ("off", off))
        for name, srv in order:
            c0 = cpu_s(srv.pid)
            res = wrk(args, srv.port, "verify.lua", verify_args)
            if res["status_errors"] or res["errors"]:
                raise RuntimeError("verify answered errors (throttle %s): %r" % (name, res))
            out[name]["rps"].append(res["rps"])
            out[name]["cpu_us"].append((cpu_s(srv.pid) - c0) * 1e6 / res["requests"])
            c0 = cpu_s(srv.pid)
            res = wrk(args, srv.port, "verify.lua", [wrong, 1, 10000])
            out[name]["bad_rps"].append(res["rps"])
            out[name]["bad_cpu_us"].append((cpu_s(srv.pid) - c0) * 1e6 / res["requests"])
    on.stop()
    off.stop()
    # The steady companion: instructions per verify under callgrind (bench/verify_cost.py),
    # which the load of a shared machine does not move.
    if shutil.which("valgrind") and shutil.which("callgrind_control"):
        import verify_cost
        for name, extra in (("off", ["--failed-auth-limit", "0"]), ("on", [])):
            srv = verify_cost.Server(args.bin, extra, True)
            try:
                res = verify_cost.measure(srv, 3000, True)
            finally:
                srv.stop()
            out[name]["instr"] = res["valid token"][0]
            out[name]["bad_instr"] = res["wrong token"][0]
    r["throttle"] = out


def throttle_rows(r):
    t = r["throttle"]
    med = statistics.median
    on, off = med(t["on"]["rps"]), med(t["off"]["rps"])
    per_round = [a / b for a, b in zip(t["on"]["rps"], t["off"]["rps"])]
    ratio = med(per_round)
    return [
        ("verify (valid tokens) with the failed-credential throttle on (default) vs off",
         "%.0f req/s, %.2f us server CPU/request (**%.3f** x off; rounds %s; CPU %.3f x off)" % (
             on, med(t["on"]["cpu_us"]), ratio, ", ".join("%.3f" % x for x in per_round),
             med(t["on"]["cpu_us"]) / med(t["off"]["cpu_us"])),
         "--failed-auth-limit 0: %.0f req/s, %.2f us CPU/request" % (off, med(t["off"]["cpu_us"])),
         ">= 0.97 x off", verdict(ratio >= 0.97)),
        ("a flood of wrong tokens from one address, throttle on (429 past 120/min) vs off (401)",
         "%.0f req/s, %.2f us server CPU/request" % (med(t["on"]["bad_rps"]), med(t["on"]["bad_cpu_us"])),
         "off: %.0f req/s, %.2f us CPU/request" % (med(t["off"]["bad_rps"]), med(t["off"]["bad_cpu_us"])),
         "-", "-"),
    ] + ([
        ("instructions per verify under callgrind (bench/verify_cost.py, 3,000 calls), throttle on vs off",
         "valid %.0f (**%.3f** x off); wrong, throttled %.0f (%.3f x off)" % (
             t["on"]["instr"], t["on"]["instr"] / t["off"]["instr"], t["on"]["bad_instr"],
             t["on"]["bad_instr"] / t["off"]["bad_instr"]),
         "off: valid %.0f, wrong %.0f" % (t["off"]["instr"], t["off"]["bad_instr"]), ">= 0.97 x off in req/s, "
         "so <= 1.03 x off here", verdict(t["on"]["instr"] / t["off"]["instr"] <= 1.03)),
    ] if "instr" in t["on"] else [])


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def wait_http(port, path, deadline_s):
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
            if s.recv(64).startswith(b"HTTP/1.1 2"):
                s.close()
                return True
            s.close()
        except OSError:
            pass
        time.sleep(0.05)
    return False


class Server:
    def __init__(self, name, cmd, port, health, limit_s, log_path):
        self.name, self.port = name, port
        self.log_path = log_path
        self.t0 = time.time()
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(["timeout", "--signal=TERM", str(limit_s)] + cmd,
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        PROCS.append((name, self.proc))
        self.pid = child_pid(self.proc.pid)
        if not wait_http(port, health, 120):
            raise RuntimeError("%s did not start; log %s" % (name, log_path))
        self.ready_s = time.time() - self.t0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_keystile(args, db, tag, threads=None, extra=()):
    port = free_port()
    cmd = [args.bin, "serve", "--db", db, "--listen", "127.0.0.1:%d" % port, "--access-log", "none"] + list(extra)
    if threads:
        cmd += ["--threads", str(threads)]
    return Server("keystile-" + tag, cmd, port, "/healthz", args.limit, os.path.join(TMP, "keystile-%s.log" % tag))


# What the renewal stand-in answers renew_check.lua: one fixed new token for
# every renewal, verify 200 "current" for it and 401 for any other token.
STANDIN_LOCATIONS = """location ~ /renew$ { default_type application/json; return 200 '{"token":"kstt_standin"}'; }
        location = /api/v1/verify {
            default_type application/json;
            if ($http_x_api_token = "kstt_standin") { return 200 '{"valid":true,"token":"current"}'; }
            return 401 '{"valid":false,"reason":"wrong_token"}';
        }
        location / { return 204; }"""


def start_nginx(args, name="nginx", locations="location / { return 204; }"):
    """nginx, one worker, answering `locations` (by default 204 to all)."""
    port = free_port()
    d = os.path.join(TMP, name)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes 1;
daemon off;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        %(locations)s
    }
}
""" % {"d": d, "port": port, "locations": locations})
    return Server(name, ["nginx", "-c", conf, "-p", d], port, "/", args.limit, os.path.join(d, "stdout.log"))


def start_floor(args):
    """libmicrohttpd with an empty handler and keystile serve's options."""
    port = free_port()
    cmd = [args.floor, str(port), str(args.threads), str(args.limit)]
    return Server("mhd-floor", cmd, port, "/", args.limit, os.path.join(TMP, "mhd-floor.log"))


def wrk(args, port, script, script_args, threads=1, conns=32, duration=None):
    duration = duration or args.duration
    cmd = ["timeout", str(duration + 60), "wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration,
           "-s", os.path.join(HERE, script), "http://127.0.0.1:%d/" % port, "--"] + [str(a) for a in script_args]
    env = dict(os.environ, KS_BENCH_DIR=HERE)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=duration + 90)
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"^KSBENCH (\{.*\})$", out, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError("wrk failed (%d): %s %s" % (p.returncode, out, p.stderr.decode()))
    return json.loads(m.group(1))


def wrk_background(args, port, script, script_args, duration, threads=1):
    """wrk with one connection per thread, in the background."""
    cmd = ["timeout", str(duration + 60), "wrk", "-t%d" % threads, "-c%d" % threads, "-d%ds" % duration,
           "-s", os.path.join(HERE, script), "http://127.0.0.1:%d/" % port, "--"] + [str(a) for a in script_args]
    env = dict(os.environ, KS_BENCH_DIR=HERE, KS_BENCH_THREADS=str(threads))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    PROCS.append(("wrk", p))
    return p


def wrk_result(p):
    out, err = p.communicate(timeout=300)
    out = out.decode("utf-8", "replace")
    m = re.search(r"^KSBENCH (\{.*\})$", out, re.M)
    if not m:
        raise RuntimeError("wrk failed: %s %s" % (out, err.decode()))
    return json.loads(m.group(1))


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "load_before": "%.2f %.2f %.2f" % os.getloadavg()}


def run(args):
    global TMP
    TMP = tempfile.mkdtemp(prefix="keystile-bench-")
    os.chmod(TMP, 0o700)
    r = {"machine": machine(), "keys": args.keys, "duration": args.duration}
    log("machine: %(nproc)s x %(cpu)s, kernel %(kernel)s, load %(load_before)s" % r["machine"])

    # ---- stores
    big, empty = os.path.join(TMP, "big.db"), os.path.join(TMP, "empty.db")
    log("seeding %d keys ..." % args.keys)
    t = time.time()
    out = subprocess.run(["timeout", str(args.limit), args.seed, big, str(args.keys), TMP, str(args.sample)],
                         stdout=subprocess.PIPE, check=True).stdout
    r["seed"] = json.loads(out.decode().strip().splitlines()[-1])
    empty_dir = os.path.join(TMP, "empty")
    os.makedirs(empty_dir)
    subprocess.run(["timeout", "60", args.seed, empty, "0", empty_dir, "0"], stdout=subprocess.DEVNULL, check=True)
    limited, limited_creds = seed_limited(args)
    log("seeded in %.1f s" % (time.time() - t))
    creds = os.path.join(TMP, "creds.txt")
    with open(os.path.join(TMP, "owner.txt")) as f:
        owner_key, owner_token = f.read().split()
    sample = r["seed"]["sample"]
    # Disjoint parts of the sample: verified keys, one part per round of checked
    # renewals (a part is walked around again when it runs out), renew-only.
    verify_last = int(sample * 0.7)
    part = max(10, int(sample * 0.05))
    check_ranges = [(verify_last + 1 + i * part, verify_last + (i + 1) * part) for i in range(args.renewal_rounds)]
    renew_first = verify_last + args.renewal_rounds * part + 1
    if renew_first > sample:
        raise RuntimeError("--sample too small for %d renewal rounds" % args.renewal_rounds)

    # ---- in-process
    log("in-process verify ...")
    out = subprocess.run(["timeout", str(args.limit), args.inproc, big, creds, str(args.calls)],
                         stdout=subprocess.PIPE, check=True).stdout
    r["inproc"] = json.loads(out.decode().strip().splitlines()[-1])

    # ---- start: load time and memory
    log("memory and start time ...")
    s0 = start_keystile(args, empty, "empty", args.threads)
    time.sleep(1)
    r["rss_empty_kb"] = rss_kb(s0.pid)
    s0.stop()
    ks = start_keystile(args, big, "big", args.threads)
    time.sleep(1)
    r["rss_big_kb"] = rss_kb(ks.pid)
    r["ready_s"] = ks.ready_s
    with open(ks.log_path, "rb") as f:
        m = re.search(rb'"msg":"index loaded".*?"ms":([0-9.]+)', f.read())
    r["load_ms"] = float(m.group(1)) if m else None
    ng = start_nginx(args)
    fl = start_floor(args)
    kl = start_keystile(args, limited, "limited", args.threads)
    verify_args = [creds, 1, verify_last]
    throughput_rounds(args, r, ks, kl, ng, fl, verify_args, [limited_creds, 1, verify_last])
    kl.stop()
    ks_peak = statistics.median(r["ks_rps"])
    fl.stop()

    # ---- latency at half of the peak
    rate = int(ks_peak / 2)
    log("latency at %d req/s ..." % rate)
    r["lat_rate"] = rate
    r["ks_lat"] = wrk_cpu(args, ks, "verify_paced.lua", verify_args + [rate], conns=64)
    r["ng_lat"] = wrk_cpu(args, ng, "verify_paced.lua", verify_args + [rate], conns=64)

    # ---- renewals under load
    log("verify with %d renewals/s ..." % args.renew_rate)
    r["idle_rps"], r["busy_rps"], r["checks"] = [], [], []
    r["idle_cpu"], r["busy_cpu"], r["renew_bg_us"], r["standin_rps"] = [], [], [], []
    # The stand-in answers the same renewal client at once (canned answers):
    # what the client and its requests alone cost the verify runs.
    sd = start_nginx(args, "renewal-stand-in", STANDIN_LOCATIONS)
    for i in range(args.renewal_rounds):
        res = wrk_cpu(args, ks, "verify.lua", verify_args)
        r["idle_rps"].append(res["rps"])
        r["idle_cpu"].append(res["cpu_us"])
        first, last = check_ranges[i]
        renew_args = [owner_key, owner_token, creds, first, last, args.renew_rate]
        b0 = background_s(ks.pid)
        bg = wrk_background(args, ks.port, "renew_check.lua", renew_args, args.duration + 2, threads=8)
        time.sleep(1)
        res = wrk_cpu(args, ks, "verify.lua", verify_args)
        if res["status_errors"] or res["errors"]:
            raise RuntimeError("verify answered errors under renewals: %r" % res)
        r["busy_rps"].append(res["rps"])
        r["busy_cpu"].append(res["cpu_us"])
        r["checks"].append(wrk_result(bg))
        # Server CPU outside the HTTP worker (the management pool above all)
        # per renewal; the worker's share of a renewal is in busy_cpu.
        r["renew_bg_us"].append((background_s(ks.pid) - b0) * 1e6 / max(r["checks"][-1]["renewals"], 1))
        bg = wrk_background(args, sd.port, "renew_check.lua", renew_args, args.duration + 2, threads=8)
        time.sleep(1)
        r["standin_rps"].append(wrk_cpu(args, ks, "verify.lua", verify_args)["rps"])
        if wrk_result(bg)["renewals"] == 0:
            raise RuntimeError("the renewal stand-in answered no renewal")
    sd.stop()

    # ---- durable renewals
    log("durable renewals ...")
    r["renew"] = wrk(args, ks.port, "renew.lua", [owner_key, owner_token, creds, renew_first, sample], conns=16)
    r["rss_big_after_kb"] = rss_kb(ks.pid)
    ks.stop()

    # ---- the failed-credential throttle on vs off
    log("throttle on vs off ...")
    throttle_section(args, big, creds, verify_args, r)

    # ---- throughput again with serve's default threads (one per core)
    log("throughput with the default threads ...")
    kd = start_keystile(args, big, "default")
    wrk(args, kd.port, "verify.lua", verify_args, duration=2)
    r["kd_rps"], r["ng2_rps"], r["kd_cpu"], r["ng2_cpu"] = [], [], [], []
    for _ in range(args.rounds):
        res = wrk_cpu(args, ng, "verify.lua", verify_args)
        r["ng2_rps"].append(res["rps"])
        r["ng2_cpu"].append(res["cpu_us"])
        res = wrk_cpu(args, kd, "verify.lua", verify_args)
        r["kd_rps"].append(res["rps"])
        r["kd_cpu"].append(res["cpu_us"])
    kd.stop()
    ng.stop()

    # ---- the flusher's writes, in process; last, as it writes to the store
    log("the flusher's writes (flush_inproc) ...")
    out = subprocess.run(["timeout", str(args.limit), args.flush, big, str(verify_last)],
                         stdout=subprocess.PIPE, check=True).stdout
    r["flush"] = json.loads(out.decode().strip().splitlines()[-1])
    r["load_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    return r


def flush_row(r):
    """The flusher's writes of one interval (bench/flush_inproc.c), in the
    order it writes them against the order it used to."""
    f = r["flush"]
    return ("the flusher's writes for the %s keys the verify rows use, one interval's, in process "
            "(bench/flush_inproc.c, %d rounds)" % ("{:,}".format(f["keys_used"]), f["rounds"]),
            "last-used times in the store's order: %.2f us CPU per key, %.0f MB written; usage rows in key "
            "order: %.2f us, %.0f MB" % (f["last_used_store_us"], f["last_used_store_mb"], f["usage_key_us"],
                                         f["usage_key_mb"]),
            "in the index's order: %.2f us, %.0f MB (%.2f x); usage rows in random order: %.2f us, %.0f MB "
            "(%.2f x)" % (f["last_used_index_us"], f["last_used_index_mb"],
                          f["last_used_index_us"] / f["last_used_store_us"], f["usage_random_us"],
                          f["usage_random_mb"], f["usage_random_us"] / f["usage_key_us"]), "-", "-")


def seed_limited(args):
    """The same number of keys, every one with per-key limits (seed's
    KS_SEED_LIMITS): 3 allowed ranges holding loopback and a rate limit no
    run reaches. Its own folder (its creds.txt)."""
    d = os.path.join(TMP, "limited")
    os.makedirs(d)
    db = os.path.join(d, "limited.db")
    log("seeding %d keys with limits ..." % args.keys)
    subprocess.run(["timeout", str(args.limit), args.seed, db, str(args.keys), d, str(args.sample)],
                   stdout=subprocess.DEVNULL, check=True, env=dict(os.environ, KS_SEED_LIMITS="1"))
    return db, os.path.join(d, "creds.txt")


def throughput_rounds(args, r, ks, kl, ng, fl, verify_args, limited_args):
    """Peak verify (keys without and with limits), nginx and the empty
    libmicrohttpd handler, in alternating rounds, with server CPU per request."""
    log("throughput (%d rounds of %d s each) ..." % (args.verify_rounds, args.duration))
    servers = (("ks", ks, verify_args), ("kl", kl, limited_args), ("ng", ng, verify_args), ("fl", fl, verify_args))
    for _, srv, a in servers:
        wrk(args, srv.port, "verify.lua", a, duration=2)  # warm-up
    for name, _, _ in servers:
        r[name + "_rps"], r[name + "_cpu"], r[name + "_user"], r[name + "_bg"] = [], [], [], []
    for i in range(args.verify_rounds):
        for name, srv, a in servers[i % len(servers):] + servers[:i % len(servers)]:
            res = wrk_cpu(args, srv, "verify.lua", a)
            if name in ("ks", "kl") and (res["status_errors"] or res["errors"]):
                raise RuntimeError("verify answered errors (%s): %r" % (name, res))
            r[name + "_rps"].append(res["rps"])
            r[name + "_cpu"].append(res["cpu_us"])
            r[name + "_user"].append(res["user_us"])
            r[name + "_bg"].append(res["background_us"])


def run_verify_only(args):
    """Only the peak verify rows (keys without and with limits vs nginx and
    the empty handler); prints them, writes nothing."""
    global TMP
    TMP = tempfile.mkdtemp(prefix="keystile-bench-")
    os.chmod(TMP, 0o700)
    r = {"machine": machine(), "keys": args.keys}
    big = os.path.join(TMP, "big.db")
    log("seeding %d keys ..." % args.keys)
    subprocess.run(["timeout", str(args.limit), args.seed, big, str(args.keys), TMP, str(args.sample)],
                   stdout=subprocess.DEVNULL, check=True)
    limited, limited_creds = seed_limited(args)
    last = int(args.sample * 0.7)
    ks = start_keystile(args, big, "big", args.threads)
    kl = start_keystile(args, limited, "limited", args.threads)
    ng, fl = start_nginx(args), start_floor(args)
    throughput_rounds(args, r, ks, kl, ng, fl, [os.path.join(TMP, "creds.txt"), 1, last], [limited_creds, 1, last])
    for srv in (ks, kl, ng, fl):
        srv.stop()
    r["load_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    return r


def verify_rows(r):
    """The peak verify rows: req/s and server CPU per request, each against
    nginx's in the same rounds; the CPU also split into its user-space part
    (the server's own code: what differs between the servers) and the rest
    (the kernel's TCP work, about the same for all and where most of the
    spread between rounds is)."""
    med = statistics.median
    ng_rps, ng_cpu, ng_user = med(r["ng_rps"]), med(r["ng_cpu"]), med(r["ng_user"])
    fl_rps, fl_cpu = med(r["fl_rps"]), med(r["fl_cpu"])
    rows = []
    for name, what in (("ks", "GET /api/v1/verify, %s keys, wrk -t1 -c32" % "{:,}".format(r["keys"])),
                       ("kl", "the same, every key with per-key limits (3 allowed ranges, a rate limit not reached)")):
        rps, cpu, user = med(r[name + "_rps"]), med(r[name + "_cpu"]), med(r[name + "_user"])
        per_round = [c / n for c, n in zip(r[name + "_cpu"], r["ng_cpu"])]
        worker = med([c - b for c, b in zip(r[name + "_cpu"], r[name + "_bg"])])
        rows.append((what,
                     "%.0f req/s (**%.2f** x nginx), %.2f us server CPU/request (**%.2f** x nginx; rounds %s); "
                     "user-space %.2f us (%.2f x nginx's %.2f), kernel %.2f us (nginx %.2f); "
                     "in threads other than the HTTP worker's (flushes, change feed) %.2f us (rounds %s), "
                     "so the worker alone %.2f us (%.2f x nginx); "
                     "vs the empty libmicrohttpd handler %.2f x req/s, %.2f x CPU" % (
                         rps, rps / ng_rps, cpu, cpu / ng_cpu, ", ".join("%.2f" % x for x in per_round),
                         user, user / ng_user, ng_user, med([c - u for c, u in zip(r[name + "_cpu"], r[name + "_user"])]),
                         med([c - u for c, u in zip(r["ng_cpu"], r["ng_user"])]), med(r[name + "_bg"]),
                         ", ".join("%.2f" % x for x in r[name + "_bg"]), worker, worker / ng_cpu,
                         rps / fl_rps, cpu / fl_cpu),
                     "nginx `return 204`, 1 worker: %.0f req/s, %.2f us CPU/request" % (ng_rps, ng_cpu),
                     "CPU <= 1.15 x nginx, req/s >= 0.95 x",
                     verdict(cpu / ng_cpu <= 1.15 and rps / ng_rps >= 0.95)))
    rows.append(("the HTTP library's ceiling: libmicrohttpd, empty handler (bench/mhd_floor.c)",
                 "%.0f req/s (%.2f x nginx), %.2f us CPU/request (%.2f x nginx)" % (
                     fl_rps, fl_rps / ng_rps, fl_cpu, fl_cpu / ng_cpu),
                 "same options and threads as keystile serve", "-", "-"))
    return rows


def rounds_line(r):
    f = lambda xs: ", ".join("%.0f" % x for x in xs)
    g = lambda xs: ", ".join("%.2f" % x for x in xs)
    return ("Rounds (alternating), req/s and us CPU/request: Keystile %s (%s); with limits %s (%s); nginx %s (%s); "
            "empty libmicrohttpd %s (%s)." % (f(r["ks_rps"]), g(r["ks_cpu"]), f(r["kl_rps"]), g(r["kl_cpu"]),
                                              f(r["ng_rps"]), g(r["ng_cpu"]), f(r["fl_rps"]), g(r["fl_cpu"])))


def run_throttle_only(args):
    global TMP
    TMP = tempfile.mkdtemp(prefix="keystile-bench-")
    os.chmod(TMP, 0o700)
    db = os.path.join(TMP, "big.db")
    log("seeding %d keys ..." % args.keys)
    subprocess.run(["timeout", str(args.limit), args.seed, db, str(args.keys), TMP, str(args.sample)],
                   stdout=subprocess.DEVNULL, check=True)
    creds = os.path.join(TMP, "creds.txt")
    r = {}
    log("throttle on vs off ...")
    throttle_section(args, db, creds, [creds, 1, int(args.sample * 0.7)], r)
    return r


def verdict(ok):
    return "met" if ok else "**not met**"


def table(r, cmdline):
    m = r["machine"]
    med = statistics.median
    lat_p99_ms = r["ks_lat"]["p99_us"] / 1000
    inproc = r["inproc"]
    per_key = (r["rss_big_kb"] - r["rss_empty_kb"]) * 1024 / r["keys"] if r["keys"] else 0
    idle, busy = statistics.median(r["idle_rps"]), statistics.median(r["busy_rps"])
    # Each round's busy run right after its idle run: their ratio is less
    # exposed to the machine drifting between rounds than a ratio of medians.
    per_round = [b / i for b, i in zip(r["busy_rps"], r["idle_rps"])]
    busy_ratio = statistics.median(per_round)
    standin = [s / i for s, i in zip(r["standin_rps"], r["idle_rps"])]
    checks = r["checks"]
    renewals = sum(c["renewals"] for c in checks)
    failures = sum(c["renew_failed"] + c["new_token_failed"] + c["old_token_failed"] for c in checks)
    throttled = sum(c.get("old_token_throttled", 0) for c in checks)
    renew_rate = statistics.median(c["renewals_per_s"] for c in checks)
    durable = r["renew"]["rps"] if not r["renew"]["status_errors"] else 0
    load_s = (r["load_ms"] or 0) / 1000
    rows = verify_rows(r) + [
        ("the same verify with serve's default threads (one per core: %d)" % (os.cpu_count() or 1),
         "%.0f req/s (ratio %.2f), %.2f us CPU/request (%.2f x nginx)" % (
             med(r["kd_rps"]), med(r["kd_rps"]) / med(r["ng2_rps"]), med(r["kd_cpu"]),
             med(r["kd_cpu"]) / med(r["ng2_cpu"])),
         "nginx, rounds alternating with these: %.0f req/s, %.2f us CPU/request" % (
             med(r["ng2_rps"]), med(r["ng2_cpu"])), "-", "-"),
        ("p99 latency at half the peak (%d req/s, 64 conns)" % r["lat_rate"],
         "%.3f ms (p50 %.3f, p99.9 %.3f; achieved %.0f req/s; %.2f us CPU/request, %.2f x nginx)" % (
             lat_p99_ms, r["ks_lat"]["p50_us"] / 1000, r["ks_lat"]["p999_us"] / 1000, r["ks_lat"]["rps"],
             r["ks_lat"]["cpu_us"], r["ks_lat"]["cpu_us"] / r["ng_lat"]["cpu_us"]),
         "nginx at the same rate: p99 %.3f ms, %.2f us CPU/request" % (
             r["ng_lat"]["p99_us"] / 1000, r["ng_lat"]["cpu_us"]), "< 1 ms",
         verdict(lat_p99_ms < 1.0 and r["ks_lat"]["rps"] >= 0.95 * r["lat_rate"])),
        ("in-process verify (core + index), median of %s calls" % "{:,}".format(inproc["calls"]),
         "%.2f us (p99 %.2f us); a token's first verify on the node, proved by its keyed hash: %.2f us "
         "(p99 %.2f us)" % (inproc["verify_median_ns"] / 1000, inproc["verify_p99_ns"] / 1000,
                            inproc["first_median_ns"] / 1000, inproc["first_p99_ns"] / 1000),
         "keyed BLAKE2b of a token alone: %.2f us" % (inproc["hash_median_ns"] / 1000), "<= 1 us",
         verdict(inproc["verify_median_ns"] <= 1000)),
        ("index load at start, SQLite", "%.2f s (healthy after %.2f s)" % (load_s, r["ready_s"]), "-",
         "<= 3 s", verdict(r["load_ms"] is not None and load_s <= 3.0)),
        ("resident memory per key (VmRSS)", "%.0f bytes" % per_key,
         "empty server %.1f MiB; loaded %.1f MiB (%.1f MiB after the runs)" % (
             r["rss_empty_kb"] / 1024, r["rss_big_kb"] / 1024, r["rss_big_after_kb"] / 1024),
         "<= 300 bytes", verdict(per_key <= 300)),
        ("verify throughput with %d renewals/s running" % r["renew_rate"],
         "%.0f req/s (**%.2f** x idle, median of the rounds' %s; medians' ratio %.2f); "
         "%.2f us CPU/verify request (%.2f x idle, the renewals' work included); "
         "%d renewals at %.0f/s, %d not visible to the next verify (%d old tokens refused with 429 by the "
         "failed-credential throttle rather than 401); %.0f us of server CPU per renewal outside the HTTP "
         "worker" % (
             busy, busy_ratio, ", ".join("%.2f" % x for x in per_round), busy / idle, med(r["busy_cpu"]),
             med(r["busy_cpu"]) / med(r["idle_cpu"]), renewals, renew_rate, failures, throttled,
             med(r["renew_bg_us"])),
         "idle, same run: %.0f req/s, %.2f us CPU/request; the same renewal client answered at once by a "
         "stand-in (nginx): %.2f x idle (rounds %s)" % (
             idle, med(r["idle_cpu"]), med(standin), ", ".join("%.2f" % x for x in standin)),
         ">= 0.90 x idle, 0 not visible",
         verdict(busy_ratio >= 0.9 and failures == 0 and renew_rate >= 0.95 * r["renew_rate"])),
        ("durable renewals (synchronous=FULL), wrk -t1 -c16", "%.0f /s (p99 %.1f ms)" % (
            r["renew"]["rps"], r["renew"]["p99_us"] / 1000), "-", ">= 1000 /s", verdict(durable >= 1000)),
    ] + throttle_rows(r) + [flush_row(r)]
    lines = [
        "# Keystile benchmark results",
        "",
        "Machine: %s x %s, Linux %s; load average before %s, after %s." % (
            m["nproc"], m["cpu"], m["kernel"], m["load_before"], r["load_after"]),
        "Command: `%s` (%d s per run, %d interleaved rounds; medians). `keystile serve --threads %d`, as "
        "nginx runs one worker, unless a row says otherwise. Server CPU per request: utime+stime of the "
        "server's processes over the run / requests." % (cmdline, r["duration"], len(r["ks_rps"]), r["threads"]),
        "",
        "| figure | Keystile | baseline | target | |",
        "|---|---|---|---|---|",
    ]
    lines += ["| %s |" % " | ".join(row) for row in rows]
    lines += [
        "",
        rounds_line(r) + " Renewal rounds, req/s: idle %s; with renewals %s; with the stand-in's %s." % (
            ", ".join("%.0f" % x for x in r["idle_rps"]), ", ".join("%.0f" % x for x in r["busy_rps"]),
            ", ".join("%.0f" % x for x in r["standin_rps"])),
        "Seeding %s keys through the bulk import took %.1f s. Before issue #5 (1 key, same client): "
        "about 120k req/s against nginx's 210k (ratio 0.57)." % ("{:,}".format(r["keys"]), r["seed"]["seconds"]),
        "",
        "How each figure is taken: see bench/README.md.",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build folder (default build)")
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--sample", type=int, default=100000, help="credentials the clients rotate over")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--verify-rounds", type=int, default=5,
                    help="rounds of the peak verify rows (keys without and with limits, nginx, the empty handler)")
    ap.add_argument("--renewal-rounds", type=int, default=5,
                    help="rounds of the verify-with-renewals row (idle, with renewals, with the stand-in's)")
    ap.add_argument("--calls", type=int, default=2000000, help="in-process verify calls")
    ap.add_argument("--renew-rate", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1,
                    help="keystile serve --threads for the main figures (default 1, as nginx's one worker; "
                         "the default threads are measured in a row of their own)")
    ap.add_argument("--limit", type=int, default=1200, help="seconds any server may live")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"), help="Markdown table ('-' = none)")
    ap.add_argument("--only-verify", action="store_true",
                    help="only the peak verify rows (keys without and with limits, nginx, the empty handler; "
                         "seeds --keys twice itself; prints, writes nothing)")
    ap.add_argument("--only-throttle", action="store_true",
                    help="only the throttle on/off rows (seeds --keys itself; prints, writes nothing)")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)
    args.bin = os.path.join(build, "keystile")
    args.seed = os.path.join(build, "bench", "seed")
    args.inproc = os.path.join(build, "bench", "verify_inproc")
    args.floor = os.path.join(build, "bench", "mhd_floor")
    args.flush = os.path.join(build, "bench", "flush_inproc")
    for tool in ("wrk", "nginx", "timeout"):
        if not shutil.which(tool):
            sys.exit("bench: %s is not installed (apt-get install wrk nginx-light)" % tool)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.only_verify:
        r = run_verify_only(args)
        print("Load average before %s, after %s." % (r["machine"]["load_before"], r["load_after"]))
        print("\n".join("| %s |" % " | ".join(row) for row in verify_rows(r)))
        print(rounds_line(r))
        return
    if args.only_throttle:
        print("\n".join("| %s |" % " | ".join(row) for row in throttle_rows(run_throttle_only(args))))
        return
    r = run(args)
    r["renew_rate"] = args.renew_rate
    r["threads"] = args.threads
    cmdline = "make bench" if args.out == os.path.join(HERE, "RESULTS.md") else " ".join(sys.argv)
    text = table(r, cmdline)
    print(text)
    if args.out != "-":
        # Sections other runs added below the table ("## ..." headings) stay.
        kept = ""
        if os.path.exists(args.out):
            with open(args.out) as f:
                m = re.search(r"^## .*", f.read(), re.M | re.S)
            kept = "\n" + m.group(0) if m else ""
        with open(args.out, "w") as f:
            f.write(text + kept)
        log("wrote " + args.out)
    with open(os.path.join(TMP, "raw.json"), "w") as f:
        json.dump(r, f)


if __name__ == "__main__":
    main()

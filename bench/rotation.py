#!/usr/bin/env python3
"""Rotation on autopilot (issue 16) in `make bench`: verify throughput while
webhook deliveries go out and while a deadline sweep runs, each as a ratio to
idle verify in the same run, with the server's CPU per verify request.

    python3 bench/rotation.py [--keys N] [--duration S] [--rounds R] [--rate R]
                              [--callgrind-keys K | --no-callgrind] [--out FILE]

1. Deadline sweep: each round seeds a fresh SQLite store through the bulk
   import (bench/seed with OLD_ENDS_IN) with N keys (default 100,000) that are
   all in a renewal whose old token ends at the same second. `keystile serve
   --threads 1 --sweep-interval 1` starts before that second; wrk verifies
   current tokens (bench/verify.lua) for an idle run before the deadline, a
   busy run that starts as the deadline passes (the sweep deletes all N old
   tokens: batches of 64 through the group commit, audited; while verify is
   busy it rests 19 times as long as each batch took, so it outlasts the
   run), and an idle run after the sweep has ended and the server has gone
   quiet (the change feed reloads every changed key). A warm-up as long as a
   run comes first. Ratio: busy / mean of the two idle runs. The sweep's own span comes from its log line (the
   report says whether the busy run lay wholly inside it); the store must
   hold no old token afterwards.
2. Deliveries: on the same server, a webhook pointing at a receiver on
   loopback (nginx `return 204`, one worker, counting POSTs in its access
   log); wrk (bench/webhook_test.lua) raises RATE test events per second
   (POST .../webhooks/{id}/test), each one delivery. Each round: an idle
   verify run, then one while the deliveries flow. Every event raised must
   reach the receiver. Ratio: busy / idle of the same round.
3. CPU per verify request: the server's utime+stime (/proc) over the run
   divided by the requests wrk made, so the work of the sweep or of the
   deliveries (and of the test-event calls that raise them) is charged to the
   verifies that ran beside it. Less sensitive than req/s to the other
   tenants of a shared machine.
4. With callgrind (default; --no-callgrind skips it): instructions per verify,
   per delivery (the test-event call included) and per swept old token, on a
   server under valgrind with K keys (default 5,000): load-independent. From
   them, the share of a core's verify work that 50 deliveries/s, and one sweep
   of N keys spread over its measured length, would take at the idle rate.

Everything lives in a temporary directory removed at the end; every server
runs under `timeout`. Python 3 standard library; needs wrk and nginx (and
valgrind for callgrind). Medians over the rounds.
"""
import argparse
import atexit
import calendar
import http.client
import http.server
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import run as base  # noqa: E402  (the servers, wrk and cleanup of bench/run.py)

CLK = os.sysconf("SC_CLK_TCK")
log = base.log


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


def wait_quiet(pid, limit=180):
    """Seconds until the process used under 5% of a core over one second."""
    t0 = time.time()
    while time.time() - t0 < limit:
        c0 = cpu_seconds(pid)
        time.sleep(1)
        if cpu_seconds(pid) - c0 < 0.05:
            break
    return time.time() - t0


def timed_wrk(args, srv, verify_args, duration=None):
    """A verify run; adds the server's CPU seconds per request (us)."""
    c0 = cpu_seconds(srv.pid)
    res = base.wrk(args, srv.port, "verify.lua", verify_args, duration=duration)
    res["cpu_us"] = (cpu_seconds(srv.pid) - c0) / max(1, res["requests"]) * 1e6
    if res["status_errors"] or res["errors"]:
        raise RuntimeError("verify answered errors: %r" % res)
    return res


class Client:
    """Keep-alive HTTP client with the Owner's credential."""

    def __init__(self, port, key, token):
        self.port, self.headers = port, {"X-API-Key": key, "X-API-Token": token}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None):
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        return r.status, (json.loads(raw) if raw else None)


class Receiver:
    """Webhook receiver on loopback for the callgrind run: counts deliveries (answers 204)."""

    def __init__(self):
        self.times = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.times.append(time.monotonic())
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def count(self, t0=None, t1=None):
        with self.lock:
            return sum(1 for t in self.times if (t0 is None or t >= t0) and (t1 is None or t < t1))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def seed(args, db, outdir, n, ends_in):
    cmd = [args.seed, db, str(n), outdir, str(min(n, 50000))] + ([str(ends_in)] if ends_in else [])
    out = subprocess.run(["timeout", str(args.limit)] + cmd,
                         stdout=subprocess.PIPE, check=True).stdout
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
        deadline, olds = c.execute("SELECT min(ends_at), count(*) FROM tokens WHERE slot = 1").fetchone()
    with open(os.path.join(outdir, "owner.txt")) as f:
        owner = f.read().split()
    return json.loads(out.decode().strip().splitlines()[-1]), deadline, olds, owner


def old_tokens_left(db):
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
        return c.execute("SELECT count(*) FROM tokens WHERE slot = 1").fetchone()[0]


def sweep_log(path):
    with open(path, "rb") as f:
        for line in f:
            if b'"msg":"sweep"' in line:
                return json.loads(line)
    return None


def start_server(args, db, tag, extra=()):
    port = base.free_port()
    cmd = [args.bin, "serve", "--db", db, "--listen", "127.0.0.1:%d" % port, "--access-log", "none",
           "--threads", "1", "--sweep-interval", "1"] + list(extra)
    return base.Server("keystile-" + tag, cmd, port, "/healthz", args.limit, os.path.join(base.TMP, tag + ".log"))


def sweep_round(args, i):
    d = os.path.join(base.TMP, "sweep%d" % i)
    os.makedirs(d)
    db = os.path.join(d, "k.db")
    # The deadline leaves time to start, warm up and take the idle run before it.
    ends_in = 2 * args.duration + 25
    t = time.time()
    seeded, deadline, olds, owner = seed(args, db, d, args.keys, ends_in)
    if olds != args.keys:
        raise RuntimeError("seeded %d old tokens, not %d" % (olds, args.keys))
    log("round %d: seeded %d keys in renewal (%.1f s); their old tokens end in %.0f s"
        % (i + 1, args.keys, time.time() - t, deadline - time.time()))
    srv = start_server(args, db, "sweep%d" % i)
    creds = os.path.join(d, "creds.txt")
    verify_args = [creds, 1, min(args.keys, 50000)]
    # Warm up as long as a run: the first runs after start pay first-touch page
    # faults (index, per-thread usage tables), which would favour the later busy run.
    base.wrk(args, srv.port, "verify.lua", verify_args, duration=args.duration)
    if time.time() + args.duration + 1 > deadline:
        raise RuntimeError("too slow to take the idle run before the deadline; raise OLD_ENDS_IN")
    before = timed_wrk(args, srv, verify_args)
    time.sleep(max(0, deadline - time.time()) + 0.1)
    t0 = time.time()
    busy = timed_wrk(args, srv, verify_args)
    t1 = time.time()
    end = time.time() + 600
    while not sweep_log(srv.log_path) and time.time() < end:  # the sweep outlasts the run (it yields to verify)
        time.sleep(0.2)
    sw = sweep_log(srv.log_path)
    # The idle run after: only once the server has gone quiet (the change feed
    # reloads every key the sweep changed, and may still be at it), so the tail
    # of the sweep's work does not depress the baseline.
    quiet_s = wait_quiet(srv.pid)
    after = timed_wrk(args, srv, verify_args)
    left = old_tokens_left(db)
    if not sw or left:
        raise RuntimeError("the sweep did not delete every old token (log %r, %d left)" % (sw, left))
    # The sweep's span from its log line (ts: its end, wall clock), against the busy run's.
    done = calendar.timegm(time.strptime(sw["ts"][:19], "%Y-%m-%dT%H:%M:%S")) + float(sw["ts"][19:-1] or 0)
    sw["start_s"], sw["end_s"] = done - sw["ms"] / 1000 - t0, done - t0
    sw["run_s"] = t1 - t0
    sw["quiet_s"] = quiet_s
    return {"before": before, "busy": busy, "after": after, "sweep": sw, "srv": srv, "db": db,
            "owner": owner, "verify_args": verify_args}


class NginxReceiver:
    """The receiver of the delivery runs: nginx (`return 204`, one worker),
    each delivery a line of its access log, so the client side of the
    deliveries costs as little as the verify load's."""

    def __init__(self, args):
        port = base.free_port()
        d = os.path.join(base.TMP, "receiver")
        os.makedirs(d, exist_ok=True)
        self.access = os.path.join(d, "access.log")
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes 1;
daemon off;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log;
events { worker_connections 1024; }
http {
    log_format t '$msec $status';
    access_log %(log)s t;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 204; }
    }
}
""" % {"d": d, "port": port, "log": self.access})
        self.srv = base.Server("receiver", ["nginx", "-c", conf, "-p", d], port, "/", args.limit,
                               os.path.join(d, "stdout.log"))
        self.url = "http://127.0.0.1:%d/hook" % port

    def times(self):
        """Wall times of the POSTs received (the health checks were GETs: not counted)."""
        out = []
        with open(self.access) as f:
            for line in f:
                t, status = line.split()
                if status == "204":
                    out.append(float(t))
        return out

    def stop(self):
        self.srv.stop()


def deliveries_rounds(args, srv, owner, verify_args):
    client = Client(srv.port, *owner)
    rx = NginxReceiver(args)
    base_path = "/api/v1/accounts/bench/webhooks"
    status, hook = client.call("POST", base_path, {"url": rx.url, "events": ["key.deleted"]})
    if status != 201:
        raise RuntimeError("webhook create: %s %r" % (status, hook))
    test_path = "%s/%s/test" % (base_path, hook["id"])
    received0 = len(rx.times())  # the health check
    rounds = []
    total_sent = 0
    try:
        for i in range(args.rounds):
            idle = timed_wrk(args, srv, verify_args)
            pacer = base.wrk_background(args, srv.port, "webhook_test.lua", [owner[0], owner[1], test_path, args.rate],
                                        args.duration + 2, threads=5)
            time.sleep(1)
            t0 = time.time()
            busy = timed_wrk(args, srv, verify_args)
            t1 = time.time()
            paced = base.wrk_result(pacer)
            if paced["refused"]:
                raise RuntimeError("%d test events refused" % paced["refused"])
            total_sent += paced["accepted"]
            busy["delivered_per_s"] = sum(1 for t in rx.times() if t0 <= t < t1) / (t1 - t0)
            rounds.append({"idle": idle, "busy": busy, "sent": paced["accepted"]})
            log("deliveries round %d: idle %.0f req/s, busy %.0f req/s with %.1f deliveries/s"
                % (i + 1, idle["rps"], busy["rps"], busy["delivered_per_s"]))
        end = time.time() + 30
        while len(rx.times()) - received0 < total_sent and time.time() < end:
            time.sleep(0.2)
        received = len(rx.times()) - received0
        if received < total_sent:
            raise RuntimeError("only %d of %d events delivered" % (received, total_sent))
    finally:
        rx.stop()
    return {"rounds": rounds, "sent": total_sent, "received": received}


# ---- callgrind ------------------------------------------------------------------

class CgServer:
    def __init__(self, args, db, cgdir, sweep_interval):
        self.dir = cgdir
        self.port = base.free_port()
        self.log_path = os.path.join(cgdir, "serve.log")
        self.log = open(self.log_path, "wb")
        cmd = ["timeout", str(args.limit), "valgrind", "--tool=callgrind",
               "--callgrind-out-file=%s/cg.%%p" % cgdir, args.bin, "serve", "--db", db, "--listen",
               "127.0.0.1:%d" % self.port, "--access-log", "none", "--threads", "1",
               "--sweep-interval", str(sweep_interval)]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        base.PROCS.append(("callgrind", self.proc))
        if not base.wait_http(self.port, "/healthz", 240):
            raise RuntimeError("keystile under callgrind did not start (%s)" % self.log_path)
        self.pid = base.child_pid(self.proc.pid)

    def begin(self):
        subprocess.run(["callgrind_control", "-z", str(self.pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def end(self):
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
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def callgrind(args):
    """Instructions per verify and per delivery on one server under
    callgrind, then per swept old token on a second one whose keys' old
    tokens end soon after it starts."""
    d = os.path.join(base.TMP, "callgrind")
    os.makedirs(d)
    db = os.path.join(d, "k.db")
    _, _, _, owner = seed(args, db, d, 2000, 0)
    log("callgrind: verifies and deliveries ...")
    srv = CgServer(args, db, d, 3600)  # no sweep inside the windows measured
    try:
        with open(os.path.join(d, "creds.txt")) as f:
            creds = [line.split() for line in f][:200]
        # verifies: current tokens, each its own request on one keep-alive connection
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        calls = 1000
        for k, tok in creds[:20]:  # warm-up
            conn.request("GET", "/api/v1/verify", headers={"X-API-Key": k, "X-API-Token": tok})
            conn.getresponse().read()
        srv.begin()
        for i in range(calls):
            k, tok = creds[i % len(creds)]
            conn.request("GET", "/api/v1/verify", headers={"X-API-Key": k, "X-API-Token": tok})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError("verify %d under callgrind" % r.status)
        per_verify = srv.end() / calls
        # deliveries: test events raised and delivered
        client = Client(srv.port, *owner)
        rx = Receiver()
        status, hook = client.call("POST", "/api/v1/accounts/bench/webhooks", {"url": rx.url, "events": ["key.deleted"]})
        if status != 201:
            raise RuntimeError("webhook create under callgrind: %s" % status)
        path = "/api/v1/accounts/bench/webhooks/%s/test" % hook["id"]
        client.call("POST", path)
        end = time.time() + 60
        while rx.count() < 1 and time.time() < end:
            time.sleep(0.1)
        events = 100
        srv.begin()
        for _ in range(events):
            if client.call("POST", path)[0] != 202:
                raise RuntimeError("test event refused under callgrind")
        end = time.time() + 120
        while rx.count() < events + 1 and time.time() < end:
            time.sleep(0.1)
        time.sleep(1.5)  # the worker records each result after the answer
        per_delivery = srv.end() / events
        got = rx.count() - 1
        rx.close()
        if got < events:
            raise RuntimeError("callgrind: %d of %d deliveries" % (got, events))
    finally:
        srv.stop()

    n = args.callgrind_keys
    d2 = os.path.join(base.TMP, "callgrind-sweep")
    os.makedirs(d2)
    db2 = os.path.join(d2, "k.db")
    _, deadline, _, _ = seed(args, db2, d2, n, 60)
    log("callgrind: a sweep of %d old tokens ..." % n)
    srv = CgServer(args, db2, d2, 1)
    try:
        if time.time() > deadline - 2:
            raise RuntimeError("callgrind: the server started after the deadline; fewer --callgrind-keys")
        time.sleep(deadline - 2 - time.time())  # the window: the last idle sweeps (1 s apart) and this one
        srv.begin()
        end = time.time() + 600
        while not sweep_log(srv.log_path) and time.time() < end:
            time.sleep(0.5)
        total = srv.end()
        sw = sweep_log(srv.log_path)
        if not sw or old_tokens_left(db2):
            raise RuntimeError("callgrind: the sweep did not finish")
    finally:
        srv.stop()
    return {"keys": n, "per_verify": per_verify, "per_delivery": per_delivery, "per_swept": total / n,
            "sweep_ms": sw["ms"]}


# ---- report -----------------------------------------------------------------------

def median(xs):
    return statistics.median(xs)


def report(args, r):
    sw = r["sweep"]
    sweep_ratios = [x["busy"]["rps"] / ((x["before"]["rps"] + x["after"]["rps"]) / 2) for x in sw]
    sweep_cpu = [x["busy"]["cpu_us"] / ((x["before"]["cpu_us"] + x["after"]["cpu_us"]) / 2) for x in sw]
    dl = r["deliveries"]["rounds"]
    del_ratios = [x["busy"]["rps"] / x["idle"]["rps"] for x in dl]
    del_cpu = [x["busy"]["cpu_us"] / x["idle"]["cpu_us"] for x in dl]
    idle_sw = median([x["before"]["rps"] for x in sw] + [x["after"]["rps"] for x in sw])
    idle_dl = median([x["idle"]["rps"] for x in dl])
    lines = [
        "## Rotation on autopilot (issue 16)",
        "",
        "Command: `%s` (wrk -t1 -c32, %d s per run, %d rounds; medians; `keystile serve --threads 1 "
        "--sweep-interval 1`). Load average before %s, after %s."
        % (r["cmdline"], args.duration, args.rounds, r["load_before"], r["load_after"]),
        "",
        "| figure | with the work | idle, same run | ratio | server CPU per verify request |",
        "|---|---|---|---|---|",
        "| verify while a deadline sweep deletes %s old tokens (%s keys) | %.0f req/s | %.0f req/s | **%.2f** (rounds %s) | "
        "%.2f us vs %.2f us idle (x%.2f) |"
        % (f"{args.keys:,}", f"{args.keys:,}", median([x["busy"]["rps"] for x in sw]), idle_sw, median(sweep_ratios),
           ", ".join("%.2f" % v for v in sweep_ratios), median([x["busy"]["cpu_us"] for x in sw]),
           median([x["before"]["cpu_us"] for x in sw] + [x["after"]["cpu_us"] for x in sw]), median(sweep_cpu)),
        "| verify while %d deliveries/s go out to a loopback receiver (nginx) | %.0f req/s (%.1f deliveries/s) | %.0f req/s | "
        "**%.2f** (rounds %s) | %.2f us vs %.2f us idle (x%.2f) |"
        % (args.rate, median([x["busy"]["rps"] for x in dl]), median([x["busy"]["delivered_per_s"] for x in dl]),
           idle_dl, median(del_ratios), ", ".join("%.2f" % v for v in del_ratios),
           median([x["busy"]["cpu_us"] for x in dl]), median([x["idle"]["cpu_us"] for x in dl]), median(del_cpu)),
        "",
        "The sweep of %s old tokens (audited, one transaction per 64, resting between batches: 19 times "
        "as long as each took while verify is busy) ran, per round, from %s seconds after the busy run "
        "began (start-end, from its log line): it covered %s of the %d s busy run. The server went quiet "
        "(the change feed done reloading the changed keys) %s s after the sweep's log line; the idle run "
        "after waited for that. No old token was left afterwards. %d test events raised during the "
        "delivery runs, %d received."
        % (f"{args.keys:,}", ", ".join("%.1f-%.1f" % (x["sweep"]["start_s"], x["sweep"]["end_s"]) for x in sw),
           ", ".join("%.0f%%" % (100 * max(0.0, min(x["sweep"]["end_s"], x["sweep"]["run_s"]) -
                                          max(x["sweep"]["start_s"], 0.0)) / x["sweep"]["run_s"]) for x in sw),
           args.duration, ", ".join("%.0f" % x["sweep"]["quiet_s"] for x in sw),
           r["deliveries"]["sent"], r["deliveries"]["received"]),
    ]
    cg = r.get("callgrind")
    if cg:
        v = cg["per_verify"]
        rate = idle_dl
        del_share = args.rate * cg["per_delivery"] / (rate * v)
        sweep_s = median([x["sweep"]["ms"] for x in sw]) / 1000  # the sweep's own length in the wall rounds
        sweep_share = args.keys * cg["per_swept"] / (sweep_s * rate * v)
        lines += [
            "",
            "Instructions (callgrind, %s keys, all threads): %.0f per verify; %.0f per delivery, the test-event "
            "call that raised it included (%.1f verifies); %.0f per old token swept (%.1f verifies; the sweep of "
            "%s took %.0f ms under valgrind). At the idle rate of %.0f verifies/s, %d deliveries/s add %.1f%% "
            "to the instructions of the verifies (ratio %.3f if the core were the limit), and one sweep of %s keys "
            "spread over the %.0f s it took in the wall rounds adds %.1f%% (ratio %.3f)."
            % (f"{cg['keys']:,}", v, cg["per_delivery"], cg["per_delivery"] / v, cg["per_swept"], cg["per_swept"] / v,
               f"{cg['keys']:,}", cg["sweep_ms"], rate, args.rate, del_share * 100, 1 / (1 + del_share),
               f"{args.keys:,}", sweep_s, sweep_share * 100, 1 / (1 + sweep_share)),
        ]
    lines += ["", "How: bench/rotation.py's docstring and bench/README.md.", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--keys", type=int, default=100000, help="keys whose old tokens the sweep deletes")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=50, help="deliveries per second")
    ap.add_argument("--callgrind-keys", type=int, default=5000)
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--limit", type=int, default=1200, help="seconds any server may live")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"),
                    help="Markdown file whose '## Rotation on autopilot' section is replaced ('-' = print only)")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)
    args.bin = os.path.join(build, "keystile")
    args.seed = os.path.join(build, "bench", "seed")
    for tool in ("wrk", "nginx", "timeout"):
        if not base.shutil.which(tool):
            sys.exit("bench: %s is not installed (apt-get install wrk nginx-light)" % tool)
    atexit.register(base.cleanup)
    signal.signal(signal.SIGTERM, base.on_signal)
    signal.signal(signal.SIGINT, base.on_signal)
    base.TMP = tempfile.mkdtemp(prefix="keystile-bench-rot-")
    os.chmod(base.TMP, 0o700)
    r = {"load_before": "%.2f %.2f %.2f" % os.getloadavg()}
    r["sweep"] = []
    for i in range(args.rounds):
        x = sweep_round(args, i)
        log("sweep round %d: idle %.0f, during the sweep %.0f, idle after %.0f req/s; sweep %.0f ms"
            % (i + 1, x["before"]["rps"], x["busy"]["rps"], x["after"]["rps"], x["sweep"]["ms"]))
        if i < args.rounds - 1:
            x["srv"].stop()
        r["sweep"].append(x)
    last = r["sweep"][-1]
    r["deliveries"] = deliveries_rounds(args, last["srv"], last["owner"], last["verify_args"])
    last["srv"].stop()
    for x in r["sweep"]:
        for k in ("srv", "db", "owner", "verify_args"):
            x.pop(k, None)
    if not args.no_callgrind:
        r["callgrind"] = callgrind(args)
    r["load_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    r["cmdline"] = "make bench" if args.out == os.path.join(HERE, "RESULTS.md") else " ".join(sys.argv)
    text = report(args, r)
    print(text)
    if args.out != "-":
        old = open(args.out).read() if os.path.exists(args.out) else ""
        # Replace this section (up to the next "## "), keep the rest.
        pat = re.compile(r"^## Rotation on autopilot.*?(?=^## |\Z)", re.M | re.S)
        new = pat.sub(lambda m: text, old) if pat.search(old) else old.rstrip("\n") + "\n\n" + text
        with open(args.out, "w") as f:
            f.write(new)
        log("wrote " + args.out)
    with open(os.path.join(base.TMP, "raw-rotation.json"), "w") as f:
        json.dump(r, f)


if __name__ == "__main__":
    main()

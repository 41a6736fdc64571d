#!/usr/bin/env python3
"""Instructions per verify request, by part, under callgrind (issue 20).

    python3 bench/verify_parts.py [BIN ...] [--calls N] [--limits] [--build DIR] [--seed SEED]

Seeds a store of 2,000 keys (DIR/bench/seed, or SEED: every BIN must open
the store it makes, so for an older build give its own seed; with --limits
every key has 3 allowed ranges and a rate limit, KS_SEED_LIMITS=1), then
for each BIN
(default: DIR/keystile of this build) runs `BIN serve --threads 1` under
valgrind's callgrind on a free loopback port, sends 1,000 verifies to warm
up and then N (default 3,000), rotating over 1,000 keys, one at a time on
one keep-alive connection (the request wrk sends with bench/verify.lua),
and prints the server's instructions per request (counters zeroed before
and dumped after the N; all threads) split into parts:

  check            ks_verify_token_in (hash, lookup, slots, limits)
  usage            counting the verify (service/usage.h)
  parsing/routing  splitting the URI and finding the route (on_uri included)
  headers          reading the request headers verify needs
  response         rendering the body and making or rewriting the response
  metrics          ks_metrics_verify, ks_metrics_http (the clock reads are in other)
  request state    resetting the connection's request at its end
  other            the rest of Keystile's callbacks
  libmicrohttpd    everything outside Keystile's callbacks, except
  pool memset      libmicrohttpd zeroing its 16 KiB pool per request
                   (`rep stosb`, which callgrind counts once per byte: far
                   more instructions than its cost in time)

and the same for DIR/bench/mhd_floor in its `verify` mode (the library
answering a prebuilt verify answer): the floor for the libmicrohttpd row.
Parts come from callgrind_annotate's inclusive counts of the functions
named above, so inlining moves a few instructions between parts. A
benchmark, not a test: nothing is asserted. Every server runs under
`timeout` and is stopped; the temporary folder is removed.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run import free_port  # noqa: E402  (one that also checks nobody listens there)


class Client:
    """One keep-alive connection; one request at a time."""

    def __init__(self, port, proc):
        end = time.time() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the server exited (%d) before answering" % proc.returncode)
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
                self.buf = b""
                if self.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0]:
                    return
            except OSError:
                if time.time() > end:
                    raise
                time.sleep(0.2)

    def send(self, req):
        self.s.sendall(req)
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = self.buf[:i].decode()
                m = re.search(r"(?i)\r\ncontent-length: (\d+)", head)
                n = int(m.group(1)) if m else 0
                if len(self.buf) >= i + 4 + n:
                    self.buf = self.buf[i + 4 + n:]
                    return head.split()[1], head
            data = self.s.recv(65536)
            if not data:
                raise OSError("connection closed")
            self.buf += data


def annotate(dump, calls, inclusive=True):
    """{function: instructions per call} from callgrind_annotate."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=" + ("yes" if inclusive else "no"), "--threshold=100",
                          dump], stdout=subprocess.PIPE, check=True).stdout.decode()
    d = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(\S+)", line)
        if m:
            d.setdefault(m.group(2).split(":")[-1], int(m.group(1).replace(",", "")) / calls)
    return d


def caller_share(dump, callee, caller, calls):
    """Instructions per call of callee when called from caller."""
    out = subprocess.run(["callgrind_annotate", "--tree=caller", "--threshold=100", dump],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    total, block = 0, []
    for line in out.splitlines():
        if not line.strip():
            block = []
            continue
        block.append(line)
        if re.search(r"\*\s+\S*:" + re.escape(callee) + r"\s", line):
            total += sum(int(b.split()[0].replace(",", "")) for b in block if "<" in b and ":%s " % caller in b)
    return total / calls


def measure(cmd, port, creds, calls, work):
    """Runs cmd under callgrind; (total, memset, dump) per request."""
    out = os.path.join(work, "cg")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    proc = subprocess.Popen(["timeout", "900", "valgrind", "--tool=callgrind",
                             "--callgrind-out-file=%s/cg.%%p" % out] + cmd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = Client(port, proc)
        reqs = [("GET /api/v1/verify HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-API-Key: %s\r\nX-API-Token: %s\r\n\r\n" % (
            port, k, t)).encode() for k, t in creds]
        for i in range(1000):
            c.send(reqs[i % len(reqs)])
        with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
            pid = int(f.read().split()[0])
        subprocess.run(["callgrind_control", "-z", str(pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        statuses = {}
        for i in range(calls):
            st = c.send(reqs[(1000 + i) % len(reqs)])[0]
            statuses[st] = statuses.get(st, 0) + 1
        before = set(os.listdir(out))
        subprocess.run(["callgrind_control", "-d", str(pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        dump = os.path.join(out, sorted(set(os.listdir(out)) - before)[0])
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if set(statuses) != {"200"}:
        raise RuntimeError("answers were not all 200: %r" % statuses)
    total = 0
    with open(dump) as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
                break
    memset = sum(v for k, v in annotate(dump, calls, False).items() if k.startswith("__memset"))
    return total / calls, memset, dump


def parts(dump, calls, total, memset):
    d = annotate(dump, calls)
    g = lambda name: d.get(name, 0.0)  # noqa: E731
    ours = g("on_request") + g("on_uri") + g("on_completed")
    check = g("ks_verify_token_in")
    usage = g("ks_usage_count") + g("ks_usage_count_in_section") + g("ks_usage_count_verify")
    routing = g("ks_http_parse_target") + g("ks_http_route_find") + g("on_uri")
    headers = (g("ks_http_header_get") + g("ks_http_verify_resource") + g("ks_http_verify_resource_of") +
               g("ks_http_param_get") + caller_share(dump, "MHD_lookup_connection_value", "on_request", calls) +
               caller_share(dump, "MHD_get_connection_values_n", "ks_api_verify_answer", calls))
    metrics = g("ks_metrics_verify") + g("ks_metrics_http")
    response = (g("ks_server_send_verify") - g("ks_api_verify_answer") - g("ks_metrics_http") -
                g("ks_server_log_request") + g("answer_credential") - check - usage - g("ks_index_read_lock") -
                g("ks_index_read_unlock") - g("ks_clock_now"))
    reset = g("on_completed")
    rows = [("check", check), ("usage", usage), ("parsing/routing", routing), ("headers", headers),
            ("response", response), ("metrics", metrics), ("request state", reset)]
    rows.append(("other", ours - sum(v for _, v in rows)))
    rows += [("libmicrohttpd", total - memset - ours), ("= total without the pool memset", total - memset),
             ("pool memset (counted per byte)", memset)]
    return rows


def main(argv):
    calls, limits, build, bins, seed = 3000, False, os.path.join(ROOT, "build"), [], None
    i = 1
    while i < len(argv):
        if argv[i] == "--calls":
            calls, i = int(argv[i + 1]), i + 2
        elif argv[i] == "--build":
            build, i = os.path.join(ROOT, argv[i + 1]), i + 2
        elif argv[i] == "--seed":
            seed, i = argv[i + 1], i + 2
        elif argv[i] == "--limits":
            limits, i = True, i + 1
        elif argv[i] in ("-h", "--help"):
            print(__doc__.strip())
            return 2
        else:
            bins, i = bins + [argv[i]], i + 1
    bins = bins or [os.path.join(build, "keystile")]
    work = tempfile.mkdtemp(prefix="ks-parts-")
    os.chmod(work, 0o700)  # live credentials
    try:
        env = dict(os.environ, KS_SEED_LIMITS="1" if limits else "0")
        subprocess.run(["timeout", "120", seed or os.path.join(build, "bench", "seed"), os.path.join(work, "k.db"), "2000",
                        work, "1000"], check=True, stdout=subprocess.DEVNULL, env=env)
        with open(os.path.join(work, "creds.txt")) as f:
            creds = [line.split() for line in f]
        columns = []
        for b in bins:
            port = free_port()
            cmd = [b, "serve", "--db", os.path.join(work, "k.db"), "--listen", "127.0.0.1:%d" % port,
                   "--threads", "1", "--access-log", "none"]
            total, memset, dump = measure(cmd, port, creds, calls, work)
            columns.append((b, parts(dump, calls, total, memset)))
        port = free_port()
        total, memset, dump = measure([os.path.join(build, "bench", "mhd_floor"), str(port), "1", "600", "verify"],
                                      port, creds, calls, work)
        floor = total - memset
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("instructions per verify request under callgrind, %d verifies over 1,000 keys%s, one keep-alive "
          "connection, serve --threads 1" % (calls, " with limits" if limits else ""))
    for j, (b, _) in enumerate(columns):
        print("column %d: %s" % (j + 1, b))
    print("%-34s" % "part" + "".join("%16s" % ("column %d" % (j + 1)) for j in range(len(columns))))
    for j, (name, _) in enumerate(columns[0][1]):
        print("%-34s" % name + "".join("%16.0f" % col[j][1] for _, col in columns))
    print("mhd_floor verify (libmicrohttpd answering a prebuilt verify answer): %.0f without the pool memset" % floor)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Soak of the abuse limits (issue 17), run by hand, not by `make test`:

    python3 tests/soak/soak_abuse.py [--seconds 60] [--trickle 1000] [--flood-threads 2]

Starts `keystile serve` (build/keystile, or KEYSTILE_BIN) with its default
limits on a fresh database, then for --seconds at once:
  - --trickle connections (spread over 127.0.0.10..19, 100 each: under the
    per-address cap of 128) each sending one header byte a second and
    reconnecting whenever the server cuts them (the header deadline, 10 s);
  - a token-guessing flood: --flood-threads keep-alive clients on 127.0.0.20
    sending well-formed wrong tokens as fast as they can (401, then 429);
  - one good client on 127.0.0.30 verifying a valid token in a loop.
Prints the good client's latency (p50, p99, max) and failures, what the
flood got, how many trickling connections were cut, and the server's
resident memory at start, its maximum, every 10 s and at the end (sampled
every 0.5 s from /proc): it should level off once the connections are all
open, whatever the flood. Exit code 1 when the good client saw a failure or its p99 was
1 s or more.
"""
import argparse
import http.client
import json
import os
import selectors
import socket
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

from harness import API, Server, make_token  # noqa: E402


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Tricklers:
    """n connections sending one header byte a second, reconnecting when cut."""

    def __init__(self, port, n):
        self.port, self.sel = port, selectors.DefaultSelector()
        self.socks = {}  # socket -> next send time
        self.cut = self.failed_connects = 0
        self.sources = ["127.0.0.%d" % (10 + i % 10) for i in range(n)]

    def open_one(self, source):
        s = socket.socket()
        try:
            s.bind((source, 0))
            s.connect(("127.0.0.1", self.port))
            s.setblocking(False)
            s.send(b"GET /api/v1/verify HTTP/1.1\r\nHost: soak\r\nX-Slow: ")
        except OSError:
            s.close()
            self.failed_connects += 1
            return
        self.socks[s] = (time.time() + 1.0, source)
        self.sel.register(s, selectors.EVENT_READ)

    def close_one(self, s):
        source = self.socks.pop(s)[1]
        self.sel.unregister(s)
        s.close()
        return source

    def run(self, stop):
        for src in self.sources:
            self.open_one(src)
        while not stop.is_set():
            for key, _ in self.sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:  # cut by the server: come back
                    self.cut += 1
                    self.open_one(self.close_one(s))
            now = time.time()
            for s, (due, source) in list(self.socks.items()):
                if due <= now:
                    try:
                        s.send(b"x")
                        self.socks[s] = (now + 1.0, source)
                    except OSError:
                        self.cut += 1
                        self.open_one(self.close_one(s))
        for s in list(self.socks):
            self.close_one(s)


def flood(port, key, stop, out, lock):
    counts = {}
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.20", 0))
            conn.request("GET", API + "/verify", headers={"X-API-Key": key, "X-API-Token": make_token()})
            r = conn.getresponse()
            r.read()
            counts[r.status] = counts.get(r.status, 0) + 1
        except (OSError, http.client.HTTPException):
            counts["error"] = counts.get("error", 0) + 1
            if conn:
                conn.close()
            conn = None
    with lock:
        for k, v in counts.items():
            out[k] = out.get(k, 0) + v


def good_client(port, key, token, stop, lat, failures):
    conn = None
    while not stop.is_set():
        t0 = time.time()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.30", 0))
            conn.request("GET", API + "/verify", headers={"X-API-Key": key, "X-API-Token": token})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                failures.append((r.status, body[:100]))
        except (OSError, http.client.HTTPException) as e:
            failures.append(repr(e))
            if conn:
                conn.close()
            conn = None
        lat.append(time.time() - t0)
        time.sleep(0.005)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--trickle", type=int, default=1000)
    ap.add_argument("--flood-threads", type=int, default=2)
    args = ap.parse_args()
    srv = Server(accounts=("soak",))
    try:
        key, token = srv.owner()
        pid = srv.proc.pid
        rss = [rss_kb(pid)]
        stop = threading.Event()
        tricklers = Tricklers(srv.port, args.trickle)
        flood_out, lock, lat, failures = {}, threading.Lock(), [], []
        threads = [threading.Thread(target=tricklers.run, args=(stop,))]
        threads += [threading.Thread(target=flood, args=(srv.port, key, stop, flood_out, lock))
                    for _ in range(args.flood_threads)]
        threads.append(threading.Thread(target=good_client, args=(srv.port, key, token, stop, lat, failures)))
        for t in threads:
            t.start()
        end = time.time() + args.seconds
        while time.time() < end:
            time.sleep(0.5)
            rss.append(rss_kb(pid))
        stop.set()
        for t in threads:
            t.join()
        rss.append(rss_kb(pid))
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        result = {
            "seconds": args.seconds,
            "good_client": {"verifies": len(lat), "failures": len(failures), "p50_ms": round(p(0.50), 3),
                            "p99_ms": round(p(0.99), 3), "max_ms": round(lat[-1] * 1000, 3),
                            "first_failures": [str(f) for f in failures[:3]]},
            "flood": {str(k): v for k, v in flood_out.items()},
            "trickling": {"connections": args.trickle, "cut_and_reconnected": tricklers.cut,
                          "failed_connects": tricklers.failed_connects},
            "server_rss_kb": {"start": rss[0], "max": max(rss), "end": rss[-1],
                              "every_10s": rss[::20]},
        }
        print(json.dumps(result, indent=2))
        ok = not failures and p(0.99) < 1000
        print("soak: %s (good client p99 %.2f ms, %d failures; server RSS max %.1f MiB, start %.1f MiB)" % (
            "ok" if ok else "FAILED", p(0.99), len(failures), max(rss) / 1024, rss[0] / 1024))
        return 0 if ok else 1
    finally:
        srv.cleanup()


if __name__ == "__main__":
    sys.exit(main())

"""Verify under concurrent writes: every answer matches a state the key really had.

Several threads verify over keep-alive connections while writer threads renew
(later and now), delete old tokens, undo renewals, deactivate, reactivate and
delete keys. Each writer owns its keys, so it knows every state a key goes
through; it notes when it sent each write and when the write was
acknowledged. A write takes effect somewhere in between, so a verify that ran
from s to e may have seen any state that was not yet replaced (by an
acknowledged write) at s and had possibly begun (its write sent) by e. The
answer must be what one of those states gives: a token that was current all
along never gets 401, a token revoked before the verify began never gets 200.
This is a correctness test, not a timing: it passes on a slow machine too.

Also checks the /metrics text format and that the counters move.
"""
import http.client
import json
import random
import re
import threading
import time
import unittest

from harness import API, KeystileCase, acct, make_token

DURATION = 6.0        # seconds of mixed load
VERIFIERS = 6
WRITERS = 2
KEYS_PER_WRITER = 4


class Conn:
    """A keep-alive HTTP/1.1 connection that reconnects when the server closes it."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if payload is not None or method in ("POST", "PUT", "PATCH"):
            hdrs["Content-Length"] = str(len(payload or b""))
        for attempt in range(2):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            try:
                self.c.request(method, path, body=payload, headers=hdrs)
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, (json.loads(data) if data else None)
            except (http.client.HTTPException, ConnectionError, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


PENDING = object()  # the token of a renewal in flight: nobody holds it yet


class KeyHistory:
    """The states one key went through, as its writer saw them.

    A state is a dict: current, old (tokens or None), active, deleted. Each
    entry is [sent, acked, state]; the first has sent = acked = -inf. A write
    in flight is already listed (acked = +inf), with PENDING for a new token
    that only its response will tell; a token is offered to the verifiers
    only once its state is listed.
    """

    def __init__(self, key, token):
        self.key = key
        self.tokens = [token]  # every token it ever had (appended, read by verifiers)
        self.entries = [[float("-inf"), float("-inf"),
                         {"current": token, "old": None, "active": True, "deleted": False}]]

    def state(self):
        return dict(self.entries[-1][2])

    def possible(self, start, end):
        """States that may have been in force at some moment of [start, end]."""
        out = []
        entries = list(self.entries)
        for i, (sent, _acked, st) in enumerate(entries):
            replaced_before_start = i + 1 < len(entries) and entries[i + 1][1] < start
            if sent <= end and not replaced_before_start:
                out.append(st)
        return out


def expected_answer(state, token):
    """(status, slot or reason) that verify gives for `token` in `state`."""
    if state["deleted"]:
        return (401, "unknown_key")
    if token == state["current"]:
        slot = "current"
    elif token is not None and token == state["old"]:
        slot = "old"
    else:
        return (401, "invalid_token")
    if not state["active"]:
        return (401, "inactive")
    return (200, slot)


class TestLoadConsistency(KeystileCase):
    # Hundreds of wrong tokens a second from one address: the failed-credential
    # throttle (test_abuse.py) would answer 429; this test is about the answers.
    SERVER_ARGS = ("--failed-auth-limit", "0")

    def owner_headers(self):
        key, token = self.server.owner()
        return {"X-API-Key": key, "X-API-Token": token}

    def writer(self, histories, stop, errors, counts):
        conn = Conn(self.server.port)
        hdrs = self.owner_headers()
        rnd = random.Random()
        try:
            while not stop.is_set():
                h = rnd.choice(histories)
                st = h.state()
                if st["deleted"]:
                    continue
                live = [x for x in histories if not x.state()["deleted"]]
                # renewals need no old token; delete-old and undo need one
                ops = ["delete_old", "undo"] if st["old"] else ["renew_now", "renew_later"]
                ops += ["deactivate"] if st["active"] else ["activate", "activate"]
                if len(live) > 2 and rnd.random() < 0.02:
                    ops = ["delete"]
                op = rnd.choice(ops)
                path = acct(self.A, "keys", h.key)
                if op in ("renew_now", "renew_later"):
                    mode = "now" if op == "renew_now" else "later"
                    st["old"] = st["current"] if mode == "later" else None
                    st["current"] = PENDING
                    call = ("POST", path + "/renew", {"delete_old": mode}, 200)
                elif op == "delete_old":
                    st["old"] = None
                    call = ("DELETE", path + "/old-token", None, 200)
                elif op == "undo":
                    st["current"], st["old"] = st["old"], None
                    call = ("POST", path + "/undo-renewal", None, 200)
                elif op in ("deactivate", "activate"):
                    st["active"] = op == "activate"
                    call = ("PATCH", path, {"status": "active" if st["active"] else "inactive"}, 200)
                else:
                    st["deleted"] = True
                    call = ("DELETE", path, None, 204)
                entry = [time.monotonic(), float("inf"), st]
                h.entries.append(entry)
                status, data = conn.request(call[0], call[1], call[2], hdrs)
                acked = time.monotonic()
                if status != call[3]:
                    errors.append("write %s on %s failed: %s %r" % (op, h.key, status, data))
                    return
                if st["current"] is PENDING:
                    new = data["token"]
                    self.server.issued_tokens.append(new)
                    entry[2] = dict(st, current=new)
                entry[1] = acked
                if st["current"] is PENDING:
                    h.tokens.append(new)
                counts["writes"] += 1
        except Exception as e:  # reported by the test
            errors.append("writer: %r" % (e,))
        finally:
            conn.close()

    def verifier(self, histories, stop, errors, counts):
        conn = Conn(self.server.port)
        rnd = random.Random()
        stranger = make_token()  # well formed, never issued
        try:
            while not stop.is_set() and len(errors) < 20:
                h = rnd.choice(histories)
                token = stranger if rnd.random() < 0.05 else rnd.choice(h.tokens)
                start = time.monotonic()
                status, data = conn.request("GET", API + "/verify",
                                            headers={"X-API-Key": h.key, "X-API-Token": token})
                end = time.monotonic()
                if status == 200:
                    got = (200, data.get("token"))
                    if data.get("key") != h.key or data.get("valid") is not True:
                        errors.append("bad 200 body for %s: %r" % (h.key, data))
                elif status == 401:
                    got = (401, data.get("reason"))
                else:
                    got = (status, data)
                allowed = {expected_answer(st, token) for st in h.possible(start, end)}
                if got not in allowed:
                    errors.append("verify of %s with token #%s gave %r; states then allowed %r" % (
                        h.key, h.tokens.index(token) if token in h.tokens else "stranger", got,
                        sorted(allowed)))
                counts["verifies"] += 1
        except Exception as e:
            errors.append("verifier: %r" % (e,))
        finally:
            conn.close()

    def test_verify_consistent_under_writes(self):
        groups = []
        for _ in range(WRITERS):
            hs = []
            for _ in range(KEYS_PER_WRITER):
                k = self.create_key()
                hs.append(KeyHistory(k["key"], k["token"]))
            groups.append(hs)
        everything = [h for g in groups for h in g]
        stop = threading.Event()
        errors = []
        counts = {"writes": 0, "verifies": 0}
        threads = [threading.Thread(target=self.writer, args=(g, stop, errors, counts)) for g in groups]
        threads += [threading.Thread(target=self.verifier, args=(everything, stop, errors, counts))
                    for _ in range(VERIFIERS)]
        for t in threads:
            t.start()
        time.sleep(DURATION)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(errors, [], "%d inconsistencies (first ones shown)" % len(errors))
        self.assertGreater(counts["writes"], 20, counts)
        self.assertGreater(counts["verifies"], 500, counts)
        # Once quiet, the last acknowledged state is the one verify sees.
        for h in everything:
            st = h.state()
            for token in h.tokens:
                r = self.verify(h.key, token)
                want = expected_answer(st, token)
                got = (r.status, r.data.get("token") if r.status == 200 else r.data.get("reason"))
                self.assertEqual(got, want, "%s after the load" % h.key)


METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                         r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.]+([eE][-+]?[0-9]+)?|[-+]Inf|NaN)$')
FAMILIES = ("keystile_verify_requests_total", "keystile_verify_duration_seconds",
            "keystile_http_requests_total", "keystile_keys", "keystile_store_write_duration_seconds")


class TestMetricsFormat(KeystileCase):

    def scrape(self):
        r = self.call("GET", "/metrics", cred=None)
        self.assertStatus(r, 200)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("text/plain"), r.headers)
        text = r.raw.decode("utf-8")
        samples = {}
        for line in text.splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$")
                continue
            m = METRIC_LINE.match(line)
            self.assertIsNotNone(m, "not a metric line: %r" % line)
            samples[m.group(1) + (m.group(2) or "")] = float(m.group(5))
        return text, samples

    def test_format_families_and_counters(self):
        text, before = self.scrape()
        for family in FAMILIES:
            self.assertIn("# TYPE %s " % family, text)
            self.assertTrue(any(name.startswith(family) for name in before), family)
        k = self.create_key()
        for _ in range(5):
            self.assertStatus(self.verify(k["key"], k["token"]), 200)
        self.assertStatus(self.verify(k["key"], make_token()), 401)
        _, after = self.scrape()
        ok = 'keystile_verify_requests_total{result="ok"}'
        bad = 'keystile_verify_requests_total{result="invalid_token"}'
        http_ok = 'keystile_http_requests_total{route="/api/v1/verify",code="200"}'
        self.assertGreaterEqual(after[ok] - before.get(ok, 0), 5)
        self.assertGreaterEqual(after[bad] - before.get(bad, 0), 1)
        self.assertGreaterEqual(after[http_ok] - before.get(http_ok, 0), 5)
        count = "keystile_verify_duration_seconds_count"
        self.assertGreaterEqual(after[count] - before[count], 6)
        self.assertGreaterEqual(after['keystile_keys{status="active"}'], 2)
        writes = "keystile_store_write_duration_seconds_count"
        self.assertGreater(after[writes], before[writes])


if __name__ == "__main__":
    unittest.main()

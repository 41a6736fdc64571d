"""Rotation on autopilot (API.md): old-token deadlines, auto-delete, renewal
notices, and signed webhooks delivered at least once.

A receiver (`Receiver`) runs on loopback in this process: it records every
delivery, checks its Standard Webhooks signature with hmac/base64 of the
standard library, and can be told to fail the next N deliveries. Moved clocks
come from restarts with --clock-offset-days (a fraction of a day moves it by
hours); the sweeps run at start and every --sweep-interval seconds.
"""
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import threading
import time
import unittest

import harness
from harness import KeystileCase, acct, parse_time, wait_until


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def verify_signature(secret, headers, body):
    """Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body))."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = ("%s.%s." % (headers["webhook-id"], headers["webhook-timestamp"])).encode() + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(want, s.split(",", 1)[1])
               for s in headers["webhook-signature"].split() if s.startswith("v1,"))


class Receiver:
    """A webhook receiver on 127.0.0.1: records deliveries, fails on request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = []   # (headers dict, body bytes)
        self.attempts = 0
        self.fail_next = 0
        self.secret = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with receiver.lock:
                    receiver.attempts += 1
                    fail = receiver.fail_next > 0
                    if fail:
                        receiver.fail_next -= 1
                    else:
                        receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(503 if fail else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/hook" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def events(self, type_=None):
        with self.lock:
            out = [json.loads(b) for _, b in self.deliveries]
        return [e for e in out if type_ is None or e["type"] == type_]

    def distinct_events(self):
        """The events, each once: delivery is at least once, and a delivery
        the receiver took just before the server stopped is sent again,
        with the same webhook-id, after it starts."""
        with self.lock:
            seen, out = set(), []
            for headers, body in self.deliveries:
                if headers.get("webhook-id") not in seen:
                    seen.add(headers.get("webhook-id"))
                    out.append(json.loads(body))
        return out

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RotationCase(KeystileCase):
    EXTRA = ["--sweep-interval", "1"]

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(accounts=cls.ACCOUNTS, extra_args=cls.EXTRA)
        cls.rx = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        super().tearDownClass()

    def hook(self, events, url=None):
        r = self.call("POST", acct(self.A, "webhooks"), {"url": url or self.rx.url, "events": events})
        self.assertStatus(r, 201)
        self.rx.secret = r.data["secret"]
        return r.data

    def deliveries(self, hook_id):
        r = self.call("GET", acct(self.A, "webhooks", hook_id, "deliveries") + "?limit=500")
        self.assertStatus(r, 200)
        return r.data["items"]


class TestOldTokenDeadline(RotationCase):

    def renew_at(self, key, body):
        return self.call("POST", acct(self.A, "keys", key, "renew"), body)

    def test_field_checked(self):
        k = self.create_key()
        now = time.time()
        for body in ({"delete_old": "now", "old_token_expires_at": iso(now + 60)},
                     {"old_token_expires_at": iso(now - 5)},
                     {"old_token_expires_at": iso(now + 31 * 86400)},
                     {"old_token_expires_at": "tomorrow"},
                     {"old_token_expires_at": 12}):
            self.assertError(self.renew_at(k["key"], body), 400, "invalid_request", "old_token_expires_at")
        self.assertEqual(len(self.get_key(k["key"])["tokens"]), 1, "a refused renewal changed nothing")
        r = self.renew_at(k["key"], {"old_token_expires_at": iso(now + 30 * 86400 - 60)})
        self.assertStatus(r, 200)
        old = [t for t in r.data["tokens"] if t["slot"] == "old"][0]
        self.assertEqual(old["ends_at"], iso(now + 30 * 86400 - 60))
        self.assertIsNone(r.data["tokens"][0]["ends_at"])

    def test_exact_to_the_second_then_swept(self):
        k = self.create_key()
        end = int(time.time()) + 3
        r = self.renew_at(k["key"], {"delete_old": "later", "old_token_expires_at": iso(end)})
        self.assertStatus(r, 200)
        new = r.data["token"]
        time.sleep(max(0, end - 0.35 - time.time()))
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"], "old")
        time.sleep(max(0, end + 0.05 - time.time()))
        self.assertVerifyFail(self.verify(k["key"], k["token"]), 401, "invalid_token")
        self.assertVerifyOK(self.verify(k["key"], new), k["key"], "current")
        # A renewal-undo cannot bring it back; the sweep deletes it as system.
        self.assertError(self.call("POST", acct(self.A, "keys", k["key"], "undo-renewal")), 409, "no_old_token")
        entry = wait_until(lambda: [a for a in self.audit(50) if a["target"] == k["key"]
                                    and a["action"] == "key.delete_old_token"], timeout=5)
        self.assertTrue(entry, "the sweep did not delete the old token")
        self.assertEqual(entry[0]["actor"], "system")
        self.assertEqual(entry[0]["via"], "system")
        self.assertEqual(entry[0]["detail"], {"reason": "deadline"})
        self.assertEqual([t["slot"] for t in self.get_key(k["key"])["tokens"]], ["current"])


class TestSettingsOfTheSweeps(KeystileCase):

    def test_defaults_and_ranges(self):
        r = self.call("GET", acct(self.A, "settings"))
        self.assertStatus(r, 200)
        self.assertIsNone(r.data["auto_delete_old_token_hours"])
        self.assertEqual(r.data["renewal_notice_days"], 14)
        for body, field in (({"auto_delete_old_token_hours": 0}, "auto_delete_old_token_hours"),
                            ({"auto_delete_old_token_hours": 721}, "auto_delete_old_token_hours"),
                            ({"auto_delete_old_token_hours": "24"}, "auto_delete_old_token_hours"),
                            ({"renewal_notice_days": -1}, "renewal_notice_days"),
                            ({"renewal_notice_days": 61}, "renewal_notice_days")):
            self.assertError(self.call("PUT", acct(self.A, "settings"), body), 400, "invalid_request", field)
        r = self.call("PUT", acct(self.A, "settings"), {"auto_delete_old_token_hours": 720, "renewal_notice_days": 0})
        self.assertStatus(r, 200)
        self.assertEqual(r.data["auto_delete_old_token_hours"], 720)
        self.assertEqual(r.data["renewal_notice_days"], 0)
        r = self.call("PUT", acct(self.A, "settings"), {"auto_delete_old_token_hours": None})
        self.assertStatus(r, 200)
        self.assertIsNone(r.data["auto_delete_old_token_hours"])
        self.assertEqual(self.call("GET", acct(self.A, "settings")).data["renewal_notice_days"], 0)


class TestWebhooks(RotationCase):

    def test_crud_secret_and_authority(self):
        h = self.hook(["key.created"])
        self.assertRegex(h["secret"], r"^whsec_[A-Za-z0-9+/]{43}=$")
        self.assertEqual(len(base64.b64decode(h["secret"][6:])), 32)
        self.assertEqual(h["events"], ["key.created"])
        self.assertIs(h["enabled"], True)
        listed = self.call("GET", acct(self.A, "webhooks")).data["items"]
        mine = [w for w in listed if w["id"] == h["id"]][0]
        self.assertNotIn("secret", mine, "the secret is shown once only")
        r = self.call("PATCH", acct(self.A, "webhooks", h["id"]), {"enabled": False, "events": ["key.deleted"]})
        self.assertStatus(r, 200)
        self.assertEqual((r.data["enabled"], r.data["events"]), (False, ["key.deleted"]))
        for body, field in (({"url": "ftp://x/"}, "url"), ({"url": "not a url"}, "url"),
                            ({"events": ["key.exploded"]}, "events"), ({"events": []}, "events")):
            self.assertError(self.call("PATCH", acct(self.A, "webhooks", h["id"]), body), 400,
                             "invalid_request", field)
        self.assertError(self.call("POST", acct(self.A, "webhooks"), {"url": self.rx.url}), 400,
                         "invalid_request", "events")
        # edit-webhooks is needed: User Administrator - RESTRICTED lacks it.
        ua = self.create_key(roles=[harness.USER_ADMIN])
        self.assertError(self.call("GET", acct(self.A, "webhooks"), cred=(ua["key"], ua["token"])), 403,
                         "forbidden", "edit-webhooks")
        self.assertStatus(self.call("DELETE", acct(self.A, "webhooks", h["id"])), 204)
        self.assertError(self.call("DELETE", acct(self.A, "webhooks", h["id"])), 404, "not_found")
        actions = [a["action"] for a in self.audit(20)]
        for want in ("webhook.create", "webhook.update", "webhook.delete"):
            self.assertIn(want, actions)
        self.assertFalse(any(h["secret"] in json.dumps(a) for a in self.audit(50)), "secret in the audit log")

    def test_signed_subscribed_only_and_no_token(self):
        h = self.hook(["key.created", "token.renewed", "key.deactivated"])
        k = self.create_key(name="signed")
        rn = self.renew(k["key"], "later")
        self.patch_key(k["key"], {"status": "inactive"})
        self.patch_key(k["key"], {"name": "renamed"})          # no event
        self.call("DELETE", acct(self.A, "keys", k["key"], "old-token"))  # token.old_deleted: not subscribed
        got = wait_until(lambda: len([e for e in self.rx.events() if e["data"].get("key") == k["key"]]) >= 3)
        self.assertTrue(got)
        time.sleep(1.5)
        mine = [(hd, b) for hd, b in self.rx.deliveries if json.loads(b)["data"].get("key") == k["key"]]
        self.assertEqual(sorted(json.loads(b)["type"] for _, b in mine),
                         ["key.created", "key.deactivated", "token.renewed"])
        for hd, body in mine:
            self.assertTrue(verify_signature(h["secret"], hd, body), hd)
            self.assertRegex(hd["webhook-id"], r"^msg_[a-z2-7]{26}$")
            self.assertLess(abs(int(hd["webhook-timestamp"]) - time.time()), 30)
            e = json.loads(body)
            self.assertEqual(set(e), {"type", "timestamp", "data"})
            self.assertEqual(e["data"]["account"], self.A)
            parse_time(e["timestamp"])
            for secret in (k["token"], rn["token"]):
                self.assertNotIn(secret.encode(), body, "a token in a webhook body")
        # A tampered body fails the check.
        hd, body = mine[0]
        self.assertFalse(verify_signature(h["secret"], hd, body + b" "))
        items = self.deliveries(h["id"])
        self.assertTrue(all(d["status"] == "delivered" and d["response_code"] == 204 for d in items), items)
        self.assertEqual(set(items[0]) >= {"event_id", "event", "status", "attempts", "last_attempt_at",
                                           "response_code"}, True)

    def test_fails_then_recovers_and_test_event(self):
        h = self.hook(["key.deleted"])
        with self.rx.lock:
            self.rx.fail_next = 2
        k = self.create_key()
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"])), 204)
        ok = wait_until(lambda: self.rx.events("key.deleted") and
                        any(e["data"]["key"] == k["key"] for e in self.rx.events("key.deleted")), timeout=30)
        self.assertTrue(ok, "not delivered after the receiver recovered")
        d = [x for x in self.deliveries(h["id"]) if x["event"] == "key.deleted"][0]
        self.assertEqual((d["status"], d["attempts"], d["response_code"]), ("delivered", 3, 204))
        r = self.call("POST", acct(self.A, "webhooks", h["id"], "test"))
        self.assertStatus(r, 202)
        self.assertTrue(wait_until(lambda: self.rx.events("webhook.test"), timeout=10))
        self.assertEqual(self.rx.events("webhook.test")[-1]["data"]["webhook"], h["id"])
        m = self.call("GET", "/metrics").raw.decode()
        self.assertRegex(m, r'keystile_webhook_deliveries_total\{result="retry"\} [1-9]')
        self.assertIn("keystile_webhook_outbox_depth", m)
        self.assertIn("keystile_webhook_outbox_oldest_age_seconds", m)

    def test_disabled_waits(self):
        h = self.hook(["key.created"])
        self.call("PATCH", acct(self.A, "webhooks", h["id"]), {"enabled": False})
        k = self.create_key(name="while-disabled")
        time.sleep(2)
        self.assertFalse([e for e in self.rx.events() if e["data"].get("key") == k["key"]])
        self.assertEqual(self.deliveries(h["id"]), [], "a disabled webhook gets no new events")


class TestSingleThreadedReceiver(RotationCase):
    """A receiver that serves one connection at a time and keeps it alive
    (Python's HTTPServer speaking HTTP/1.1): a connection kept in libcurl's
    cache used to hold it while the next delivery waited on a new one, until
    the 10 s timeout made a first attempt fail. Each attempt now has its own
    connection."""

    def test_near_simultaneous_deliveries_each_succeed_first_time(self):
        times = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                times.append(time.time())
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)  # one connection at a time
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            h = self.hook(["key.deleted"], url="http://127.0.0.1:%d/one" % httpd.server_address[1])
            for burst in range(3):
                for _ in range(10):
                    self.assertStatus(self.call("POST", acct(self.A, "webhooks", h["id"], "test")), 202)
                want = 10 * (burst + 1)
                self.assertTrue(wait_until(lambda: len(times) >= want, timeout=8),
                                "burst %d: %d of %d delivered within 8 s" % (burst, len(times), want))
            # The receiver counts a delivery before its answer reaches the
            # worker, which records it after: wait for the records too.
            wait_until(lambda: [x["status"] for x in self.deliveries(h["id"])] == ["delivered"] * 30, timeout=5)
            d = self.deliveries(h["id"])
            self.assertEqual(len(d), 30)
            self.assertEqual([(x["status"], x["attempts"], x["response_code"]) for x in d],
                             [("delivered", 1, 204)] * 30)
        finally:
            httpd.shutdown()
            httpd.server_close()


class TestWebhookDeny(RotationCase):
    EXTRA = ["--webhook-deny", "127.0.0.0/8", "--webhook-deny", "::1"]

    def test_denied_target(self):
        self.assertError(self.call("POST", acct(self.A, "webhooks"),
                                   {"url": "http://127.0.0.5:9/x", "events": ["key.created"]}),
                         400, "invalid_request", "url")
        # A name resolving into a denied range is refused at connect time.
        h = self.hook(["key.created"], url="http://localhost:%d/hook" % self.rx.port)
        self.create_key()
        got = wait_until(lambda: [d for d in self.deliveries(h["id"]) if d["attempts"] > 0], timeout=8)
        self.assertTrue(got)
        self.assertEqual(got[0]["status"], "pending")
        self.assertIsNone(got[0]["response_code"])
        self.assertEqual(self.rx.events(), [])


class TestDeliveryAcrossKill9(KeystileCase):

    def test_change_then_kill9_still_delivers(self):
        rx = Receiver()
        try:
            r = self.call("POST", acct(self.A, "webhooks"), {"url": rx.url, "events": ["key.created"]})
            self.assertStatus(r, 201)
            rx.close()  # nobody listens: the event waits in the outbox
            k = self.create_key(name="before-kill")
            self.server.kill9()
            rx2 = Receiver.__new__(Receiver)
            rx2.__init__()
            # The webhook points at the old port: move it to the new receiver.
            self.server.start()
            r2 = self.call("PATCH", acct(self.A, "webhooks", r.data["id"]), {"url": rx2.url})
            self.assertStatus(r2, 200)
            # A kill while the worker held the delivery (claimed, its attempt under
            # way) leaves it leased: SQLite drops leases at start, PostgreSQL
            # (several nodes) waits for the 60 s lease to end (docs/API.md).
            got = wait_until(lambda: [e for e in rx2.events("key.created") if e["data"]["key"] == k["key"]],
                             timeout=100 if harness.PG_URL else 30)
            self.assertTrue(got, "the event of an acknowledged change was lost across kill -9")
            self.assertTrue(verify_signature(r.data["secret"], *rx2.deliveries[0]))
            rx2.close()
        finally:
            pass


class TestAutoDeleteAndNotices(KeystileCase):
    """Moved clocks: restarts with --clock-offset-days (the sweeps run at start)."""

    def restart_at(self, days, rx=None):
        self.server.restart(["--clock-offset-days", str(days)])

    def test_auto_delete_only_when_safe(self):
        self.assertStatus(self.call("PUT", acct(self.A, "settings"), {"auto_delete_old_token_hours": 24}), 200)
        unused = self.create_key(name="new-never-used")
        self.renew(unused["key"], "later")
        used = self.create_key(name="new-used-old-idle")
        new_used = self.renew(used["key"], "later")["token"]
        busy = self.create_key(name="old-still-used")
        new_busy = self.renew(busy["key"], "later")["token"]
        self.restart_at(0.5)  # 12 h later
        self.assertVerifyOK(self.verify(used["key"], new_used), used["key"])
        self.assertVerifyOK(self.verify(busy["key"], new_busy), busy["key"])
        self.assertVerifyOK(self.verify(busy["key"], busy["token"]), busy["key"], "old")
        self.restart_at(1.1)  # 26 h after the renewal, 14 h after the old token's last use
        slots = lambda k: [t["slot"] for t in self.get_key(k["key"])["tokens"]]
        # The sweep at start runs beside the server (after /healthz answers):
        # wait for the deletion that is due; the same pass decides the others.
        wait_until(lambda: slots(used) == ["current"], timeout=15)
        self.assertEqual(slots(used), ["current"], "not deleted though safe")
        self.assertEqual(slots(unused), ["current", "old"], "deleted though the new token never verified")
        self.assertEqual(slots(busy), ["current", "old"], "deleted though the old token was used 14 h ago")
        entry = [a for a in self.audit(50) if a["target"] == used["key"] and a["action"] == "key.delete_old_token"]
        self.assertEqual((entry[0]["actor"], entry[0]["detail"]), ("system", {"reason": "auto_delete"}))
        self.restart_at(1.6)  # 26 h after the old token's last use
        wait_until(lambda: slots(busy) == ["current"], timeout=15)
        self.assertEqual(slots(busy), ["current"])
        self.restart_at(0)

    def test_notices_once_each(self):
        rx = Receiver()
        try:
            r = self.call("POST", acct(self.A, "webhooks"), {"url": rx.url, "events": [
                "key.renewal_due", "key.renewal_recommended", "key.renewal_highly_recommended"]})
            self.assertStatus(r, 201)
            hook = r.data["id"]
            k = self.create_key(name="notice me")
            exp = parse_time(self.get_key(k["key"])["tokens"][0]["expires_at"]).timestamp()
            days_to = lambda t: (t - time.time()) / 86400.0
            seen = lambda: [e for e in rx.distinct_events() if e["data"].get("key") == k["key"]]
            self.restart_at(days_to(exp - 15 * 86400))
            time.sleep(1.5)
            self.assertEqual(seen(), [], "a notice before the notice days")
            self.restart_at(days_to(exp - 13 * 86400))
            self.assertTrue(wait_until(lambda: len(seen()) == 1, timeout=10))
            self.assertEqual(seen()[0]["type"], "key.renewal_due")
            self.assertEqual(seen()[0]["data"]["name"], "notice me")
            self.restart_at(days_to(exp - 12 * 86400))
            time.sleep(1.5)
            self.assertEqual(len(seen()), 1, "key.renewal_due raised twice")
            self.restart_at(days_to(exp + 86400))
            self.assertTrue(wait_until(lambda: len(seen()) == 2, timeout=10))
            self.assertEqual(seen()[1]["type"], "key.renewal_recommended")
            self.restart_at(days_to(exp + 100 * 86400))
            self.assertTrue(wait_until(lambda: len(seen()) == 3, timeout=10))
            self.assertEqual(seen()[2]["type"], "key.renewal_highly_recommended")
            self.restart_at(days_to(exp + 101 * 86400))
            time.sleep(1.5)
            self.assertEqual(len(seen()), 3, "a notice raised twice")
            listed = [d["event"] for d in self.call("GET", acct(self.A, "webhooks", hook, "deliveries")).data["items"]]
            self.assertEqual(listed.count("key.renewal_due") >= 1, True)
        finally:
            rx.close()
            self.restart_at(0)


if __name__ == "__main__":
    unittest.main()

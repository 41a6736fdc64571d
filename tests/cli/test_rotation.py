"""Rotation on autopilot from the command line: keys renew --old-token-ttl
(the deadline reaches the API as ends_at), settings of auto-delete and notice
days, and webhooks list/create/edit/delete/deliveries/test against a receiver
on loopback started by the test."""
import base64
import calendar
import hashlib
import hmac
import http.server
import json
import re
import threading
import time

from clitest import CliCase, TOKEN_RE

SECRET_RE = re.compile(r"whsec_[A-Za-z0-9+/=]+")
WEBHOOK_HEADERS = ["ID", "URL", "EVENTS", "ENABLED", "CREATED"]
DELIVERY_HEADERS = ["ID", "EVENT", "STATUS", "ATTEMPTS", "LAST_ATTEMPT", "RESPONSE", "NEXT_ATTEMPT"]


def parse_time(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


class Receiver:
    """A loopback HTTP receiver that records each POST (headers, body)."""

    def __init__(self):
        self.got = []
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.cond:
                    outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    outer.cond.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n, timeout=20):
        with self.cond:
            self.cond.wait_for(lambda: len(self.got) >= n, timeout)
            return list(self.got)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RenewTtlTest(CliCase):
    ACCOUNTS = ("ttl",)

    def test_old_token_ttl_sets_ends_at(self):
        k = self.create_key()
        before = int(time.time())
        p = self.ok("keys", "renew", k["key"], "--delete-old", "later", "--old-token-ttl", "24h")
        self.assertEqual(len(TOKEN_RE.findall(p.stdout)), 1, p.stdout)
        self.assertIn("keeps working as the old token until", p.stderr)
        status, key = self.server.http("GET", "/api/v1/accounts/ttl/keys/" + k["key"], account="ttl")
        self.assertEqual(status, 200)
        old = [t for t in key["tokens"] if t["slot"] == "old"]
        self.assertEqual(len(old), 1, key)
        ends = parse_time(old[0]["ends_at"])
        self.assertGreaterEqual(ends, before + 86400)
        self.assertLessEqual(ends, int(time.time()) + 86400)
        self.assertIn(old[0]["ends_at"], p.stderr)
        # keys show prints the deadline under ENDS; the old token still verifies.
        shown = self.ok("keys", "show", k["key"]).stdout
        self.assertIn("ENDS", shown)
        self.assertIn(old[0]["ends_at"], shown)
        self.assertEqual(self.verify(k["key"], k["token"]).returncode, 0)

    def test_units_and_default_later(self):
        for ttl, seconds in (("90m", 5400), ("7d", 7 * 86400), ("3600s", 3600)):
            with self.subTest(ttl=ttl):
                k = self.create_key()
                before = int(time.time())
                got = self.json_of("keys", "renew", k["key"], "--old-token-ttl", ttl)
                old = [t for t in got["tokens"] if t["slot"] == "old"]
                ends = parse_time(old[0]["ends_at"])
                self.assertGreaterEqual(ends, before + seconds)
                self.assertLessEqual(ends, int(time.time()) + seconds)

    def test_ttl_errors_are_usage_errors(self):
        k = self.create_key()
        cases = [
            (("--delete-old", "now", "--old-token-ttl", "24h"), "needs --delete-old later"),
            (("--old-token-ttl", "31d"), "beyond 30 days"),
            (("--old-token-ttl", "721h"), "beyond 30 days"),
            (("--old-token-ttl", "24"), "like 90m, 24h or 7d"),
            (("--old-token-ttl", "0h"), "like 90m, 24h or 7d"),
            (("--old-token-ttl", "-1h"), "like 90m, 24h or 7d"),
            (("--old-token-ttl", "1w"), "like 90m, 24h or 7d"),
        ]
        for args, text in cases:
            with self.subTest(args=args):
                p = self.fails(2, "keys", "renew", k["key"], *args)
                self.assertIn(text, p.stderr)
                self.assertEqual(TOKEN_RE.findall(p.stdout), [])
        # Nothing was renewed by the refused calls.
        status, key = self.server.http("GET", "/api/v1/accounts/ttl/keys/" + k["key"], account="ttl")
        self.assertEqual([t["slot"] for t in key["tokens"]], ["current"])
        # 30 days exactly is accepted.
        got = self.json_of("keys", "renew", k["key"], "--old-token-ttl", "30d")
        self.assertEqual(len(got["tokens"]), 2)


class SettingsRotationTest(CliCase):
    ACCOUNTS = ("rotset",)

    def test_auto_delete_and_notice_days(self):
        got = self.json_of("settings", "get")
        self.assertIsNone(got["auto_delete_old_token_hours"])
        self.assertEqual(got["renewal_notice_days"], 14)
        p = self.ok("settings", "get")
        self.assertRegex(p.stdout, r"Auto-delete old token: +off")
        self.assertRegex(p.stdout, r"Renewal notice: +14 days before")
        got = self.json_of("settings", "set", "--auto-delete-old-token-hours", "24", "--renewal-notice-days", "30")
        self.assertEqual((got["auto_delete_old_token_hours"], got["renewal_notice_days"]), (24, 30))
        status, api = self.server.http("GET", "/api/v1/accounts/rotset/settings", account="rotset")
        self.assertEqual((api["auto_delete_old_token_hours"], api["renewal_notice_days"]), (24, 30))
        p = self.ok("settings", "get")
        self.assertRegex(p.stdout, r"Auto-delete old token: +after 24 idle hours")
        self.assertRegex(p.stdout, r"Renewal notice: +30 days before")
        # Other settings keep their value; off clears auto-delete.
        got = self.json_of("settings", "set", "--auto-delete-old-token-hours", "off")
        self.assertIsNone(got["auto_delete_old_token_hours"])
        self.assertEqual(got["renewal_notice_days"], 30)
        got = self.json_of("settings", "set", "--renewal-notice-days", "0")
        self.assertEqual(got["renewal_notice_days"], 0)
        self.ok("settings", "set", "--renewal-notice-days", "14")

    def test_bad_values(self):
        for args in (("--auto-delete-old-token-hours", "0"), ("--auto-delete-old-token-hours", "721"),
                     ("--auto-delete-old-token-hours", "x"), ("--renewal-notice-days", "61"),
                     ("--renewal-notice-days", "-1")):
            with self.subTest(args=args):
                p = self.fails(2, "settings", "set", *args)
                self.assertIn(args[0], p.stderr)
        p = self.fails(2, "settings", "set")
        self.assertIn("--auto-delete-old-token-hours", p.stderr)


class WebhooksCliTest(CliCase):
    ACCOUNTS = ("hooks",)

    def setUp(self):
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)

    def test_create_list_edit_deliveries_delete(self):
        p = self.ok("webhooks", "create", self.receiver.url, "--events", "key.created,token.renewed",
                    "--event", "key.deleted")
        secrets = SECRET_RE.findall(p.stdout)
        self.assertEqual(len(secrets), 1, p.stdout)
        secret = secrets[0]
        self.assertIn("WARNING: store this signing secret now", p.stderr)
        wid = re.search(r"Created webhook (wh_[a-z2-7]+)\.", p.stdout).group(1)
        # The secret is never shown again.
        p = self.ok("webhooks", "list")
        self.assertNotIn(secret, p.stdout)
        rows = {r[0]: r for r in self.assertTable(p.stdout, WEBHOOK_HEADERS)}
        self.assertEqual(rows[wid][1], self.receiver.url)
        self.assertEqual(rows[wid][3], "yes")
        listed = self.json_of("webhooks", "list")
        status, api = self.server.http("GET", "/api/v1/accounts/hooks/webhooks", account="hooks")
        self.assertEqual(listed, {"items": api["items"]})
        hook = [w for w in listed["items"] if w["id"] == wid][0]
        self.assertEqual(hook["events"], ["key.created", "token.renewed", "key.deleted"])
        self.assertNotIn("secret", hook)

        # A subscribed event is delivered, signed with the secret printed once.
        k = self.create_key()
        got = self.receiver.wait(1)
        self.assertEqual(len(got), 1)
        headers, body = got[0]
        key = base64.b64decode(secret[len("whsec_"):])
        msg = ("%s.%s." % (headers["webhook-id"], headers["webhook-timestamp"])).encode() + body
        want = "v1," + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
        self.assertEqual(headers["webhook-signature"], want)
        event = json.loads(body)
        self.assertEqual((event["type"], event["data"]["key"]), ("key.created", k["key"]))

        # test: a webhook.test event, then the deliveries list shows both.
        p = self.ok("webhooks", "test", wid)
        test_id = re.search(r"Queued test event (\S+) ", p.stdout).group(1)
        got = self.receiver.wait(2)
        self.assertEqual(json.loads(got[1][1])["type"], "webhook.test")
        self.assertEqual(got[1][0]["webhook-id"], test_id)
        deadline = time.time() + 10
        while True:
            items = self.json_of("webhooks", "deliveries", wid)["items"]
            if all(d["status"] == "delivered" for d in items) or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual([d["event"] for d in items], ["webhook.test", "key.created"])
        self.assertEqual([d["status"] for d in items], ["delivered", "delivered"])
        self.assertEqual([d["response_code"] for d in items], [204, 204])
        p = self.ok("webhooks", "deliveries", wid)
        rows = self.assertTable(p.stdout, DELIVERY_HEADERS)
        self.assertEqual([(r[0], r[1], r[2], r[3], r[5]) for r in rows],
                         [(test_id, "webhook.test", "delivered", "1", "204"),
                          (headers["webhook-id"], "key.created", "delivered", "1", "204")])
        limited = self.json_of("webhooks", "deliveries", wid, "--limit", "1")
        self.assertEqual(len(limited["items"]), 1)
        self.assertIsNotNone(limited["next_cursor"])

        # edit: the URL and the events replaced, then disabled: no new deliveries.
        got = self.json_of("webhooks", "edit", wid, "--endpoint", self.receiver.url + "?v=2")
        self.assertEqual(got["url"], self.receiver.url + "?v=2")
        got = self.json_of("webhooks", "edit", wid, "--event", "key.deleted")
        self.assertEqual(got["events"], ["key.deleted"])
        p = self.ok("webhooks", "edit", wid, "--enabled", "false")
        self.assertIn("Updated webhook " + wid, p.stdout)
        self.assertEqual(self.json_of("webhooks", "list")["items"][0]["enabled"], False)
        self.ok("keys", "delete", k["key"], "--yes")
        time.sleep(1.5)
        self.assertEqual(len(self.receiver.got), 2)

        # delete: confirmation needed without a terminal.
        p = self.fails(2, "webhooks", "delete", wid)
        self.assertIn("--yes", p.stderr)
        p = self.ok("webhooks", "delete", wid, "--yes")
        self.assertIn("Deleted webhook " + wid, p.stdout)
        self.assertEqual(self.json_of("webhooks", "list")["items"], [])
        p = self.fails(1, "webhooks", "deliveries", wid)
        self.assertTrue(p.stderr.startswith("keystile: not_found: "), p.stderr)

    def test_json_create_and_usage_errors(self):
        got = self.json_of("webhooks", "create", self.receiver.url, "--events", "key.deleted")
        self.assertTrue(got["secret"].startswith("whsec_"))
        self.assertTrue(got["id"].startswith("wh_"))
        self.ok("webhooks", "delete", got["id"], "--yes")
        p = self.fails(2, "webhooks", "create", "--events", "key.deleted")
        self.assertIn("URL", p.stderr)
        p = self.fails(2, "webhooks", "create", self.receiver.url)
        self.assertIn("missing --events", p.stderr)
        p = self.fails(2, "webhooks", "create", self.receiver.url, "--events", "key.deleted,,x")
        self.assertIn("empty one", p.stderr)
        p = self.fails(1, "webhooks", "create", self.receiver.url, "--events", "no.such")
        self.assertTrue(p.stderr.startswith("keystile: invalid_request: "), p.stderr)
        p = self.fails(1, "webhooks", "create", "ftp://x", "--events", "key.deleted")
        self.assertIn("'url'", p.stderr)
        p = self.fails(2, "webhooks", "edit", "wh_x")
        self.assertIn("nothing to change", p.stderr)
        p = self.fails(2, "webhooks", "edit", "wh_x", "--enabled", "maybe")
        self.assertIn("--enabled", p.stderr)
        self.assertEqual(self.json_of("webhooks", "list")["items"], [])

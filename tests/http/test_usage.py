"""Usage per key (issue 19, API.md "Per-key limits and usage"): every verify
of a known key is counted by outcome per hour and per day; reads include
what was not written yet; counts are exact after a clean stop and restart;
the account's usage sums its keys and lists the top keys."""
import json
import time

from harness import API, KeystileCase, acct, request, uid, wait_until

OUTCOMES = ["valid", "invalid_token", "inactive", "expired", "forbidden", "address_not_allowed", "rate_limited"]


def verify_from(case, key, token, source="127.0.0.1", resource=None):
    path = API + "/verify" + ("?resource=" + resource if resource else "")
    return request(case.server.port, "GET", path, key=key, token=token, source=source)


class UsageTest(KeystileCase):
    def usage(self, key=None, query=""):
        path = acct(self.A, "keys", key, "usage") if key else acct(self.A, "usage")
        r = self.call("GET", path + query)
        self.assertStatus(r, 200)
        return r.data

    def totals(self, data):
        t = dict.fromkeys(OUTCOMES, 0)
        for item in data["items"]:
            self.assertEqual(set(item), {"at"} | set(OUTCOMES), item)
            for o in OUTCOMES:
                t[o] += item[o]
        return t

    def test_counts_by_outcome_survive_a_restart(self):
        r = self.call("POST", acct(self.A, "keys"), {"name": uid("u-"), "roles": [],
                                                     "allowed_cidrs": ["127.0.0.1", "127.0.0.2"],
                                                     "rate_limit": {"limit": 4, "period_seconds": 3600}})
        self.assertStatus(r, 201)
        key, token = r.data["key"], r.data["token"]
        wrong = self.create_key()["token"]
        other = self.create_key()
        want = dict.fromkeys(OUTCOMES, 0)
        for _ in range(3):
            self.assertEqual(verify_from(self, key, token).status, 200)
            want["valid"] += 1
        for _ in range(2):
            self.assertEqual(verify_from(self, key, wrong).status, 401)
            want["invalid_token"] += 1
        self.assertEqual(verify_from(self, key, token, resource="orders.read").status, 403)
        want["forbidden"] += 1
        self.assertEqual(verify_from(self, key, token, source="127.0.0.3").status, 403)
        want["address_not_allowed"] += 1
        self.assertEqual(verify_from(self, key, token, source="127.0.0.2").status, 200)
        want["valid"] += 1
        self.assertEqual(verify_from(self, key, token).status, 429)
        want["rate_limited"] += 1
        # unknown keys and malformed credentials are not counted anywhere
        verify_from(self, "kst-%s-aaaaaaaaaa" % self.A, token)
        for _ in range(5):
            self.assertEqual(verify_from(self, other["key"], other["token"]).status, 200)

        data = self.usage(key)
        self.assertEqual(data["granularity"], "hour")
        self.assertIn(len(data["items"]), (1, 2), data)  # this hour (or two at an hour's turn)
        self.assertEqual(self.totals(data), want)
        hour = data["items"][0]["at"]
        self.assertTrue(hour.endswith(":00:00Z"), hour)

        acc = self.usage()
        self.assertEqual(acc["granularity"], "hour")
        tops = {t["key"]: t for t in acc["top_keys"]}
        self.assertEqual(tops[key], {"key": key, "valid": 4, "refused": 5})
        self.assertEqual(tops[other["key"]]["valid"], 5)
        self.assertEqual(acc["top_keys"][0]["key"], key)  # 9 verifies before 5
        self.assertGreaterEqual(self.totals(acc)["valid"], 9)

        self.server.restart()  # a clean stop writes what was counted
        self.assertEqual(self.totals(self.usage(key)), want)
        self.assertEqual(verify_from(self, key, wrong).status, 401)
        want["invalid_token"] += 1
        self.assertEqual(self.totals(self.usage(key)), want)
        day = self.usage(key, "?granularity=day")
        self.assertEqual(day["granularity"], "day")
        self.assertEqual(self.totals(day), want)
        self.assertTrue(day["items"][-1]["at"].endswith("T00:00:00Z"))

    def test_range_and_errors(self):
        k = self.create_key()
        self.assertEqual(verify_from(self, k["key"], k["token"]).status, 200)
        self.assertEqual(self.usage(k["key"], "?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z")["items"], [])
        r = self.call("GET", acct(self.A, "keys", k["key"], "usage") + "?granularity=week")
        self.assertError(r, 400, "invalid_request", "granularity")
        r = self.call("GET", acct(self.A, "keys", k["key"], "usage") + "?from=yesterday")
        self.assertError(r, 400, "invalid_request", "from")
        r = self.call("GET", acct(self.A, "keys", "kst-%s-bbbbbbbbbb" % self.A, "usage"))
        self.assertError(r, 404, "not_found")
        # a key without view-api-keys cannot read usage
        key, token = self.cred_with([])
        r = self.call("GET", acct(self.A, "usage"), cred=(key, token))
        self.assertEqual(r.status, 403, r)


class DormantKeysTest(KeystileCase):
    """deactivate_unused_days with a moved clock (the sweeps run at start)."""

    def settings_put(self, body):
        return self.call("PUT", acct(self.A, "settings"), body)

    def test_setting_values(self):
        r = self.call("GET", acct(self.A, "settings"))
        self.assertIsNone(r.data["deactivate_unused_days"])
        for bad in (29, 731, "30", 30.5, True):
            with self.subTest(bad=bad):
                self.assertError(self.settings_put({"deactivate_unused_days": bad}), 400, "invalid_request",
                                 "deactivate_unused_days")
        for good in (30, 730, None):
            r = self.settings_put({"deactivate_unused_days": good})
            self.assertStatus(r, 200)
            self.assertEqual(r.data["deactivate_unused_days"], good)
            self.assertEqual(self.call("GET", acct(self.A, "settings")).data["deactivate_unused_days"], good)

    def test_unused_keys_are_deactivated_but_never_the_last_owner(self):
        self.assertStatus(self.settings_put({"deactivate_unused_days": 30}), 200)
        unused = self.create_key()
        used = self.create_key()
        self.assertEqual(verify_from(self, used["key"], used["token"]).status, 200)
        # 20 days on: nothing is due yet (no management call: the Owner key stays unused)
        self.server.restart(["--clock-offset-days", "20"])
        self.assertEqual(verify_from(self, unused["key"], unused["token"], resource="x.y").status, 403)  # not 200: no use
        self.assertEqual(verify_from(self, used["key"], used["token"]).status, 200)  # used on day 20
        # 40 days on: `unused` is 40 days unused, `used` 20, the Owner 40 but the last one
        self.server.restart(["--clock-offset-days", "40"])
        # The sweep at start runs beside the server. Wait for its log line before
        # any call: a call with the Owner key is a use of it, and once the sweep's
        # last-used flush has seen that use the Owner is no longer due at all.
        def kept_logged():
            with open(self.server.log_path, "rb") as f:
                return b"unused key kept" in f.read()
        self.assertTrue(wait_until(kept_logged, timeout=30),
                        "the sweep at start logged no kept Owner within 30 s: %s" % self.server.log_tail())
        owner = self.server.owner()[0]
        self.assertTrue(wait_until(lambda: any(e["action"] == "key.deactivate_skipped" and e["target"] == owner
                                               for e in self.audit()), timeout=30),
                        "no key.deactivate_skipped entry for the Owner key within 30 s: %r" % self.audit())
        self.assertEqual(self.get_key(unused["key"])["status"], "inactive")
        self.assertEqual(self.get_key(used["key"])["status"], "active")
        self.assertEqual(self.get_key(owner)["status"], "active")
        entries = self.audit()
        off = [e for e in entries if e["target"] == unused["key"] and e["action"] == "key.update"]
        self.assertEqual(len(off), 1, off)
        self.assertEqual(off[0]["actor"], "system")
        self.assertEqual(off[0]["via"], "system")
        kept = [e for e in entries if e["target"] == owner and e["action"] == "key.deactivate_skipped"]
        self.assertEqual(len(kept), 1, kept)
        self.assertIn("last_owner", json.dumps(kept[0]["detail"]))
        self.assertEqual(verify_from(self, unused["key"], unused["token"]).data.get("reason"), "inactive")
        # a later sweep of the same process does not audit the kept Owner again
        self.assertEqual(len([e for e in self.audit() if e["action"] == "key.deactivate_skipped"]), 1)


class LastUsedFromTest(KeystileCase):
    """Each token's last_used_from: the caller of its last successful verify, through
    trusted proxies as verify reads it; refusals leave it; a renewal keeps it with the
    token; it survives a clean restart (written with last_used_at)."""
    SERVER_ARGS = ("--trusted-proxy", "127.0.0.8")

    def tokens(self, key):
        return {t["slot"]: t for t in self.get_key(key)["tokens"]}

    def test_last_caller_per_token(self):
        k = self.create_key(roles=[self.create_role(["orders.read"])])
        self.assertIsNone(self.tokens(k["key"])["current"]["last_used_from"])
        self.assertEqual(verify_from(self, k["key"], k["token"], source="127.0.0.5").status, 200)
        self.assertEqual(self.tokens(k["key"])["current"]["last_used_from"], "127.0.0.5")  # at once, before a flush
        # A use is recorded once per second: wait for the next second before each change.
        time.sleep(1.1)
        r = request(self.server.port, "GET", API + "/verify", key=k["key"], token=k["token"], source="127.0.0.8",
                    headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.tokens(k["key"])["current"]["last_used_from"], "203.0.113.9")  # the trusted hop's client
        time.sleep(1.1)
        # a refusal (the key lacks the resource) is no use
        self.assertEqual(verify_from(self, k["key"], k["token"], source="127.0.0.6", resource="invoices.write").status,
                         403)
        self.assertEqual(self.tokens(k["key"])["current"]["last_used_from"], "203.0.113.9")
        # an untrusted peer's X-Forwarded-For is not believed
        r = request(self.server.port, "GET", API + "/verify", key=k["key"], token=k["token"], source="127.0.0.7",
                    headers={"X-Forwarded-For": "198.51.100.1"})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.tokens(k["key"])["current"]["last_used_from"], "127.0.0.7")
        # a renewal keeps the old token's caller; the new token has none until it is used
        new = self.renew(k["key"], "later")["token"]
        t = self.tokens(k["key"])
        self.assertEqual(t["old"]["last_used_from"], "127.0.0.7")
        self.assertIsNone(t["current"]["last_used_from"])
        time.sleep(1.1)
        self.assertEqual(verify_from(self, k["key"], new, source="127.0.0.4").status, 200)
        t = self.tokens(k["key"])
        self.assertEqual((t["current"]["last_used_from"], t["old"]["last_used_from"]), ("127.0.0.4", "127.0.0.7"))
        # the list shows the same; and a clean restart keeps both (written with last_used_at)
        listed = [i for i in self.call("GET", acct(self.A, "keys") + "?limit=500").data["items"] if i["key"] == k["key"]]
        self.assertEqual([x["last_used_from"] for x in listed[0]["tokens"]], ["127.0.0.4", "127.0.0.7"])
        self.server.restart()
        t = self.tokens(k["key"])
        self.assertEqual((t["current"]["last_used_from"], t["old"]["last_used_from"]), ("127.0.0.4", "127.0.0.7"))

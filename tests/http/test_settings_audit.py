"""Settings GET/PUT and the audit log."""
import unittest
import urllib.parse

from harness import (AUDIT_FIELDS, KeystileCase, OWNER, USER_ADMIN, acct, add_months,
                     parse_time, uid)

DEFAULTS = {"token_duration_months": 3, "enforce_duration": False, "auto_delete_old_token_hours": None,
            "renewal_notice_days": 14, "deactivate_unused_days": None, "leaked_token_action": "alert"}


class TestSettings(KeystileCase):
    ACCOUNTS = ("acme", "beta")

    def tearDown(self):
        # leave the account as found, whatever the test did
        self.call("PUT", acct(self.A, "settings"), dict(DEFAULTS))

    def settings(self, account=None):
        account = account or self.A
        r = self.call("GET", acct(account, "settings"), cred=self.server.owner(account))
        self.assertStatus(r, 200)
        return r.data

    def put(self, body):
        return self.call("PUT", acct(self.A, "settings"), body)

    def test_defaults(self):
        # beta is never changed by any test
        self.assertEqual(self.settings("beta"), DEFAULTS)

    def test_put_both(self):
        r = self.put({"token_duration_months": 6, "enforce_duration": True})
        self.assertStatus(r, 200)
        self.assertEqual(r.data, dict(DEFAULTS, token_duration_months=6, enforce_duration=True))
        self.assertEqual(self.settings(), r.data)
        r = self.put({"token_duration_months": 3, "enforce_duration": False})
        self.assertStatus(r, 200)
        self.assertEqual(r.data, DEFAULTS)
        self.assertEqual(self.settings(), DEFAULTS)

    def test_put_partial_keeps_other_field(self):
        self.assertStatus(self.put(dict(DEFAULTS)), 200)
        r = self.put({"token_duration_months": 6})
        self.assertStatus(r, 200)
        self.assertEqual(r.data, dict(DEFAULTS, token_duration_months=6, enforce_duration=False))
        r = self.put({"enforce_duration": True})
        self.assertStatus(r, 200)
        self.assertEqual(r.data, dict(DEFAULTS, token_duration_months=6, enforce_duration=True))
        r = self.put({"token_duration_months": 3})
        self.assertEqual(r.data, dict(DEFAULTS, token_duration_months=3, enforce_duration=True))
        self.assertEqual(self.settings(), dict(DEFAULTS, token_duration_months=3, enforce_duration=True))

    def test_settings_are_per_account(self):
        self.assertStatus(self.put({"token_duration_months": 6}), 200)
        self.assertEqual(self.settings("beta"), DEFAULTS)

    def test_bad_put_400(self):
        self.assertStatus(self.put(dict(DEFAULTS)), 200)
        cases = [({"token_duration_months": 4}, "token_duration_months"),
                 ({"token_duration_months": 0}, "token_duration_months"),
                 ({"token_duration_months": 12}, "token_duration_months"),
                 ({"token_duration_months": -3}, "token_duration_months"),
                 ({"token_duration_months": "3"}, "token_duration_months"),
                 ({"token_duration_months": 3.5}, "token_duration_months"),
                 ({"token_duration_months": None}, "token_duration_months"),
                 ({"enforce_duration": "true"}, "enforce_duration"),
                 ({"enforce_duration": 1}, "enforce_duration"),
                 ({"enforce_duration": None}, "enforce_duration"),
                 ({"token_duration_months": 6, "enforce_duration": "no"},
                  "enforce_duration"),
                 ({"token_duration_months": 6, "colour": 1}, "colour")]
        for body, field in cases:
            with self.subTest(body=body):
                self.assertError(self.put(body), 400, "invalid_request", field=field)
        # nothing was applied, not even the valid half of a bad request
        self.assertEqual(self.settings(), DEFAULTS)

    def test_expires_at_follows_duration(self):
        k = self.create_key()
        created = parse_time(k["tokens"][0]["created_at"])
        self.assertEqual(parse_time(k["tokens"][0]["expires_at"]), add_months(created, 3))
        self.assertStatus(self.put({"token_duration_months": 6}), 200)
        d = self.get_key(k["key"])
        self.assertEqual(parse_time(d["tokens"][0]["expires_at"]), add_months(created, 6))
        n = self.renew(k["key"])
        for t in n["tokens"]:
            self.assertEqual(parse_time(t["expires_at"]),
                             add_months(parse_time(t["created_at"]), 6))
        self.assertStatus(self.put({"token_duration_months": 3}), 200)
        d = self.get_key(k["key"])
        for t in d["tokens"]:
            self.assertEqual(parse_time(t["expires_at"]),
                             add_months(parse_time(t["created_at"]), 3))

    def test_enforce_with_fresh_tokens_changes_nothing(self):
        k = self.create_key()
        self.assertStatus(self.put({"enforce_duration": True}), 200)
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        self.assertStatus(self.call("GET", acct(self.A, "keys")), 200)
        self.assertIs(self.get_key(k["key"])["outdated"], False)


class TestAudit(KeystileCase):

    def entries_for(self, target, limit=500):
        items = self.audit(limit)
        return [i for i in items if i["target"] == target]

    def test_shape_and_order(self):
        self.create_key()
        r = self.call("GET", acct(self.A, "audit"))
        self.assertStatus(r, 200)
        self.assertIn("items", r.data)
        items = r.data["items"]
        self.assertTrue(items)
        for i in items:
            self.assertEqual(set(i), AUDIT_FIELDS, i)
            parse_time(i["at"])
            self.assertIsInstance(i["actor"], str)
            self.assertIsInstance(i["action"], str)
            self.assertIsInstance(i["target"], str)
            self.assertIsInstance(i["detail"], dict, i)
        times = [parse_time(i["at"]) for i in items]
        self.assertEqual(times, sorted(times, reverse=True))

    def test_key_lifecycle_actions(self):
        owner = self.server.key
        k = self.create_key(name=uid("audited "))["key"]
        self.patch_key(k, {"name": "audited renamed"})
        self.renew(k, "later")
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k, "old-token")), 200)
        self.renew(k, "later")
        self.assertStatus(self.call("POST", acct(self.A, "keys", k, "undo-renewal")), 200)
        self.renew(k, "now")
        self.patch_key(k, {"status": "inactive"})
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k)), 204)
        got = [i["action"] for i in self.entries_for(k)]
        expected = ["key.create", "key.update", "key.renew", "key.delete_old_token",
                    "key.renew", "key.undo_renewal", "key.renew", "key.update",
                    "key.delete"]
        self.assertEqual(got, list(reversed(expected)))
        for i in self.entries_for(k):
            self.assertEqual(i["actor"], owner, i)

    def test_refused_actions_not_audited(self):
        k = self.create_key()["key"]
        self.renew(k)
        self.assertError(self.call("POST", acct(self.A, "keys", k, "renew")), 409,
                         "old_token_exists")
        self.assertError(self.call("PATCH", acct(self.A, "keys", k), {}), 400,
                         "invalid_request")
        got = [i["action"] for i in self.entries_for(k)]
        self.assertEqual(got, ["key.renew", "key.create"])

    def test_role_and_settings_actions(self):
        name = self.create_role(["a"])
        self.assertStatus(self.call("PATCH", acct(self.A, "roles", name),
                                    {"resources": ["a", "b"]}), 200)
        self.assertStatus(self.call("DELETE", acct(self.A, "roles", name)), 204)
        got = [i["action"] for i in self.entries_for(name)]
        self.assertEqual(got, ["role.delete", "role.update", "role.create"])
        self.assertStatus(self.call("PUT", acct(self.A, "settings"),
                                    {"token_duration_months": 3}), 200)
        top = self.audit(1)[0]
        self.assertEqual(top["action"], "settings.update")
        self.assertEqual(top["target"], self.A)
        self.assertEqual(top["actor"], self.server.key)
        self.assertIsInstance(top["detail"], dict)

    def test_role_rename_audited(self):
        name = self.create_role(["a"])
        new = uid("renamed ")
        self.assertStatus(self.call("PATCH", acct(self.A, "roles", name), {"name": new}),
                          200)
        top = self.audit(1)[0]
        self.assertEqual(top["action"], "role.update")
        self.assertIn(top["target"], (name, new))

    def test_actor_is_caller(self):
        admin = self.create_key(roles=[USER_ADMIN])
        cred = (admin["key"], admin["token"])
        r = self.call("POST", acct(self.A, "keys"), {"name": uid()}, cred=cred)
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])
        entries = self.entries_for(r.data["key"])
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0]["actor"], admin["key"])
        self.assertEqual(entries[0]["action"], "key.create")

    def test_no_token_in_audit(self):
        k = self.create_key(roles=[OWNER])
        n = self.renew(k["key"], "later")
        self.assertStatus(self.call("POST", acct(self.A, "keys", k["key"],
                                                 "undo-renewal")), 200)
        r = self.call("GET", acct(self.A, "audit") + "?limit=500")
        self.assertStatus(r, 200)
        self.assertNotIn(b"kstt_", r.raw)
        for t in [k["token"], n["token"]] + [t for t in self.server.issued_tokens if t]:
            for i in range(0, len(t) - 19):
                self.assertNotIn(t[i:i + 20].encode(), r.raw)

    def test_limit(self):
        for _ in range(3):
            self.create_key()
        full = self.audit(500)
        one = self.audit(1)
        self.assertEqual(len(one), 1)
        self.assertEqual(one[0], full[0])
        three = self.audit(3)
        self.assertEqual(three, full[:3])
        for bad in ("0", "501", "abc", "-1", ""):
            with self.subTest(limit=bad):
                r = self.call("GET", acct(self.A, "audit") + "?limit=" +
                              urllib.parse.quote(bad))
                self.assertError(r, 400, "invalid_request", field="limit")

    def test_default_limit_50(self):
        for _ in range(51):
            self.create_key()
        r = self.call("GET", acct(self.A, "audit"))
        self.assertStatus(r, 200)
        self.assertEqual(len(r.data["items"]), 50)
        self.assertGreaterEqual(len(self.audit(500)), 51)


if __name__ == "__main__":
    unittest.main()

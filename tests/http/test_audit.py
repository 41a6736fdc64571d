"""The audit log: via and address on every entry, the events that change
nothing else (sign-in, login-token issue, share-link reveal, failed
management authentication), paging with limit/cursor and the actor= and
action= filters."""
import base64
import json
import unittest
import urllib.parse

from harness import API, AUDIT_FIELDS, KeystileCase, acct, make_token, uid


class AuditCase(KeystileCase):
    ACCOUNTS = ("acme", "beta")

    def page(self, account=None, cred=None, **params):
        path = acct(account or self.A, "audit")
        if params:
            path += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        kw = {} if cred is None else {"cred": cred}
        r = self.call("GET", path, **kw)
        self.assertStatus(r, 200, "audit page")
        self.assertEqual(set(r.data), {"items", "next_cursor"})
        return r.data

    def walk(self, account=None, **params):
        """Every entry matching params, following next_cursor; also the pages."""
        items, pages, cursor = [], 0, None
        for _ in range(10000):
            p = dict(params)
            if cursor is not None:
                p["cursor"] = cursor
            d = self.page(account, **p)
            pages += 1
            items.extend(d["items"])
            cursor = d["next_cursor"]
            if cursor is None:
                return items, pages
            self.assertIsInstance(cursor, str)
        self.fail("paging never ended")

    def newest(self, action, account=None):
        items = self.page(account, action=action, limit=1)["items"]
        self.assertEqual(len(items), 1, "no %s entry" % action)
        return items[0]


class TestAuditFields(AuditCase):

    def test_shape_and_new_fields(self):
        self.create_key()
        d = self.page()
        self.assertTrue(d["items"])
        for i in d["items"]:
            self.assertEqual(set(i), AUDIT_FIELDS, i)
            self.assertIn(i["via"], ("token", "session", "login", "oidc", "system"), i)
            self.assertTrue(i["address"] is None or isinstance(i["address"], str), i)

    def test_key_create_has_via_token_and_address(self):
        k = self.create_key(name=uid("via "))
        e = self.page(action="key.create", limit=1)["items"][0]
        self.assertEqual(e["target"], k["key"])
        self.assertEqual(e["actor"], self.server.key)
        self.assertEqual(e["via"], "token")
        self.assertEqual(e["address"], "127.0.0.1")

    def test_basic_auth_is_via_token(self):
        key, token = self.server.owner()
        name = uid("basic ")
        r = self.server.request("POST", acct(self.A, "keys"), {"name": name}, key=key,
                                token=token, basic=True)
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])
        e = self.newest("key.create")
        self.assertEqual(e["target"], r.data["key"])
        self.assertEqual(e["via"], "token")

    def test_account_create_by_cli_is_system_without_address(self):
        e = self.newest("account.create")
        self.assertEqual(e["actor"], "cli")
        self.assertEqual(e["via"], "system")
        self.assertIsNone(e["address"])

    def test_session_actions_are_via_session(self):
        key, token = self.server.owner()
        r = self.server.request("POST", API + "/session", key=key, token=token)
        self.assertStatus(r, 201)
        cookie = r.headers.get("Set-Cookie", "").split(";")[0]
        headers = {"Cookie": cookie, "X-CSRF-Token": r.data["csrf"]}
        name = uid("via session ")
        r = self.server.request("POST", acct(self.A, "keys"), {"name": name}, headers=headers)
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])
        e = self.newest("key.create")
        self.assertEqual(e["target"], r.data["key"])
        self.assertEqual(e["actor"], key)
        self.assertEqual(e["via"], "session")
        self.assertEqual(e["address"], "127.0.0.1")

    def test_bearer_actions_are_via_login(self):
        key, token = self.server.owner()
        r = self.server.request("POST", API + "/login", key=key, token=token)
        self.assertStatus(r, 200)
        headers = {"Authorization": "Bearer " + r.data["token"]}
        r = self.server.request("PUT", acct(self.A, "settings"), {"token_duration_months": 3},
                                headers=headers)
        self.assertStatus(r, 200)
        e = self.newest("settings.update")
        self.assertEqual(e["actor"], key)
        self.assertEqual(e["via"], "login")
        self.assertEqual(e["address"], "127.0.0.1")


class TestAuditEvents(AuditCase):

    def test_sign_in_audited(self):
        key, token = self.server.owner()
        self.assertStatus(self.server.request("POST", API + "/session", key=key, token=token), 201)
        e = self.newest("session.create")
        self.assertEqual(e["actor"], key)
        self.assertEqual(e["target"], key)
        self.assertEqual(e["via"], "token")
        self.assertEqual(e["address"], "127.0.0.1")
        self.assertEqual(e["detail"], {})

    def test_failed_sign_in_not_audited_as_session(self):
        before = self.page(action="session.create", limit=500)["items"]
        key, token = self.server.owner()
        bad = token[:-1] + ("y" if token.endswith("x") else "x")
        self.assertEqual(self.server.request("POST", API + "/session", key=key, token=bad).status, 401)
        self.assertEqual(self.page(action="session.create", limit=500)["items"], before)

    def test_login_issue_audited_without_token(self):
        key, token = self.server.owner()
        r = self.server.request("POST", API + "/login", key=key, token=token)
        self.assertStatus(r, 200)
        e = self.newest("login.issue")
        self.assertEqual(e["actor"], key)
        self.assertEqual(e["target"], key)
        self.assertEqual(e["via"], "token")
        self.assertEqual(e["address"], "127.0.0.1")
        raw = json.dumps(self.page(limit=500))
        self.assertNotIn(r.data["token"], raw)
        self.assertNotIn(token, raw)

    def test_share_reveal_audited(self):
        k = self.create_key(name=uid("shared "))
        path = urllib.parse.urlsplit(k["share_url"]).path
        self.assertStatus(self.server.request("POST", path + "/reveal"), 200)
        e = self.newest("share.reveal")
        self.assertEqual(e["actor"], "anonymous")
        self.assertEqual(e["target"], k["key"])
        self.assertEqual(e["via"], "system")
        self.assertEqual(e["address"], "127.0.0.1")
        # a second reveal fails (410) and is not audited again
        self.assertEqual(self.server.request("POST", path + "/reveal").status, 410)
        again = self.page(action="share.reveal", limit=500)["items"]
        self.assertEqual([i for i in again if i["target"] == k["key"]], [e])
        raw = json.dumps(self.page(limit=500))
        self.assertNotIn(k["token"], raw)
        self.assertNotIn(path.rsplit("/", 1)[-1], raw)  # nor the link id

    def failures(self, account=None):
        cred = self.server.owner(account) if account else None
        return self.page(account, cred=cred, action="auth.failed", limit=500)["items"]

    def test_wrong_token_audited(self):
        key, token = self.server.owner()
        bad = make_token()  # well-formed, never issued
        before = len(self.failures())
        r = self.server.request("GET", acct(self.A, "keys"), key=key, token=bad)
        self.assertEqual(r.status, 401)
        items = self.failures()
        self.assertEqual(len(items), before + 1)
        e = items[0]
        self.assertEqual(e["actor"], key)
        self.assertEqual(e["target"], self.A)
        self.assertEqual(e["via"], "token")
        self.assertEqual(e["address"], "127.0.0.1")
        self.assertEqual(e["detail"], {"reason": "invalid_token"})
        raw = json.dumps(items)
        self.assertNotIn(bad, raw)
        self.assertNotIn(token, raw)

    def test_unknown_and_malformed_keys_audited(self):
        _, token = self.server.owner()
        cases = [("kst-acme-aaaaaaaaaa", token, "kst-acme-aaaaaaaaaa", "unknown_key"),
                 ("not a key id", token, "unknown", "unknown_key"),
                 (self.server.key, "kstt_short", self.server.key, "malformed_token")]
        for key, tok, actor, reason in cases:
            with self.subTest(key=key):
                r = self.server.request("GET", acct(self.A, "settings"), key=key, token=tok)
                self.assertEqual(r.status, 401)
                e = self.failures()[0]
                self.assertEqual(e["actor"], actor)
                self.assertEqual(e["detail"], {"reason": reason})
                self.assertNotIn(tok, json.dumps(e))
                if actor == "unknown":
                    self.assertNotIn(key, json.dumps(e))

    def test_bad_basic_and_bearer_audited(self):
        before = len(self.failures())
        creds = base64.b64encode(b"kst-acme-bbbbbbbbbb:kstt_nope").decode()
        r = self.server.request("GET", acct(self.A, "keys"), headers={"Authorization": "Basic " + creds})
        self.assertEqual(r.status, 401)
        r = self.server.request("GET", acct(self.A, "keys"), headers={"Authorization": "Bearer e30.e30.sig"})
        self.assertEqual(r.status, 401)
        items = self.failures()
        self.assertEqual(len(items), before + 2)
        self.assertEqual(items[0]["via"], "login")
        self.assertEqual(items[0]["actor"], "unknown")
        self.assertEqual(items[0]["detail"], {"reason": "invalid_token"})
        self.assertEqual(items[1]["via"], "token")
        self.assertEqual(items[1]["actor"], "kst-acme-bbbbbbbbbb")
        self.assertNotIn("e30.e30.sig", json.dumps(items))

    def test_inactive_key_audited(self):
        k = self.create_key(roles=["Owner"])
        self.patch_key(k["key"], {"status": "inactive"})
        r = self.server.request("GET", acct(self.A, "keys"), key=k["key"], token=k["token"])
        self.assertEqual(r.status, 401)
        e = self.failures()[0]
        self.assertEqual(e["actor"], k["key"])
        self.assertEqual(e["detail"], {"reason": "inactive"})

    def test_ended_session_audited(self):
        key, token = self.server.owner()
        r = self.server.request("POST", API + "/session", key=key, token=token)
        self.assertStatus(r, 201)
        headers = {"Cookie": r.headers.get("Set-Cookie", "").split(";")[0], "X-CSRF-Token": r.data["csrf"]}
        self.assertEqual(self.server.request("DELETE", API + "/session", headers=headers).status, 204)
        before = len(self.failures())
        r = self.server.request("GET", acct(self.A, "settings"), headers=headers)
        self.assertEqual(r.status, 401)
        items = self.failures()
        self.assertEqual(len(items), before + 1)
        self.assertEqual(items[0]["via"], "session")
        self.assertEqual(items[0]["actor"], "unknown")
        self.assertEqual(items[0]["detail"], {"reason": "session_ended"})
        self.assertNotIn(headers["Cookie"].split("=", 1)[1], json.dumps(items))

    def test_no_credentials_not_audited(self):
        before = self.failures()
        self.assertEqual(self.server.request("GET", acct(self.A, "keys")).status, 401)
        self.assertEqual(self.failures(), before)

    def test_forbidden_is_not_an_authentication_failure(self):
        cred = self.cred_with(["orders.read"])
        before = self.failures()
        self.assertEqual(self.call("GET", acct(self.A, "keys"), cred=cred).status, 403)
        self.assertEqual(self.failures(), before)

    def test_failure_goes_to_the_path_account_only(self):
        key, token = self.server.owner()
        before_beta = len(self.failures("beta"))
        before_acme = len(self.failures())
        r = self.server.request("GET", acct("beta", "keys"), key=key, token=make_token())
        self.assertEqual(r.status, 401)
        self.assertEqual(len(self.failures("beta")), before_beta + 1)
        self.assertEqual(self.failures("beta")[0]["actor"], key)
        self.assertEqual(len(self.failures()), before_acme)
        # an account that does not exist gets nothing (and no error)
        r = self.server.request("GET", acct("ghost", "keys"), key=key, token=make_token())
        self.assertEqual(r.status, 401)


class TestAuditPaging(AuditCase):

    def test_pages_walk_every_entry_once(self):
        for _ in range(12):
            self.create_key()
        everything = self.page(limit=500)
        self.assertIsNone(everything["next_cursor"])
        full = everything["items"]
        self.assertGreaterEqual(len(full), 13)
        for size in (1, 5, 7):
            with self.subTest(limit=size):
                items, pages = self.walk(limit=size)
                self.assertEqual(items, full[:len(items)])
                self.assertEqual(len(items), len(full))
                self.assertEqual(pages, (len(full) + size - 1) // size)

    def test_cursor_continues_after_last_item(self):
        for _ in range(4):
            self.create_key()
        first = self.page(limit=2)
        self.assertEqual(len(first["items"]), 2)
        self.assertIsNotNone(first["next_cursor"])
        second = self.page(limit=2, cursor=first["next_cursor"])
        full = self.page(limit=4)["items"]
        self.assertEqual(first["items"] + second["items"], full)

    def test_filters(self):
        admin = self.create_key(roles=["Owner"])
        cred = (admin["key"], admin["token"])
        mine = []
        for _ in range(3):
            r = self.call("POST", acct(self.A, "keys"), {"name": uid()}, cred=cred)
            self.assertStatus(r, 201)
            self.server.issued_tokens.append(r.data["token"])
            mine.append(r.data["key"])
        self.assertStatus(self.call("PUT", acct(self.A, "settings"), {"token_duration_months": 3},
                                    cred=cred), 200)
        by_actor, _ = self.walk(actor=admin["key"], limit=2)
        self.assertEqual([i["action"] for i in by_actor],
                         ["settings.update", "key.create", "key.create", "key.create"])
        self.assertEqual([i["target"] for i in by_actor[1:]], list(reversed(mine)))
        self.assertTrue(all(i["actor"] == admin["key"] for i in by_actor))
        both, _ = self.walk(actor=admin["key"], action="key.create", limit=1)
        self.assertEqual([i["target"] for i in both], list(reversed(mine)))
        by_action, _ = self.walk(action="settings.update")
        self.assertTrue(by_action)
        self.assertTrue(all(i["action"] == "settings.update" for i in by_action))
        # exact match only; an empty value is no filter
        self.assertEqual(self.page(action="key.")["items"], [])
        self.assertEqual(self.page(actor=admin["key"].upper())["items"], [])
        self.assertEqual(self.page(action="", limit=3)["items"], self.page(limit=3)["items"])

    def test_bad_parameters_400(self):
        cases = [("limit", "0"), ("limit", "501"), ("limit", "x"), ("cursor", "abc"),
                 ("cursor", "-5"), ("cursor", "0"), ("cursor", "99999999999999999999"),
                 ("actor", "a" * 257), ("action", "b" * 257)]
        for name, value in cases:
            with self.subTest(**{name: value}):
                path = acct(self.A, "audit") + "?" + urllib.parse.urlencode({name: value})
                self.assertError(self.call("GET", path), 400, "invalid_request", field=name)

    def test_needs_view_audit_log(self):
        cred = self.cred_with(["view-api-keys"])
        r = self.call("GET", acct(self.A, "audit"), cred=cred)
        self.assertError(r, 403, "forbidden")
        cred = self.cred_with(["view-audit-log"])
        self.assertStatus(self.call("GET", acct(self.A, "audit") + "?limit=1", cred=cred), 200)


if __name__ == "__main__":
    unittest.main()

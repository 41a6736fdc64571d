"""Sessions and login tokens live no longer than their token (API.md).

A web session and a login token (JWT) made with a key's token are refused
right after that token stops verifying: renew `now`, undo renewal (made with
the newer token), delete old token (made with the old one), deactivate,
delete key, and `enforce_duration` expiry; a renewal that keeps the token
(`later`) does not end them. Checked through the management API (cookie and
Bearer) and, for JWTs, verify. The 12 h and 1 h session limits are checked
with an explicit clock in tests/unit/service/test_sessions.c; the same across nodes
in tests/pg/test_nodes.py.
"""
import json
import unittest

from harness import API, KeystileCase, acct
from test_login_share import b64url_decode


class BoundCase(KeystileCase):
    """Helpers: a session and a login token made with one token of a key."""

    def owner_key(self):
        k = self.create_key(roles=["Owner"])
        return k, (k["key"], k["token"])

    def make_both(self, cred):
        r = self.server.request("POST", API + "/session", key=cred[0], token=cred[1])
        self.assertStatus(r, 201)
        session = {"Cookie": r.headers["Set-Cookie"].split(";")[0], "X-CSRF-Token": r.data["csrf"]}
        r = self.server.request("POST", API + "/login", key=cred[0], token=cred[1])
        self.assertStatus(r, 200)
        bearer = {"Authorization": "Bearer " + r.data["token"]}
        self.assertWorks(session, bearer)
        return session, bearer

    def settings(self, headers):
        return self.server.request("GET", acct(self.A, "settings"), headers=headers)

    def assertWorks(self, session, bearer, slot=None):
        self.assertStatus(self.settings(session), 200)
        self.assertStatus(self.server.request("GET", API + "/session", headers={"Cookie": session["Cookie"]}), 200)
        self.assertStatus(self.settings(bearer), 200)
        r = self.server.request("GET", API + "/verify", headers=bearer)
        self.assertStatus(r, 200)
        if slot:
            self.assertEqual(r.data["token"], slot, r)

    def assertRefused(self, session, bearer, reason="invalid_token", code="unauthenticated"):
        self.assertError(self.settings(session), 401, code)
        self.assertError(self.server.request("GET", API + "/session", headers={"Cookie": session["Cookie"]}),
                         401, code)
        self.assertError(self.settings(bearer), 401, code)
        r = self.server.request("GET", API + "/verify", headers=bearer)
        self.assertVerifyFail(r, 401, reason)


class TestSessionsEndWithTheirToken(BoundCase):

    def test_renew_now(self):
        k, cred = self.owner_key()
        session, bearer = self.make_both(cred)
        d = self.renew(k["key"], "now")
        self.assertRefused(session, bearer)
        self.assertWorks(*self.make_both((k["key"], d["token"])))

    def test_renew_later_keeps_them(self):
        k, cred = self.owner_key()
        session, bearer = self.make_both(cred)
        self.renew(k["key"], "later")
        self.assertWorks(session, bearer, slot="old")

    def test_delete_old_token(self):
        k, cred = self.owner_key()
        before = self.make_both(cred)
        d = self.renew(k["key"], "later")
        after = self.make_both(cred)  # made with the old token during the overlap
        newer = self.make_both((k["key"], d["token"]))
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"], "old-token")), 200)
        self.assertRefused(*before)
        self.assertRefused(*after)
        self.assertWorks(*newer, slot="current")

    def test_undo_renewal(self):
        k, cred = self.owner_key()
        with_old = self.make_both(cred)
        d = self.renew(k["key"], "later")
        with_newer = self.make_both((k["key"], d["token"]))
        self.assertStatus(self.call("POST", acct(self.A, "keys", k["key"], "undo-renewal")), 200)
        self.assertRefused(*with_newer)
        self.assertWorks(*with_old, slot="current")

    def test_deactivate_and_delete_key(self):
        k, cred = self.owner_key()
        session, bearer = self.make_both(cred)
        self.patch_key(k["key"], {"status": "inactive"})
        self.assertRefused(session, bearer, reason="inactive")
        self.patch_key(k["key"], {"status": "active"})
        self.assertWorks(session, bearer)  # the token verifies again, and so do they
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"])), 204)
        self.assertRefused(session, bearer, reason="unknown_key")

    def test_login_token_holds_no_token_or_hash(self):
        k, cred = self.owner_key()
        _, bearer = self.make_both(cred)
        jwt = bearer["Authorization"][7:]
        claims = json.loads(b64url_decode(jwt.split(".")[1]))
        self.assertEqual(len(claims["tfp"]), 22)
        text = json.dumps(claims)
        self.assertNotIn(k["token"], text)
        self.assertNotIn(k["token"][5:], text)

    def test_session_cookie_lasts_12_hours_at_most(self):
        _, cred = self.owner_key()
        r = self.server.request("POST", API + "/session", key=cred[0], token=cred[1])
        self.assertStatus(r, 201)
        self.assertIn("Max-Age=43200", r.headers["Set-Cookie"])


class TestEnforcedDurationEndsThem(BoundCase):
    """Its own server: it moves the clock past the key's duration."""

    def test_enforce_duration(self):
        k, cred = self.owner_key()
        self.server.restart(["--clock-offset-days", "100"])
        try:
            # outdated, not enforced: still verifies, so sign-in and login work
            session, bearer = self.make_both(cred)
            r = self.call("PUT", acct(self.A, "settings"), {"enforce_duration": True})
            self.assertStatus(r, 200)
            self.assertRefused(session, bearer, reason="expired", code="expired")
        finally:
            self.server.restart([])


if __name__ == "__main__":
    unittest.main()

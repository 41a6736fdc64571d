"""Sessions and login tokens end with their token on every node (run by tests/pg/run.py).

A web session and a login token are made on node A with one token of a key;
then the action that ends that token (renew now, undo renewal, delete old
token, deactivate, delete key, enforce_duration) is taken on A, and node B
must refuse both, through the management API and (the JWT) verify, within
REFUSED_WITHIN of the action's answer: polled with a deadline, no fixed
sleep. Node B knows them from the shared database (sessions) and its index
follows A's writes through the change feed (the token check).
"""
import unittest

from harness import API, acct
from test_nodes import NodesCase, until, verify

REFUSED_WITHIN = 2.0  # seconds
DEADLINE = 5.0


class BoundNodesCase(NodesCase):

    ACCOUNTS = ("acme",)

    def owner_key(self):
        k = self.create_key(roles=["Owner"])
        cred = (k["key"], k["token"])
        self.assert_accepted_on_b(cred)
        return k, cred

    def make_both(self, cred):
        """A session and a login token made on A with cred; both work on B."""
        r = self.server.request("POST", API + "/session", key=cred[0], token=cred[1])
        self.assertStatus(r, 201)
        session = {"Cookie": r.headers["Set-Cookie"].split(";")[0], "X-CSRF-Token": r.data["csrf"]}
        r = self.server.request("POST", API + "/login", key=cred[0], token=cred[1])
        self.assertStatus(r, 200)
        bearer = {"Authorization": "Bearer " + r.data["token"]}
        ok, _ = until(lambda: self.works_on_b(session, bearer), DEADLINE)
        self.assertTrue(ok, "node B does not accept the session and login token made on A")
        return session, bearer

    def settings_on_b(self, headers):
        return self.b.request("GET", acct(self.A, "settings"), headers=headers)

    def works_on_b(self, session, bearer):
        return (self.settings_on_b(session).status == 200 and self.settings_on_b(bearer).status == 200
                and self.b.request("GET", API + "/verify", headers=bearer).status == 200)

    def refused_on_b(self, session, bearer, reason):
        if self.settings_on_b(session).status != 401 or self.settings_on_b(bearer).status != 401:
            return False
        r = self.b.request("GET", API + "/verify", headers=bearer)
        return r.status == 401 and r.data.get("reason") == reason

    def assert_bound_refused_on_b(self, session, bearer, reason="invalid_token"):
        ok, took = until(lambda: self.refused_on_b(session, bearer, reason), DEADLINE)
        self.assertTrue(ok, "node B still accepts after %.0f s: session %r, verify %r" % (
            DEADLINE, self.settings_on_b(session), self.b.request("GET", API + "/verify", headers=bearer)))
        self.assertLess(took, REFUSED_WITHIN, "node B took %.3f s" % took)


class TestBoundOnOtherNode(BoundNodesCase):

    def test_renew_now(self):
        k, cred = self.owner_key()
        session, bearer = self.make_both(cred)
        self.renew(k["key"], "now")
        self.assert_bound_refused_on_b(session, bearer)

    def test_delete_old_token(self):
        k, cred = self.owner_key()
        session, bearer = self.make_both(cred)
        self.renew(k["key"], "later")
        self.assertTrue(self.works_on_b(session, bearer))  # the old token still verifies
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"], "old-token")), 200)
        self.assert_bound_refused_on_b(session, bearer)

    def test_undo_renewal(self):
        k, cred = self.owner_key()
        d = self.renew(k["key"], "later")
        self.assert_accepted_on_b((k["key"], d["token"]))
        session, bearer = self.make_both((k["key"], d["token"]))
        self.assertStatus(self.call("POST", acct(self.A, "keys", k["key"], "undo-renewal")), 200)
        self.assert_bound_refused_on_b(session, bearer)

    def test_deactivate(self):
        k, cred = self.owner_key()
        session, bearer = self.make_both(cred)
        self.patch_key(k["key"], {"status": "inactive"})
        self.assert_bound_refused_on_b(session, bearer, reason="inactive")

    def test_delete_key(self):
        k, cred = self.owner_key()
        session, bearer = self.make_both(cred)
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"])), 204)
        self.assert_bound_refused_on_b(session, bearer, reason="unknown_key")


class TestEnforcedDurationOnOtherNode(BoundNodesCase):
    """Both nodes on a clock 100 days ahead: the key made before is outdated."""

    def test_enforce_duration(self):
        k = self.create_key(roles=["Owner"])
        cred = (k["key"], k["token"])
        self.server.restart(["--clock-offset-days", "100"])
        self.b.restart(["--clock-offset-days", "100"])
        try:
            self.assert_accepted_on_b(cred)  # outdated, not enforced: still verifies
            session, bearer = self.make_both(cred)
            self.assertStatus(self.call("PUT", acct(self.A, "settings"), {"enforce_duration": True}), 200)
            ok, took = until(lambda: self.settings_on_b(session).status == 401 and
                             self.b.request("GET", API + "/verify", headers=bearer).data.get("reason") == "expired",
                             DEADLINE)
            self.assertTrue(ok, "node B still accepts: %r" % (self.settings_on_b(session),))
            self.assertLess(took, REFUSED_WITHIN, "node B took %.3f s" % took)
            self.assertEqual(self.settings_on_b(bearer).data["error"]["code"], "expired")
        finally:
            self.b.restart([])
            self.server.restart([])


if __name__ == "__main__":
    unittest.main()

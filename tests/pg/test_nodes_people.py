"""People across nodes (run by tests/pg/run.py): a person signed in on node B
loses that session at once when node A deactivates or removes it, or when
its password changes on A: the sessions are rows of the shared database,
deleted in the same transaction as the change, so B's very next request is
401 (no waiting for the change feed).
"""
from harness import API, acct, uid
from test_nodes import NodesCase

PASSWORD = "a long enough password"


class TestPersonSessionsAcrossNodes(NodesCase):

    def person_on_b(self, roles=("User Administrator - RESTRICTED",)):
        """A person invited and set up on A, signed in on B: (email, headers for B)."""
        r = self.call("POST", acct(self.A, "users"), {"email": uid("p") + "@example.com", "roles": list(roles)})
        self.assertStatus(r, 201)
        email, inv = r.data["email"], r.data["invite_url"].rsplit("/", 1)[1]
        self.assertStatus(self.server.request("POST", API + "/invites/%s/accept" % inv,
                                              body={"password": PASSWORD}), 200)
        r = self.b.request("POST", API + "/session", body={"email": email, "password": PASSWORD})
        self.assertStatus(r, 201, "sign in on B")
        hdrs = {"Cookie": r.headers["Set-Cookie"].split(";")[0], "X-CSRF-Token": r.data["csrf"]}
        me = self.b.request("GET", API + "/me", headers=hdrs)
        self.assertStatus(me, 200)
        self.assertEqual((me.data["type"], me.data["email"]), ("user", email))
        self.assertStatus(self.b.request("GET", acct(self.A, "keys"), headers=hdrs), 200)
        # ... and the session works on A too: one table for every node.
        self.assertStatus(self.server.request("GET", API + "/me", headers=hdrs), 200)
        return email, hdrs

    def assert_ended_on_b(self, hdrs):
        self.assertError(self.b.request("GET", API + "/me", headers=hdrs), 401, "unauthenticated")
        self.assertError(self.b.request("GET", acct(self.A, "keys"), headers=hdrs), 401, "unauthenticated")
        self.assertError(self.server.request("GET", API + "/me", headers=hdrs), 401, "unauthenticated")

    def test_deactivate_on_a_ends_session_on_b_at_once(self):
        email, hdrs = self.person_on_b()
        self.assertStatus(self.call("PATCH", acct(self.A, "users", email), {"status": "inactive"}), 200)
        self.assert_ended_on_b(hdrs)  # the very next request, no polling
        # Active again: the old session stays ended, a new sign-in on B works.
        self.assertStatus(self.call("PATCH", acct(self.A, "users", email), {"status": "active"}), 200)
        self.assertError(self.b.request("GET", API + "/me", headers=hdrs), 401, "unauthenticated")
        self.assertStatus(self.b.request("POST", API + "/session", body={"email": email, "password": PASSWORD}),
                          201)

    def test_remove_on_a_ends_session_on_b_at_once(self):
        email, hdrs = self.person_on_b()
        self.assertStatus(self.call("DELETE", acct(self.A, "users", email)), 204)
        self.assert_ended_on_b(hdrs)
        # No membership left: the password signs in nowhere.
        self.assertError(self.b.request("POST", API + "/session", body={"email": email, "password": PASSWORD}),
                         401, "unauthenticated")

    def test_password_change_on_a_ends_other_session_on_b(self):
        email, on_b = self.person_on_b()
        r = self.server.request("POST", API + "/session", body={"email": email, "password": PASSWORD})
        self.assertStatus(r, 201)
        on_a = {"Cookie": r.headers["Set-Cookie"].split(";")[0], "X-CSRF-Token": r.data["csrf"]}
        new = PASSWORD + " changed"
        self.assertStatus(self.server.request("POST", API + "/me/password", headers=on_a,
                                              body={"current": PASSWORD, "new": new}), 204)
        self.assert_ended_on_b(on_b)
        self.assertStatus(self.server.request("GET", API + "/me", headers=on_a), 200)  # the changing one stays
        self.assertStatus(self.b.request("POST", API + "/session", body={"email": email, "password": new}), 201)

    def test_lockout_shared_by_nodes(self):
        email, _ = self.person_on_b()
        for i in range(5):
            node = self.server if i % 2 == 0 else self.b
            self.assertError(node.request("POST", API + "/session", body={"email": email, "password": "wrong password!"}),
                             401, "unauthenticated")
        for node in (self.server, self.b):
            r = node.request("POST", API + "/session", body={"email": email, "password": PASSWORD})
            self.assertError(r, 429, "rate_limited")
            self.assertGreater(int(r.headers["Retry-After"]), 0)

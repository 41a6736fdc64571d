"""Several keystile nodes on one PostgreSQL database (run by tests/pg/run.py).

Node A and node B share a database and a secret file. What one node writes,
the other enforces within a second (its change feed); sessions, login tokens,
share links and last use work across nodes; a node started later sees
everything; nodes starting together migrate once. Times are measured from
the write's response on A to the first refusal on B.
"""
import os
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness
from harness import API, KeystileCase, acct, uid

ENFORCE_WITHIN = 1.0  # seconds: the promise


def node_like(first, extra_args=()):
    """Another node (not started) on the database and secret file of `first`."""
    n = object.__new__(harness.Server)
    n.dir = tempfile.mkdtemp(prefix="keystile-node-")
    n.db, n.secret_file, n.pg_db = first.db, first.secret_file, first.pg_db
    n.log_path = os.path.join(n.dir, "server.log")
    n.port = n.proc = n._log = None
    n.args = list(extra_args)
    n.accounts = first.accounts
    n.issued_tokens = first.issued_tokens
    return n


def verify(server, key, token, account=None, resource=None, headers=None):
    params = {}
    if account:
        params["account"] = account
    if resource:
        params["resource"] = resource
    path = API + "/verify" + ("?" + urllib.parse.urlencode(params) if params else "")
    return server.request("GET", path, key=key, token=token, headers=headers)


def until(fn, timeout):
    """Polls fn until true; (value, seconds it took)."""
    t0 = time.time()
    while True:
        v = fn()
        if v or time.time() - t0 >= timeout:
            return v, time.time() - t0
        time.sleep(0.005)


class NodesCase(KeystileCase):
    """Node A (self.server) and node B (self.b) on one database."""

    ACCOUNTS = ("acme", "beta")
    B_ARGS = ()  # extra `keystile serve` flags of node B

    @classmethod
    def setUpClass(cls):
        if not harness.PG_URL:
            raise unittest.SkipTest("needs KEYSTILE_TEST_DB_URL (tests/pg/run.py)")
        super().setUpClass()
        cls.b = node_like(cls.server, cls.B_ARGS)
        try:
            cls.b.start()
        except BaseException:
            cls.b.cleanup()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        b = getattr(cls, "b", None)
        reports = ""
        if b is not None:
            b.stop()
            reports = b.sanitizer_reports()
            b.pg_db = None  # A's cleanup drops the database
            b.cleanup()
        super().tearDownClass()
        if reports:
            raise AssertionError("sanitizer report in node B's log:\n" + reports)

    def on_b(self, method, path, body=None, cred=None):
        key, token = cred or self.server.owner()
        return self.b.request(method, path, body=body, key=key, token=token)

    def assert_refused_on_b(self, cred, status, reason, **kw):
        """Waits for B to refuse cred (at most 3 s) and checks it took under 1 s."""
        r, took = until(lambda: verify(self.b, *cred, **kw).status == status and
                        verify(self.b, *cred, **kw), 3.0)
        self.assertTrue(r, "node B still accepts after 3 s: %r" % (verify(self.b, *cred, **kw),))
        self.assertEqual(r.data.get("reason"), reason, r)
        self.assertLess(took, ENFORCE_WITHIN, "node B took %.3f s" % took)
        return took

    def assert_accepted_on_b(self, cred, **kw):
        r, took = until(lambda: verify(self.b, *cred, **kw).status == 200, 3.0)
        self.assertTrue(r, "node B does not accept: %r" % (verify(self.b, *cred, **kw),))
        self.assertLess(took, ENFORCE_WITHIN, "node B took %.3f s" % took)


class TestRevocationReachesOtherNode(NodesCase):

    def new_key(self, roles=None):
        k = self.create_key(roles=roles)
        cred = (k["key"], k["token"])
        self.assert_accepted_on_b(cred)
        return k, cred

    def test_delete_key(self):
        k, cred = self.new_key()
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"])), 204)
        self.assert_refused_on_b(cred, 401, "unknown_key")

    def test_deactivate_and_activate(self):
        k, cred = self.new_key()
        self.patch_key(k["key"], {"status": "inactive"})
        self.assert_refused_on_b(cred, 401, "inactive")
        self.patch_key(k["key"], {"status": "active"})
        self.assert_accepted_on_b(cred)

    def test_renew_now_undo_and_delete_old(self):
        k, cred = self.new_key()
        d = self.renew(k["key"], delete_old="now")
        self.assert_refused_on_b(cred, 401, "invalid_token")
        self.assert_accepted_on_b((k["key"], d["token"]))
        # later: both verify; delete-old-token ends the old one everywhere
        d2 = self.renew(k["key"], delete_old="later")
        self.assert_accepted_on_b((k["key"], d2["token"]))
        self.assertEqual(verify(self.b, k["key"], d["token"]).data.get("token"), "old")
        r = self.call("DELETE", acct(self.A, "keys", k["key"], "old-token"))
        self.assertStatus(r, 200)
        self.assert_refused_on_b((k["key"], d["token"]), 401, "invalid_token")
        # undo renewal: the newer token stops at once everywhere
        d3 = self.renew(k["key"], delete_old="later")
        self.assert_accepted_on_b((k["key"], d3["token"]))
        self.assertStatus(self.call("POST", acct(self.A, "keys", k["key"], "undo-renewal")), 200)
        self.assert_refused_on_b((k["key"], d3["token"]), 401, "invalid_token")
        self.assert_accepted_on_b((k["key"], d2["token"]))

    def test_role_change(self):
        role = self.create_role(["orders.read"])
        k, cred = self.new_key(roles=[role])
        self.assert_accepted_on_b(cred, resource="orders.read")
        r = self.call("PATCH", acct(self.A, "roles", role), {"resources": ["orders.write"]})
        self.assertStatus(r, 200)
        self.assert_refused_on_b(cred, 403, "forbidden", resource="orders.read")
        self.assert_accepted_on_b(cred, resource="orders.write")
        # a rename moves the role on the key: still granted under the new name
        r = self.call("PATCH", acct(self.A, "roles", role), {"name": role + " renamed"})
        self.assertStatus(r, 200)
        renamed, took = until(lambda: verify(self.b, *cred).data.get("roles") == [role + " renamed"], 3)
        self.assertTrue(renamed, verify(self.b, *cred))
        self.assertLess(took, ENFORCE_WITHIN)
        self.assert_accepted_on_b(cred, resource="orders.write")
        # the role taken off the key
        self.patch_key(k["key"], {"roles": []})
        self.assert_refused_on_b(cred, 403, "forbidden", resource="orders.write")

    def test_grant_removal(self):
        other = self.server.owner("beta")
        r = self.call("POST", acct("beta", "keys"), {"name": "partner", "roles": []}, cred=other)
        self.assertStatus(r, 201)
        cred = (r.data["key"], r.data["token"])
        self.server.issued_tokens.append(cred[1])
        role = self.create_role(["reports.read"])
        r = self.call("POST", acct(self.A, "external-keys"), {"key": cred[0], "roles": [role]})
        self.assertStatus(r, 201)
        self.assert_accepted_on_b(cred, account=self.A, resource="reports.read")
        r = self.call("PATCH", acct(self.A, "external-keys", cred[0]), {"status": "inactive"})
        self.assertStatus(r, 200)
        self.assert_refused_on_b(cred, 403, "forbidden", account=self.A)
        r = self.call("PATCH", acct(self.A, "external-keys", cred[0]), {"status": "active"})
        self.assertStatus(r, 200)
        self.assert_accepted_on_b(cred, account=self.A, resource="reports.read")
        self.assertStatus(self.call("DELETE", acct(self.A, "external-keys", cred[0])), 204)
        self.assert_refused_on_b(cred, 403, "forbidden", account=self.A)

    def test_settings_enforce_duration(self):
        # Without a moved clock nothing is outdated: the settings still reach B.
        r = self.call("PUT", acct(self.A, "settings"), {"token_duration_months": 6, "enforce_duration": True})
        self.assertStatus(r, 200)
        r, _ = until(lambda: self.on_b("GET", acct(self.A, "settings")).data.get("token_duration_months") == 6, 2)
        self.assertTrue(r)

    def test_write_on_b_reaches_a(self):
        r = self.on_b("POST", acct(self.A, "keys"), {"name": "from b"})
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])
        cred = (r.data["key"], r.data["token"])
        ok, took = until(lambda: verify(self.server, *cred).status == 200, 3)
        self.assertTrue(ok)
        self.assertLess(took, ENFORCE_WITHIN)
        # and B's management API sees A's keys (one store)
        self.assertStatus(self.on_b("GET", acct(self.A, "keys", cred[0])), 200)


class TestSharedState(NodesCase):

    def test_session_across_nodes(self):
        k = self.create_key(roles=["Owner"])
        self.assert_accepted_on_b((k["key"], k["token"]))
        r = self.server.request("POST", API + "/session", key=k["key"], token=k["token"])
        self.assertStatus(r, 201)
        cookie = r.headers["Set-Cookie"].split(";")[0]
        hdrs = {"Cookie": cookie, "X-CSRF-Token": r.data["csrf"]}
        self.assertStatus(self.b.request("GET", acct(self.A, "settings"), headers=hdrs), 200)
        # the key deactivated on A: its session dies on B too
        self.patch_key(k["key"], {"status": "inactive"})
        r, took = until(lambda: self.b.request("GET", acct(self.A, "settings"), headers=hdrs).status == 401, 3)
        self.assertTrue(r)
        self.assertLess(took, ENFORCE_WITHIN)
        # sign-out on B ends it on A
        self.patch_key(k["key"], {"status": "active"})
        self.assert_accepted_on_b((k["key"], k["token"]))
        self.assertStatus(self.b.request("DELETE", API + "/session", headers=hdrs), 204)
        self.assertError(self.server.request("GET", API + "/session", headers={"Cookie": cookie}),
                         401, "unauthenticated")

    def test_login_token_across_nodes(self):
        key, token = self.server.owner()
        r = self.server.request("POST", API + "/login", key=key, token=token)
        self.assertStatus(r, 200)
        bearer = {"Authorization": "Bearer " + r.data["token"]}
        self.assertStatus(self.b.request("GET", API + "/verify", headers=bearer), 200)
        self.assertStatus(self.b.request("GET", acct(self.A, "settings"), headers=bearer), 200)

    def test_share_link_once_across_nodes(self):
        k = self.create_key()
        path = urllib.parse.urlsplit(k["share_url"]).path
        r = self.b.request("POST", path + "/reveal")
        self.assertStatus(r, 200)
        self.assertEqual(r.data["token"], k["token"])
        self.assertError(self.server.request("POST", path + "/reveal"), 410, "gone")

    def test_last_used_across_nodes(self):
        k = self.create_key()
        self.assertStatus(verify(self.server, k["key"], k["token"]), 200)
        # A flushes last use every 2 s; B reads it from the database.
        r, _ = until(lambda: self.on_b("GET", acct(self.A, "keys", k["key"])).data["tokens"][0]["last_used_at"], 6)
        self.assertTrue(r, "last_used_at of a verify on A never showed on B")

    def test_account_created_offline_reaches_running_nodes(self):
        name = uid("acct")
        info = self.server.add_account(name)
        cred = (info["key"], info["token"])
        for node in (self.server, self.b):
            ok, took = until(lambda: verify(node, *cred).status == 200, 3)
            self.assertTrue(ok)
            self.assertLess(took, ENFORCE_WITHIN)

    def test_no_plaintext_tokens_in_database(self):
        self.create_key()
        self.renew(self.create_key()["key"])
        dump = subprocess.run([os.path.join(harness.PG_BIN, "pg_dump"), "--data-only", self.server.db],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        text = dump.stdout.decode("utf-8", "replace")
        self.assertIn("acme", text)
        tokens = [t for t in self.server.issued_tokens if t]
        self.assertTrue(tokens)
        for t in tokens:
            self.assertNotIn(t, text)
            self.assertNotIn(t[5:], text)


class TestLateNode(KeystileCase):
    """A node started after the writes sees all of them; one that was down catches up."""

    ACCOUNTS = ("acme",)

    @classmethod
    def setUpClass(cls):
        if not harness.PG_URL:
            raise unittest.SkipTest("needs KEYSTILE_TEST_DB_URL (tests/pg/run.py)")
        super().setUpClass()

    def test_started_later_and_restarted(self):
        keep = self.create_key()
        gone = self.create_key()
        off = self.create_key()
        renewed = self.create_key()
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", gone["key"])), 204)
        self.patch_key(off["key"], {"status": "inactive"})
        new = self.renew(renewed["key"], delete_old="now")
        c = node_like(self.server)
        try:
            c.start()
            expect = [((keep["key"], keep["token"]), 200), ((gone["key"], gone["token"]), 401),
                      ((off["key"], off["token"]), 401), ((renewed["key"], renewed["token"]), 401),
                      ((renewed["key"], new["token"]), 200)]
            for cred, status in expect:
                self.assertEqual(verify(c, *cred).status, status, cred[0])
            # down while A writes; back up, it has everything
            c.stop()
            self.assertStatus(self.call("DELETE", acct(self.A, "keys", keep["key"])), 204)
            self.patch_key(off["key"], {"status": "active"})
            c.start()
            self.assertEqual(verify(c, keep["key"], keep["token"]).status, 401)
            self.assertEqual(verify(c, off["key"], off["token"]).status, 200)
        finally:
            c.stop()
            reports = c.sanitizer_reports()
            c.pg_db = None
            c.cleanup()
        self.assertEqual(reports, "")


class TestNodesStartTogether(unittest.TestCase):
    """Three nodes started at once on an empty database: one migration, all healthy."""

    def test_concurrent_start(self):
        if not harness.PG_URL:
            self.skipTest("needs KEYSTILE_TEST_DB_URL")
        first = harness.Server(accounts=(), start=False)
        nodes = [first, node_like(first), node_like(first)]
        errors = []

        def start(n):
            try:
                n.start()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        try:
            threads = [threading.Thread(target=start, args=(n,)) for n in nodes]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            info = first.add_account("acme")
            for n in nodes:
                ok, _ = until(lambda: verify(n, info["key"], info["token"]).status == 200, 3)
                self.assertTrue(ok)
        finally:
            for n in nodes[1:]:
                n.stop()
                n.pg_db = None
                n.cleanup()
            first.cleanup()


if __name__ == "__main__":
    unittest.main()

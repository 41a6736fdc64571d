"""external list/add/edit/remove, and verify of an external key in the
granting account. Skipped while the server lacks /external-keys."""
import json
import unittest

from clitest import CliCase

EXTERNAL_HEADERS = ["KEY", "ACCOUNT", "NAME", "ROLES", "STATUS", "CREATED", "OUTDATED", "ALERT"]
USER_ADMIN = "User Administrator - RESTRICTED"


class ExternalTest(CliCase):
    ACCOUNTS = ("home", "partner")

    @classmethod
    def prepare(cls):
        status, body = cls.server.http("GET", "/api/v1/accounts/home/external-keys", account="home")
        cls.supported = status == 200
        cls.probe = (status, body)

    def setUp(self):
        if not self.supported:
            raise unittest.SkipTest("server has no external-keys endpoint yet: %r" % (self.probe,))
        self.partner = self.create_key(name="partner integration", account="partner")

    def tearDown(self):
        if self.supported:
            self.cli("external", "remove", self.partner["key"], "--yes")

    def verdict(self, *extra):
        p = self.verify(self.partner["key"], self.partner["token"], *extra)
        return p.returncode, json.loads(p.stdout)

    def test_add_list_verify_edit_remove(self):
        key = self.partner["key"]
        p = self.ok("external", "add", key, "--role", USER_ADMIN)
        self.assertIn(key, p.stdout)
        p = self.ok("external", "list")
        rows = {r[0]: r for r in self.assertTable(p.stdout, EXTERNAL_HEADERS)}
        self.assertEqual(rows[key][1:5], ["partner", "partner integration", USER_ADMIN, "active"])
        got = self.json_of("external", "list")
        status, api = self.server.http("GET", "/api/v1/accounts/home/external-keys", account="home")
        self.assertEqual(got, {"items": api["items"]})
        # The partner's own token now passes verify in the granting account.
        rc, v = self.verdict("--account", "home", "--resource", "view-api-keys")
        self.assertEqual((rc, v["valid"], v["target_account"], v["account"]), (0, True, "home", "partner"))
        # ... and it can manage the granting account with --account.
        p = self.cli("keys", "list", "--account", "home", "--json", key=key, token=self.partner["token"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(self.server.accounts["home"]["key"], [k["key"] for k in json.loads(p.stdout)["items"]])
        got = self.json_of("external", "edit", key, "--status", "inactive")
        self.assertEqual(got["status"], "inactive")
        rc, v = self.verdict("--account", "home")
        self.assertEqual((rc, v["valid"]), (1, False))
        got = self.json_of("external", "edit", key, "--status", "active", "--role", "Owner")
        self.assertEqual((got["status"], got["roles"]), ("active", ["Owner"]))
        p = self.fails(2, "external", "remove", key)
        self.assertIn("--yes", p.stderr)
        p = self.ok("external", "remove", key, "--yes")
        self.assertIn("Removed external key", p.stdout)
        self.assertEqual(self.json_of("external", "list")["items"], [])
        rc, v = self.verdict("--account", "home")
        self.assertEqual((rc, v), (1, {"valid": False, "reason": "forbidden"}))
        # The key itself still works at home.
        self.assertEqual(self.verdict()[0], 0)

    def test_errors(self):
        own = self.server.accounts["home"]["key"]
        p = self.fails(1, "external", "add", own, "--role", "Owner")
        self.assertTrue(p.stderr.startswith("keystile: invalid_request: "), p.stderr)
        p = self.fails(1, "external", "add", "kst-partner-aaaaaaaaaa", "--role", "Owner")
        self.assertTrue(p.stderr.startswith("keystile: not_found: "), p.stderr)
        p = self.fails(2, "external", "add", self.partner["key"])
        self.assertIn("--role", p.stderr)
        p = self.fails(2, "external", "edit", self.partner["key"])
        self.assertIn("nothing to change", p.stderr)
        p = self.fails(1, "external", "edit", self.partner["key"], "--status", "active")
        self.assertTrue(p.stderr.startswith("keystile: not_found: "), p.stderr)

"""roles list/create/edit/delete (names with spaces and slashes travel as one
URL-encoded path segment) and settings get/set."""
import json

from clitest import CliCase, uid

ROLE_HEADERS = ["NAME", "BUILTIN", "RESOURCES"]


class RolesTest(CliCase):
    ACCOUNTS = ("roles",)

    def roles(self):
        return {r["name"]: r for r in self.json_of("roles", "list")["items"]}

    def test_list_table_and_json(self):
        p = self.ok("roles", "list")
        rows = {r[0]: r for r in self.assertTable(p.stdout, ROLE_HEADERS)}
        self.assertEqual(rows["Owner"][1], "yes")
        self.assertIn("view-audit-log", rows["Owner"][2])
        self.assertEqual(rows["User Administrator - RESTRICTED"][1], "yes")
        status, api = self.server.http("GET", "/api/v1/accounts/roles/roles", account="roles")
        self.assertEqual(self.json_of("roles", "list"), {"items": api["items"]})
        self.assertEqual(len(self.json_of("roles", "list", "--limit", "1")["items"]), 1)

    def test_create_edit_delete_with_spaces_and_slash(self):
        name = uid("Order desk / EU ")
        p = self.ok("roles", "create", name, "--resource", "orders.read", "--resource", "orders.write")
        self.assertIn("Created role '%s'" % name, p.stdout)
        self.assertEqual(self.roles()[name], {"name": name, "resources": ["orders.read", "orders.write"],
                                              "builtin": False})
        renamed = name + " (renamed)"
        got = self.json_of("roles", "edit", name, "--name", renamed)
        self.assertEqual(got["name"], renamed)
        got = self.json_of("roles", "edit", renamed, "--resource", "invoices.read")
        self.assertEqual(got["resources"], ["invoices.read"])
        # A key holding the role: delete is refused with role_in_use.
        k = self.create_key(roles=[renamed])
        p = self.fails(1, "roles", "delete", renamed, "--yes")
        self.assertTrue(p.stderr.startswith("keystile: role_in_use: "), p.stderr)
        self.ok("keys", "delete", k["key"], "--yes")
        p = self.fails(2, "roles", "delete", renamed)
        self.assertIn("--yes", p.stderr)
        self.assertIn(renamed, self.roles())
        p = self.ok("roles", "delete", renamed, "--yes")
        self.assertIn("Deleted role", p.stdout)
        self.assertNotIn(renamed, self.roles())

    def test_role_errors(self):
        p = self.fails(1, "roles", "delete", "Owner", "--yes")
        self.assertTrue(p.stderr.startswith("keystile: builtin_role: "), p.stderr)
        p = self.fails(1, "roles", "edit", "Owner", "--resource", "x")
        self.assertTrue(p.stderr.startswith("keystile: builtin_role: "), p.stderr)
        p = self.fails(1, "roles", "create", "Owner", "--resource", "x")
        self.assertTrue(p.stderr.startswith("keystile: name_taken: "), p.stderr)
        p = self.fails(2, "roles", "create", uid("r"))
        self.assertIn("--resource", p.stderr)
        p = self.fails(2, "roles", "edit", "Owner")
        self.assertIn("nothing to change", p.stderr)
        p = self.fails(1, "roles", "delete", uid("no such role "), "--yes")
        self.assertTrue(p.stderr.startswith("keystile: not_found: "), p.stderr)


class SettingsTest(CliCase):
    ACCOUNTS = ("settings",)

    def test_get_table_and_json(self):
        p = self.ok("settings", "get")
        self.assertRegex(p.stdout, r"Token duration: +(3|6) months")
        self.assertRegex(p.stdout, r"Enforce duration: +(yes|no)")
        status, api = self.server.http("GET", "/api/v1/accounts/settings/settings", account="settings")
        self.assertEqual(self.json_of("settings", "get"), api)

    def test_set(self):
        try:
            got = self.json_of("settings", "set", "--months", "6")
            self.assertEqual(got["token_duration_months"], 6)
            p = self.ok("settings", "set", "--enforce-duration", "true")
            self.assertIn("Updated the settings", p.stdout)
            self.assertRegex(p.stdout, r"Token duration: +6 months")
            self.assertRegex(p.stdout, r"Enforce duration: +yes")
            got = self.json_of("settings", "set", "--months", "3", "--enforce-duration", "false")
            self.assertEqual(got, {"token_duration_months": 3, "enforce_duration": False,
                                   "auto_delete_old_token_hours": None, "renewal_notice_days": 14,
                                   "deactivate_unused_days": None, "leaked_token_action": "alert"})
            p = self.ok("settings", "set", "--leaked-token-action", "revoke")
            self.assertRegex(p.stdout, r"Leaked token: +revoke")
            self.assertEqual(self.json_of("settings", "get")["leaked_token_action"], "revoke")
        finally:
            self.cli("settings", "set", "--months", "3", "--enforce-duration", "false", "--leaked-token-action", "alert")

    def test_set_usage(self):
        p = self.fails(2, "settings", "set")
        self.assertIn("nothing to change", p.stderr)
        p = self.fails(2, "settings", "set", "--months", "4")
        self.assertIn("3 or 6", p.stderr)
        p = self.fails(2, "settings", "set", "--enforce-duration", "maybe")
        self.assertIn("true or false", p.stderr)
        p = self.fails(2, "settings", "set", "--leaked-token-action", "delete")
        self.assertIn("alert or revoke", p.stderr)
        self.assertEqual(json.loads(self.ok("settings", "get", "--json").stdout)["token_duration_months"], 3)

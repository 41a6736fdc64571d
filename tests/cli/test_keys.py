"""keys list/show/create/edit/activate/deactivate/delete: tables, --json,
exit codes, API errors on stderr, --yes, and no token where none belongs."""
import json

from clitest import KEY_RE, TOKEN_RE, CliCase, uid

KEY_HEADERS = ["KEY", "NAME", "ROLES", "STATUS", "CREATED", "OUTDATED", "ALERT", "TOKENS"]
USER_ADMIN = "User Administrator - RESTRICTED"


def strip_last_used(key):
    k = json.loads(json.dumps(key))
    for t in k.get("tokens", []):
        t.pop("last_used_at", None)
        t.pop("last_used_from", None)
    return k


class KeysTest(CliCase):
    ACCOUNTS = ("acme", "other")

    def test_create_prints_token_once_with_warning(self):
        name = uid("ERP sync ")
        p = self.ok("keys", "create", "--name", name, "--role", USER_ADMIN)
        tokens = TOKEN_RE.findall(p.stdout)
        self.assertEqual(len(tokens), 1, p.stdout)
        self.assertEqual(TOKEN_RE.findall(p.stderr), [])
        self.assertIn("WARNING", p.stderr)
        self.assertIn("store this token now", p.stderr)
        self.assertIn("only this once", p.stderr)
        key = KEY_RE.search(p.stdout).group(0)
        self.assertIn(name, p.stdout)
        self.assertIn(USER_ADMIN, p.stdout)
        v = self.verify(key, tokens[0])
        self.assertEqual(v.returncode, 0, v.stderr)
        got = json.loads(v.stdout)
        self.assertEqual((got["valid"], got["key"], got["token"], got["roles"]), (True, key, "current", [USER_ADMIN]))

    def test_create_shows_the_share_link_when_the_server_sends_one(self):
        if "share_url" not in self.create_key():
            self.skipTest("server sends no share_url")
        p = self.ok("keys", "create", "--name", uid("shared "))
        self.assertRegex(p.stdout, r"\nShare link: +https?://\S+/share/\S+\n")

    def test_create_json_is_the_api_object(self):
        k = self.create_key(name="json key", roles=["Owner"])
        self.assertRegex(k["token"], TOKEN_RE)
        for field in ("key", "name", "type", "roles", "status", "created_at", "outdated", "renewal_alert", "tokens"):
            self.assertIn(field, k)
        self.assertEqual((k["name"], k["roles"], k["status"], k["type"]), ("json key", ["Owner"], "active", "generated"))
        status, api = self.server.http("GET", "/api/v1/accounts/acme/keys/" + k["key"])
        self.assertEqual(status, 200)
        k.pop("token")
        k.pop("share_url", None)
        self.assertEqual(strip_last_used(k), strip_last_used(api))

    def test_list_table_is_aligned_with_headers(self):
        plain = self.create_key(name=uid("plain key "))
        renewed = self.create_key(name=uid("renewed "), roles=["Owner", USER_ADMIN])
        self.ok("keys", "renew", renewed["key"])
        p = self.ok("keys", "list")
        rows = {r[0]: r for r in self.assertTable(p.stdout, KEY_HEADERS)}
        self.assertEqual(rows[plain["key"]][1:4], [plain["name"], "-", "active"])
        self.assertEqual(rows[plain["key"]][5:], ["no", "none", "current"])
        self.assertEqual(rows[renewed["key"]][2], "Owner, " + USER_ADMIN)
        self.assertEqual(rows[renewed["key"]][7], "current+old")
        self.assertRegex(rows[plain["key"]][4], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIn(self.server.accounts["acme"]["key"], rows)
        self.assertEqual(TOKEN_RE.findall(p.stdout + p.stderr), [])

    def test_table_aligns_non_ascii_names(self):
        k = self.create_key(name="Zürich café ✓")
        p = self.ok("keys", "list", "--q", "Zürich")
        rows = self.assertTable(p.stdout, KEY_HEADERS)
        self.assertEqual([r[:2] for r in rows], [[k["key"], "Zürich café ✓"]])

    def test_list_json_matches_the_api(self):
        self.create_key()
        got = self.json_of("keys", "list")
        self.assertEqual(set(got), {"items", "next_cursor"})
        self.assertIsNone(got["next_cursor"])
        status, api = self.server.http("GET", "/api/v1/accounts/acme/keys?limit=500")
        self.assertEqual(status, 200)
        self.assertEqual([strip_last_used(k) for k in got["items"]], [strip_last_used(k) for k in api["items"]])

    def test_show_table_and_json(self):
        k = self.create_key(name="shown key", roles=["Owner"])
        p = self.ok("keys", "show", k["key"])
        for text in ("Key:", k["key"], "Name:", "shown key", "Status:", "active", "TOKEN", "EXPIRES", "LAST USED",
                     "FROM", "current"):
            self.assertIn(text, p.stdout)
        self.assertNotIn(k["token"], p.stdout + p.stderr)
        # after a verify, the token's last caller shows in the FROM column
        status, _ = self.server.http("GET", "/api/v1/verify", key=k["key"], token=k["token"])
        self.assertEqual(status, 200)
        row = [line for line in self.ok("keys", "show", k["key"]).stdout.splitlines() if line.startswith("current")]
        self.assertEqual(len(row), 1)
        self.assertIn("127.0.0.1", row[0].split())
        got = self.json_of("keys", "show", k["key"])
        status, api = self.server.http("GET", "/api/v1/accounts/acme/keys/" + k["key"])
        self.assertEqual(strip_last_used(got), strip_last_used(api))
        self.assertNotIn("token", got)

    def test_edit_name_and_roles(self):
        k = self.create_key(name="before")
        got = self.json_of("keys", "edit", k["key"], "--name", "after", "--role", "Owner", "--role", USER_ADMIN)
        self.assertEqual((got["name"], got["roles"]), ("after", ["Owner", USER_ADMIN]))
        p = self.ok("keys", "edit", k["key"], "--no-roles")
        self.assertIn("Updated key " + k["key"], p.stdout)
        self.assertEqual(self.json_of("keys", "show", k["key"])["roles"], [])
        p = self.fails(2, "keys", "edit", k["key"])
        self.assertIn("nothing to change", p.stderr)
        p = self.fails(2, "keys", "edit", k["key"], "--role", "Owner", "--no-roles")
        self.assertIn("--no-roles", p.stderr)
        p = self.fails(1, "keys", "edit", k["key"], "--role", "No Such Role")
        self.assertRegex(p.stderr, r"^keystile: invalid_request: .*No Such Role")

    def test_deactivate_and_activate(self):
        k = self.create_key()
        p = self.ok("keys", "deactivate", k["key"])
        self.assertIn("inactive", p.stdout)
        self.assertEqual(self.json_of("keys", "show", k["key"])["status"], "inactive")
        v = self.verify(k["key"], k["token"])
        self.assertEqual(v.returncode, 1)
        self.assertEqual(json.loads(v.stdout), {"valid": False, "reason": "inactive"})
        self.assertEqual(self.json_of("keys", "activate", k["key"])["status"], "active")
        self.assertEqual(self.verify(k["key"], k["token"]).returncode, 0)

    def test_delete_needs_yes_without_a_terminal(self):
        k = self.create_key()
        p = self.fails(2, "keys", "delete", k["key"])
        self.assertIn("--yes", p.stderr)
        self.assertIn("not a terminal", p.stderr)
        self.ok("keys", "show", k["key"])  # still there
        p = self.ok("keys", "delete", k["key"], "--yes")
        self.assertIn("Deleted key " + k["key"], p.stdout)
        p = self.fails(1, "keys", "show", k["key"])
        self.assertRegex(p.stderr, r"^keystile: not_found: ")
        v = self.verify(k["key"], k["token"])
        self.assertEqual((v.returncode, json.loads(v.stdout)["reason"]), (1, "unknown_key"))

    def test_api_errors_exit_1_with_the_message(self):
        p = self.fails(1, "keys", "show", "kst-acme-aaaaaaaaaa")
        self.assertRegex(p.stderr, r"^keystile: not_found: \S")
        self.assertEqual(p.stdout, "")
        p = self.fails(1, "keys", "list", token="kstt_" + "A" * 49)
        self.assertRegex(p.stderr, r"^keystile: unauthenticated: \S")
        p = self.fails(1, "keys", "list", "--account", "other")
        self.assertRegex(p.stderr, r"^keystile: forbidden: \S")
        p = self.fails(1, "keys", "create", "--name", "x" * 101)
        self.assertRegex(p.stderr, r"^keystile: invalid_request: .*name")

    def test_account_option_and_key_account(self):
        # The other account's Owner manages its own account by default ...
        other = self.server.accounts["other"]
        got = self.json_of("keys", "list", account="other")
        self.assertEqual([k["key"] for k in got["items"]], [other["key"]])
        # ... and --account with flags overrides the environment.
        got = self.json_of("keys", "list", "--account", "other", "--key", other["key"], "--token", other["token"])
        self.assertEqual([k["key"] for k in got["items"]], [other["key"]])

    def test_flags_override_environment(self):
        p = self.ok("keys", "list", "--url", self.server.url, env=self.env(url="http://127.0.0.1:1"))
        self.assertTrue(p.stdout.startswith("KEY "))

    def test_tokens_never_shown_outside_create_and_renew(self):
        owner = self.server.accounts["acme"]["token"]
        k = self.create_key(roles=["Owner"])
        outputs = []
        for args in (("keys", "list"), ("keys", "list", "--json"), ("keys", "show", k["key"]),
                     ("keys", "show", k["key"], "--json"), ("verify",), ("verify", "--json"),
                     ("keys", "export"), ("roles", "list"), ("settings", "get")):
            p = self.cli(*args)
            outputs.append(p.stdout + p.stderr)
        p = self.cli("keys", "list", token=owner[:-1] + ("A" if owner[-1] != "A" else "B"))
        outputs.append(p.stdout + p.stderr)
        text = "\n".join(outputs)
        self.assertEqual(TOKEN_RE.findall(text), [])

"""List paging: every key across pages unless --limit, --json with
next_cursor and --cursor, and the keys list filters."""
import json
import re

from clitest import CliCase

HEADERS = ["KEY", "NAME", "ROLES", "STATUS", "CREATED", "OUTDATED", "ALERT", "TOKENS"]


class PagingTest(CliCase):
    ACCOUNTS = ("pages",)
    N = 7

    @classmethod
    def prepare(cls):
        cls.created = []
        for i in range(cls.N):
            p = cls.class_cli("keys", "create", "--name", "page key %d" % i, "--json")
            cls.created.append(json.loads(p.stdout)["key"])
        cls.class_cli("keys", "deactivate", cls.created[0])
        cls.owner = cls.server.accounts["pages"]["key"]
        cls.all = list(reversed(cls.created)) + [cls.owner]  # newest first

    def list_requests(self):
        return len(re.findall(r'"route":"/api/v1/accounts/\*/keys"', self.server.log()))

    def keys_of(self, text):
        return [r[0] for r in self.assertTable(text, HEADERS)]

    def test_every_key_across_pages(self):
        before = self.list_requests()
        p = self.ok("keys", "list", "--page-size", "3")
        self.assertEqual(self.keys_of(p.stdout), self.all)
        self.assertEqual(p.stderr, "")
        self.assertEqual(self.list_requests() - before, 3)  # 3 + 3 + 2
        p = self.ok("keys", "list")
        self.assertEqual(self.keys_of(p.stdout), self.all)

    def test_limit(self):
        p = self.ok("keys", "list", "--limit", "5", "--page-size", "2")
        self.assertEqual(self.keys_of(p.stdout), self.all[:5])
        self.assertIn("more exist", p.stderr)
        p = self.ok("keys", "list", "--limit", "100")
        self.assertEqual(self.keys_of(p.stdout), self.all)
        self.assertEqual(p.stderr, "")

    def test_json_cursor_continues(self):
        first = self.json_of("keys", "list", "--limit", "3", "--page-size", "2")
        self.assertEqual([k["key"] for k in first["items"]], self.all[:3])
        self.assertIsInstance(first["next_cursor"], str)
        rest = self.json_of("keys", "list", "--cursor", first["next_cursor"], "--page-size", "2")
        self.assertEqual([k["key"] for k in rest["items"]], self.all[3:])
        self.assertIsNone(rest["next_cursor"])
        whole = self.json_of("keys", "list", "--page-size", "1")
        self.assertEqual([k["key"] for k in whole["items"]], self.all)
        self.assertIsNone(whole["next_cursor"])

    def test_filters(self):
        got = self.json_of("keys", "list", "--q", "PAGE KEY 3")
        self.assertEqual([k["key"] for k in got["items"]], [self.created[3]])
        got = self.json_of("keys", "list", "--status", "inactive")
        self.assertEqual([k["key"] for k in got["items"]], [self.created[0]])
        got = self.json_of("keys", "list", "--status", "active", "--page-size", "2")
        self.assertEqual([k["key"] for k in got["items"]], [k for k in self.all if k != self.created[0]])
        p = self.ok("keys", "list", "--outdated", "true")
        self.assertEqual(self.keys_of(p.stdout), [])
        got = self.json_of("keys", "list", "--outdated", "false", "--q", "page key")
        self.assertEqual(len(got["items"]), self.N)

    def test_bad_list_options(self):
        for args, word in ((("--status", "on"), "active or inactive"), (("--outdated", "yes"), "true or false"),
                           (("--limit", "0"), "--limit"), (("--limit", "x"), "--limit"),
                           (("--page-size", "501"), "--page-size")):
            with self.subTest(args=args):
                p = self.fails(2, "keys", "list", *args)
                self.assertIn(word, p.stderr)
                self.assertEqual(p.stdout, "")

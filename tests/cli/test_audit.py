"""`keystile audit list`: the table, --json with next_cursor, paging across
pages unless --limit, the --actor and --action filters, and usage errors."""
import json
import re

from clitest import TOKEN_RE, CliCase, uid

HEADERS = ["AT", "ACTOR", "ACTION", "TARGET", "VIA", "ADDRESS", "DETAIL"]


class AuditListTest(CliCase):
    ACCOUNTS = ("audited", "other", "third")
    N = 6

    @classmethod
    def prepare(cls):
        cls.owner = cls.server.accounts["audited"]["key"]
        cls.created = []
        for i in range(cls.N):
            p = cls.class_cli("keys", "create", "--name", "audit key %d" % i, "--json")
            cls.created.append(json.loads(p.stdout)["key"])
        # one failed management authentication, with a well-formed key id
        cls.server.http("GET", "/api/v1/accounts/audited/settings", account="audited",
                        token="kstt_" + "A" * 49)

    def list_requests(self):
        return len(re.findall(r'"route":"/api/v1/accounts/\*/audit"', self.server.log()))

    def rows(self, text):
        return self.assertTable(text, HEADERS)

    def test_table(self):
        p = self.ok("audit", "list")
        rows = self.rows(p.stdout)
        self.assertEqual(p.stderr, "")
        actions = [r[2] for r in rows]
        self.assertEqual(actions, ["auth.failed"] + ["key.create"] * self.N + ["account.create"])
        failed = rows[0]
        self.assertEqual(failed[1], self.owner)
        self.assertEqual(failed[3], "audited")
        self.assertEqual(failed[4], "token")
        self.assertEqual(failed[5], "127.0.0.1")
        self.assertEqual(json.loads(failed[6]), {"reason": "malformed_token"})  # bad checksum
        create = rows[1]
        self.assertEqual(create[1:6], [self.owner, "key.create", self.created[-1], "token", "127.0.0.1"])
        self.assertEqual(json.loads(create[6]), {"name": "audit key %d" % (self.N - 1), "roles": []})
        first = rows[-1]
        self.assertEqual(first[1:6], ["cli", "account.create", "audited", "system", "-"])
        self.assertRegex(first[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsNone(TOKEN_RE.search(p.stdout))

    def test_json_matches_api(self):
        got = self.json_of("audit", "list")
        self.assertEqual(set(got), {"items", "next_cursor"})
        self.assertIsNone(got["next_cursor"])
        status, api = self.server.http("GET", "/api/v1/accounts/audited/audit?limit=500", account="audited")
        self.assertEqual(status, 200)
        # the CLI's own calls are GETs: not audited, so the lists agree
        self.assertEqual(got["items"], api["items"])
        for item in got["items"]:
            self.assertEqual(set(item), {"at", "actor", "action", "target", "detail", "via", "address"})

    def test_every_entry_across_pages(self):
        everything = self.json_of("audit", "list", "--page-size", "500")["items"]
        before = self.list_requests()
        p = self.ok("audit", "list", "--page-size", "3")
        rows = self.rows(p.stdout)
        self.assertEqual([r[3] for r in rows], [e["target"] for e in everything])
        self.assertEqual(self.list_requests() - before, (len(everything) + 2) // 3)

    def test_limit_and_cursor(self):
        everything = self.json_of("audit", "list")["items"]
        p = self.ok("audit", "list", "--limit", "2")
        self.assertEqual(len(self.rows(p.stdout)), 2)
        self.assertIn("more exist", p.stderr)
        first = self.json_of("audit", "list", "--limit", "3", "--page-size", "2")
        self.assertEqual(first["items"], everything[:3])
        self.assertIsInstance(first["next_cursor"], str)
        rest = self.json_of("audit", "list", "--cursor", first["next_cursor"], "--page-size", "2")
        self.assertEqual(rest["items"], everything[3:])
        self.assertIsNone(rest["next_cursor"])

    def test_filters(self):
        got = self.json_of("audit", "list", "--action", "key.create", "--page-size", "2")
        self.assertEqual([e["target"] for e in got["items"]], list(reversed(self.created)))
        got = self.json_of("audit", "list", "--actor", "cli")
        self.assertEqual([e["action"] for e in got["items"]], ["account.create"])
        got = self.json_of("audit", "list", "--actor", self.owner, "--action", "auth.failed")
        self.assertEqual(len(got["items"]), 1)
        got = self.json_of("audit", "list", "--action", "key.")
        self.assertEqual(got["items"], [])
        p = self.ok("audit", "list", "--action", "nothing.like.this")
        self.assertEqual(self.rows(p.stdout), [])

    def test_accounts_are_separate(self):
        got = self.json_of("audit", "list", account="other")
        self.assertEqual([e["action"] for e in got["items"]], ["account.create"])

    def test_needs_view_audit_log(self):
        # in an account of its own: the other tests know every entry of theirs
        role = uid("reader-")
        self.ok("roles", "create", role, "--resource", "view-api-keys", account="third")
        k = self.create_key(roles=[role], account="third")
        p = self.fails(1, "audit", "list", key=k["key"], token=k["token"])
        self.assertIn("forbidden", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_bad_options(self):
        for args, word in ((("--limit", "0"), "--limit"), (("--limit", "x"), "--limit"),
                           (("--page-size", "501"), "--page-size"), (("--actor", "a" * 257), "--actor"),
                           (("--action", "b" * 257), "--action"), (("--colour",), "colour")):
            with self.subTest(args=args[0]):
                p = self.fails(2, "audit", "list", *args)
                self.assertIn(word, p.stderr)
                self.assertEqual(p.stdout, "")
        p = self.fails(2, "audit")
        self.assertIn("list", p.stderr)
        p = self.fails(2, "audit", "show")
        self.assertIn("list", p.stderr)

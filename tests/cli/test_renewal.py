"""keys renew / delete-old-token / undo-renewal: the fresh token and its
warning, both tokens verifying with `keystile verify`, and the 409s."""
import json

from clitest import TOKEN_RE, CliCase


class RenewalTest(CliCase):
    def verdict(self, key, token):
        p = self.verify(key, token)
        return p.returncode, json.loads(p.stdout)

    def renew(self, key, *extra):
        p = self.ok("keys", "renew", key, *extra)
        tokens = TOKEN_RE.findall(p.stdout)
        self.assertEqual(len(tokens), 1, p.stdout)
        self.assertIn("WARNING: store this token now", p.stderr)
        return tokens[0], p

    def test_renew_later_then_delete_old_token(self):
        k = self.create_key(roles=["Owner"])
        old = k["token"]
        new, p = self.renew(k["key"])
        self.assertNotEqual(new, old)
        self.assertIn("keys delete-old-token " + k["key"], p.stderr)
        self.assertIn("keys undo-renewal " + k["key"], p.stderr)
        # Both verify: the new one as current, the previous one as old.
        rc, v = self.verdict(k["key"], new)
        self.assertEqual((rc, v["valid"], v["token"]), (0, True, "current"))
        rc, v = self.verdict(k["key"], old)
        self.assertEqual((rc, v["valid"], v["token"]), (0, True, "old"))
        # Human output of verify says so too.
        p = self.cli("verify", key=k["key"], token=old)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"Valid: +yes")
        self.assertRegex(p.stdout, r"Token: +old")
        # A second renewal is refused while the old token exists.
        p = self.fails(1, "keys", "renew", k["key"])
        self.assertTrue(p.stderr.startswith("keystile: old_token_exists: "), p.stderr)
        self.assertEqual(TOKEN_RE.findall(p.stdout + p.stderr), [])
        # delete-old-token refuses without --yes when stdin is not a terminal.
        p = self.fails(2, "keys", "delete-old-token", k["key"])
        self.assertIn("--yes", p.stderr)
        self.assertEqual(self.verdict(k["key"], old)[0], 0)
        p = self.ok("keys", "delete-old-token", k["key"], "--yes")
        self.assertIn("Deleted the old token", p.stdout)
        self.assertEqual([t["slot"] for t in self.json_of("keys", "show", k["key"])["tokens"]], ["current"])
        self.assertEqual(self.verdict(k["key"], old), (1, {"valid": False, "reason": "invalid_token"}))
        self.assertEqual(self.verdict(k["key"], new)[0], 0)
        p = self.fails(1, "keys", "delete-old-token", k["key"], "--yes")
        self.assertTrue(p.stderr.startswith("keystile: no_old_token: "), p.stderr)

    def test_undo_renewal(self):
        k = self.create_key()
        old = k["token"]
        new, _ = self.renew(k["key"], "--delete-old", "later")
        got = self.json_of("keys", "undo-renewal", k["key"])
        self.assertEqual([t["slot"] for t in got["tokens"]], ["current"])
        rc, v = self.verdict(k["key"], old)
        self.assertEqual((rc, v["token"]), (0, "current"))
        self.assertEqual(self.verdict(k["key"], new), (1, {"valid": False, "reason": "invalid_token"}))
        p = self.fails(1, "keys", "undo-renewal", k["key"])
        self.assertTrue(p.stderr.startswith("keystile: no_old_token: "), p.stderr)

    def test_renew_delete_old_now(self):
        k = self.create_key()
        new, p = self.renew(k["key"], "--delete-old", "now")
        self.assertIn("stopped working", p.stderr)
        self.assertEqual(self.verdict(k["key"], k["token"]), (1, {"valid": False, "reason": "invalid_token"}))
        self.assertEqual(self.verdict(k["key"], new)[0], 0)
        p = self.ok("keys", "list")
        row = [line for line in p.stdout.splitlines() if line.startswith(k["key"])][0]
        self.assertTrue(row.endswith("current") and not row.endswith("+old"), row)

    def test_renew_json_and_bad_option(self):
        k = self.create_key()
        p = self.ok("keys", "renew", k["key"], "--json")
        got = json.loads(p.stdout)
        self.assertRegex(got["token"], TOKEN_RE)
        self.assertEqual([t["slot"] for t in got["tokens"]], ["current", "old"])
        self.assertIn("WARNING", p.stderr)
        p = self.fails(2, "keys", "renew", k["key"], "--delete-old", "soon")
        self.assertIn("now or later", p.stderr)

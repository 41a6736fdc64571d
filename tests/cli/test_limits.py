"""keys create/edit with --allow-cidr (repeatable, '' clears) and
--rate-limit N --rate-period S (0 removes): what the API keeps, and usage
errors for a limit without its period."""
from clitest import CliCase, uid


class KeyLimitsTest(CliCase):
    def test_create_with_limits(self):
        k = self.json_of("keys", "create", "--name", uid("lim "), "--allow-cidr", "203.0.113.7",
                         "--allow-cidr", "10.1.0.0/16", "--rate-limit", "100", "--rate-period", "60")
        self.assertEqual(k["allowed_cidrs"], ["203.0.113.7/32", "10.1.0.0/16"])
        self.assertEqual(k["rate_limit"], {"limit": 100, "period_seconds": 60})
        shown = self.json_of("keys", "show", k["key"])
        self.assertEqual(shown["allowed_cidrs"], ["203.0.113.7/32", "10.1.0.0/16"])
        self.assertEqual(shown["rate_limit"], {"limit": 100, "period_seconds": 60})

    def test_edit_sets_and_clears(self):
        key = self.create_key()["key"]
        k = self.json_of("keys", "edit", key, "--allow-cidr", "2001:db8::/48")
        self.assertEqual(k["allowed_cidrs"], ["2001:db8::/48"])
        self.assertIsNone(k["rate_limit"])
        k = self.json_of("keys", "edit", key, "--rate-limit", "5", "--rate-period", "1")
        self.assertEqual(k["allowed_cidrs"], ["2001:db8::/48"])
        self.assertEqual(k["rate_limit"], {"limit": 5, "period_seconds": 1})
        k = self.json_of("keys", "edit", key, "--allow-cidr", "")
        self.assertEqual(k["allowed_cidrs"], [])
        self.assertEqual(k["rate_limit"], {"limit": 5, "period_seconds": 1})
        k = self.json_of("keys", "edit", key, "--rate-limit", "0")
        self.assertIsNone(k["rate_limit"])

    def test_bad_limits(self):
        key = self.create_key()["key"]
        p = self.fails(2, "keys", "edit", key, "--rate-limit", "5")
        self.assertIn("--rate-period", p.stderr)
        p = self.fails(2, "keys", "create", "--name", "x", "--rate-period", "5")
        self.assertIn("--rate-limit", p.stderr)
        p = self.fails(2, "keys", "edit", key, "--rate-limit", "5", "--rate-period", "86401")
        self.assertIn("rate-period", p.stderr)
        p = self.cli("keys", "edit", key, "--allow-cidr", "10.0.0.0/40")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("allowed_cidrs", p.stderr)
        self.assertEqual(self.json_of("keys", "show", key)["allowed_cidrs"], [])


class KeyUsageTest(CliCase):
    def test_usage_table_sparkline_and_json(self):
        k = self.create_key()
        for _ in range(3):
            self.assertEqual(self.verify(k["key"], k["token"]).returncode, 0)
        p = self.ok("keys", "usage", k["key"])
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].split()[:3] == ["AT", "VALID", "INVALID_TOKEN"], p.stdout)
        row = [l for l in lines[1:] if l.strip() and not l.startswith("last 24 h")]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertEqual(row[0].split()[1:], ["3", "0", "0", "0", "0", "0", "0"])
        spark = [l for l in lines if l.startswith("last 24 h: ")]
        self.assertEqual(len(spark), 1, p.stdout)
        bars = spark[0][len("last 24 h: "):].split("  ")[0]
        self.assertEqual(len(bars), 24, spark)
        self.assertEqual(bars[-1], "\u2588")  # this hour holds the most
        self.assertIn("3 verifies", spark[0])
        j = self.json_of("keys", "usage", k["key"], "--granularity", "day")
        self.assertEqual(j["granularity"], "day")
        self.assertEqual(sum(i["valid"] for i in j["items"]), 3)
        p = self.fails(2, "keys", "usage", k["key"], "--granularity", "week")
        self.assertIn("granularity", p.stderr)


class DormantSettingTest(CliCase):
    def test_deactivate_unused_days(self):
        s = self.json_of("settings", "set", "--deactivate-unused-days", "90")
        self.assertEqual(s["deactivate_unused_days"], 90)
        p = self.ok("settings", "get")
        self.assertIn("after 90 days without a verify", p.stdout)
        s = self.json_of("settings", "set", "--deactivate-unused-days", "off")
        self.assertIsNone(s["deactivate_unused_days"])
        self.assertIn("Deactivate unused keys:", self.ok("settings", "get").stdout)
        p = self.fails(2, "settings", "set", "--deactivate-unused-days", "29")
        self.assertIn("30 to 730", p.stderr)


class KeyShowLimitsTest(CliCase):
    def test_show_prints_the_limits(self):
        k = self.json_of("keys", "create", "--name", uid("shown "), "--allow-cidr", "203.0.113.0/24",
                         "--allow-cidr", "2001:db8::1", "--rate-limit", "100", "--rate-period", "60")
        out = self.ok("keys", "show", k["key"]).stdout
        self.assertRegex(out, r"Allowed from: +203\.0\.113\.0/24, 2001:db8::1/128\n")
        self.assertRegex(out, r"Rate limit: +100 verifies per 60 s\n")
        plain = self.create_key()
        out = self.ok("keys", "show", plain["key"]).stdout
        self.assertRegex(out, r"Allowed from: +any address\n")
        self.assertRegex(out, r"Rate limit: +none\n")

"""Help for every command and subcommand, the top-level usage, and the man
page generated from the same table (docs/keystile.1 == `keystile help --man`)."""
import os
import shutil
import subprocess
import unittest

from clitest import ROOT, run

COMMANDS = {
    "keys": ["list", "create", "show", "edit", "activate", "deactivate", "delete", "renew",
             "delete-old-token", "undo-renewal", "export"],
    "settings": ["get", "set"],
    "roles": ["list", "create", "edit", "delete"],
    "external": ["list", "add", "edit", "remove"],
    "audit": ["list"],
    "webhooks": ["list", "create", "edit", "delete", "deliveries", "test"],
}


class HelpTest(unittest.TestCase):
    maxDiff = None

    def help_ok(self, *args):
        p = run(args)
        self.assertEqual(p.returncode, 0, "%s: %s" % (args, p.stderr))
        self.assertEqual(p.stderr, "")
        return p.stdout

    def test_every_subcommand_has_help_with_examples(self):
        for group, subs in COMMANDS.items():
            for sub in subs:
                with self.subTest(cmd="%s %s" % (group, sub)):
                    text = self.help_ok("help", group, sub)
                    self.assertTrue(text.startswith("Usage: keystile %s %s" % (group, sub)), text)
                    examples = text.split("\nExamples:\n", 1)
                    self.assertEqual(len(examples), 2, text)
                    self.assertIn("  keystile %s %s" % (group, sub), examples[1])
                    self.assertIn("--url URL", text)
                    self.assertIn("--help", text)
                    self.assertGreater(len(text.split()), 60, "help too thin: %s" % text)
                    # --help and -h anywhere give the same text on stdout
                    self.assertEqual(self.help_ok(group, sub, "--help"), text)
                    self.assertEqual(self.help_ok(group, sub, "KEY", "-h"), text)

    def test_group_help_lists_subcommands(self):
        for group, subs in COMMANDS.items():
            with self.subTest(group=group):
                text = self.help_ok("help", group)
                self.assertEqual(self.help_ok(group, "--help"), text)
                for sub in subs:
                    self.assertRegex(text, r"\n  %s +\S" % sub)

    def test_verify_help(self):
        text = self.help_ok("help", "verify")
        self.assertTrue(text.startswith("Usage: keystile verify"), text)
        flat = " ".join(text.split())
        for words in ("--resource", "--account", "invalid_token", "Exit status 0 when valid, 1 when not"):
            self.assertIn(words, flat)
        self.assertEqual(self.help_ok("verify", "--help"), text)

    def test_top_level_usage_lists_every_command(self):
        text = self.help_ok("help")
        self.assertEqual(self.help_ok("--help"), text)
        for group, subs in COMMANDS.items():
            for sub in subs:
                self.assertRegex(text, r"\n  %s %s +\S" % (group, sub))
        for cmd in ("serve", "account create", "verify", "help"):
            self.assertIn("\n  " + cmd, text)
        self.assertIn("KEYSTILE_URL", text)
        p = run([])
        self.assertEqual(p.returncode, 2)
        self.assertIn("Usage: keystile", p.stderr)

    def test_serve_and_account_help_still_work(self):
        self.assertIn("--listen", self.help_ok("help", "serve"))
        self.assertIn("--clock-offset-days", self.help_ok("serve", "--help"))
        self.assertIn("account create NAME", self.help_ok("help", "account"))

    def test_help_for_unknown_command(self):
        p = run(["help", "frobnicate"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("frobnicate", p.stderr)
        p = run(["help", "keys", "frob"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("renew", p.stderr)  # lists the real ones

    def test_renew_and_create_help_explain_the_token(self):
        renew = self.help_ok("keys", "renew", "--help")
        for word in ("--delete-old", "ONCE", "delete-old-token", "undo-renewal", "old_token_exists"):
            self.assertIn(word, renew)
        self.assertIn("ONCE", self.help_ok("keys", "create", "--help"))

    def test_man_page_in_sync(self):
        p = run(["help", "--man"])
        self.assertEqual(p.returncode, 0, p.stderr)
        path = os.path.join(ROOT, "docs", "keystile.1")
        with open(path, encoding="utf-8") as f:
            committed = f.read()
        self.assertEqual(committed, p.stdout,
                         "docs/keystile.1 is stale: run build/keystile help --man > docs/keystile.1")
        for group, subs in COMMANDS.items():
            for sub in subs:
                self.assertIn('.SS "%s %s"' % (group, sub.replace("-", "\\-")), committed)
        for section in (".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS", ".SH EXIT STATUS",
                        ".SH ENVIRONMENT"):
            self.assertIn(section, committed)

    @unittest.skipUnless(shutil.which("groff"), "groff not installed")
    def test_man_page_renders_without_warnings(self):
        path = os.path.join(ROOT, "docs", "keystile.1")
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")


if __name__ == "__main__":
    unittest.main()

"""Bad usage exits 2 with a useful message; configuration problems exit 2;
an unreachable server exits 1 naming the URL. No server needed."""
from clitest import clean_env, free_port, run

KEY = "kst-acme-abcdefghij"
TOKEN = "kstt_" + "A" * 49
ENV = clean_env(KEYSTILE_URL="http://127.0.0.1:9", KEYSTILE_KEY=KEY, KEYSTILE_TOKEN=TOKEN)

import unittest  # noqa: E402


class UsageTest(unittest.TestCase):
    def usage(self, args, *words, env=ENV):
        p = run(args, env=env)
        self.assertEqual(p.returncode, 2, "%s: exit %d: %s" % (args, p.returncode, p.stderr))
        self.assertEqual(p.stdout, "")
        for w in words:
            self.assertIn(w, p.stderr)
        return p

    def test_unknown_command_and_subcommand(self):
        self.usage(["frobnicate"], "unknown command 'frobnicate'", "Usage: keystile")
        self.usage(["keys", "frob"], "unknown command 'frob'", "renew", "delete-old-token")
        self.usage(["roles", "rename"], "unknown command 'rename'")
        self.usage(["keys"], "missing COMMAND")
        self.usage(["settings"], "missing COMMAND", "get")

    def test_unknown_and_malformed_options(self):
        self.usage(["keys", "list", "--bogus"], "unknown option '--bogus'", "Usage: keystile keys list",
                   "keystile keys list --help")
        self.usage(["keys", "list", "-x"], "unknown option '-x'")
        self.usage(["keys", "create", "--name"], "--name needs a value")
        self.usage(["keys", "create", "--name", "a", "--name", "b"], "--name given twice")
        self.usage(["keys", "list", "--json=yes"], "--json takes no value")
        self.usage(["keys", "list", "extra"], "unexpected argument 'extra'")
        self.usage(["keys", "show", "a", "b"], "unexpected extra argument 'b'")
        self.usage(["keys", "delete", "k", "--force"], "unknown option '--force'")
        self.usage(["verify", "--limit", "3"], "unknown option '--limit'")

    def test_missing_arguments(self):
        for args in (["keys", "show"], ["keys", "edit"], ["keys", "activate"], ["keys", "deactivate"],
                     ["keys", "delete"], ["keys", "renew"], ["keys", "delete-old-token"],
                     ["keys", "undo-renewal"], ["external", "add"], ["external", "edit"],
                     ["external", "remove"]):
            with self.subTest(args=args):
                self.usage(args, "missing KEY", "Usage: keystile " + " ".join(args))
        for args in (["roles", "create"], ["roles", "edit"], ["roles", "delete"]):
            with self.subTest(args=args):
                self.usage(args, "missing NAME")
        self.usage(["keys", "create"], "missing --name")
        self.usage(["keys", "create", "--name=x", "--role"], "--role needs a value")

    def test_configuration(self):
        self.usage(["keys", "list"], "KEYSTILE_URL", env=clean_env(KEYSTILE_KEY=KEY, KEYSTILE_TOKEN=TOKEN))
        self.usage(["keys", "list"], "KEYSTILE_KEY", env=clean_env(KEYSTILE_URL="http://x", KEYSTILE_TOKEN=TOKEN))
        self.usage(["keys", "list"], "KEYSTILE_TOKEN", env=clean_env(KEYSTILE_URL="http://x", KEYSTILE_KEY=KEY))
        self.usage(["keys", "list", "--url", "ftp://x"], "http:// or https://")
        self.usage(["keys", "list", "--key", "not-a-key"], "cannot tell the account", "--account")
        self.usage(["keys", "list", "--account", "Bad_Name"], "--account")

    def test_unreachable_server(self):
        url = "http://127.0.0.1:%d" % free_port()
        p = run(["keys", "list", "--url", url], env=ENV)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("cannot reach the Keystile server at " + url, p.stderr)
        self.assertEqual(p.stdout, "")
        p = run(["verify", "--url", url + "/"], env=ENV)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(url, p.stderr)
        self.assertNotIn(TOKEN, p.stderr)

    def test_destructive_refusal_comes_before_the_network(self):
        # Not a terminal and no --yes: 2, even though the server is unreachable.
        for args in (["keys", "delete", KEY], ["keys", "delete-old-token", KEY], ["roles", "delete", "r"],
                     ["external", "remove", KEY]):
            with self.subTest(args=args):
                self.usage(args, "--yes", "not a terminal")

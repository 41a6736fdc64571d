"""Confirmation of destructive commands on a terminal: the question goes to
stderr, "y" goes ahead, anything else cancels with exit 1."""
import os
import pty
import subprocess

from clitest import BIN, CliCase, check_sanitizer


class ConfirmTest(CliCase):
    ACCOUNTS = ("tty",)

    def on_terminal(self, args, answer):
        """Runs the client with stdin on a pseudo-terminal and types answer."""
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([BIN] + args, env=self.env(), stdin=slave, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            os.write(master, answer.encode() + b"\n")
            out, err = proc.communicate(timeout=30)
        finally:
            os.close(slave)
            os.close(master)
        check_sanitizer(args, err)
        return proc.returncode, out.decode(), err.decode()

    def test_declined_then_confirmed(self):
        k = self.create_key()
        rc, out, err = self.on_terminal(["keys", "delete", k["key"]], "n")
        self.assertEqual(rc, 1, err)
        self.assertIn("Delete key %s" % k["key"], err)
        self.assertIn("[y/N]", err)
        self.assertIn("cancelled", err)
        self.ok("keys", "show", k["key"])
        rc, out, err = self.on_terminal(["keys", "delete", k["key"]], "y")
        self.assertEqual(rc, 0, err)
        self.assertIn("Deleted key", out)
        self.fails(1, "keys", "show", k["key"])

    def test_yes_skips_the_question(self):
        k = self.create_key()
        self.ok("keys", "renew", k["key"])
        rc, out, err = self.on_terminal(["keys", "delete-old-token", k["key"], "--yes"], "")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("[y/N]", err)
        self.assertEqual([t["slot"] for t in self.json_of("keys", "show", k["key"])["tokens"]], ["current"])

"""make install (#8): PREFIX and DESTDIR are honoured; the binary, man page, systemd unit
and nginx example land where they should; the unit is sandboxed and valid."""
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TestInstall(unittest.TestCase):

    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="keystile-install-")
        self.addCleanup(shutil.rmtree, self.dest, True)
        build = os.path.relpath(os.path.dirname(os.environ.get("KEYSTILE_BIN", os.path.join(ROOT, "build", "keystile"))), ROOT)
        args = ["make", "-s", "--no-print-directory", "-C", ROOT, "install", "DESTDIR=" + self.dest,
                "PREFIX=/opt/ks"]
        if build.startswith("build/san"):
            args.append("SANITIZE=1")
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(p.returncode, 0, p.stdout.decode())

    def test_files_in_place(self):
        root = self.dest + "/opt/ks"
        for path, mode in (("bin/keystile", 0o755), ("share/man/man1/keystile.1", 0o644),
                           ("lib/systemd/system/keystile.service", 0o644),
                           ("share/doc/keystile/keystile.conf", 0o644)):
            full = os.path.join(root, path)
            self.assertTrue(os.path.isfile(full), path)
            self.assertEqual(os.stat(full).st_mode & 0o777, mode, path)
        p = subprocess.run([os.path.join(root, "bin/keystile"), "--help"], stdout=subprocess.PIPE)
        self.assertEqual(p.returncode, 0)

    def test_unit_is_sandboxed_and_points_at_the_binary(self):
        with open(os.path.join(self.dest, "opt/ks/lib/systemd/system/keystile.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/opt/ks/bin/keystile serve", unit)
        self.assertNotIn("@BINDIR@", unit)
        for line in ("DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=keystile",
                     "NoNewPrivileges=yes", "PrivateTmp=yes"):
            self.assertIn(line, unit)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
    def test_systemd_analyze_verify(self):
        unit = os.path.join(self.dest, "opt/ks/lib/systemd/system/keystile.service")
        with open(unit) as f:
            text = f.read().replace("/opt/ks/bin/keystile", self.dest + "/opt/ks/bin/keystile")
        with open(unit, "w") as f:
            f.write(text)
        p = subprocess.run(["systemd-analyze", "verify", unit], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.decode()
        # only complaints about this unit count (the host may lack other units)
        mine = [l for l in out.splitlines() if "keystile.service" in l and "not found" not in l.lower()
                and "Command 'man" not in l]  # the man page is not installed on this host
        self.assertEqual(mine, [], out)


if __name__ == "__main__":
    unittest.main()

"""keys export: CSV to stdout, XLSX to a file or a pipe, refused on a
terminal, and no file left behind by an API error."""
import os
import pty
import subprocess
import tempfile
import unittest

from clitest import BIN, CliCase, check_sanitizer

CSV_HEADER = ("key,name,type,roles,status,created_at,outdated,current_token_created_at,"
              "old_token_created_at,last_used_at")


class ExportTest(CliCase):
    ACCOUNTS = ("exports",)

    @classmethod
    def prepare(cls):
        status, _ = cls.server.http("GET", "/api/v1/accounts/exports/keys/export", account="exports")
        cls.supported = status == 200

    def setUp(self):
        if not self.supported:
            raise unittest.SkipTest("server has no keys/export endpoint yet")
        self.tmp = tempfile.mkdtemp(prefix="keystile-export-")

    def tearDown(self):
        if self.supported:
            for f in os.listdir(self.tmp):
                os.unlink(os.path.join(self.tmp, f))
            os.rmdir(self.tmp)

    def test_csv_to_stdout(self):
        k = self.create_key(name='comma, "quoted" name', roles=["Owner"])
        p = self.ok("keys", "export")
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], CSV_HEADER)
        row = [line for line in lines if k["key"] in line]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertIn('"comma, ""quoted"" name"', row[0])
        self.assertNotIn(k["token"], p.stdout)
        self.assertEqual(self.ok("keys", "export", "--format", "csv").stdout.splitlines()[0], CSV_HEADER)

    def test_include_limits(self):
        k = self.create_key(roles=["Owner"])
        self.ok("keys", "edit", k["key"], "--allow-cidr", "10.0.0.0/8", "--rate-limit", "7", "--rate-period", "2")
        lines = self.ok("keys", "export", "--include", "limits").stdout.splitlines()
        self.assertEqual(lines[0], CSV_HEADER + ",allowed_cidrs,rate_limit,rate_period_seconds")
        row = [line for line in lines if k["key"] in line]
        self.assertEqual(len(row), 1, lines)
        self.assertTrue(row[0].endswith('"10.0.0.0/8","7","2"'), row[0])
        p = self.fails(2, "keys", "export", "--include", "tokens")
        self.assertIn("--include", p.stderr)

    def test_xlsx_to_file_and_pipe(self):
        path = os.path.join(self.tmp, "keys.xlsx")
        p = self.ok("keys", "export", "--format", "xlsx", "--output", path)
        self.assertIn("keys.xlsx", p.stderr)
        with open(path, "rb") as f:
            self.assertEqual(f.read(2), b"PK")
        # stdout not a terminal (a pipe): allowed
        q = subprocess.run([BIN, "keys", "export", "--format", "xlsx"], env=self.env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        check_sanitizer(["keys", "export"], q.stderr)
        self.assertEqual(q.returncode, 0, q.stderr)
        self.assertEqual(q.stdout[:2], b"PK")

    def test_xlsx_refused_on_a_terminal(self):
        master, slave = pty.openpty()
        try:
            q = subprocess.run([BIN, "keys", "export", "--format", "xlsx"], env=self.env(),
                               stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, timeout=30)
        finally:
            os.close(slave)
            os.close(master)
        check_sanitizer(["keys", "export"], q.stderr)
        self.assertEqual(q.returncode, 2)
        self.assertIn(b"--output", q.stderr)

    def test_errors_leave_no_file(self):
        path = os.path.join(self.tmp, "nope.csv")
        p = self.fails(1, "keys", "export", "--output", path, token="kstt_" + "B" * 49)
        self.assertTrue(p.stderr.startswith("keystile: unauthenticated: "), p.stderr)
        self.assertFalse(os.path.exists(path))
        p = self.fails(1, "keys", "export", "--output", os.path.join(self.tmp, "no", "such", "dir.csv"))
        self.assertIn("cannot write", p.stderr)
        p = self.fails(2, "keys", "export", "--format", "pdf")
        self.assertIn("csv or xlsx", p.stderr)
        self.fails(2, "keys", "export", "--json")

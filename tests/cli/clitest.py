"""Helpers for the command-line client tests of Keystile (Python 3 stdlib only).

`Server` runs the real binary (env KEYSTILE_BIN, default <repo>/build/keystile):
`keystile account create` for each account on a fresh temporary database, then
`keystile serve` on a free loopback port (stderr to a file), waits for
GET /healthz, and stops with SIGTERM. `CliCase` starts one server per test
class and runs the client with that server's URL and an account's Owner
credential in the environment.
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("KEYSTILE_BIN") or os.path.join(ROOT, "build", "keystile")
TOKEN_RE = re.compile(r"kstt_[0-9A-Za-z]{49}")
KEY_RE = re.compile(r"kst-[a-z][a-z0-9-]*-[a-z2-7]{10}")


def uid(prefix="t"):
    return "%s%s" % (prefix, uuid.uuid4().hex[:8])


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def clean_env(**extra):
    """The environment without KEYSTILE_* variables, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYSTILE_")}
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def run(args, env=None, stdin=subprocess.DEVNULL, input=None, timeout=30):
    """Runs BIN with args; returns CompletedProcess with text stdout/stderr."""
    if input is not None:
        stdin = None
    p = subprocess.run([BIN] + list(args), env=env if env is not None else clean_env(),
                       stdin=stdin, input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, text=True)
    check_sanitizer(args, p.stderr)
    return p


SANITIZER_RE = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error: |SUMMARY: UndefinedBehaviorSanitizer")


def check_sanitizer(args, stderr):
    """Fails on a sanitizer report (a leak exits 1, which some tests expect anyway)."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    if SANITIZER_RE.search(stderr or ""):
        raise AssertionError("sanitizer report from keystile %s:\n%s" % (" ".join(args), stderr[-4000:]))


_LIVE = set()  # servers not closed yet: closed at exit whatever happened


@atexit.register
def _close_all():
    for server in list(_LIVE):
        server.close()


class Server:
    """A keystile server on a temporary database with the given accounts."""

    def __init__(self, accounts):
        if not os.access(BIN, os.X_OK):
            raise RuntimeError("keystile binary not found at %s (run make or set KEYSTILE_BIN)" % BIN)
        self.dir = tempfile.mkdtemp(prefix="keystile-cli-")
        self.db = os.path.join(self.dir, "k.db")
        self.log_path = os.path.join(self.dir, "server.log")
        self.accounts = {}
        self.proc = None
        _LIVE.add(self)
        try:
            for name in accounts:
                p = run(["account", "create", name, "--db", self.db])
                if p.returncode != 0:
                    raise RuntimeError("account create %s: exit %d: %s" % (name, p.returncode, p.stderr))
                info = json.loads(p.stdout)
                assert set(info) == {"account", "key", "token"}, info
                self.accounts[name] = info
            self.start()
        except BaseException:
            self.close()
            raise

    def start(self, attempts=5):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self._log = open(self.log_path, "ab")
        log_from = self._log.tell()
        self.proc = subprocess.Popen([BIN, "serve", "--db", self.db, "--listen", "127.0.0.1:%d" % self.port],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log,
                                     cwd=self.dir)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if attempts > 1 and self._port_taken(log_from):
                    # another lane's server took the port between
                    # free_port() and our bind: another port
                    self._log.close()
                    return self.start(attempts - 1)
                raise RuntimeError("server exited at start (%s): %s" % (self.proc.returncode, self.log()))
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server not healthy within 15 s: %s" % self.log())

    def _port_taken(self, offset):
        """1 when the server's log since offset says its port was in use."""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return b"cannot listen on 127.0.0.1:%d" % self.port in f.read()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-3000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        """SIGTERM, wait, SIGKILL if needed; removes the temporary directory."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        _LIVE.discard(self)

    def http(self, method, path, body=None, account="acme", key=None, token=None):
        """A direct API call (to check the client against the API); returns (status, JSON or bytes)."""
        info = self.accounts[account]
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("X-API-Key", key or info["key"])
        req.add_header("X-API-Token", token or info["token"])
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw


def server_env(server, account, key=None, token=None, url=None):
    """Environment for the client: the server's URL and the account's Owner credential."""
    info = server.accounts[account]
    return clean_env(KEYSTILE_URL=url or server.url, KEYSTILE_KEY=key or info["key"],
                     KEYSTILE_TOKEN=token or info["token"])


class CliCase(unittest.TestCase):
    """One server per class; self.cli(...) runs the client as ACCOUNTS[0]'s Owner."""

    ACCOUNTS = ("acme",)
    maxDiff = 5000

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.ACCOUNTS)
        try:
            cls.prepare()
        except BaseException:
            cls.server.close()  # tearDownClass does not run when setUpClass fails
            raise

    @classmethod
    def prepare(cls):
        """Per-class fixtures, run once the server is up."""

    @classmethod
    def class_cli(cls, *args, account=None):
        """Runs the client as an account's Owner from class methods; exit 0 or AssertionError."""
        p = run(args, env=server_env(cls.server, account or cls.ACCOUNTS[0]))
        if p.returncode != 0:
            raise AssertionError("keystile %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
        return p

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    @property
    def account(self):
        return self.ACCOUNTS[0]

    def env(self, account=None, key=None, token=None, url=None):
        return server_env(self.server, account or self.account, key, token, url)

    def cli(self, *args, account=None, key=None, token=None, env=None, **kw):
        return run(args, env=env or self.env(account, key, token), **kw)

    def ok(self, *args, **kw):
        p = self.cli(*args, **kw)
        self.assertEqual(p.returncode, 0, "keystile %s: exit %d\nstdout: %s\nstderr: %s"
                         % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def fails(self, code, *args, **kw):
        p = self.cli(*args, **kw)
        self.assertEqual(p.returncode, code, "keystile %s: exit %d, want %d\nstdout: %s\nstderr: %s"
                         % (" ".join(args), p.returncode, code, p.stdout, p.stderr))
        return p

    def json_of(self, *args, **kw):
        return json.loads(self.ok(*(args + ("--json",)), **kw).stdout)

    def create_key(self, name=None, roles=(), account=None):
        """keys create --json; returns the API object (with its token)."""
        args = ["keys", "create", "--name", name or uid("key-")]
        for r in roles:
            args += ["--role", r]
        return self.json_of(*args, account=account)

    def verify(self, key, token, *extra):
        """keystile verify with that credential; returns the CompletedProcess."""
        return run(["verify", "--json"] + list(extra), env=self.env(key=key, token=token))

    def assertTable(self, text, headers):
        """Checks an aligned table: the header row, then rows whose cells start
        at the header's column positions. Returns the rows as lists of cells."""
        lines = text.rstrip("\n").split("\n")
        self.assertEqual(lines[0].split(), headers, text)
        starts = [lines[0].index(h + " ") if i + 1 < len(headers) else lines[0].rindex(h)
                  for i, h in enumerate(headers)]
        rows = []
        for line in lines[1:]:
            cells = []
            for i, s in enumerate(starts):
                end = starts[i + 1] if i + 1 < len(starts) else len(line)
                self.assertTrue(s == 0 or line[s - 1] == " ", "column %s not aligned in %r" % (headers[i], line))
                self.assertNotEqual(line[s:s + 1], " ", "column %s not aligned in %r" % (headers[i], line))
                cells.append(line[s:end].strip())
            rows.append(cells)
        return rows

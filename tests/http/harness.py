"""Helpers for the black-box HTTP tests of Keystile.

Python 3 standard library only. A `Server` runs the real binary
(env KEYSTILE_BIN, default <repo>/build/keystile) on a free loopback port with a
database in a fresh temporary directory; `request()` is a tiny HTTP client.

With KEYSTILE_TEST_DB_URL set to a PostgreSQL base URI (postgresql://user@host:port/,
see tests/pg/run.py), each Server gets a fresh PostgreSQL database instead (dropped
by cleanup()) and a secret file of its own, passed as --secret-file.
"""
import atexit
import base64
import datetime
import http.client
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("KEYSTILE_BIN") or os.path.join(ROOT, "build", "keystile")

API = "/api/v1"

# PostgreSQL instead of SQLite: the base URI of a cluster (tests/pg/run.py).
PG_URL = os.environ.get("KEYSTILE_TEST_DB_URL") or None
PG_BIN = os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin"


def pg_admin(sql, db="postgres"):
    """Runs one SQL command on the KEYSTILE_TEST_DB_URL cluster (psql)."""
    subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "-c", sql, PG_URL + db], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=60)


# KEYSTILE_VALGRIND=1 runs every server under valgrind (make test-valgrind):
# memory errors and definite/indirect leaks then fail the test class.
VALGRIND = (["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=definite,indirect",
             "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99"]
            if os.environ.get("KEYSTILE_VALGRIND") == "1" else [])
START_TIMEOUT = 60 if VALGRIND else 10

MANAGEMENT_RESOURCES = [
    "view-api-keys",
    "edit-api-keys",
    "renew-api-token",
    "edit-api-keys-settings",
    "edit-roles",
    "view-audit-log",
    "edit-users",
    "edit-webhooks",
]
OWNER = "Owner"
USER_ADMIN = "User Administrator - RESTRICTED"
USER_ADMIN_RESOURCES = ["view-api-keys", "edit-api-keys", "renew-api-token",
                        "edit-api-keys-settings", "edit-users"]

KEY_FIELDS = {"key", "name", "type", "roles", "status", "created_at", "outdated",
              "renewal_alert", "tokens", "allowed_cidrs", "rate_limit"}
TOKEN_FIELDS = {"slot", "created_at", "expires_at", "last_used_at", "last_used_from", "ends_at"}
VERIFY_OK_FIELDS = {"valid", "key", "account", "target_account", "token", "roles",
                    "resources", "outdated"}
AUDIT_FIELDS = {"at", "actor", "action", "target", "detail", "via", "address"}

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
KEY_RE = r"kst-%s-[a-z2-7]{10}"
TOKEN_RE = re.compile(r"kstt_[0-9A-Za-z]{49}")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:00)$")

# ---------------------------------------------------------------- formats


def base62_crc(body):
    """6 base62 chars (left-padded with '0') of the CRC32 of `body`."""
    n = zlib.crc32(body.encode("ascii")) & 0xFFFFFFFF
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(6, "0")


def token_checksum_ok(token):
    if not TOKEN_RE.fullmatch(token or ""):
        return False
    body = token[5:48]
    return token[48:] == base62_crc(body)


def make_token():
    """A well-formed token (valid checksum) that no server ever issued."""
    rnd = random.SystemRandom()
    body = "".join(rnd.choice(BASE62) for _ in range(43))
    return "kstt_" + body + base62_crc(body)


def typo(token):
    """The token with one character of its random part changed (bad checksum)."""
    i = 20
    c = token[i]
    repl = "A" if c != "A" else "B"
    return token[:i] + repl + token[i + 1:]


def parse_time(s):
    """RFC 3339 UTC string -> aware datetime."""
    if not isinstance(s, str) or not RFC3339_RE.match(s):
        raise ValueError("not an RFC 3339 UTC time: %r" % (s,))
    s2 = s.replace("Z", "+00:00")
    # Python 3.10 fromisoformat wants 3 or 6 fraction digits.
    m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", s2)
    frac = m.group(2) or ""
    if frac:
        frac = "." + (frac[1:] + "000000")[:6]
    return datetime.datetime.fromisoformat(m.group(1) + frac + m.group(3))


def add_months(dt, months):
    """Calendar months, day clamped to the end of the month."""
    y = dt.year + (dt.month - 1 + months) // 12
    mo = (dt.month - 1 + months) % 12 + 1
    for day in (dt.day, 30, 29, 28):
        if day <= dt.day:
            try:
                return dt.replace(year=y, month=mo, day=day)
            except ValueError:
                continue
    raise AssertionError("unreachable")


def uid(prefix="t"):
    return "%s%s" % (prefix, uuid.uuid4().hex[:10])


def q(segment):
    """URL-encode one path segment (role names contain spaces)."""
    return urllib.parse.quote(segment, safe="")


def acct(account, *segments):
    """/api/v1/accounts/{account}/seg/seg... with every segment encoded."""
    path = API + "/accounts/" + q(account)
    for s in segments:
        path += "/" + q(s)
    return path


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ---------------------------------------------------------------- client

_DEFAULT = object()


class Response(tuple):
    """(status, headers, data) with attribute access too."""

    def __new__(cls, status, headers, data, raw):
        self = tuple.__new__(cls, (status, headers, data))
        self.raw = raw
        return self

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    data = property(lambda self: self[2])

    def __repr__(self):
        body = self.raw[:600]
        return "<HTTP %s %r>" % (self[0], body)


def request(port, method, path, body=None, key=None, token=None, headers=None,
            basic=False, raw=None, content_type=_DEFAULT, timeout=20, source=None):
    """One HTTP request on a fresh connection.

    body: a JSON value (sent as JSON with Content-Type application/json unless
    content_type says otherwise); raw: bytes sent as they are (no Content-Type
    unless content_type is given). source: the loopback address to send from
    (e.g. "127.0.0.2"), to act as another client address. Returns
    Response(status, headers, data) where data is the parsed JSON, or the raw
    bytes when the body is not JSON.
    """
    hdrs = {}
    payload = None
    if raw is not None:
        payload = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        if content_type is not _DEFAULT and content_type is not None:
            hdrs["Content-Type"] = content_type
    elif body is not None:
        payload = json.dumps(body).encode("utf-8")
        if content_type is _DEFAULT:
            hdrs["Content-Type"] = "application/json"
        elif content_type is not None:
            hdrs["Content-Type"] = content_type
    if basic:
        cred = ("%s:%s" % (key or "", token or "")).encode("utf-8")
        hdrs["Authorization"] = "Basic " + base64.b64encode(cred).decode("ascii")
    else:
        if key is not None:
            hdrs["X-API-Key"] = key
        if token is not None:
            hdrs["X-API-Token"] = token
    if headers:
        hdrs.update(headers)
    if payload is not None or method in ("POST", "PUT", "PATCH"):
        hdrs["Content-Length"] = str(len(payload or b""))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders()
            if payload:
                conn.send(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) and close before reading it all
        resp = conn.getresponse()
        data = resp.read()
        status = resp.status
        rh = resp.headers
    finally:
        conn.close()
    parsed = data
    if data:
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            parsed = data
    else:
        parsed = None
    return Response(status, rh, parsed, data)


# ---------------------------------------------------------------- server

_LIVE = set()
_LIVE_LOCK = threading.Lock()


def _stop_all():
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for s in servers:
        try:
            s.stop()
        except Exception:
            try:
                s.kill9()
            except Exception:
                pass
        if not os.environ.get("KEYSTILE_KEEP_TMP"):
            s.cleanup()


atexit.register(_stop_all)


def _on_term(signum, frame):
    _stop_all()
    sys.exit(128 + signum)


try:
    signal.signal(signal.SIGTERM, _on_term)
except ValueError:  # not the main thread
    pass


def create_account(db, name, bin_path=BIN, secret_file=None):
    """`keystile account create NAME --db DB` -> {"account","key","token"}."""
    extra = ["--secret-file", secret_file] if secret_file else []
    p = subprocess.run([bin_path, "account", "create", name, "--db", db] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("account create %s failed (exit %d): %s" % (
            name, p.returncode, p.stderr.decode("utf-8", "replace")))
    lines = [l for l in p.stdout.decode("utf-8").splitlines() if l.strip()]
    if len(lines) != 1:
        raise RuntimeError("account create printed %d lines, want 1" % len(lines))
    return json.loads(lines[0])


class Server:
    """A keystile server on a temp database. Accounts are created before start."""

    def __init__(self, accounts=("acme",), clock_offset_days=None, start=True,
                 extra_args=()):
        if not os.path.isfile(BIN) or not os.access(BIN, os.X_OK):
            raise RuntimeError("keystile binary not found at %s (run make or set "
                               "KEYSTILE_BIN)" % BIN)
        self.dir = tempfile.mkdtemp(prefix="keystile-http-")
        self.db = os.path.join(self.dir, "k.db")
        self.secret_file = self.db + ".secret"
        self.pg_db = None
        if PG_URL:
            self.pg_db = "ks_" + uuid.uuid4().hex[:12]
            pg_admin("CREATE DATABASE " + self.pg_db)
            self.db = PG_URL + self.pg_db
            self.secret_file = os.path.join(self.dir, "secret")
            fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, os.urandom(32))
            os.close(fd)
        self.log_path = os.path.join(self.dir, "server.log")
        self.port = None
        self.proc = None
        self._log = None
        self.args = list(extra_args)
        if clock_offset_days is not None:
            self.args += ["--clock-offset-days", str(clock_offset_days)]
        self.accounts = {}
        self.issued_tokens = []  # every plaintext token seen, for the leak scan
        try:
            for name in accounts:
                self.add_account(name)
            if start:
                self.start()
        except BaseException:
            if not os.environ.get("KEYSTILE_KEEP_TMP"):
                self.cleanup()
            raise

    # credentials of the first account's Owner key
    @property
    def account(self):
        return next(iter(self.accounts))

    @property
    def key(self):
        return self.accounts[self.account]["key"]

    @property
    def token(self):
        return self.accounts[self.account]["token"]

    def add_account(self, name):
        info = create_account(self.db, name,
                              secret_file=self.secret_file if self.pg_db else None)
        self.accounts[name] = info
        self.issued_tokens.append(info["token"])
        return info

    def start(self, extra_args=None, attempts=5):
        if extra_args is not None:
            self.args = list(extra_args)
        assert self.proc is None, "server already running"
        self.port = free_port()
        cmd = VALGRIND + [BIN, "serve", "--db", self.db, "--listen",
               "127.0.0.1:%d" % self.port] + self.args
        if self.pg_db:
            cmd += ["--secret-file", self.secret_file]
        self._log = open(self.log_path, "ab")
        log_from = self._log.tell()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        with _LIVE_LOCK:
            _LIVE.add(self)
        deadline = time.time() + START_TIMEOUT
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self._reap()
                if attempts > 1 and self._port_taken(log_from):
                    # another lane's server took the port between
                    # free_port() and our bind: another port
                    return self.start(attempts=attempts - 1)
                raise RuntimeError("server exited with %s at start; log:\n%s" % (
                    self.proc_rc, self.log_tail()))
            # Ours, not another suite's server that took the port between
            # free_port() and our bind (lanes run at once; valgrind is slow
            # to bind): its own log says it listens there.
            if not self._logged_listening(log_from):
                time.sleep(0.05)
                continue
            try:
                r = request(self.port, "GET", "/healthz", timeout=2)
                if r.status == 200:
                    return
                last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError("server not healthy within %d s (%r); log:\n%s" % (START_TIMEOUT,
            last, self.log_tail()))

    def _port_taken(self, offset):
        """True when the log since offset says the port was in use."""
        want = ("cannot listen on 127.0.0.1:%d" % self.port).encode()
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return want in f.read()

    def _logged_listening(self, offset):
        want = ('"address":"127.0.0.1:%d"' % self.port).encode()
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return any(b'"msg":"listening"' in line and want in line for line in f)

    def _reap(self):
        self.proc_rc = self.proc.returncode
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def stop(self):
        """SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reap()
        return self.proc_rc

    def kill9(self):
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._reap()

    def restart(self, extra_args=None):
        self.stop()
        self.start(extra_args)

    def cleanup(self):
        if self.proc is not None:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pg_db:
            try:
                pg_admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.pg_db)
            except Exception:
                pass  # the cluster may be gone already
            self.pg_db = None

    def sanitizer_reports(self):
        """Excerpt of ASan/UBSan/LSan reports in the server log, or ''."""
        try:
            with open(self.log_path, "rb") as f:
                log = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                       "runtime error:", "ThreadSanitizer"):
            i = log.find(marker)
            if i >= 0:
                return log[max(0, i - 200):i + 3000]
        m = re.search(r"==\d+== (Invalid |Conditional jump|Use of uninitialised|Syscall param|"
                      r"Mismatched free|Source and destination overlap|.*(definitely|indirectly) lost)", log)
        if m:
            return log[max(0, m.start() - 200):m.start() + 3000]
        return ""

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    # ------------------------------------------------------------ client

    def request(self, method, path, body=None, key=None, token=None, headers=None,
                basic=False, **kw):
        return request(self.port, method, path, body=body, key=key, token=token,
                       headers=headers, basic=basic, **kw)

    def owner(self, account=None):
        info = self.accounts[account or self.account]
        return info["key"], info["token"]


# ---------------------------------------------------------------- test base


class KeystileCase(unittest.TestCase):
    """One server per test class. Helpers act as the first account's Owner."""

    ACCOUNTS = ("acme",)
    CLOCK_OFFSET = None
    SERVER_ARGS = ()  # extra `keystile serve` flags of the class's server
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.server = Server(accounts=cls.ACCOUNTS, clock_offset_days=cls.CLOCK_OFFSET,
                            extra_args=cls.SERVER_ARGS)

    @classmethod
    def tearDownClass(cls):
        srv = getattr(cls, "server", None)
        if srv is not None:
            srv.stop()
            reports = srv.sanitizer_reports()
            if not os.environ.get("KEYSTILE_KEEP_TMP"):
                srv.cleanup()
            if reports:
                raise AssertionError("sanitizer report in the server log:\n" + reports)

    # --- raw calls

    @property
    def A(self):
        return self.server.account

    def call(self, method, path, body=None, cred=_DEFAULT, **kw):
        """Request as the Owner (cred=(key, token)), or cred=None for none."""
        if cred is _DEFAULT:
            cred = self.server.owner()
        key, token = cred if cred is not None else (None, None)
        return self.server.request(method, path, body=body, key=key, token=token,
                                   **kw)

    def verify(self, key=None, token=None, account=None, resource=None,
               method="GET", basic=False, headers=None):
        params = {}
        if account is not None:
            params["account"] = account
        if resource is not None:
            params["resource"] = resource
        path = API + "/verify"
        if params:
            path += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        return self.server.request(method, path, key=key, token=token, basic=basic,
                                   headers=headers)

    # --- assertions

    def assertStatus(self, r, status, msg=None):
        self.assertEqual(r.status, status, "%s%r" % ((msg + ": ") if msg else "", r))

    def assertError(self, r, status, code, field=None):
        self.assertStatus(r, status)
        self.assertIsInstance(r.data, dict, "error body is not JSON: %r" % (r,))
        self.assertEqual(set(r.data), {"error"}, r)
        err = r.data["error"]
        self.assertIsInstance(err, dict, r)
        self.assertEqual(err.get("code"), code, r)
        self.assertIsInstance(err.get("message"), str, r)
        self.assertTrue(err["message"], r)
        if field is not None:
            self.assertIn(field.lower(), err["message"].lower(),
                          "message does not name %r: %r" % (field, r))
        self.assertIn("application/json", r.headers.get("Content-Type", ""), r)

    def assertVerifyOK(self, r, key, token_slot="current", account=None):
        self.assertStatus(r, 200)
        d = r.data
        self.assertIsInstance(d, dict, r)
        self.assertTrue(VERIFY_OK_FIELDS <= set(d), "missing fields: %r" % (r,))
        self.assertIs(d["valid"], True, r)
        self.assertEqual(d["key"], key, r)
        self.assertEqual(d["token"], token_slot, r)
        home = key.split("-")[1]
        self.assertEqual(d["account"], home, r)
        self.assertEqual(d["target_account"], account or home, r)
        self.assertIsInstance(d["roles"], list, r)
        self.assertIsInstance(d["resources"], list, r)
        self.assertIsInstance(d["outdated"], bool, r)
        self.assertEqual(r.headers.get("X-Keystile-Key"), key, r)
        self.assertEqual(r.headers.get("X-Keystile-Account"), home, r)
        return d

    def assertVerifyFail(self, r, status, reason):
        self.assertStatus(r, status)
        self.assertIsInstance(r.data, dict, r)
        self.assertIs(r.data.get("valid"), False, r)
        self.assertEqual(r.data.get("reason"), reason, r)
        self.assertIsNone(r.headers.get("X-Keystile-Key"), r)

    def assertKeyObject(self, k, account=None, with_token=False):
        account = account or self.A
        self.assertIsInstance(k, dict)
        extra = {"token", "share_url"} if with_token else set()
        self.assertTrue(KEY_FIELDS <= set(k), "missing fields in %r" % (k,))
        self.assertEqual(set(k) - KEY_FIELDS - extra, set(),
                         "unexpected fields in key object %r" % (k,))
        if with_token:
            self.assertIn("token", k)
        else:
            self.assertNotIn("token", k)
        self.assertRegex(k["key"], "^" + KEY_RE % re.escape(account) + "$")
        self.assertIsInstance(k["name"], str)
        self.assertEqual(k["type"], "generated")
        self.assertIsInstance(k["roles"], list)
        self.assertIn(k["status"], ("active", "inactive"))
        parse_time(k["created_at"])
        self.assertIsInstance(k["outdated"], bool)
        self.assertIn(k["renewal_alert"], ("none", "recommended", "highly_recommended"))
        self.assertIsInstance(k["tokens"], list)
        self.assertIn(len(k["tokens"]), (1, 2), k)
        self.assertEqual(k["tokens"][0].get("slot"), "current", k)
        if len(k["tokens"]) == 2:
            self.assertEqual(k["tokens"][1].get("slot"), "old", k)
        for t in k["tokens"]:
            self.assertEqual(set(t), TOKEN_FIELDS, k)
            parse_time(t["created_at"])
            parse_time(t["expires_at"])
            if t["last_used_at"] is not None:
                parse_time(t["last_used_at"])
            if t["last_used_from"] is not None:
                ipaddress.ip_address(t["last_used_from"])  # an address, nothing else

    def assertToken(self, token):
        self.assertIsInstance(token, str)
        self.assertRegex(token, "^" + TOKEN_RE.pattern + "$")
        self.assertTrue(token_checksum_ok(token), "bad CRC32 suffix in %s" % token)

    # --- actions as Owner (or cred)

    def create_key(self, name=None, roles=None, cred=_DEFAULT, account=None):
        body = {"name": name or uid("key-")}
        if roles is not None:
            body["roles"] = roles
        r = self.call("POST", acct(account or self.A, "keys"), body, cred=cred)
        self.assertStatus(r, 201, "create key")
        self.server.issued_tokens.append(r.data.get("token"))
        return r.data

    def get_key(self, key, account=None):
        r = self.call("GET", acct(account or self.A, "keys", key))
        self.assertStatus(r, 200, "get key")
        return r.data

    def patch_key(self, key, body, account=None):
        r = self.call("PATCH", acct(account or self.A, "keys", key), body)
        self.assertStatus(r, 200, "patch key")
        return r.data

    def renew(self, key, delete_old=None, account=None):
        body = None if delete_old is None else {"delete_old": delete_old}
        r = self.call("POST", acct(account or self.A, "keys", key, "renew"), body)
        self.assertStatus(r, 200, "renew")
        self.server.issued_tokens.append(r.data.get("token"))
        return r.data

    def create_role(self, resources, name=None, account=None):
        name = name or uid("role ")
        r = self.call("POST", acct(account or self.A, "roles"),
                      {"name": name, "resources": resources})
        self.assertStatus(r, 201, "create role")
        return name

    def cred_with(self, resources, account=None):
        """A fresh key whose only role holds exactly `resources`."""
        roles = []
        if resources:
            roles = [self.create_role(list(resources), account=account)]
        k = self.create_key(roles=roles, account=account)
        return k["key"], k["token"]

    def list_all(self, params, account=None, limit=None):
        """Walks next_cursor; returns every item."""
        items = []
        cursor = None
        for _ in range(1000):
            p = dict(params)
            if limit is not None:
                p["limit"] = str(limit)
            if cursor is not None:
                p["cursor"] = cursor
            path = acct(account or self.A, "keys")
            if p:
                path += "?" + urllib.parse.urlencode(p, quote_via=urllib.parse.quote)
            r = self.call("GET", path)
            self.assertStatus(r, 200, "list")
            items.extend(r.data["items"])
            cursor = r.data["next_cursor"]
            if cursor is None:
                return items
        self.fail("paging never ended")

    def audit(self, limit=500, account=None):
        r = self.call("GET", acct(account or self.A, "audit") + "?limit=%d" % limit)
        self.assertStatus(r, 200, "audit")
        return r.data["items"]


def wait_until(fn, timeout=8.0, interval=0.2):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() >= deadline:
            return v
        time.sleep(interval)

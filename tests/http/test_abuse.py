"""Abuse limits (issue 17, API.md "Abuse limits"), with several loopback
client addresses (127.0.0.2, 127.0.0.3, ...: the client socket is bound to
its source address):

- a request whose headers trickle in is cut --header-timeout after its first
  byte, on a new and on a kept-alive connection, while an idle connection
  and other clients are left alone;
- one address holds at most --per-address-connections connections, and 300
  idle ones from it do not delay a verify from another address;
- past --failed-auth-limit failed credentials a minute, an address gets 429
  rate_limited with Retry-After for failed attempts (verify, management
  calls, login, web sign-in, share reveals) while its valid credentials are
  answered as usual and other addresses still get 401;
- --trusted-proxy: the client address comes from X-Forwarded-For only when
  the peer is trusted (throttling and audit addresses);
- CSV and XLSX exports neutralise formulas; names refuse bidi and zero-width
  characters;
- the SQLite secret file: missing or different refuses to start, naming the
  file; only a new, empty database gets a new secret; an older database
  records its fingerprint;
- `keystile account create` on a running SQLite server's database is seen
  within 2 s.
"""
import csv
import http.client
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest
import zipfile

import harness
from harness import API, BIN, KeystileCase, Server, acct, create_account, make_token, request

HEADER_TIMEOUT = 2


def connect(port, source, timeout=5):
    """A TCP connection to the server from loopback address `source`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


_TCP_STATES = {"01": "ESTABLISHED", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
               "09": "LAST_ACK", "0A": "LISTEN", "04": "FIN_WAIT1", "05": "FIN_WAIT2"}


def server_sockets_to(port, peer):
    """{TCP state: count} of the server's sockets on `port` to loopback `peer`."""
    local = "0100007F:%04X" % port
    remote = "%02X%02X%02X%02X:" % tuple(reversed([int(x) for x in peer.split(".")]))
    counts = {}
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2].startswith(remote):
                name = _TCP_STATES.get(fields[3], fields[3])
                counts[name] = counts.get(name, 0) + 1
    return counts


def abuse_metrics(port):
    """The server's abuse counters, or why they could not be read."""
    try:
        text = request(port, "GET", "/metrics", timeout=5).raw.decode()
    except (OSError, http.client.HTTPException) as e:
        return repr(e)
    return " ".join(line for line in text.splitlines() if line.startswith("keystile_abuse_events_total"))


def closed_by_server(s, wait=0.0):
    """True when the server has closed s (EOF or reset) within `wait` seconds."""
    s.settimeout(wait if wait > 0 else 0.001)
    try:
        return s.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except (socket.timeout, BlockingIOError):
        return False


def trickle_until_cut(s, limit):
    """Sends one header byte every 0.2 s until the server closes s; the
    seconds from the first byte to the cut, or None when not cut within limit."""
    t0 = time.time()
    while time.time() - t0 < limit:
        try:
            s.send(b"x")
        except (BrokenPipeError, ConnectionResetError):
            return time.time() - t0
        if closed_by_server(s, 0.2):
            return time.time() - t0
    return None


class Client:
    """A keep-alive HTTP connection from one loopback source address."""

    def __init__(self, port, source):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))

    def call(self, method, path, key=None, token=None, headers=None, body=None):
        hdrs = dict(headers or {})
        if key is not None:
            hdrs["X-API-Key"] = key
        if token is not None:
            hdrs["X-API-Token"] = token
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=hdrs)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, r.headers, (json.loads(data) if data else None)

    def close(self):
        self.conn.close()


class TestHeaderDeadline(KeystileCase):
    SERVER_ARGS = ("--header-timeout", str(HEADER_TIMEOUT), "--idle-timeout", "30")

    def test_trickled_headers_are_cut_within_the_timeout(self):
        s = connect(self.server.port, "127.0.0.2")
        try:
            s.sendall(b"GET /api/v1/verify HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            took = trickle_until_cut(s, HEADER_TIMEOUT + 5)
        finally:
            s.close()
        self.assertIsNotNone(took, "a trickling client was never cut")
        self.assertGreaterEqual(took, HEADER_TIMEOUT - 0.3)
        self.assertLess(took, HEADER_TIMEOUT + 1.0, "cut %.2fs after the first byte" % took)

    def test_second_request_on_a_kept_alive_connection_is_cut_too(self):
        key, token = self.server.owner()
        s = connect(self.server.port, "127.0.0.2")
        try:
            s.sendall(("GET /api/v1/verify HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nX-API-Token: %s\r\n\r\n"
                       % (key, token)).encode())
            got = b""
            while b"\r\n\r\n" not in got or not got.rstrip().endswith(b"}"):
                got += s.recv(4096)
            self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:80])
            time.sleep(HEADER_TIMEOUT + 0.5)  # idle between requests: not a header deadline
            self.assertFalse(closed_by_server(s), "an idle kept-alive connection was cut")
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            took = trickle_until_cut(s, HEADER_TIMEOUT + 5)
        finally:
            s.close()
        self.assertIsNotNone(took, "a trickled second request was never cut")
        self.assertLess(took, HEADER_TIMEOUT + 1.0)

    def test_idle_connection_is_left_to_the_idle_timeout(self):
        s = connect(self.server.port, "127.0.0.3")
        try:
            time.sleep(HEADER_TIMEOUT + 1.0)
            self.assertFalse(closed_by_server(s), "a connection that sent nothing was cut")
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            s.settimeout(5)
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))
        finally:
            s.close()

    def test_others_are_served_while_clients_trickle(self):
        slow = []
        try:
            for _ in range(20):
                s = connect(self.server.port, "127.0.0.2")
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                slow.append(s)
            key, token = self.server.owner()
            for _ in range(10):
                t0 = time.time()
                r = request(self.server.port, "GET", API + "/verify", key=key, token=token, source="127.0.0.3")
                self.assertEqual(r.status, 200)
                self.assertLess(time.time() - t0, 1.0)
            time.sleep(HEADER_TIMEOUT + 1.0)
            self.assertTrue(all(closed_by_server(s, 0.5) for s in slow), "stalled requests outlived the deadline")
            metrics = request(self.server.port, "GET", "/metrics").raw.decode()
            m = re.search(r'keystile_abuse_events_total\{event="header_timeout"\} (\d+)', metrics)
            self.assertTrue(m and int(m.group(1)) >= 20, metrics[-600:])
        finally:
            for s in slow:
                s.close()


class TestPerAddressConnections(KeystileCase):

    def test_idle_connections_from_one_address_do_not_starve_another(self):
        held = []
        try:
            for _ in range(300):
                try:
                    held.append(connect(self.server.port, "127.0.0.2"))
                except OSError:
                    break
            time.sleep(0.5)
            key, token = self.server.owner()
            for _ in range(5):
                t0 = time.time()
                r = request(self.server.port, "GET", API + "/verify", key=key, token=token, source="127.0.0.3")
                self.assertEqual(r.status, 200)
                self.assertLess(time.time() - t0, 1.0, "a verify beside 300 idle connections")
            still_open = sum(1 for s in held if not closed_by_server(s, 0.01))
            self.assertLessEqual(still_open, 128, "one address kept more than 128 connections")
            self.assertGreaterEqual(still_open, 100, "the first connections of an address were refused")
        finally:
            for s in held:
                s.close()
        # Its places are given back: the same address is served again, once
        # the server has seen the closes (within seconds even on a loaded
        # machine; the failure says what the server still held).
        deadline = time.time() + 15
        while True:
            time.sleep(0.3)
            try:
                r = request(self.server.port, "GET", "/healthz", source="127.0.0.2")
                break
            except (OSError, http.client.HTTPException) as e:
                if time.time() > deadline:
                    self.fail("127.0.0.2 still refused 15 s after closing its connections (%r); "
                              "server sockets to it by TCP state: %s; metrics: %s; log:\n%s" % (
                                  e, server_sockets_to(self.server.port, "127.0.0.2"),
                                  abuse_metrics(self.server.port), self.server.log_tail(1500)))
        self.assertEqual(r.status, 200)


class TestFailedCredentialFlood(KeystileCase):
    """The default limit, 120 failed credentials a minute per address."""

    def test_flood_of_wrong_tokens_gets_429_but_valid_token_still_200(self):
        key, token = self.server.owner()
        c = Client(self.server.port, "127.0.0.2")
        try:
            statuses = [c.call("GET", API + "/verify", key=key, token=make_token())[0] for _ in range(125)]
            self.assertEqual(statuses[:120], [401] * 120)
            self.assertEqual(statuses[120:], [429] * 5)
            status, headers, body = c.call("GET", API + "/verify", key=key, token=make_token())
            self.assertEqual((status, body), (429, {"valid": False, "reason": "rate_limited"}))
            self.assertTrue(1 <= int(headers["Retry-After"]) <= 120, headers["Retry-After"])
            # the same address, valid credentials: answered as usual
            status, headers, body = c.call("GET", API + "/verify", key=key, token=token)
            self.assertEqual(status, 200)
            self.assertTrue(body["valid"])
            status, _, _ = c.call("GET", acct(self.A, "keys"), key=key, token=token)
            self.assertEqual(status, 200)
            # a wrong management credential from it: 429 too, the API's error shape
            status, headers, body = c.call("GET", acct(self.A, "keys"), key=key, token=make_token())
            self.assertEqual(status, 429)
            self.assertEqual(body["error"]["code"], "rate_limited")
            self.assertIn("Retry-After", headers)
        finally:
            c.close()
        # another address is not limited
        r = request(self.server.port, "GET", API + "/verify", key=key, token=make_token(), source="127.0.0.3")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.data["reason"], "invalid_token")
        metrics = request(self.server.port, "GET", "/metrics").raw.decode()
        m = re.search(r'keystile_abuse_events_total\{event="rate_limited"\} (\d+)', metrics)
        self.assertTrue(m and int(m.group(1)) >= 7, metrics[-600:])


class TestFailedCredentialKinds(KeystileCase):
    """Every kind of credential counts against the address (a low limit)."""
    SERVER_ARGS = ("--failed-auth-limit", "5")

    def flood(self, source, fn, n=6):
        return [fn(source) for _ in range(n)]

    def test_management_calls(self):
        key, token = self.server.owner()
        got = self.flood("127.0.0.4", lambda s: request(self.server.port, "GET", acct(self.A, "keys"), key=key,
                                                          token=make_token(), source=s).status)
        self.assertEqual(got, [401] * 5 + [429])
        r = request(self.server.port, "GET", acct(self.A, "keys"), key=key, token=token, source="127.0.0.4")
        self.assertEqual(r.status, 200)
        # past the limit, failures are not written to the audit log one by one
        r = self.call("GET", acct(self.A, "audit") + "?limit=500&action=auth.failed")
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.data["items"]), 5, [e.get("address") for e in r.data["items"]])

    def test_login_and_web_sign_in(self):
        key, token = self.server.owner()
        got = self.flood("127.0.0.5", lambda s: request(self.server.port, "POST", API + "/login", key=key,
                                                          token=make_token(), source=s).status)
        self.assertEqual(got, [401] * 5 + [429])
        r = request(self.server.port, "POST", API + "/session", key=key, token=make_token(), source="127.0.0.5")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.data["error"]["code"], "rate_limited")
        r = request(self.server.port, "POST", API + "/login", key=key, token=token, source="127.0.0.5")
        self.assertEqual(r.status, 200, r)
        r = request(self.server.port, "POST", API + "/session", key=key, token=token, source="127.0.0.5")
        self.assertEqual(r.status, 201, r)

    def test_person_sign_in_guesses(self):
        # A person of this account, with a password.
        r = self.call("POST", acct(self.A, "users"), {"email": "guessed@example.com", "roles": []})
        self.assertEqual(r.status, 201, r)
        inv = r.data["invite_url"].rsplit("/", 1)[1]
        password = "the right password"
        r = request(self.server.port, "POST", API + "/invites/%s/accept" % inv, body={"password": password})
        self.assertEqual(r.status, 200, r)
        # Wrong passwords for many emails (each below its own lockout) from one address.
        got = self.flood("127.0.0.10", lambda s: request(self.server.port, "POST", API + "/session",
                                                           body={"email": "x%d@example.com" % time.monotonic_ns(),
                                                                 "password": "not the password"},
                                                           source=s))
        self.assertEqual([g.status for g in got], [401] * 5 + [429])
        self.assertEqual(got[5].data["error"]["code"], "rate_limited")
        self.assertLessEqual(int(got[5].headers["Retry-After"]), 120)
        # The right password from that address still signs in.
        r = request(self.server.port, "POST", API + "/session", body={"email": "guessed@example.com",
                                                                      "password": password}, source="127.0.0.10")
        self.assertEqual(r.status, 201, r)

    def test_share_link_guesses(self):
        got = self.flood("127.0.0.6", lambda s: request(self.server.port, "POST", "/share/%s/reveal" % ("A" * 43),
                                                          source=s).status)
        self.assertEqual(got[:5], [404] * 5)
        self.assertEqual(got[5], 429)
        # a real link from that address still reveals its token
        r = self.call("POST", acct(self.A, "keys"), {"name": "shared"})
        self.assertEqual(r.status, 201)
        path = "/share/" + r.data["share_url"].rsplit("/share/", 1)[1] + "/reveal"
        r2 = request(self.server.port, "POST", path, source="127.0.0.6")
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.data["token"], r.data["token"])

    def test_right_credential_of_an_inactive_key_is_not_a_guess(self):
        r = self.call("POST", acct(self.A, "keys"), {"name": "sleeper"})
        k = r.data
        self.assertEqual(self.call("PATCH", acct(self.A, "keys", k["key"]), {"status": "inactive"}).status, 200)
        got = self.flood("127.0.0.7", lambda s: request(self.server.port, "GET", API + "/verify", key=k["key"],
                                                          token=k["token"], source=s).status, n=8)
        self.assertEqual(got, [401] * 8)


class TestTrustedProxy(KeystileCase):
    SERVER_ARGS = ("--trusted-proxy", "127.0.0.8", "--trusted-proxy", "10.0.0.0/8", "--failed-auth-limit", "5")

    def wrong(self, source, xff):
        key, _ = self.server.owner()
        return request(self.server.port, "GET", API + "/verify", key=key, token=make_token(), source=source,
                       headers={"X-Forwarded-For": xff} if xff else None).status

    def test_client_address_from_a_trusted_proxy(self):
        got = [self.wrong("127.0.0.8", "203.0.113.50") for _ in range(6)]
        self.assertEqual(got, [401] * 5 + [429])
        # another client behind the same proxy; a hop the proxy appended after a trusted one
        self.assertEqual(self.wrong("127.0.0.8", "203.0.113.51"), 401)
        self.assertEqual(self.wrong("127.0.0.8", "203.0.113.50, 10.1.2.3"), 429)
        # the client forged a hop: the proxy appended the real address at the right
        self.assertEqual(self.wrong("127.0.0.8", "203.0.113.50, 198.51.100.9"), 401)
        # an untrusted peer's header is not believed: it is counted as itself
        self.assertEqual(self.wrong("127.0.0.9", "198.51.100.200"), 401)
        self.assertEqual(self.wrong("127.0.0.9", "203.0.113.50"), 401)

    def test_audit_address(self):
        key, token = self.server.owner()
        r = request(self.server.port, "POST", acct(self.A, "keys"), body={"name": "via proxy"}, key=key, token=token,
                    source="127.0.0.8", headers={"X-Forwarded-For": "198.51.100.77"})
        self.assertEqual(r.status, 201)
        r = request(self.server.port, "POST", acct(self.A, "keys"), body={"name": "direct"}, key=key, token=token,
                    source="127.0.0.9", headers={"X-Forwarded-For": "198.51.100.78"})
        self.assertEqual(r.status, 201)
        items = self.call("GET", acct(self.A, "audit") + "?limit=2&action=key.create").data["items"]
        self.assertEqual([e["address"] for e in items], ["127.0.0.9", "198.51.100.77"])


FORMULAS = ["=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "\tTab", "\rCR"]


class TestExportsAndNames(KeystileCase):

    def setUp(self):
        if not getattr(type(self), "_made", False):
            for name in FORMULAS + ["plain", "a=b"]:
                r = self.call("POST", acct(self.A, "keys"), {"name": name})
                self.assertEqual(r.status, 201, r)
            r = self.call("POST", acct(self.A, "roles"), {"name": "=HYPERLINK(\"http://x\")", "resources": ["a.b"]})
            self.assertEqual(r.status, 201, r)
            r = self.call("POST", acct(self.A, "keys"), {"name": "role holder", "roles": ["=HYPERLINK(\"http://x\")"]})
            self.assertEqual(r.status, 201, r)
            type(self)._made = True

    def expect(self, cells):
        for f in FORMULAS:
            self.assertIn("'" + f, cells)
            self.assertNotIn(f, cells)
        self.assertIn("plain", cells)
        self.assertIn("a=b", cells)
        self.assertIn("'=HYPERLINK(\"http://x\")", cells)

    def test_csv_neutralises_formulas(self):
        r = self.call("GET", acct(self.A, "keys", "export"))
        self.assertEqual(r.status, 200)
        rows = list(csv.reader(io.StringIO(r.raw.decode("utf-8"), newline="")))
        cells = [row[1] for row in rows[1:]] + [row[3] for row in rows[1:]]
        self.expect(cells)

    def test_xlsx_neutralises_formulas(self):
        r = self.call("GET", acct(self.A, "keys", "export") + "?format=xlsx")
        self.assertEqual(r.status, 200)
        z = zipfile.ZipFile(io.BytesIO(r.raw))
        names = z.namelist()
        text = z.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in names else ""
        for n in names:
            if n.startswith("xl/worksheets/"):
                sheet = z.read(n).decode("utf-8")
                self.assertNotIn("<f>", sheet, "a formula cell in " + n)
                text += sheet
        strings = [re.sub(r"&#x0*9;", "\t", re.sub(r"&#x0*[dD];|_x000D_", "\r", s))
                   .replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                   for s in re.findall(r"<t(?: [^>]*)?>(.*?)</t>", text, re.S)]
        self.expect(strings)

    def test_names_with_bidi_or_zero_width_characters_are_refused(self):
        for bad in ["Pay\u202eroll", "a\u200bb", "\ufeffkey", "x\u2066y\u2069", "ar\u061cb", "l\u200er"]:
            with self.subTest(name=repr(bad)):
                r = self.call("POST", acct(self.A, "keys"), {"name": bad})
                self.assertError(r, 400, "invalid_request")
                self.assertIn("bidirectional", r.data["error"]["message"])
                r = self.call("POST", acct(self.A, "roles"), {"name": bad, "resources": []})
                self.assertError(r, 400, "invalid_request")
        r = self.call("POST", acct(self.A, "keys"), {"name": "ok"})
        self.assertEqual(r.status, 201)
        r2 = self.call("PATCH", acct(self.A, "keys", r.data["key"]), {"name": "ok\u202e"})
        self.assertError(r2, 400, "invalid_request")
        r3 = self.call("POST", acct(self.A, "keys"), {"name": "Caf\u00e9 \u2615 \u05e9\u05dc\u05d5\u05dd"})
        self.assertEqual(r3.status, 201, r3)


@unittest.skipIf(harness.PG_URL, "the secret file beside a SQLite database")
class TestSecretFile(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="keystile-secret-")
        self.db = os.path.join(self.dir, "k.db")
        self.secret = self.db + ".secret"

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir])

    def serve(self, extra=()):
        """`keystile serve` that must refuse to start: (exit code, stderr)."""
        port = harness.free_port()
        p = subprocess.run([BIN, "serve", "--db", self.db, "--listen", "127.0.0.1:%d" % port] + list(extra),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        return p.returncode, p.stderr.decode()

    def serving(self):
        """A server on this database (started by the harness's Server)."""
        srv = object.__new__(Server)
        srv.dir, srv.db, srv.secret_file, srv.pg_db = self.dir, self.db, self.secret, None
        srv.log_path = os.path.join(self.dir, "server.log")
        srv.port = srv.proc = srv._log = None
        srv.args, srv.accounts, srv.issued_tokens = [], {}, []
        srv.start()
        return srv

    def test_new_empty_database_gets_a_new_secret(self):
        info = create_account(self.db, "acme")
        self.assertTrue(os.path.isfile(self.secret))
        self.assertEqual(os.stat(self.secret).st_mode & 0o777, 0o600)
        fp = sqlite3.connect(self.db).execute("SELECT count(*) FROM server_secret").fetchone()[0]
        self.assertEqual(fp, 1)
        srv = self.serving()
        try:
            r = srv.request("GET", API + "/verify", key=info["key"], token=info["token"])
            self.assertEqual(r.status, 200)
        finally:
            srv.stop()

    def test_missing_secret_refuses_to_start_and_makes_none(self):
        create_account(self.db, "acme")
        os.unlink(self.secret)
        rc, err = self.serve()
        self.assertNotEqual(rc, 0)
        self.assertIn(self.secret, err)
        self.assertIn("missing", err)
        self.assertIn("Restore", err)
        self.assertFalse(os.path.exists(self.secret), "a new secret was made for a database with tokens")
        p = subprocess.run([BIN, "account", "create", "other", "--db", self.db], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(self.secret))

    def test_different_secret_refuses_to_start_and_original_works_again(self):
        info = create_account(self.db, "acme")
        original = open(self.secret, "rb").read()
        with open(self.secret, "wb") as f:
            f.write(os.urandom(32))
        rc, err = self.serve()
        self.assertNotEqual(rc, 0)
        self.assertIn(self.secret, err)
        self.assertIn("not the one", err)
        with open(self.secret, "wb") as f:
            f.write(original)
        srv = self.serving()
        try:
            r = srv.request("GET", API + "/verify", key=info["key"], token=info["token"])
            self.assertEqual(r.status, 200)
        finally:
            srv.stop()

    def test_database_without_fingerprint_records_it_at_first_start(self):
        info = create_account(self.db, "acme")
        with sqlite3.connect(self.db) as c:  # as a database from before fingerprints
            c.execute("DELETE FROM server_secret")
        srv = self.serving()
        try:
            r = srv.request("GET", API + "/verify", key=info["key"], token=info["token"])
            self.assertEqual(r.status, 200)
        finally:
            srv.stop()
        self.assertEqual(sqlite3.connect(self.db).execute("SELECT count(*) FROM server_secret").fetchone()[0], 1)
        with open(self.secret, "wb") as f:
            f.write(os.urandom(32))
        rc, err = self.serve()
        self.assertNotEqual(rc, 0)
        self.assertIn(self.secret, err)


class TestOfflineAccountSeen(KeystileCase):

    def test_account_created_offline_is_seen_within_2s(self):
        info = create_account(self.server.db, "late" + harness.uid("")[:6],
                              secret_file=self.server.secret_file if self.server.pg_db else None)
        t0 = time.time()
        status = None
        while time.time() - t0 < 5:
            status = request(self.server.port, "GET", API + "/verify", key=info["key"], token=info["token"]).status
            if status == 200:
                break
            time.sleep(0.05)
        took = time.time() - t0
        self.assertEqual(status, 200, "the new account's Owner key never verified")
        self.assertLess(took, 2.0, "seen after %.2fs" % took)
        r = request(self.server.port, "GET", acct(info["account"], "keys"), key=info["key"], token=info["token"])
        self.assertEqual(r.status, 200)


if __name__ == "__main__":
    unittest.main()

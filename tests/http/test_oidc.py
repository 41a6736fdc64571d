"""Single sign-on with OpenID Connect (#15, API.md People), end to end against
a real provider: Glewlwyd started on loopback (oidc_provider.py)."""
import os
import subprocess
import unittest
import urllib.parse

from harness import API, BIN, Server, acct, free_port, request
from oidc_provider import Glewlwyd

CLIENT_ID = "keystile-test"
CLIENT_SECRET = "client-secret-" + os.urandom(8).hex()
PASSWORD = "a-long-password-1"
USERS = {
    # username: (email, email_verified)
    "alice": ("Alice@Example.com", True),     # verified; a Keystile person when persons exist
    "carol": ("carol@example.com", True),     # verified, but no Keystile user has this email
    "bob": ("bob@example.com", False),        # email_verified false
    "dave": (None, True),                     # no email at all
}


def cookie_of(response, name):
    for c in response.headers.get_all("Set-Cookie") or []:
        if c.startswith(name + "="):
            return c
    return None


class TestOidc(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.idp = Glewlwyd().start()
        cls.server = Server(start=False)
        secret_file = os.path.join(cls.server.dir, "oidc-client-secret")
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, (CLIENT_SECRET + "\n").encode())
        os.close(fd)
        cls.server.start(extra_args=["--oidc-issuer", cls.idp.issuer, "--oidc-client-id", CLIENT_ID,
                                     "--oidc-client-secret-file", secret_file])
        cls.callback = "http://127.0.0.1:%d/auth/oidc/callback" % cls.server.port
        cls.idp.add_client(CLIENT_ID, CLIENT_SECRET, cls.callback)
        for name, (email, verified) in USERS.items():
            cls.idp.add_user(name, PASSWORD, email, verified)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        reports = cls.server.sanitizer_reports()
        if not os.environ.get("KEYSTILE_KEEP_TMP"):
            cls.server.cleanup()
        cls.idp.stop()
        if reports:
            raise AssertionError("sanitizer report in the server log:\n" + reports)

    # --- helpers

    def get(self, path, cookie=None, headers=None):
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = cookie
        return self.server.request("GET", path, headers=h)

    def begin(self):
        """GET /auth/oidc/login: (authorization URL, its query, the pending cookie pair)."""
        r = self.get("/auth/oidc/login")
        self.assertEqual(r.status, 302, r.raw[:300])
        location = r.headers["Location"]
        set_cookie = cookie_of(r, "keystile_oidc")
        self.assertIsNotNone(set_cookie, r.headers)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        return location, query, set_cookie.split(";")[0]

    def come_back(self, username):
        """A whole sign-in at the provider: (callback path with query, pending cookie, its query)."""
        location, query, cookie = self.begin()
        back = self.idp.sign_in(location, username, PASSWORD, CLIENT_ID)
        self.assertTrue(back.startswith(self.callback + "?"), back)
        u = urllib.parse.urlsplit(back)
        return u.path + "?" + u.query, cookie, dict(urllib.parse.parse_qsl(u.query))

    def assertPage(self, r, status, text):
        self.assertEqual(r.status, status, r.raw[:500])
        self.assertTrue(r.headers.get("Content-Type", "").startswith("text/html"), r.headers)
        self.assertIn(text, r.raw.decode())
        self.assertIn("default-src 'none'", r.headers.get("Content-Security-Policy", ""))
        self.assertIsNone(cookie_of(r, "keystile_session"))

    # --- the tests

    def test_config_tells_the_web_admin(self):
        r = self.get("/auth/oidc/config")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.data, {"enabled": True, "issuer": self.idp.issuer, "login_url": "/auth/oidc/login"})

    def test_login_redirects_with_pkce_state_and_nonce(self):
        location, query, cookie = self.begin()
        self.assertTrue(location.startswith(self.idp.issuer + "/auth?"), location)
        self.assertEqual(query["response_type"], "code")
        self.assertEqual(query["client_id"], CLIENT_ID)
        self.assertEqual(query["redirect_uri"], self.callback)
        self.assertIn("openid", query["scope"].split())
        self.assertEqual(query["code_challenge_method"], "S256")
        for name in ("state", "nonce", "code_challenge"):
            self.assertRegex(query[name], r"^[A-Za-z0-9_-]{43}$", name)
        r = self.get("/auth/oidc/login")
        attrs = [a.strip() for a in cookie_of(r, "keystile_oidc").split(";")]
        for a in ("HttpOnly", "SameSite=Lax", "Path=/auth/oidc", "Max-Age=600"):
            self.assertIn(a, attrs)
        # sealed: neither the state nor the nonce shows in the cookie
        self.assertNotIn(query["state"], cookie)
        self.assertNotIn(query["nonce"], cookie)
        self.assertLess(len(cookie), 1100)
        # every sign-in has its own values
        _, other, _ = self.begin()
        for name in ("state", "nonce", "code_challenge"):
            self.assertNotEqual(query[name], other[name])

    def test_unknown_email_gets_403_and_no_session(self):
        path, cookie, _ = self.come_back("carol")
        r = self.get(path, cookie)
        self.assertPage(r, 403, "No Keystile user has the email carol@example.com")
        self.assertIn("Max-Age=0", cookie_of(r, "keystile_oidc"))

    def add_person(self, email, roles):
        """Invites the person through the API (no password: SSO needs none)."""
        owner_key, owner_token = self.server.owner()
        r = request(self.server.port, "POST", acct(self.server.account, "users"),
                    body={"email": email, "roles": roles}, key=owner_key, token=owner_token)
        self.assertEqual(r.status, 201, r.data)

    def test_verified_person_signs_in(self):
        self.add_person("alice@example.com", ["Owner"])
        path, cookie, _ = self.come_back("alice")  # the provider says Alice@Example.com
        r = self.get(path, cookie)
        self.assertEqual(r.status, 303, r.raw[:300])
        self.assertEqual(r.headers["Location"], "/")
        self.assertIn("Max-Age=0", cookie_of(r, "keystile_oidc"))
        session = cookie_of(r, "keystile_session")
        self.assertIsNotNone(session)
        attrs = [a.strip() for a in session.split(";")]
        for a in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
            self.assertIn(a, attrs)
        owner_key, owner_token = self.server.owner()
        audit = request(self.server.port, "GET", acct(self.server.account, "audit") + "?limit=50",
                        key=owner_key, token=owner_token)
        entries = [e for e in audit.data["items"] if e.get("actor") == "user:alice@example.com"]
        self.assertTrue(any(e["action"] == "session.create" and e.get("via") == "oidc" and
                            e.get("address") == "127.0.0.1" for e in entries), audit.data)
        me = self.get(API + "/me", session.split(";")[0])
        self.assertEqual(me.status, 200, me.data)
        self.assertEqual(me.data["type"], "user")
        self.assertEqual(me.data["email"], "alice@example.com")
        # the same verified email again: a second, separate session
        path, cookie, _ = self.come_back("alice")
        r2 = self.get(path, cookie)
        self.assertEqual(r2.status, 303)
        self.assertNotEqual(cookie_of(r2, "keystile_session").split(";")[0], session.split(";")[0])

    def test_email_not_verified_is_refused(self):
        path, cookie, _ = self.come_back("bob")
        self.assertPage(self.get(path, cookie), 403, "Your email is not verified")

    def test_no_email_is_refused(self):
        path, cookie, _ = self.come_back("dave")
        self.assertPage(self.get(path, cookie), 403, "Your email is not verified")

    def test_replayed_callback_is_refused(self):
        path, cookie, _ = self.come_back("carol")
        self.assertPage(self.get(path, cookie), 403, "No Keystile user")
        self.assertPage(self.get(path, cookie), 400, "already used")

    def test_wrong_or_missing_state_is_refused(self):
        path, cookie, query = self.come_back("carol")
        wrong = dict(query, state=query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB"))
        self.assertPage(self.get("/auth/oidc/callback?" + urllib.parse.urlencode(wrong), cookie), 400,
                        "does not belong")
        no_state = {k: v for k, v in query.items() if k != "state"}
        self.assertPage(self.get("/auth/oidc/callback?" + urllib.parse.urlencode(no_state), cookie), 400,
                        "does not belong")
        self.assertPage(self.get(path), 400, "does not belong")  # no cookie
        # the cookie of another sign-in in the same browser does not fit this state
        _, _, other_cookie = self.begin()
        self.assertPage(self.get(path, other_cookie), 400, "does not belong")
        # a cookie that was tampered with
        name, _, value = cookie.partition("=")
        flipped = value[:-3] + ("A" if value[-3] != "A" else "B") + value[-2:]
        self.assertPage(self.get(path, name + "=" + flipped), 400, "does not belong")
        # the refusals used nothing up: the real pair still works once
        self.assertPage(self.get(path, cookie), 403, "No Keystile user")

    def test_tampered_code_is_refused(self):
        path, cookie, query = self.come_back("carol")
        code = query["code"]
        bad = dict(query, code=code[:-1] + ("x" if code[-1] != "x" else "y"))
        r = self.get("/auth/oidc/callback?" + urllib.parse.urlencode(bad), cookie)
        self.assertPage(r, 400, "did not accept the sign-in code")

    def test_provider_error_is_shown(self):
        _, query, cookie = self.begin()
        back = {"state": query["state"], "error": "access_denied", "error_description": "<b>no</b>"}
        r = self.get("/auth/oidc/callback?" + urllib.parse.urlencode(back), cookie)
        self.assertPage(r, 403, "refused or cancelled")
        self.assertNotIn("<b>no</b>", r.raw.decode())  # nothing from the URL is echoed

    def test_oversized_parameters_are_refused_cleanly(self):
        _, query, cookie = self.begin()
        back = {"state": "s" * 5000, "code": "c" * 2000}
        r = self.get("/auth/oidc/callback?" + urllib.parse.urlencode(back), cookie)
        self.assertPage(r, 400, "does not belong")
        r = self.get("/auth/oidc/callback?" + urllib.parse.urlencode({"state": query["state"], "code": "c" * 3000}),
                     cookie)
        self.assertPage(r, 400, "did not accept")
        r = self.get("/auth/oidc/callback", "keystile_oidc=" + "A" * 3000)
        self.assertPage(r, 400, "does not belong")
        self.assertEqual(self.get("/healthz").status, 200)

    def test_nothing_secret_in_the_log(self):
        path, cookie, query = self.come_back("carol")
        self.get(path, cookie)
        with open(self.server.log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        for secret in (CLIENT_SECRET, query["code"], query["state"], cookie.partition("=")[2]):
            self.assertNotIn(secret, log)


class TestOidcOff(unittest.TestCase):
    """Without --oidc-*: the routes say so; with a dead issuer: 502, fast."""

    def test_not_configured(self):
        srv = Server()
        try:
            r = srv.request("GET", "/auth/oidc/config")
            self.assertEqual((r.status, r.data), (200, {"enabled": False}))
            r = srv.request("GET", "/auth/oidc/login")
            self.assertEqual(r.status, 404)
            self.assertIn("not configured", r.raw.decode())
            self.assertEqual(srv.request("GET", "/auth/oidc/callback?code=x&state=y").status, 404)
        finally:
            srv.stop()
            srv.cleanup()

    def test_unreachable_issuer(self):
        srv = Server(start=False)
        secret = os.path.join(srv.dir, "cs")
        with open(secret, "w") as f:
            f.write("s3cret\n")
        os.chmod(secret, 0o600)
        dead = "http://127.0.0.1:%d/realm" % free_port()
        try:
            srv.start(extra_args=["--oidc-issuer", dead, "--oidc-client-id", "c",
                                  "--oidc-client-secret-file", secret])
            r = srv.request("GET", "/auth/oidc/login")
            self.assertEqual(r.status, 502, r.raw[:300])
            self.assertIn("cannot be reached", r.raw.decode())
            self.assertEqual(srv.request("GET", "/healthz").status, 200)
        finally:
            srv.stop()
            srv.cleanup()

    def test_serve_refuses_bad_oidc_settings(self):
        srv = Server(start=False)
        secret = os.path.join(srv.dir, "cs")
        with open(secret, "w") as f:
            f.write("s3cret\n")
        try:
            base = [BIN, "serve", "--db", srv.db, "--listen", "127.0.0.1:%d" % free_port()]
            if srv.pg_db:
                base += ["--secret-file", srv.secret_file]
            cases = [
                (["--oidc-issuer", "https://idp.example"], 2, "go together"),
                (["--oidc-issuer", "http://idp.example", "--oidc-client-id", "c",
                  "--oidc-client-secret-file", secret], 1, "https://"),
                (["--oidc-issuer", "https://idp.example", "--oidc-client-id", "c",
                  "--oidc-client-secret-file", os.path.join(srv.dir, "missing")], 1, "client secret"),
            ]
            for args, code, text in cases:
                p = subprocess.run(base + args, capture_output=True, timeout=20)
                self.assertEqual(p.returncode, code, (args, p.stderr))
                self.assertIn(text, p.stderr.decode(), args)
                self.assertNotIn("s3cret", p.stderr.decode() + p.stdout.decode())
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()

"""A real OpenID Connect provider for the single sign-on tests: Debian's
Glewlwyd (a C OIDC provider), started on a free loopback port with a private
config and SQLite database in a temp dir, stopped at exit.

How it is set up (all of it here, nothing on the machine is changed):
- the database is Glewlwyd's own init script
  (/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz: scopes g_admin,
  g_profile, openid; the admin user `admin` / `password`), and before start
  the database user module's data format gains a user property
  `email_verified` (so each user says whether its email is verified);
- through the admin REST API (POST /api/auth/ as admin, cookie session):
  an `oidc` plugin (issuer http://127.0.0.1:PORT/api/oidc, RS256 with an RSA
  key made by `openssl genpkey`, JWKS published, code flow only, PKCE S256
  allowed and plain refused, email claim always, and a boolean claim
  `email_verified` taken from the user property: "1" true, "0" false); a
  confidential client with a secret, client_secret_basic, and Keystile's
  callback as its only redirect URI; users with scope `openid`.
- a user signs in as the login page would: GET the authorization URL
  (Glewlwyd sends the browser to login.html?...callback_url=...), POST
  /api/auth/ with the user's password, PUT /api/auth/grant/{client} to consent
  to `openid`, then GET the callback_url with g_continue: Glewlwyd answers
  302 to Keystile's callback with `code` and `state`.
"""
import atexit
import base64
import gzip
import http.client as httpclient
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse

from harness import ROOT, free_port

INIT_SQL = "/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz"
ADMIN = ("admin", "password")  # Glewlwyd's init script's admin
PLUGIN = "oidc"
USER_MODULE = {
    "use-glewlwyd-connection": True,
    "data-format": {
        "email_verified": {"multiple": False, "read": True, "write": True,
                           "profile-read": True, "profile-write": False},
    },
}

_LIVE = []


def _stop_all():
    for p in list(_LIVE):
        p.stop()


atexit.register(_stop_all)


def ensure_installed():
    """Glewlwyd comes from Debian; scripts/install-deps.sh installs it."""
    if shutil.which("glewlwyd") and os.path.exists(INIT_SQL):
        return
    subprocess.run(["sh", os.path.join(ROOT, "scripts", "install-deps.sh")], check=True)


def http(port, method, path, body=None, cookies=None, headers=None, form=None, timeout=10):
    """One request to 127.0.0.1:port; returns (status, headers, text). Cookies
    in `cookies` (a dict) are sent, and any Set-Cookie stored back into it
    (Glewlwyd sets `Domain=` empty, which http.cookiejar refuses)."""
    hdrs = dict(headers or {})
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    elif form is not None:
        payload = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        if cookies is not None:
            for c in resp.headers.get_all("Set-Cookie") or []:
                name, _, value = c.split(";")[0].partition("=")
                cookies[name.strip()] = value
        return resp.status, resp.headers, text
    finally:
        conn.close()


class Glewlwyd:
    """A running Glewlwyd with the `oidc` plugin. start() then add_client()
    and add_user(); sign_in() drives a user's login to Keystile's callback."""

    def __init__(self):
        ensure_installed()
        self.dir = tempfile.mkdtemp(prefix="keystile-glewlwyd-")
        self.port = free_port()
        self.issuer = "http://127.0.0.1:%d/api/%s" % (self.port, PLUGIN)
        self.proc = None
        self.admin = {}
        self.startup_seconds = None

    def _write_config(self, db):
        conf = os.path.join(self.dir, "glewlwyd.conf")
        with open(conf, "w") as f:
            f.write("""port=%d
bind_address="127.0.0.1"
external_url="http://127.0.0.1:%d"
login_url="login.html"
api_prefix="api"
log_mode="console"
log_level="WARNING"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = "%s"; };
""" % (self.port, self.port, db))
        return conf

    def _make_database(self):
        db = os.path.join(self.dir, "glewlwyd.db")
        with gzip.open(INIT_SQL, "rt") as f:
            script = f.read()
        con = sqlite3.connect(db)
        con.executescript(script)
        con.execute("UPDATE g_user_module_instance SET gumi_parameters=? WHERE gumi_name='database'",
                    (json.dumps(USER_MODULE),))
        con.commit()
        con.close()
        return db

    def _make_key(self):
        key = os.path.join(self.dir, "rsa.key")
        pub = os.path.join(self.dir, "rsa.pub")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True,
                       capture_output=True)
        with open(key) as k, open(pub) as p:
            return k.read(), p.read()

    def api(self, method, path, body=None, cookies=None, expect=200):
        status, headers, text = http(self.port, method, "/api" + path, body=body,
                                     cookies=self.admin if cookies is None else cookies)
        if expect is not None and status != expect:
            raise RuntimeError("glewlwyd %s %s: %d %s" % (method, path, status, text[:300]))
        return status, headers, text

    def start(self):
        conf = self._write_config(self._make_database())
        private, public = self._make_key()
        self.log_path = os.path.join(self.dir, "glewlwyd.log")
        log = open(self.log_path, "ab")
        t0 = time.time()
        self.proc = subprocess.Popen(["glewlwyd", "--config-file", conf], stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        log.close()
        _LIVE.append(self)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("glewlwyd exited at start: %s" % self.log_tail())
            try:
                if http(self.port, "GET", "/config", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("glewlwyd did not answer within 20 s: %s" % self.log_tail())
            time.sleep(0.02)
        self.startup_seconds = time.time() - t0
        self.api("POST", "/auth/", {"username": ADMIN[0], "password": ADMIN[1]})
        self.api("POST", "/mod/plugin/", {
            "module": "oidc", "name": PLUGIN, "display_name": "OpenID Connect", "enabled": True,
            "parameters": {
                "iss": self.issuer, "jwt-type": "rsa", "jwt-key-size": "256", "key": private, "cert": public,
                "jwks-show": True, "access-token-duration": 3600, "refresh-token-duration": 1209600,
                "code-duration": 600, "refresh-token-rolling": False, "allow-non-oidc": False,
                "auth-type-code-enabled": True, "auth-type-token-enabled": False,
                "auth-type-id-token-enabled": False, "auth-type-password-enabled": False,
                "auth-type-client-enabled": False, "auth-type-refresh-enabled": False,
                "auth-type-code-revoke-replayed": True,
                "pkce-allowed": True, "pkce-method-plain-allowed": False,
                "name-claim": "no", "email-claim": "mandatory",
                "claims": [{"name": "email_verified", "user-property": "email_verified", "type": "boolean",
                            "boolean-value-true": "1", "boolean-value-false": "0", "mandatory": True}],
                "subject-type": "public",
            }})
        return self

    def add_client(self, client_id, secret, redirect_uri):
        self.api("POST", "/client/", {
            "client_id": client_id, "name": client_id, "confidential": True, "enabled": True,
            "password": secret, "redirect_uri": [redirect_uri], "authorization_type": ["code"],
            "token_endpoint_auth_method": ["client_secret_basic"], "scope": []})

    def add_user(self, username, password, email=None, email_verified=None):
        user = {"username": username, "name": username, "password": password, "enabled": True,
                "scope": ["openid"]}
        if email is not None:
            user["email"] = email
        if email_verified is not None:
            user["email_verified"] = "1" if email_verified else "0"
        self.api("POST", "/user/", user)

    def sign_in(self, authorization_url, username, password, client_id):
        """Signs `username` in at the provider from Keystile's redirect and
        returns the URL the provider sends the browser back to."""
        cookies = {}
        u = urllib.parse.urlsplit(authorization_url)
        assert (u.hostname, u.port) == ("127.0.0.1", self.port), authorization_url
        status, headers, text = http(self.port, "GET", u.path + "?" + u.query, cookies=cookies)
        if status != 302:
            raise RuntimeError("authorization request: %d %s" % (status, text[:300]))
        login = urllib.parse.urlsplit(headers["Location"])
        callback = urllib.parse.parse_qs(login.query)["callback_url"][0]
        self.api("POST", "/auth/", {"username": username, "password": password}, cookies=cookies)
        self.api("PUT", "/auth/grant/" + urllib.parse.quote(client_id), {"scope": "openid"}, cookies=cookies)
        c = urllib.parse.urlsplit(callback)
        status, headers, text = http(self.port, "GET", c.path + "?" + c.query + "&g_continue", cookies=cookies)
        if status != 302:
            raise RuntimeError("authorization after login: %d %s" % (status, text[:300]))
        return headers["Location"]

    def token_request(self, client_id, secret, form):
        """POSTs to the token endpoint as the client (for the tests that replay)."""
        cred = base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()
        return http(self.port, "POST", "/api/%s/token" % PLUGIN, form=form,
                    headers={"Authorization": "Basic " + cred})

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-3000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None
        if self in _LIVE:
            _LIVE.remove(self)
        if not os.environ.get("KEYSTILE_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

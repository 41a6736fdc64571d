"""users list/invite/edit/remove against the real server, and
`account create NAME --owner-email EMAIL [--url URL]` (offline): the person
becomes an Owner, its invite_url opens on the server and sets a password
that signs in."""
import json
import signal
import urllib.error
import urllib.parse
import urllib.request

from clitest import CliCase, clean_env, run, uid

USER_HEADERS = ["EMAIL", "STATUS", "ROLES", "TOTP", "SSO", "CREATED", "LAST-SIGN-IN"]
PASSWORD = "a long enough password"
RESTRICTED = "User Administrator - RESTRICTED"


def post(url, body, headers=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class UsersTest(CliCase):
    ACCOUNTS = ("people",)

    def email(self):
        return uid("u") + "@Example.com"

    def users(self):
        return {u["email"]: u for u in self.json_of("users", "list")["items"]}

    def accept(self, invite_url, password=PASSWORD):
        inv = urllib.parse.urlparse(invite_url).path.rsplit("/", 1)[1]
        return post(self.server.url + "/api/v1/invites/%s/accept" % inv, {"password": password})

    def sign_in(self, email, password=PASSWORD):
        return post(self.server.url + "/api/v1/session", {"email": email, "password": password})

    def test_invite_list_table_and_json(self):
        email = self.email()
        p = self.ok("users", "invite", email, "--role", RESTRICTED)
        lower = email.lower()
        self.assertIn("Invited %s to account people" % lower, p.stdout)
        url = [w for w in p.stdout.split() if "/invite/" in w]
        self.assertEqual(len(url), 1, p.stdout)
        self.assertTrue(url[0].startswith(self.server.url + "/invite/"), url)
        rows = self.assertTable(p.stdout[p.stdout.index("EMAIL"):], USER_HEADERS)
        self.assertEqual(rows, [[lower, "active", RESTRICTED, "no", "no", rows[0][5], "-"]])
        # The list: the same person, in a table and as the API's JSON.
        rows = {r[0]: r for r in self.assertTable(self.ok("users", "list").stdout, USER_HEADERS)}
        self.assertEqual(rows[lower][1:5], ["active", RESTRICTED, "no", "no"])
        status, api = self.server.http("GET", "/api/v1/accounts/people/users", account="people")
        self.assertEqual(status, 200)
        self.assertEqual(self.json_of("users", "list"), {"items": api["items"]})
        self.assertEqual(len(self.json_of("users", "list", "--limit", "1")["items"]), 1)
        # The link sets the password once; the person then signs in.
        self.assertEqual(self.accept(url[0]), (200, {"email": lower}))
        self.assertEqual(self.accept(url[0])[0], 410)
        status, body = self.sign_in(email)
        self.assertEqual(status, 201, body)
        self.assertNotEqual(self.users()[lower]["last_sign_in_at"], None)

    def test_invite_json_and_errors(self):
        email = self.email()
        got = self.json_of("users", "invite", email)
        self.assertEqual(got["email"], email.lower())
        self.assertEqual(got["roles"], [])
        self.assertTrue(got["invite_url"].startswith(self.server.url + "/invite/"), got)
        p = self.fails(1, "users", "invite", email)
        self.assertTrue(p.stderr.startswith("keystile: name_taken: "), p.stderr)
        p = self.fails(1, "users", "invite", "not-an-email")
        self.assertTrue(p.stderr.startswith("keystile: invalid_request: "), p.stderr)
        p = self.fails(1, "users", "invite", self.email(), "--role", uid("no such role "))
        self.assertTrue(p.stderr.startswith("keystile: "), p.stderr)
        p = self.fails(2, "users", "invite")
        self.assertIn("EMAIL", p.stderr)

    def test_edit_roles_and_status(self):
        email = self.email().lower()
        self.ok("users", "invite", email, "--role", RESTRICTED)
        got = self.json_of("users", "edit", email, "--role", "Owner", "--role", RESTRICTED)
        self.assertEqual(sorted(got["roles"]), sorted(["Owner", RESTRICTED]))
        p = self.ok("users", "edit", email, "--status", "inactive")
        self.assertIn("Updated %s in account people." % email, p.stdout)
        rows = self.assertTable(p.stdout[p.stdout.index("EMAIL"):], USER_HEADERS)
        self.assertEqual(rows[0][:2], [email, "inactive"])
        got = self.json_of("users", "edit", email, "--no-roles", "--status", "active")
        self.assertEqual((got["roles"], got["status"]), ([], "active"))
        self.assertEqual(self.users()[email]["roles"], [])
        # Case-insensitive email in the path.
        got = self.json_of("users", "edit", email.upper(), "--role", RESTRICTED)
        self.assertEqual(got["roles"], [RESTRICTED])
        for args, word in ((("users", "edit", email), "nothing to change"),
                           (("users", "edit", email, "--role", "Owner", "--no-roles"), "--no-roles"),
                           (("users", "edit", email, "--status", "gone"), "status")):
            p = self.fails(2, *args)
            self.assertIn(word, p.stderr)
        p = self.fails(1, "users", "edit", uid("nobody") + "@example.com", "--status", "inactive")
        self.assertTrue(p.stderr.startswith("keystile: not_found: "), p.stderr)

    def test_remove_ends_membership_and_sessions(self):
        email = self.email().lower()
        url = self.json_of("users", "invite", email, "--role", RESTRICTED)["invite_url"]
        self.assertEqual(self.accept(url)[0], 200)
        status, body = self.sign_in(email)
        self.assertEqual(status, 201, body)
        p = self.fails(2, "users", "remove", email)  # no terminal, no --yes
        self.assertIn("--yes", p.stderr)
        self.assertIn(email, self.users())
        p = self.ok("users", "remove", email, "--yes")
        self.assertIn("Removed %s from account people" % email, p.stdout)
        self.assertNotIn(email, self.users())
        # Not a member anywhere now: the password no longer signs in.
        self.assertEqual(self.sign_in(email)[0], 401)
        p = self.fails(1, "users", "remove", email, "--yes")
        self.assertTrue(p.stderr.startswith("keystile: not_found: "), p.stderr)

    def test_help(self):
        p = self.ok("users", "--help")
        commands = p.stdout[p.stdout.index("Commands:"):].split("\n")
        self.assertEqual([c.split()[0] for c in commands[1:5]], ["list", "invite", "edit", "remove"])
        p = self.ok("help", "users", "edit")
        self.assertIn("--no-roles", p.stdout)
        self.assertIn("last_owner", p.stdout)


class AccountOwnerEmailTest(CliCase):
    ACCOUNTS = ("first",)

    def create(self, *args, env=None):
        return run(["account", "create"] + list(args) + ["--db", self.server.db], env=env or clean_env())

    def restart(self):
        self.server.proc.send_signal(signal.SIGTERM)
        self.server.proc.wait(timeout=10)
        self.server._log.close()
        self.server.start()

    def test_owner_email_gets_owner_and_invite_url(self):
        base = "https://keys.example.org:8443/"
        p = self.create("withowner", "--owner-email", "Boss@Example.com", "--url", base)
        self.assertEqual(p.returncode, 0, p.stderr)
        info = json.loads(p.stdout)
        self.assertEqual(set(info), {"account", "key", "token", "owner_email", "invite_url"})
        self.assertEqual((info["account"], info["owner_email"]), ("withowner", "boss@example.com"))
        self.assertTrue(info["invite_url"].startswith("https://keys.example.org:8443/invite/"), info)
        self.assertNotIn("//invite", info["invite_url"])
        # Default base: $KEYSTILE_URL, else http://127.0.0.1:8080.
        p = self.create("deflt", "--owner-email", "a@example.com")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(json.loads(p.stdout)["invite_url"].startswith("http://127.0.0.1:8080/invite/"), p.stdout)
        p = self.create("fromenv", "--owner-email", "b@example.com", env=clean_env(KEYSTILE_URL="http://h:1"))
        self.assertTrue(json.loads(p.stdout)["invite_url"].startswith("http://h:1/invite/"), p.stdout)

        # The running server sees the new account after a restart; the link works there.
        self.restart()
        inv = info["invite_url"].rsplit("/", 1)[1]
        with urllib.request.urlopen(self.server.url + "/invite/" + inv, timeout=10) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(post(self.server.url + "/api/v1/invites/%s/accept" % inv, {"password": PASSWORD}),
                         (200, {"email": "boss@example.com"}))
        status, body = post(self.server.url + "/api/v1/session", {"email": "boss@example.com", "password": PASSWORD})
        self.assertEqual(status, 201, body)
        env = clean_env(KEYSTILE_URL=self.server.url, KEYSTILE_KEY=info["key"], KEYSTILE_TOKEN=info["token"])
        p = run(["users", "list", "--json"], env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        (boss,) = json.loads(p.stdout)["items"]
        self.assertEqual((boss["email"], boss["roles"], boss["status"]), ("boss@example.com", ["Owner"], "active"))

        # A person who already has a password gets no link, but becomes Owner all the same.
        p = self.create("second", "--owner-email", "boss@example.com")
        self.assertEqual(p.returncode, 0, p.stderr)
        info2 = json.loads(p.stdout)
        self.assertIsNone(info2["invite_url"])
        self.assertIn("already has a password", p.stderr)

    def test_owner_email_errors(self):
        p = self.create("bademail", "--owner-email", "nope")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--owner-email", p.stderr)
        p = self.create("badurl", "--owner-email", "x@example.com", "--url", "ftp://x")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--url", p.stderr)
        p = self.create("urlonly", "--url", "http://x")
        self.assertEqual(p.returncode, 2, p.stderr)
        # Nothing was created by the refused commands: the names are still free.
        for name in ("bademail", "badurl", "urlonly"):
            p = self.create(name)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(set(json.loads(p.stdout)), {"account", "key", "token"})
        p = self.ok("account", "--help")
        self.assertIn("--owner-email", p.stdout)
        self.assertIn("http://127.0.0.1:8080", p.stdout)

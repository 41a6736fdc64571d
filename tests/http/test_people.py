"""People (#15): invitations, sign-in by email and password, TOTP, /me, sessions
ending on deactivation, removal and password change, lockout, delegation."""
import base64
import hashlib
import hmac
import json
import os
import struct
import time
import unittest
import urllib.parse

from harness import API, KeystileCase, acct, uid

PASSWORD = "correct horse battery"


def totp_code(secret_b32, at, step=30):
    """RFC 6238 (SHA-1, 6 digits): the test's own oracle for the server's liboath."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


class PeopleCase(KeystileCase):

    def invite(self, email=None, roles=None, cred=None, account=None, status=201):
        body = {"email": email or (uid("p") + "@example.com")}
        if roles is not None:
            body["roles"] = roles
        r = self.call("POST", acct(account or self.A, "users"), body,
                      **({} if cred is None else {"cred": cred}))
        self.assertStatus(r, status, "invite")
        return r.data

    def accept(self, invite_url, password=PASSWORD):
        inv_id = invite_url.rsplit("/", 1)[1]
        return self.server.request("POST", API + "/invites/%s/accept" % inv_id, body={"password": password})

    def person(self, roles=("Owner",), email=None):
        """An active person with a password; returns its email."""
        p = self.invite(email=email, roles=list(roles))
        self.assertStatus(self.accept(p["invite_url"]), 200)
        return p["email"]

    def sign_in(self, email, password=PASSWORD, totp=None):
        body = {"email": email, "password": password}
        if totp is not None:
            body["totp"] = totp
        return self.server.request("POST", API + "/session", body=body)

    def session(self, email, password=PASSWORD, totp=None):
        r = self.sign_in(email, password, totp)
        self.assertStatus(r, 201, "sign in")
        return r.headers["Set-Cookie"].split(";")[0], r.data["csrf"]

    def as_person(self, sess, method, path, body=None, csrf=True):
        cookie, token = sess
        headers = {"Cookie": cookie}
        if csrf:
            headers["X-CSRF-Token"] = token
        return self.server.request(method, path, body=body, headers=headers)


class TestInvitations(PeopleCase):

    def test_invite_accept_sign_in(self):
        email = uid("Ann") + "@Example.COM"
        p = self.invite(email=email, roles=["Owner"])
        self.assertEqual(p["email"], email.lower())
        self.assertEqual(set(p), {"email", "status", "roles", "created_at", "last_sign_in_at", "totp", "sso",
                                  "invite_url"})
        self.assertEqual((p["status"], p["roles"], p["totp"], p["sso"], p["last_sign_in_at"]),
                         ("active", ["Owner"], False, False, None))
        self.assertRegex(p["invite_url"], r"^http://127\.0\.0\.1:\d+/invite/[A-Za-z0-9_-]{43}$")
        page = self.server.request("GET", urllib.parse.urlparse(p["invite_url"]).path)
        self.assertStatus(page, 200)
        self.assertIn(b"password", page.raw)
        self.assertIn("default-src 'self'", page.headers["Content-Security-Policy"])
        # no password yet: cannot sign in
        self.assertError(self.sign_in(p["email"]), 401, "unauthenticated")
        r = self.accept(p["invite_url"])
        self.assertStatus(r, 200)
        self.assertEqual(r.data, {"email": p["email"]})
        self.assertError(self.accept(p["invite_url"]), 410, "gone")  # one-time
        r = self.sign_in(email.upper())
        self.assertStatus(r, 201)
        self.assertEqual(set(r.data), {"csrf", "principal"})
        self.assertEqual(r.data["principal"], {"type": "user", "email": p["email"], "totp": False,
                                               "accounts": [{"account": self.A, "roles": ["Owner"]}]})
        users = self.call("GET", acct(self.A, "users")).data["items"]
        me = [u for u in users if u["email"] == p["email"]][0]
        self.assertIsNotNone(me["last_sign_in_at"])
        self.assertNotIn("invite_url", me)

    def test_invite_errors(self):
        self.assertError(self.call("POST", acct(self.A, "users"), {"roles": []}), 400, "invalid_request", "email")
        self.assertError(self.call("POST", acct(self.A, "users"), {"email": "no-at-sign"}), 400,
                         "invalid_request", "email")
        self.assertError(self.call("POST", acct(self.A, "users"), {"email": "a" * 250 + "@b.cd"}), 400,
                         "invalid_request", "email")
        self.assertError(self.call("POST", acct(self.A, "users"), {"email": "x@y.z", "roles": ["Nope"]}), 400,
                         "invalid_request", "roles")
        self.assertError(self.call("POST", acct(self.A, "users"), {"email": "x@y.z", "extra": 1}), 400,
                         "invalid_request")
        p = self.invite()
        self.assertError(self.call("POST", acct(self.A, "users"), {"email": p["email"]}), 409, "name_taken")
        self.assertError(self.server.request("POST", API + "/invites/nope/accept", body={"password": PASSWORD}),
                         404, "not_found")
        self.assertError(self.accept(p["invite_url"], "short"), 400, "invalid_request", "password")
        self.assertError(self.accept(p["invite_url"], "x" * 1025), 400, "invalid_request", "password")
        self.assertStatus(self.accept(p["invite_url"], "x" * 1024), 200)

    def test_person_with_password_added_elsewhere_gets_no_link(self):
        email = self.person()
        self.call("DELETE", acct(self.A, "users", email))
        p = self.invite(email=email, roles=[])
        self.assertNotIn("invite_url", p)

    def test_no_plaintext_secrets_in_database_or_log(self):
        p = self.invite(roles=["Owner"])
        inv_id = p["invite_url"].rsplit("/", 1)[1]
        secret_pw = "unique-password-" + uid("pw")
        self.assertStatus(self.accept(p["invite_url"], secret_pw), 200)
        sess = self.session(p["email"], secret_pw)
        r = self.as_person(sess, "POST", API + "/me/totp")
        self.assertStatus(r, 200)
        self.server.stop()
        try:
            blob = b""
            import glob
            import os
            for f in glob.glob(os.path.join(self.server.dir, "*")):
                with open(f, "rb") as fh:
                    blob += fh.read()
            for s in (inv_id, secret_pw, r.data["secret"]):
                self.assertNotIn(s.encode(), blob)
        finally:
            self.server.start()


class TestSignIn(PeopleCase):

    def test_me_for_person_and_key(self):
        email = self.person(roles=["User Administrator - RESTRICTED"])
        sess = self.session(email)
        r = self.as_person(sess, "GET", API + "/me", csrf=False)
        self.assertStatus(r, 200)
        self.assertEqual(r.data, {"type": "user", "email": email, "totp": False,
                                  "accounts": [{"account": self.A,
                                                "roles": ["User Administrator - RESTRICTED"]}]})
        r = self.call("GET", API + "/me")
        self.assertStatus(r, 200)
        self.assertEqual(r.data, {"type": "key", "key": self.server.owner()[0], "account": self.A,
                                  "roles": ["Owner"]})
        self.assertError(self.call("GET", API + "/me", cred=None), 401, "unauthenticated")
        r = self.as_person(sess, "GET", API + "/session", csrf=False)
        self.assertStatus(r, 200)
        self.assertEqual(r.data["principal"]["email"], email)

    def test_person_session_manages_with_audit_actor(self):
        email = self.person()
        sess = self.session(email)
        self.assertError(self.as_person(sess, "POST", acct(self.A, "keys"), {"name": "x"}, csrf=False), 403,
                         "forbidden")
        r = self.as_person(sess, "POST", acct(self.A, "keys"), {"name": "by a person"})
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])
        entry = [a for a in self.audit() if a["action"] == "key.create" and a["target"] == r.data["key"]][0]
        self.assertEqual((entry["actor"], entry["via"]), ("user:" + email, "session"))
        signed = [a for a in self.audit() if a["action"] == "session.create" and a["actor"] == "user:" + email]
        self.assertTrue(signed and signed[0]["via"] == "session")

    def test_wrong_email_and_wrong_password_look_alike(self):
        email = self.person()
        a = self.sign_in(email, "wrong password!!")
        b = self.sign_in("nobody-" + email, "wrong password!!")
        self.assertError(a, 401, "unauthenticated")
        self.assertError(b, 401, "unauthenticated")
        self.assertEqual(a.data, b.data)
        # the same work, within a loose bound: both pay one Argon2id. Measured
        # as the server's CPU time (utime+stime, all its threads), not the
        # wall clock: on a machine shared with other test lanes a sign-in's
        # wall time moved from 0.10 to 0.38 s between calls, its CPU does not
        def cpu():
            with open("/proc/%d/stat" % self.server.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def t(e):
            start = cpu()
            self.sign_in(e, "another wrong one")
            return cpu() - start
        # interleaved, and the least of each: other work only adds to it
        # (3 more failures: 4 in all, one short of the lockout)
        known, unknown = [], []
        for _ in range(3):
            known.append(t(email))
            unknown.append(t("ghost-" + uid("g") + "@x.io"))
        k, u = min(known), min(unknown)
        self.assertLess(abs(k - u), 0.5 * max(k, u) + 0.02, (known, unknown))
        self.assertStatus(self.sign_in(email), 201)

    def test_lockout_after_five_failures(self):
        email = self.person()
        for _ in range(5):
            self.assertError(self.sign_in(email, "not the password"), 401, "unauthenticated")
        for pw in ("not the password", PASSWORD):  # whatever the password
            r = self.sign_in(email, pw)
            self.assertError(r, 429, "rate_limited")
            self.assertTrue(1 <= int(r.headers["Retry-After"]) <= 900, r.headers["Retry-After"])
        # unknown emails are locked the same way (nothing tells them apart)
        ghost = "ghost-" + uid("g") + "@x.io"
        for _ in range(5):
            self.assertError(self.sign_in(ghost, "not the password"), 401, "unauthenticated")
        self.assertError(self.sign_in(ghost, "not the password"), 429, "rate_limited")

    def test_sign_in_body_errors(self):
        for body in ({"email": "a@b.c"}, {"password": PASSWORD}, {"email": 1, "password": PASSWORD},
                     {"email": "a@b.c", "password": PASSWORD, "totp": 123456},
                     {"email": "a@b.c", "password": PASSWORD, "other": 1}):
            self.assertError(self.server.request("POST", API + "/session", body=body), 400, "invalid_request")

    def test_password_change_ends_other_sessions(self):
        email = self.person()
        one, two = self.session(email), self.session(email)
        self.assertError(self.as_person(one, "POST", API + "/me/password", {"current": "wrong password x",
                                                                             "new": "a brand new password"}),
                         401, "unauthenticated")
        self.assertError(self.as_person(one, "POST", API + "/me/password", {"current": PASSWORD, "new": "short"}),
                         400, "invalid_request", "new")
        self.assertError(self.as_person(one, "POST", API + "/me/password", {"current": PASSWORD,
                                                                             "new": "a brand new password"},
                                        csrf=False), 403, "forbidden")
        r = self.as_person(one, "POST", API + "/me/password", {"current": PASSWORD, "new": "a brand new password"})
        self.assertStatus(r, 204)
        self.assertStatus(self.as_person(one, "GET", acct(self.A, "settings")), 200)
        self.assertError(self.as_person(two, "GET", acct(self.A, "settings")), 401, "unauthenticated")
        self.assertError(self.sign_in(email), 401, "unauthenticated")
        self.assertStatus(self.sign_in(email, "a brand new password"), 201)
        # a key cannot use the person-only calls
        key_cookie = self.server.request("POST", API + "/session", key=self.server.owner()[0],
                                         token=self.server.owner()[1])
        ks = (key_cookie.headers["Set-Cookie"].split(";")[0], key_cookie.data["csrf"])
        self.assertError(self.as_person(ks, "POST", API + "/me/totp"), 403, "forbidden")


class TestTotp(PeopleCase):

    def test_enrol_confirm_sign_in_remove(self):
        email = self.person()
        sess = self.session(email)
        r = self.as_person(sess, "POST", API + "/me/totp")
        self.assertStatus(r, 200)
        secret, uri = r.data["secret"], r.data["otpauth_uri"]
        self.assertRegex(secret, r"^[A-Z2-7]{32}$")
        parsed = urllib.parse.urlparse(uri)
        self.assertEqual((parsed.scheme, parsed.netloc), ("otpauth", "totp"))
        self.assertEqual(urllib.parse.unquote(parsed.path), "/Keystile:" + email)
        qs = urllib.parse.parse_qs(parsed.query)
        self.assertEqual((qs["secret"], qs["issuer"], qs["algorithm"], qs["digits"], qs["period"]),
                         ([secret], ["Keystile"], ["SHA1"], ["6"], ["30"]))
        # not required before it is confirmed
        self.assertStatus(self.sign_in(email), 201)
        self.assertError(self.as_person(sess, "POST", API + "/me/totp/confirm", {"code": "12345"}), 400,
                         "invalid_request", "code")
        wrong = "%06d" % ((int(totp_code(secret, time.time())) + 500000) % 1000000)
        self.assertError(self.as_person(sess, "POST", API + "/me/totp/confirm", {"code": wrong}), 401,
                         "unauthenticated")
        code = totp_code(secret, time.time())
        self.assertStatus(self.as_person(sess, "POST", API + "/me/totp/confirm", {"code": code}), 204)
        r = self.sign_in(email)
        self.assertError(r, 401, "unauthenticated")
        self.assertIs(r.data["error"].get("totp_required"), True)
        # the code used to confirm cannot be used again
        self.assertError(self.sign_in(email, totp=code), 401, "unauthenticated")
        nxt = totp_code(secret, time.time() + 30)  # one step of drift is accepted
        self.assertStatus(self.sign_in(email, totp=nxt), 201)
        self.assertError(self.sign_in(email, totp=nxt), 401, "unauthenticated")  # used once
        me = self.as_person(sess, "GET", API + "/me", csrf=False).data
        self.assertIs(me["totp"], True)
        self.assertError(self.as_person(sess, "POST", API + "/me/totp"), 400, "invalid_request")
        far = totp_code(secret, time.time() + 120)  # beyond the drift
        self.assertError(self.as_person(sess, "DELETE", API + "/me/totp", {"code": far}), 401, "unauthenticated")
        # the next usable code is of a step after the last one used: wait for the step to turn
        time.sleep(max(0, 30 - time.time() % 30) + 0.5)
        now_code = totp_code(secret, time.time() + 30)
        self.assertStatus(self.as_person(sess, "DELETE", API + "/me/totp", {"code": now_code}), 204)
        self.assertStatus(self.sign_in(email), 201)


class TestMembership(PeopleCase):
    ACCOUNTS = ("acme", "beta", "gamma")

    def test_deactivate_and_remove_end_sessions(self):
        email = self.person()
        sess = self.session(email)
        self.assertStatus(self.as_person(sess, "GET", acct(self.A, "settings")), 200)
        r = self.call("PATCH", acct(self.A, "users", email), {"status": "inactive"})
        self.assertStatus(r, 200)
        self.assertEqual(r.data["status"], "inactive")
        self.assertError(self.as_person(sess, "GET", acct(self.A, "settings")), 401, "unauthenticated")
        self.assertError(self.sign_in(email), 401, "unauthenticated")
        self.assertStatus(self.call("PATCH", acct(self.A, "users", email), {"status": "active"}), 200)
        sess = self.session(email)
        self.assertStatus(self.call("DELETE", acct(self.A, "users", email)), 204)
        self.assertError(self.as_person(sess, "GET", acct(self.A, "settings")), 401, "unauthenticated")
        self.assertError(self.call("DELETE", acct(self.A, "users", email)), 404, "not_found")
        self.assertError(self.call("PATCH", acct(self.A, "users", email), {"status": "active"}), 404, "not_found")

    def test_patch_errors(self):
        email = self.person()
        self.assertError(self.call("PATCH", acct(self.A, "users", email), {}), 400, "invalid_request")
        self.assertError(self.call("PATCH", acct(self.A, "users", email), {"status": "gone"}), 400,
                         "invalid_request", "status")
        self.assertError(self.call("PATCH", acct(self.A, "users", email), {"roles": ["Nope"]}), 400,
                         "invalid_request", "roles")
        r = self.call("PATCH", acct(self.A, "users", email.upper()), {"roles": []})
        self.assertStatus(r, 200)
        self.assertEqual(r.data["roles"], [])

    def test_other_account_unaffected_by_removal(self):
        email = self.person()
        bkey, btoken = self.server.owner("beta")
        r = self.server.request("POST", acct("beta", "users"), body={"email": email, "roles": ["Owner"]},
                                key=bkey, token=btoken)
        self.assertStatus(r, 201)
        self.assertNotIn("invite_url", r.data)
        sess = self.session(email)
        self.assertStatus(self.as_person(sess, "GET", acct("beta", "settings")), 200)
        self.assertStatus(self.call("PATCH", acct(self.A, "users", email), {"roles": []}), 200)
        sess = self.session(email)
        self.assertError(self.as_person(sess, "GET", acct(self.A, "settings")), 403, "forbidden")
        self.assertStatus(self.as_person(sess, "GET", acct("beta", "settings")), 200)

    def test_last_owner_counts_people(self):
        gcred = self.server.owner("gamma")
        second = self.create_key(roles=["Owner"], account="gamma", cred=gcred)
        p = self.server.request("POST", acct("gamma", "users"), body={"email": uid("o") + "@gamma.io",
                                                                      "roles": ["Owner"]},
                                key=gcred[0], token=gcred[1])
        self.assertStatus(p, 201)
        self.assertStatus(self.accept(p.data["invite_url"]), 200)
        sess = self.session(p.data["email"])
        # the person deletes both Owner keys: it still holds Owner, so that is allowed
        for k in (second["key"], gcred[0]):
            self.assertStatus(self.as_person(sess, "DELETE", acct("gamma", "keys", k)), 204)
        # now the person is the account's last Owner
        target = acct("gamma", "users", p.data["email"])
        self.assertError(self.as_person(sess, "PATCH", target, {"status": "inactive"}), 409, "last_owner")
        self.assertError(self.as_person(sess, "PATCH", target, {"roles": []}), 409, "last_owner")
        self.assertError(self.as_person(sess, "DELETE", target), 409, "last_owner")
        self.assertStatus(self.as_person(sess, "GET", acct("gamma", "settings")), 200)


class TestPeopleDelegation(PeopleCase):

    def test_restricted_person_cannot_make_itself_owner(self):
        email = self.person(roles=["User Administrator - RESTRICTED"])
        sess = self.session(email)
        r = self.as_person(sess, "PATCH", acct(self.A, "users", email), {"roles": ["Owner"]})
        self.assertError(r, 403, "forbidden")
        self.assertIn("'edit-roles'", r.data["error"]["message"])  # the first of Owner's resources it lacks
        r = self.as_person(sess, "POST", acct(self.A, "users"), {"email": uid("x") + "@y.io", "roles": ["Owner"]})
        self.assertError(r, 403, "forbidden")
        r = self.as_person(sess, "POST", acct(self.A, "keys"), {"name": "k", "roles": ["Owner"]})
        self.assertError(r, 403, "forbidden")
        # it may invite with its own role, and act on people holding no more
        r = self.as_person(sess, "POST", acct(self.A, "users"),
                           {"email": uid("x") + "@y.io", "roles": ["User Administrator - RESTRICTED"]})
        self.assertStatus(r, 201)
        self.assertStatus(self.as_person(sess, "PATCH", acct(self.A, "users", r.data["email"]),
                                         {"status": "inactive"}), 200)
        # but not on an Owner person
        owner = self.person(roles=["Owner"])
        self.assertError(self.as_person(sess, "PATCH", acct(self.A, "users", owner), {"status": "inactive"}),
                         403, "forbidden")
        self.assertError(self.as_person(sess, "DELETE", acct(self.A, "users", owner)), 403, "forbidden")
        me = self.call("GET", acct(self.A, "users")).data["items"]
        self.assertEqual([u["roles"] for u in me if u["email"] == email], [["User Administrator - RESTRICTED"]])
        denied = [a for a in self.audit() if a["action"] == "access.denied" and a["actor"] == "user:" + email]
        self.assertTrue(denied)

    def test_edit_users_needed(self):
        key, token = self.cred_with(["view-api-keys"])
        self.assertError(self.call("GET", acct(self.A, "users"), cred=(key, token)), 403, "forbidden")
        self.assertError(self.call("POST", acct(self.A, "users"), {"email": "a@b.io"}, cred=(key, token)), 403,
                         "forbidden")
        self.assertError(self.call("GET", acct(self.A, "users"), cred=None), 401, "unauthenticated")


if __name__ == "__main__":
    unittest.main()

"""Login tokens with JWKS, and one-time share links (#8)."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import API, BIN, KeystileCase, acct, request


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def openssl_verify_ed25519(x_b64url, data, sig):
    """Checks an Ed25519 signature with openssl, independently of Keystile's libsodium."""
    raw = b64url_decode(x_b64url)
    der = bytes.fromhex("302a300506032b6570032100") + raw  # SubjectPublicKeyInfo for Ed25519
    d = tempfile.mkdtemp()
    try:
        pem = os.path.join(d, "pub.pem")
        with open(pem, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(der).decode())
        with open(os.path.join(d, "data"), "wb") as f:
            f.write(data)
        with open(os.path.join(d, "sig"), "wb") as f:
            f.write(sig)
        p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin",
                            "-in", os.path.join(d, "data"), "-sigfile", os.path.join(d, "sig")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode == 0, p.stdout.decode()
    finally:
        shutil.rmtree(d)


class LoginCase(KeystileCase):
    """Helpers only."""

    def login(self, cred=None):
        key, token = cred or self.server.owner()
        r = self.server.request("POST", API + "/login", key=key, token=token)
        self.assertStatus(r, 200)
        return r.data

    def bearer(self, jwt):
        return {"Authorization": "Bearer " + jwt}


class TestLogin(LoginCase):

    def test_login_token_shape_and_claims(self):
        key, _ = self.server.owner()
        d = self.login()
        self.assertEqual(set(d), {"token", "expires_at"})
        head, payload, sig = d["token"].split(".")
        h = json.loads(b64url_decode(head))
        c = json.loads(b64url_decode(payload))
        self.assertEqual(h["alg"], "EdDSA")
        self.assertIn("kid", h)
        self.assertEqual(c["sub"], key)
        self.assertEqual(c["account"], self.A)
        self.assertEqual(c["roles"], ["Owner"])
        self.assertEqual(c["exp"] - c["iat"], 6 * 3600)
        self.assertTrue(c["jti"])
        self.assertLess(abs(c["iat"] - time.time()), 30)

    def test_signature_checks_against_jwks_with_openssl(self):
        jwt = self.login()["token"]
        head, payload, sig = jwt.split(".")
        kid = json.loads(b64url_decode(head))["kid"]
        r = self.server.request("GET", "/.well-known/jwks.json")
        self.assertStatus(r, 200)
        keys = {k["kid"]: k for k in r.data["keys"]}
        self.assertIn(kid, keys)
        jwk = keys[kid]
        self.assertEqual((jwk["kty"], jwk["crv"]), ("OKP", "Ed25519"))
        ok, out = openssl_verify_ed25519(jwk["x"], (head + "." + payload).encode(), b64url_decode(sig))
        self.assertTrue(ok, out)
        # a changed payload must fail the same independent check
        forged = base64.urlsafe_b64encode(b'{"sub":"x"}').decode().rstrip("=")
        ok, _ = openssl_verify_ed25519(jwk["x"], (head + "." + forged).encode(), b64url_decode(sig))
        self.assertFalse(ok)

    def test_bearer_accepted_by_verify_and_management(self):
        jwt = self.login()["token"]
        r = self.server.request("GET", API + "/verify?resource=edit-roles", headers=self.bearer(jwt))
        self.assertVerifyOK(r, self.server.key)
        r = self.server.request("GET", acct(self.A, "settings"), headers=self.bearer(jwt))
        self.assertStatus(r, 200)
        bad = jwt[:-2] + ("AA" if not jwt.endswith("AA") else "BB")
        self.assertVerifyFail(self.server.request("GET", API + "/verify", headers=self.bearer(bad)),
                              401, "invalid_token")
        self.assertError(self.server.request("GET", acct(self.A, "settings"), headers=self.bearer(bad)),
                         401, "unauthenticated")

    def test_deactivated_or_deleted_key_jwt_refused_at_once(self):
        k = self.create_key(roles=["Owner"])
        jwt = self.login((k["key"], k["token"]))["token"]
        self.assertVerifyOK(self.server.request("GET", API + "/verify", headers=self.bearer(jwt)), k["key"])
        self.patch_key(k["key"], {"status": "inactive"})
        self.assertVerifyFail(self.server.request("GET", API + "/verify", headers=self.bearer(jwt)), 401, "inactive")
        self.patch_key(k["key"], {"status": "active"})
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"])), 204)
        self.assertVerifyFail(self.server.request("GET", API + "/verify", headers=self.bearer(jwt)),
                              401, "unknown_key")

    def test_login_needs_valid_credentials(self):
        key, token = self.server.owner()
        self.assertError(self.server.request("POST", API + "/login", key=key, token=token[:-1] + ("B" if token.endswith("A") else "A")),
                         401, "unauthenticated")
        self.assertError(self.server.request("POST", API + "/login"), 401, "unauthenticated")


class TestSigningKeyRotation(LoginCase):
    """Its own server: rotation restarts it."""

    def test_rotation_keeps_old_key_in_jwks(self):
        old_jwt = self.login()["token"]
        old_kid = json.loads(b64url_decode(old_jwt.split(".")[0]))["kid"]
        self.server.stop()
        try:
            p = subprocess.run([BIN, "signing-key", "rotate", "--db", self.server.db],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        finally:
            self.server.start()
        self.assertEqual(p.returncode, 0, p.stderr)
        new_kid = json.loads(p.stdout)["kid"]
        kids = {k["kid"] for k in self.server.request("GET", "/.well-known/jwks.json").data["keys"]}
        self.assertEqual(kids, {old_kid, new_kid})
        new_jwt = self.login()["token"]
        self.assertEqual(json.loads(b64url_decode(new_jwt.split(".")[0]))["kid"], new_kid)
        for jwt in (old_jwt, new_jwt):  # tokens of the retired key stay valid until they expire
            self.assertStatus(self.server.request("GET", API + "/verify", headers=self.bearer(jwt)), 200)


class TestRetiredSigningKey(LoginCase):
    """Its own server: it rotates and moves the clock."""

    def test_retired_key_leaves_jwks_after_6_hours(self):
        self.server.stop()
        try:
            p = subprocess.run([BIN, "signing-key", "rotate", "--db", self.server.db,
                                "--secret-file", self.server.secret_file],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        finally:
            self.server.start()
        self.assertEqual(p.returncode, 0, p.stderr)
        new_kid = json.loads(p.stdout)["kid"]
        self.assertGreater(len(self.server.request("GET", "/.well-known/jwks.json").data["keys"]), 1)
        self.server.restart(["--clock-offset-days", "1"])  # a day after the retirement
        try:
            kids = [k["kid"] for k in self.server.request("GET", "/.well-known/jwks.json").data["keys"]]
            self.assertEqual(kids, [new_kid])
        finally:
            self.server.restart([])


class TestShareLinks(KeystileCase):

    def test_share_url_reveals_once(self):
        k = self.create_key()
        url = k["share_url"]
        parts = urllib.parse.urlsplit(url)
        self.assertTrue(parts.path.startswith("/share/"), url)
        page = self.server.request("GET", parts.path)
        self.assertStatus(page, 200)
        self.assertIn(b"Reveal", page.raw)
        self.assertNotIn(k["token"].encode(), page.raw)
        self.assertIn("default-src 'self'", page.headers.get("Content-Security-Policy", ""))
        # viewing the page (as a chat preview would) burns nothing
        self.assertStatus(self.server.request("GET", parts.path), 200)
        r = self.server.request("POST", parts.path + "/reveal")
        self.assertStatus(r, 200)
        self.assertEqual(r.data, {"key": k["key"], "token": k["token"]})
        self.assertError(self.server.request("POST", parts.path + "/reveal"), 410, "gone")

    def test_renew_has_share_url_for_new_token(self):
        k = self.create_key()
        d = self.renew(k["key"])
        path = urllib.parse.urlsplit(d["share_url"]).path
        r = self.server.request("POST", path + "/reveal")
        self.assertEqual(r.data["token"], d["token"])

    def test_renew_link_is_durable_with_the_renewal(self):
        # written in the renewal's own commit: acknowledged means both survive
        k = self.create_key()
        d = self.renew(k["key"], "now")
        self.server.kill9()
        self.server.start()
        self.assertVerifyOK(self.verify(k["key"], d["token"]), k["key"], "current")
        path = urllib.parse.urlsplit(d["share_url"]).path
        r = self.server.request("POST", path + "/reveal")
        self.assertStatus(r, 200)
        self.assertEqual(r.data, {"key": k["key"], "token": d["token"]})
        # a refused renewal makes no token and no link
        self.renew(k["key"], "later")
        r = self.call("POST", acct(self.A, "keys", k["key"], "renew"), {"delete_old": "later"})
        self.assertError(r, 409, "old_token_exists")
        self.assertNotIn("share_url", r.data)

    def test_unknown_and_expired_links(self):
        self.assertError(self.server.request("POST", "/share/nope/reveal"), 404, "not_found")
        k = self.create_key()
        path = urllib.parse.urlsplit(k["share_url"]).path
        self.server.restart(["--clock-offset-days", "2"])
        try:
            self.assertError(self.server.request("POST", path + "/reveal"), 410, "gone")
        finally:
            self.server.restart([])

    def test_link_survives_restart_and_db_holds_no_token(self):
        k = self.create_key()
        path = urllib.parse.urlsplit(k["share_url"]).path
        self.server.stop()
        link_id = path.rsplit("/", 1)[1]
        for name in os.listdir(self.server.dir):
            with open(os.path.join(self.server.dir, name), "rb") as f:
                blob = f.read()
            self.assertNotIn(k["token"].encode(), blob, name)
            self.assertNotIn(link_id.encode(), blob, name)
        self.server.start()
        self.assertEqual(self.server.request("POST", path + "/reveal").data["token"], k["token"])


if __name__ == "__main__":
    unittest.main()

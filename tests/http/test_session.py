"""Web admin sessions (#4): sign-in cookie, CSRF on every management call, sign-out, restart."""
import unittest

from harness import API, KeystileCase, acct


class TestSession(KeystileCase):

    def sign_in(self, cred=None):
        key, token = cred or self.server.owner()
        r = self.server.request("POST", API + "/session", key=key, token=token)
        self.assertStatus(r, 201)
        cookie = r.headers.get("Set-Cookie", "")
        self.assertTrue(cookie.startswith("keystile_session="), cookie)
        return cookie.split(";")[0], r.data

    def as_session(self, method, path, cookie, csrf=None, body=None):
        headers = {"Cookie": cookie}
        if csrf:
            headers["X-CSRF-Token"] = csrf
        return self.server.request(method, path, body=body, headers=headers)

    def test_sign_in_sets_strict_http_only_cookie(self):
        key, token = self.server.owner()
        r = self.server.request("POST", API + "/session", key=key, token=token)
        self.assertStatus(r, 201)
        self.assertEqual(set(r.data), {"csrf", "key", "account"})
        self.assertEqual(r.data["key"], key)
        self.assertEqual(r.data["account"], self.A)
        attrs = [a.strip().lower() for a in r.headers["Set-Cookie"].split(";")]
        self.assertIn("httponly", attrs)
        self.assertIn("samesite=strict", attrs)
        self.assertIn("path=/", attrs)
        self.assertIn("max-age=43200", attrs)  # 12 h: the longest a session can live
        self.assertNotIn(token, r.raw.decode())

    def test_csrf_required_for_management_calls(self):
        cookie, info = self.sign_in()
        path = acct(self.A, "settings")
        self.assertError(self.as_session("GET", path, cookie), 403, "forbidden")
        self.assertError(self.as_session("GET", path, cookie, csrf="x" * 43), 403, "forbidden")
        r = self.as_session("GET", path, cookie, csrf=info["csrf"])
        self.assertStatus(r, 200)
        r = self.as_session("POST", acct(self.A, "keys"), cookie, csrf=info["csrf"], body={"name": "via ui"})
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])

    def test_get_session_and_sign_out(self):
        cookie, info = self.sign_in()
        r = self.as_session("GET", API + "/session", cookie)
        self.assertStatus(r, 200)
        self.assertEqual(r.data["csrf"], info["csrf"])
        self.assertIn("edit-api-keys", r.data["resources"])
        self.assertError(self.as_session("DELETE", API + "/session", cookie), 403, "forbidden")
        r = self.as_session("DELETE", API + "/session", cookie, csrf=info["csrf"])
        self.assertStatus(r, 204)
        self.assertIn("Max-Age=0", r.headers.get("Set-Cookie", ""))
        self.assertError(self.as_session("GET", API + "/session", cookie), 401, "unauthenticated")
        self.assertError(self.as_session("GET", acct(self.A, "settings"), cookie, csrf=info["csrf"]),
                         401, "unauthenticated")

    def test_wrong_credentials_same_answer(self):
        key, token = self.server.owner()
        bad_token = self.server.request("POST", API + "/session", key=key, token=token[:-1] + ("y" if token.endswith("x") else "x"))
        bad_key = self.server.request("POST", API + "/session", key="kst-acme-aaaaaaaaaa", token=token)
        none = self.server.request("POST", API + "/session")
        for r in (bad_token, bad_key, none):
            self.assertError(r, 401, "unauthenticated")
        self.assertEqual(bad_token.data, bad_key.data)

    def test_key_without_management_resource_cannot_sign_in(self):
        cred = self.cred_with(["orders.read"])
        r = self.server.request("POST", API + "/session", key=cred[0], token=cred[1])
        self.assertError(r, 403, "forbidden")

    def test_session_survives_restart_and_dies_with_its_key(self):
        k = self.create_key(roles=["Owner"])
        cookie, info = self.sign_in((k["key"], k["token"]))
        self.server.restart()
        self.assertStatus(self.as_session("GET", acct(self.A, "settings"), cookie, csrf=info["csrf"]), 200)
        self.assertStatus(self.call("PATCH", acct(self.A, "keys", k["key"]), {"status": "inactive"}), 200)
        self.assertError(self.as_session("GET", acct(self.A, "settings"), cookie, csrf=info["csrf"]),
                         401, "unauthenticated")
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"])), 204)
        self.assertError(self.as_session("GET", API + "/session", cookie), 401, "unauthenticated")


if __name__ == "__main__":
    unittest.main()

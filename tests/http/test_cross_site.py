"""Cross-site requests with the session cookie (API.md "Sessions and login
tokens"): a cookie-authenticated call with Sec-Fetch-Site: cross-site is 403
whatever its credentials, and changes nothing; same-origin and same-site
calls, and calls without the cookie, are not affected."""
import unittest

from harness import API, KeystileCase, acct, uid


class TestCrossSite(KeystileCase):

    def sign_in(self):
        key, token = self.server.owner()
        r = self.server.request("POST", API + "/session", key=key, token=token)
        self.assertStatus(r, 201)
        return r.headers["Set-Cookie"].split(";")[0], r.data["csrf"]

    def test_cross_site_with_cookie_refused(self):
        cookie, csrf = self.sign_in()
        before = len(self.list_all({}))
        for site in ("cross-site", "Cross-Site"):
            headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Sec-Fetch-Site": site}
            r = self.server.request("POST", acct(self.A, "keys"), body={"name": uid("x-")}, headers=headers)
            self.assertError(r, 403, "forbidden", field="cross-site")
            r = self.server.request("GET", acct(self.A, "settings"), headers=headers)
            self.assertError(r, 403, "forbidden")
            # Even with a key and token beside the cookie.
            key, token = self.server.owner()
            r = self.server.request("DELETE", acct(self.A, "keys", self.create_key()["key"]), key=key,
                                    token=token, headers=headers)
            self.assertError(r, 403, "forbidden")
            # Sign-out by another site is refused too: the session lives on.
            r = self.server.request("DELETE", API + "/session", headers=headers)
            self.assertError(r, 403, "forbidden")
        self.assertEqual(len(self.list_all({})), before + 2)  # only the two keys made above

        for site in ("same-origin", "same-site", "none"):
            headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Sec-Fetch-Site": site}
            r = self.server.request("GET", acct(self.A, "settings"), headers=headers)
            self.assertStatus(r, 200, site)

    def test_cross_site_without_cookie_unaffected(self):
        key, token = self.server.owner()
        r = self.server.request("GET", acct(self.A, "settings"), key=key, token=token,
                                headers={"Sec-Fetch-Site": "cross-site"})
        self.assertStatus(r, 200)


if __name__ == "__main__":
    unittest.main()

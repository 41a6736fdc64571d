"""GET /api/v1/auth/methods (docs/API.md, "Sign-in methods"): what the web
admin's sign-in page offers. Public; "sso" follows serve --oidc-issuer."""
import unittest

from harness import API, KeystileCase


class TestSignInMethods(KeystileCase):

    def test_public_and_without_sso_by_default(self):
        r = self.server.request("GET", API + "/auth/methods")
        self.assertStatus(r, 200)
        self.assertEqual(r.data, {"password": True, "key": True, "sso": False})
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/json"))

    def test_only_get(self):
        r = self.server.request("POST", API + "/auth/methods", body={})
        self.assertError(r, 405, "method_not_allowed")
        self.assertIn("GET", r.headers.get("Allow", ""))


if __name__ == "__main__":
    unittest.main()

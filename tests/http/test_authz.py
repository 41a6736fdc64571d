"""Authorisation of management calls: 401 without a valid credential, 403 without
the needed resource (table-driven), 403 for other accounts, 404 for unknown keys."""
import unittest

from harness import (KeystileCase, MANAGEMENT_RESOURCES, USER_ADMIN, acct,
                     make_token, typo, uid)


# name, needed (any one of them suffices), builder(case, account) -> (method, path, body)
def _renewed_key(case):
    k = case.create_key()
    case.renew(k["key"])
    return k["key"]


ENDPOINTS = [
    ("list keys", ["view-api-keys"],
     lambda c, a: ("GET", acct(a, "keys"), None)),
    ("show key", ["view-api-keys"],
     lambda c, a: ("GET", acct(a, "keys", c.create_key()["key"]), None)),
    ("create key", ["edit-api-keys"],
     lambda c, a: ("POST", acct(a, "keys"), {"name": uid("authz-")})),
    ("edit key", ["edit-api-keys"],
     lambda c, a: ("PATCH", acct(a, "keys", c.create_key()["key"]), {"name": "x"})),
    ("deactivate key", ["edit-api-keys"],
     lambda c, a: ("PATCH", acct(a, "keys", c.create_key()["key"]),
                   {"status": "inactive"})),
    ("delete key", ["edit-api-keys"],
     lambda c, a: ("DELETE", acct(a, "keys", c.create_key()["key"]), None)),
    ("renew", ["renew-api-token"],
     lambda c, a: ("POST", acct(a, "keys", c.create_key()["key"], "renew"),
                   {"delete_old": "later"})),
    ("delete old token", ["renew-api-token"],
     lambda c, a: ("DELETE", acct(a, "keys", _renewed_key(c), "old-token"), None)),
    ("undo renewal", ["renew-api-token"],
     lambda c, a: ("POST", acct(a, "keys", _renewed_key(c), "undo-renewal"), None)),
    ("get settings", ["view-api-keys", "edit-api-keys-settings"],
     lambda c, a: ("GET", acct(a, "settings"), None)),
    ("put settings", ["edit-api-keys-settings"],
     lambda c, a: ("PUT", acct(a, "settings"), {"enforce_duration": False})),
    ("list roles", ["view-api-keys", "edit-roles"],
     lambda c, a: ("GET", acct(a, "roles"), None)),
    ("create role", ["edit-roles"],
     lambda c, a: ("POST", acct(a, "roles"), {"name": uid("authz role "),
                                               "resources": ["x.read"]})),
    ("edit role", ["edit-roles"],
     lambda c, a: ("PATCH", acct(a, "roles", c.create_role(["x.read"])),
                   {"resources": ["x.write"]})),
    ("delete role", ["edit-roles"],
     lambda c, a: ("DELETE", acct(a, "roles", c.create_role(["x.read"])), None)),
    ("audit", ["view-audit-log"],
     lambda c, a: ("GET", acct(a, "audit"), None)),
    ("key usage", ["view-api-keys"],
     lambda c, a: ("GET", acct(a, "keys", c.create_key()["key"], "usage"), None)),
    ("account usage", ["view-api-keys"],
     lambda c, a: ("GET", acct(a, "usage"), None)),
    ("export csv", ["view-api-keys"],
     lambda c, a: ("GET", acct(a, "keys", "export"), None)),
    ("export xlsx", ["view-api-keys"],
     lambda c, a: ("GET", acct(a, "keys", "export") + "?format=xlsx", None)),
    ("list external keys", ["view-api-keys"],
     lambda c, a: ("GET", acct(a, "external-keys"), None)),
    ("add external key", ["edit-api-keys"],
     lambda c, a: ("POST", acct(a, "external-keys"), {"key": _foreign_key(c), "roles": []})),
    ("edit external key", ["edit-api-keys"],
     lambda c, a: ("PATCH", acct(a, "external-keys", _granted_key(c, a)), {"status": "inactive"})),
    ("list webhooks", ["edit-webhooks"],
     lambda c, a: ("GET", acct(a, "webhooks"), None)),
    ("create webhook", ["edit-webhooks"],
     lambda c, a: ("POST", acct(a, "webhooks"), {"url": "http://127.0.0.1:9/h", "events": ["key.created"]})),
    ("show webhook", ["edit-webhooks"],
     lambda c, a: ("GET", acct(a, "webhooks", _webhook(c, a)), None)),
    ("edit webhook", ["edit-webhooks"],
     lambda c, a: ("PATCH", acct(a, "webhooks", _webhook(c, a)), {"enabled": False})),
    ("delete webhook", ["edit-webhooks"],
     lambda c, a: ("DELETE", acct(a, "webhooks", _webhook(c, a)), None)),
    ("webhook deliveries", ["edit-webhooks"],
     lambda c, a: ("GET", acct(a, "webhooks", _webhook(c, a), "deliveries"), None)),
    ("webhook test", ["edit-webhooks"],
     lambda c, a: ("POST", acct(a, "webhooks", _webhook(c, a), "test"), None)),
    ("remove external key", ["edit-api-keys"],
     lambda c, a: ("DELETE", acct(a, "external-keys", _granted_key(c, a)), None)),
    ("list users", ["edit-users"],
     lambda c, a: ("GET", acct(a, "users"), None)),
    ("invite user", ["edit-users"],
     lambda c, a: ("POST", acct(a, "users"), {"email": uid("authz") + "@example.com"})),
    ("edit user", ["edit-users"],
     lambda c, a: ("PATCH", acct(a, "users", _member(c, a)), {"status": "inactive"})),
    ("remove user", ["edit-users"],
     lambda c, a: ("DELETE", acct(a, "users", _member(c, a)), None)),
]


def _webhook(case, account):
    r = case.call("POST", acct(account, "webhooks"), {"url": "http://127.0.0.1:9/h", "events": ["key.created"]})
    case.assertStatus(r, 201)
    return r.data["id"]


def _member(case, account):
    """A fresh person holding nothing in account, added by its Owner."""
    cred = case.server.owner(account) if account != case.A else case.server.owner()
    r = case.call("POST", acct(account, "users"), {"email": uid("m") + "@example.com"}, cred=cred)
    case.assertStatus(r, 201, "add a person")
    return r.data["email"]


def _foreign_key(case):
    """A fresh key of account beta, made by beta's Owner."""
    return case.create_key(account="beta", cred=case.server.owner("beta"))["key"]


def _granted_key(case, account):
    key = _foreign_key(case)
    r = case.call("POST", acct(account, "external-keys"), {"key": key, "roles": []})
    case.assertStatus(r, 201, "grant")
    return key


class TestAuthz(KeystileCase):
    ACCOUNTS = ("acme", "beta")
    # Seven bad credentials on every route of the table are more than the
    # failed-credential throttle's 120 a minute from one address (test_abuse.py
    # tests the throttle); this class is about the 401s themselves.
    SERVER_ARGS = ("--failed-auth-limit", "0")

    def test_table_covers_every_account_route(self):
        """Every management route of the router has a row above (method + pattern)."""
        import os
        import re
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "src", "http", "router.c")) as f:
            routes = set(re.findall(r'\{"([A-Z]+)", "(/api/v1/accounts/[^"]*)"', f.read()))
        covered = set()
        for name, _, build in ENDPOINTS:
            method, path, _ = build(self, self.A)
            parts = path.split("?")[0].split("/")
            pattern = "/".join("*" if i in (4, 6) and p not in ("export",) else p for i, p in enumerate(parts))
            covered.add((method, pattern))
        self.assertEqual(routes - covered, set())

    def test_no_credentials_401(self):
        for name, _, build in ENDPOINTS:
            method, path, body = build(self, self.A)
            with self.subTest(endpoint=name):
                r = self.call(method, path, body, cred=None)
                self.assertError(r, 401, "unauthenticated")

    def test_bad_credentials_401(self):
        k, t = self.server.owner()
        bad = [(k, make_token()), ("kst-acme-aaaaaaaaaa", t), (k, typo(t)), (k, None),
               (None, t), (k, "kstt_short"), ("nonsense", make_token())]
        for name, _, build in ENDPOINTS:
            method, path, body = build(self, self.A)
            for cred in bad:
                with self.subTest(endpoint=name, cred=cred):
                    r = self.call(method, path, body, cred=cred)
                    self.assertError(r, 401, "unauthenticated")
        r = self.server.request("GET", acct(self.A, "keys"), key=k, token=make_token(),
                                basic=True)
        self.assertError(r, 401, "unauthenticated")

    def test_401_has_no_side_effect(self):
        k = self.create_key()
        r = self.call("DELETE", acct(self.A, "keys", k["key"]),
                      cred=(self.server.key, make_token()))
        self.assertError(r, 401, "unauthenticated")
        self.get_key(k["key"])

    def test_missing_resource_403(self):
        for name, needed, build in ENDPOINTS:
            others = [r for r in MANAGEMENT_RESOURCES if r not in needed]
            cred = self.cred_with(others + ["orders.read"])
            method, path, body = build(self, self.A)
            with self.subTest(endpoint=name, without=needed):
                r = self.call(method, path, body, cred=cred)
                self.assertError(r, 403, "forbidden")

    def test_needed_resource_suffices(self):
        for name, needed, build in ENDPOINTS:
            for res in needed:
                cred = self.cred_with([res])
                method, path, body = build(self, self.A)
                with self.subTest(endpoint=name, resource=res):
                    r = self.call(method, path, body, cred=cred)
                    self.assertTrue(200 <= r.status < 300, r)
                    if r.status in (200, 201) and isinstance(r.data, dict) \
                            and "token" in r.data:
                        self.server.issued_tokens.append(r.data["token"])

    def test_no_roles_403(self):
        cred = self.cred_with([])
        for name, _, build in ENDPOINTS:
            method, path, body = build(self, self.A)
            with self.subTest(endpoint=name):
                self.assertError(self.call(method, path, body, cred=cred), 403,
                                 "forbidden")

    def test_403_has_no_side_effect(self):
        cred = self.cred_with([r for r in MANAGEMENT_RESOURCES if r != "edit-api-keys"])
        k = self.create_key()
        self.assertError(self.call("DELETE", acct(self.A, "keys", k["key"]), cred=cred),
                         403, "forbidden")
        self.assertError(self.call("PATCH", acct(self.A, "keys", k["key"]),
                                   {"status": "inactive"}, cred=cred), 403, "forbidden")
        d = self.get_key(k["key"])
        self.assertEqual(d["status"], "active")
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        cred = self.cred_with([r for r in MANAGEMENT_RESOURCES if r != "renew-api-token"])
        self.assertError(self.call("POST", acct(self.A, "keys", k["key"], "renew"),
                                   cred=cred), 403, "forbidden")
        self.assertEqual(len(self.get_key(k["key"])["tokens"]), 1)

    def test_other_account_403(self):
        beta = self.server.owner("beta")
        acme = self.server.owner("acme")
        for name, _, build in ENDPOINTS:
            method, path, body = build(self, self.A)
            with self.subTest(endpoint=name, caller="beta Owner on acme"):
                self.assertError(self.call(method, path, body, cred=beta), 403,
                                 "forbidden")
        for account in ("beta", "nonexistent", "zz-no-such-account"):
            for name, path, body, method in (
                    ("list", acct(account, "keys"), None, "GET"),
                    ("show", acct(account, "keys", "kst-%s-aaaaaaaaaa" % account), None,
                     "GET"),
                    ("create", acct(account, "keys"), {"name": "x"}, "POST"),
                    ("renew", acct(account, "keys", "kst-%s-aaaaaaaaaa" % account,
                                   "renew"), None, "POST"),
                    ("settings", acct(account, "settings"), None, "GET"),
                    ("put settings", acct(account, "settings"),
                     {"token_duration_months": 6}, "PUT"),
                    ("roles", acct(account, "roles"), None, "GET"),
                    ("audit", acct(account, "audit"), None, "GET")):
                with self.subTest(account=account, endpoint=name):
                    self.assertError(self.call(method, path, body, cred=acme), 403,
                                     "forbidden")
        # beta's settings were not changed by the refused PUT
        r = self.call("GET", acct("beta", "settings"), cred=beta)
        self.assertStatus(r, 200)
        self.assertEqual(r.data["token_duration_months"], 3)

    def test_beta_key_ids_unknown_in_acme(self):
        bk, _ = self.server.owner("beta")
        for method, suffix in (("GET", ()), ("PATCH", ()), ("DELETE", ()),
                               ("POST", ("renew",)), ("POST", ("undo-renewal",)),
                               ("DELETE", ("old-token",))):
            with self.subTest(method=method, suffix=suffix):
                body = {"name": "x"} if method == "PATCH" else None
                r = self.call(method, acct("acme", "keys", bk, *suffix), body)
                self.assertError(r, 404, "not_found")
        beta = self.server.owner("beta")
        r = self.call("GET", acct("beta", "keys", bk), cred=beta)
        self.assertStatus(r, 200)

    def test_user_administrator_role(self):
        cred = self.create_key(roles=[USER_ADMIN])
        cred = (cred["key"], cred["token"])
        k = self.create_key()
        ok = [("GET", acct(self.A, "keys"), None),
              ("GET", acct(self.A, "keys", k["key"]), None),
              ("POST", acct(self.A, "keys"), {"name": uid()}),
              ("PATCH", acct(self.A, "keys", k["key"]), {"name": "ua"}),
              ("POST", acct(self.A, "keys", k["key"], "renew"), None),
              ("DELETE", acct(self.A, "keys", k["key"], "old-token"), None),
              ("GET", acct(self.A, "settings"), None),
              ("PUT", acct(self.A, "settings"), {"token_duration_months": 3}),
              ("GET", acct(self.A, "roles"), None)]
        for method, path, body in ok:
            with self.subTest(method=method, path=path):
                r = self.call(method, path, body, cred=cred)
                self.assertTrue(200 <= r.status < 300, r)
                if isinstance(r.data, dict) and "token" in r.data:
                    self.server.issued_tokens.append(r.data["token"])
        role = self.create_role(["y"])
        denied = [("POST", acct(self.A, "roles"), {"name": uid(), "resources": ["y"]}),
                  ("PATCH", acct(self.A, "roles", role), {"resources": ["z"]}),
                  ("DELETE", acct(self.A, "roles", role), None),
                  ("GET", acct(self.A, "audit"), None)]
        for method, path, body in denied:
            with self.subTest(method=method, path=path):
                self.assertError(self.call(method, path, body, cred=cred), 403,
                                 "forbidden")


if __name__ == "__main__":
    unittest.main()

"""Verify: success body and headers, every failure reason, resources, accounts."""
import http.client
import json
import unittest

from harness import (API, KeystileCase, MANAGEMENT_RESOURCES, acct, OWNER, USER_ADMIN,
                     USER_ADMIN_RESOURCES, make_token, typo, uid)


class TestVerify(KeystileCase):
    ACCOUNTS = ("acme", "beta")

    def test_success_body_and_headers(self):
        k = self.create_key(roles=[USER_ADMIN])
        r = self.verify(k["key"], k["token"])
        d = self.assertVerifyOK(r, k["key"], "current")
        self.assertEqual(set(d), {"valid", "key", "account", "target_account", "token",
                                  "roles", "resources", "outdated"})
        self.assertEqual(d["account"], "acme")
        self.assertEqual(d["target_account"], "acme")
        self.assertEqual(d["roles"], [USER_ADMIN])
        self.assertEqual(d["resources"], sorted(USER_ADMIN_RESOURCES))
        self.assertIs(d["outdated"], False)
        self.assertEqual(r.headers.get("X-Keystile-Key"), k["key"])
        self.assertEqual(r.headers.get("X-Keystile-Account"), "acme")
        self.assertNotIn(k["token"].encode(), r.raw)

    def test_post_verify(self):
        k = self.create_key()
        self.assertVerifyOK(self.verify(k["key"], k["token"], method="POST"), k["key"])
        r = self.verify(k["key"], k["token"], method="POST", account="acme",
                        resource="x")
        self.assertVerifyFail(r, 403, "forbidden")

    def test_explicit_home_account(self):
        k = self.create_key()
        r = self.verify(k["key"], k["token"], account="acme")
        self.assertVerifyOK(r, k["key"], account="acme")

    def test_owner_resources(self):
        k, t = self.server.owner()
        d = self.assertVerifyOK(self.verify(k, t), k)
        self.assertEqual(d["roles"], [OWNER])
        self.assertEqual(d["resources"], sorted(MANAGEMENT_RESOURCES))
        for res in MANAGEMENT_RESOURCES:
            with self.subTest(resource=res):
                self.assertVerifyOK(self.verify(k, t, resource=res), k)
        self.assertVerifyFail(self.verify(k, t, resource="orders.read"), 403,
                              "forbidden")

    def test_no_roles_key(self):
        k = self.create_key(roles=[])
        d = self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        self.assertEqual(d["roles"], [])
        self.assertEqual(d["resources"], [])
        self.assertVerifyFail(self.verify(k["key"], k["token"], resource="orders.read"),
                              403, "forbidden")
        self.assertVerifyFail(self.verify(k["key"], k["token"],
                                          resource="view-api-keys"), 403, "forbidden")

    def test_resources_union_sorted_dedup(self):
        r1 = self.create_role(["orders.write", "orders.read", "zeta"])
        r2 = self.create_role(["orders.read", "alpha:x", "b/c"])
        k = self.create_key(roles=[r1, r2])
        d = self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        self.assertEqual(d["resources"],
                         sorted({"orders.write", "orders.read", "zeta", "alpha:x", "b/c"}))
        self.assertEqual(sorted(d["roles"]), sorted([r1, r2]))
        for res in ("orders.read", "orders.write", "zeta", "alpha:x", "b/c"):
            with self.subTest(resource=res):
                self.assertVerifyOK(self.verify(k["key"], k["token"], resource=res),
                                    k["key"])
        for res in ("orders", "orders.rea", "ORDERS.READ", "orders.read ", "view-api-keys"):
            with self.subTest(resource=res):
                self.assertVerifyFail(self.verify(k["key"], k["token"], resource=res),
                                      403, "forbidden")

    def test_resource_change_takes_effect(self):
        role = self.create_role(["a.read"])
        k = self.create_key(roles=[role])
        self.assertVerifyFail(self.verify(k["key"], k["token"], resource="a.write"),
                              403, "forbidden")
        from harness import acct
        r = self.call("PATCH", acct(self.A, "roles", role),
                      {"resources": ["a.read", "a.write"]})
        self.assertStatus(r, 200)
        self.assertVerifyOK(self.verify(k["key"], k["token"], resource="a.write"),
                            k["key"])
        self.patch_key(k["key"], {"roles": []})
        self.assertVerifyFail(self.verify(k["key"], k["token"], resource="a.read"),
                              403, "forbidden")

    def test_missing_credentials(self):
        k = self.create_key()
        cases = [(None, None), (k["key"], None), (None, k["token"]), ("", ""),
                 (k["key"], ""), ("", k["token"])]
        for key, token in cases:
            with self.subTest(key=key, token=token and token[:8]):
                self.assertVerifyFail(self.verify(key, token), 401,
                                      "missing_credentials")
        for method in ("GET", "POST"):
            self.assertVerifyFail(self.verify(method=method), 401, "missing_credentials")

    def test_missing_credentials_basic(self):
        k = self.create_key()
        r = self.verify(k["key"], "", basic=True)
        self.assertVerifyFail(r, 401, "missing_credentials")

    def test_malformed_token(self):
        k = self.create_key()
        t = k["token"]
        cases = ["kstt_abc", "abc", t[:-1], t + "0", "kstx_" + t[5:],
                 t[:10] + "-" + t[11:], typo(t), t[:-1] + ("0" if t[-1] != "0" else "1"),
                 t.upper() if t.upper() != t else t.lower()]
        for bad in cases:
            with self.subTest(token=bad):
                self.assertVerifyFail(self.verify(k["key"], bad), 401, "malformed_token")
        # malformed is told before the key lookup
        self.assertVerifyFail(self.verify("kst-acme-aaaaaaaaaa", typo(t)), 401,
                              "malformed_token")

    def test_every_single_char_typo_is_malformed(self):
        k = self.create_key()
        t = k["token"]
        for i in range(5, len(t)):
            c = t[i]
            bad = t[:i] + ("a" if c != "a" else "b") + t[i + 1:]
            r = self.verify(k["key"], bad)
            self.assertEqual(r.data.get("reason"), "malformed_token",
                             "typo at %d: %r" % (i, r))

    def test_unknown_key(self):
        for key in ("kst-acme-aaaaaaaaaa", "kst-nope-aaaaaaaaaa", "nonsense",
                    "KST-ACME-AAAAAAAAAA", "kst-acme-", "x" * 300):
            with self.subTest(key=key[:20]):
                self.assertVerifyFail(self.verify(key, make_token()), 401, "unknown_key")

    def test_invalid_token(self):
        k = self.create_key()
        other = self.create_key()
        self.assertVerifyFail(self.verify(k["key"], make_token()), 401, "invalid_token")
        self.assertVerifyFail(self.verify(k["key"], other["token"]), 401,
                              "invalid_token")

    def test_inactive(self):
        k = self.create_key()
        self.patch_key(k["key"], {"status": "inactive"})
        self.assertVerifyFail(self.verify(k["key"], k["token"]), 401, "inactive")
        self.assertVerifyFail(self.verify(k["key"], k["token"], resource="x"), 401,
                              "inactive")

    def test_other_account_forbidden(self):
        k = self.create_key(roles=[OWNER])
        for account in ("beta", "nonexistent", "zz-no-such-account"):
            with self.subTest(account=account):
                self.assertVerifyFail(self.verify(k["key"], k["token"], account=account),
                                      403, "forbidden")
        bk, bt = self.server.owner("beta")
        self.assertVerifyFail(self.verify(bk, bt, account="acme"), 403, "forbidden")
        d = self.assertVerifyOK(self.verify(bk, bt), bk)
        self.assertEqual(d["account"], "beta")

    def test_other_account_key_unknown_in_acme_management(self):
        bk, bt = self.server.owner("beta")
        r = self.call("GET", "/api/v1/accounts/acme/keys/" + bk)
        self.assertEqual(r.status, 404, r)

    def test_failure_has_no_identity_headers(self):
        k = self.create_key()
        for r in (self.verify(k["key"], make_token()), self.verify(),
                  self.verify(k["key"], k["token"], account="beta")):
            self.assertIsNone(r.headers.get("X-Keystile-Key"), r)
            self.assertIsNone(r.headers.get("X-Keystile-Account"), r)

    def test_verify_query_encoding(self):
        role = self.create_role(["orders/read:x", "a*b"])
        k = self.create_key(roles=[role])
        self.assertVerifyOK(self.verify(k["key"], k["token"], resource="orders/read:x"),
                            k["key"])
        r = self.server.request("GET", API + "/verify?resource=orders%2Fread%3Ax",
                                key=k["key"], token=k["token"])
        self.assertVerifyOK(r, k["key"])
        r = self.server.request("GET", API + "/verify?account=acme&resource=a%2Ab",
                                key=k["key"], token=k["token"])
        self.assertVerifyOK(r, k["key"])
        self.assertVerifyFail(self.verify(k["key"], k["token"], resource="axb"), 403,
                              "forbidden")

class TestVerifyKeepAlive(KeystileCase):
    """A connection's 200 response object is reused: as it is for the same
    answer, rewritten for another of the same length. It must never show
    a stale body or header."""

    ACCOUNTS = ("acme", "zeta")  # names of one length: same-length bodies

    def test_repeated_answers_follow_every_change(self):
        k, other = self.create_key(), self.create_key()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)

        def verify(key, token):
            conn.request("GET", API + "/verify", headers={"X-API-Key": key, "X-API-Token": token})
            r = conn.getresponse()
            body = json.loads(r.read())
            return r.status, body, r.getheader("X-Keystile-Key"), r.getheader("Cache-Control")

        try:
            first = verify(k["key"], k["token"])
            self.assertEqual(first[0], 200)
            self.assertEqual(verify(k["key"], k["token"]), first)
            self.assertEqual(first[2:], (k["key"], "no-store"))
            n = self.renew(k["key"], "later")
            st, body, hdr, _ = verify(k["key"], k["token"])
            self.assertEqual((st, body["token"], hdr), (200, "old", k["key"]))
            st, body, hdr, _ = verify(k["key"], n["token"])
            self.assertEqual((st, body["token"], hdr), (200, "current", k["key"]))
            st, body, hdr, _ = verify(other["key"], other["token"])
            self.assertEqual((st, body["key"], hdr), (200, other["key"], other["key"]))
            # a key of the other account, same body length: both headers change
            z = self.server.accounts["zeta"]
            zk = self.create_key(cred=(z["key"], z["token"]), account="zeta")
            conn.request("GET", API + "/verify", headers={"X-API-Key": zk["key"], "X-API-Token": zk["token"]})
            r = conn.getresponse()
            body = json.loads(r.read())
            self.assertEqual((r.status, body["key"], body["account"]), (200, zk["key"], "zeta"))
            self.assertEqual((r.getheader("X-Keystile-Key"), r.getheader("X-Keystile-Account")),
                             (zk["key"], "zeta"))
            self.assertEqual(len(r.getheaders()), len(set(h.lower() for h, _ in r.getheaders())))
            st, body, hdr, _ = verify(other["key"], other["token"])
            self.assertEqual((st, body["account"], hdr), (200, "acme", other["key"]))
            self.patch_key(k["key"], {"status": "inactive"})
            st, body, _, _ = verify(k["key"], n["token"])
            self.assertEqual((st, body["reason"]), (401, "inactive"))
            self.patch_key(k["key"], {"status": "active"})
            self.assertEqual(verify(k["key"], n["token"])[0], 200)
            self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"])), 204)
            st, body, _, _ = verify(k["key"], n["token"])
            self.assertEqual((st, body["reason"]), (401, "unknown_key"))
        finally:
            conn.close()

    def test_reused_answer_date_follows_the_clock(self):
        """The reused 200 carries its own Date header (written once a second,
        in libmicrohttpd's format): exactly one, the current second, and in
        the same shape as the library's Date on other answers."""
        import email.utils
        import re
        import time
        k, other = self.create_key(), self.create_key()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        shape = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                           r"\d{4} \d\d:\d\d:\d\d GMT$")

        def dates(path, headers):
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            return r.status, [v for h, v in r.getheaders() if h.lower() == "date"]

        try:
            seen = []
            for i in range(4):
                key = (k, other)[i % 2]
                t0 = time.time()
                st, d = dates(API + "/verify", {"X-API-Key": key["key"], "X-API-Token": key["token"]})
                t1 = time.time()
                self.assertEqual((st, len(d)), (200, 1), d)
                self.assertRegex(d[0], shape)
                when = email.utils.parsedate_to_datetime(d[0]).timestamp()
                self.assertTrue(int(t0) - 1 <= when <= t1 + 1, (d[0], t0, t1))
                seen.append(d[0])
                time.sleep(0.6)
            self.assertGreater(len(set(seen)), 1, seen)  # 1.8 s apart: the header moved on
            st, d = dates("/healthz", {})
            self.assertEqual((st, len(d)), (200, 1))
            self.assertRegex(d[0], shape)
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()

"""Durations with serve --clock-offset-days: outdated, renewal_alert, expires_at,
the outdated list filter and enforce_duration (verify and management calls)."""
import datetime
import subprocess
import unittest

from harness import (BIN, KeystileCase, OWNER, acct, add_months, make_token,
                     parse_time, uid)


class TestTimeTravel(KeystileCase):

    def at(self, days):
        """Restart the server with its clock `days` ahead (0: real time)."""
        args = ["--clock-offset-days", str(days)] if days else []
        if self.server.proc is not None and self.server.args == args:
            return
        self.server.restart(args)

    def setUp(self):
        self.at(0)
        r = self.call("PUT", acct(self.A, "settings"),
                      {"token_duration_months": 3, "enforce_duration": False})
        self.assertStatus(r, 200)

    def tearDown(self):
        # back to real time and default settings, with a credential that works
        self.at(0)
        r = self.call("PUT", acct(self.A, "settings"),
                      {"token_duration_months": 3, "enforce_duration": False})
        if r.status != 200 and getattr(self, "fresh_cred", None):
            self.call("PUT", acct(self.A, "settings"),
                      {"token_duration_months": 3, "enforce_duration": False},
                      cred=self.fresh_cred)

    def assertAlert(self, key, outdated, alert):
        d = self.get_key(key)
        self.assertIs(d["outdated"], outdated, d)
        self.assertEqual(d["renewal_alert"], alert, d)
        return d

    def test_clock_offset_is_announced(self):
        self.at(100)
        log = self.server.log_tail(100000).lower()
        self.assertIn("clock", log)
        p = subprocess.run([BIN, "serve", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        self.assertIn(b"--clock-offset-days", p.stdout)

    def test_verify_date_header_is_the_real_time(self):
        # The check's clock read also gives the answer's Date header: the
        # offset moves the check's time, never the header.
        import email.utils
        import time
        k = self.create_key()
        for days in (0, 100):
            with self.subTest(days=days):
                self.at(days)
                r = self.verify(k["key"], k["token"])
                self.assertVerifyOK(r, k["key"], "current")
                date = email.utils.parsedate_to_datetime(r.headers.get("Date"))
                self.assertLess(abs(date.timestamp() - time.time()), 5, r.headers.get("Date"))
                self.assertRegex(r.headers.get("Date"), r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} "
                                 r"\d{2}:\d{2}:\d{2} GMT$")

    def test_alerts_with_3_months(self):
        k = self.create_key()
        created = parse_time(k["tokens"][0]["created_at"])
        expires = add_months(created, 3)
        self.assertEqual(parse_time(k["tokens"][0]["expires_at"]), expires)
        self.assertAlert(k["key"], False, "none")
        for days, outdated, alert in ((80, False, "none"),
                                      (100, True, "recommended"),
                                      (170, True, "recommended"),
                                      (200, True, "highly_recommended")):
            with self.subTest(days=days):
                self.at(days)
                d = self.assertAlert(k["key"], outdated, alert)
                # times do not move with the clock
                self.assertEqual(d["created_at"], k["created_at"])
                self.assertEqual(parse_time(d["tokens"][0]["expires_at"]), expires)
                v = self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
                self.assertIs(v["outdated"], outdated, "not enforced: still verifies")

    def test_alerts_with_6_months(self):
        k = self.create_key()
        created = parse_time(k["tokens"][0]["created_at"])
        self.assertStatus(self.call("PUT", acct(self.A, "settings"),
                                    {"token_duration_months": 6}), 200)
        self.assertEqual(parse_time(self.get_key(k["key"])["tokens"][0]["expires_at"]),
                         add_months(created, 6))
        for days, outdated, alert in ((100, False, "none"),
                                      (170, False, "none"),
                                      (200, True, "recommended"),
                                      (260, True, "recommended"),
                                      (300, True, "highly_recommended")):
            with self.subTest(days=days):
                self.at(days)
                self.assertAlert(k["key"], outdated, alert)

    def test_old_token_outdated_key_follows_current(self):
        k = self.create_key()
        self.at(100)
        n = self.renew(k["key"], "later")
        self.assertIs(n["outdated"], False)
        self.assertEqual(n["renewal_alert"], "none")
        now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=100)
        cur = parse_time(n["tokens"][0]["created_at"])
        self.assertLess(abs((cur - now).total_seconds()), 3600,
                        "the new token's created_at is on the moved clock")
        self.assertEqual(parse_time(n["tokens"][0]["expires_at"]), add_months(cur, 3))
        self.assertEqual(n["tokens"][1]["created_at"], k["tokens"][0]["created_at"])
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"], "old")
        self.assertVerifyOK(self.verify(k["key"], n["token"]), k["key"], "current")

    def test_created_at_uses_moved_clock(self):
        self.at(100)
        k = self.create_key()
        now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=100)
        self.assertLess(abs((parse_time(k["created_at"]) - now).total_seconds()), 3600)
        self.assertIs(k["outdated"], False)
        self.assertEqual(k["renewal_alert"], "none")

    def test_outdated_filter(self):
        p = uid("tt-")
        old1 = self.create_key(name=p + " old1")["key"]
        old2 = self.create_key(name=p + " old2")["key"]
        self.at(100)
        fresh = self.create_key(name=p + " fresh")["key"]
        renewed = self.create_key(name=p + " renewed")["key"]  # fresh, too
        outdated = [i["key"] for i in self.list_all({"q": p, "outdated": "true"})]
        self.assertEqual(outdated, [old2, old1])
        current = [i["key"] for i in self.list_all({"q": p, "outdated": "false"})]
        self.assertEqual(current, [renewed, fresh])
        # renewing an outdated key makes it current
        self.renew(old1, "later")
        outdated = [i["key"] for i in self.list_all({"q": p, "outdated": "true"})]
        self.assertEqual(outdated, [old2])
        self.assertEqual(len(self.list_all({"q": p, "outdated": "false"})), 3)
        # combined with status
        self.patch_key(old2, {"status": "inactive"})
        self.assertEqual([i["key"] for i in self.list_all(
            {"q": p, "outdated": "true", "status": "inactive"})], [old2])
        self.assertEqual(self.list_all({"q": p, "outdated": "true", "status": "active"}),
                         [])
        # paging within the filter
        self.assertEqual([i["key"] for i in self.list_all({"q": p, "outdated": "false"},
                                                          limit=1)],
                         [renewed, fresh, old1])

    def test_enforce_duration(self):
        old = self.create_key(roles=[OWNER])
        renewed_later = self.create_key()
        inactive = self.create_key()
        self.patch_key(inactive["key"], {"status": "inactive"})
        self.at(100)
        # not enforced yet: outdated credentials still work
        self.assertStatus(self.call("GET", acct(self.A, "keys")), 200)
        fresh = self.create_key(roles=[OWNER])
        self.fresh_cred = (fresh["key"], fresh["token"])
        r = self.call("PUT", acct(self.A, "settings"), {"enforce_duration": True},
                      cred=self.fresh_cred)
        self.assertStatus(r, 200)
        self.assertIs(r.data["enforce_duration"], True)

        # verify: the right but outdated token is expired
        self.assertVerifyFail(self.verify(old["key"], old["token"]), 401, "expired")
        self.assertVerifyFail(self.verify(old["key"], old["token"], method="POST"), 401,
                              "expired")
        self.assertVerifyFail(self.verify(*self.server.owner()), 401, "expired")
        # a wrong token is still just invalid; an inactive key is inactive
        self.assertVerifyFail(self.verify(old["key"], make_token()), 401,
                              "invalid_token")
        self.assertVerifyFail(self.verify(inactive["key"], inactive["token"]), 401,
                              "inactive")
        self.assertVerifyOK(self.verify(fresh["key"], fresh["token"]), fresh["key"])

        # management: the outdated credential gets 401 expired everywhere
        for method, path, body in (
                ("GET", acct(self.A, "keys"), None),
                ("GET", acct(self.A, "settings"), None),
                ("POST", acct(self.A, "keys"), {"name": "x"}),
                ("PUT", acct(self.A, "settings"), {"enforce_duration": False}),
                ("GET", acct(self.A, "roles"), None),
                ("GET", acct(self.A, "audit"), None)):
            for cred in (self.server.owner(), (old["key"], old["token"])):
                with self.subTest(method=method, path=path, cred=cred[0]):
                    self.assertError(self.call(method, path, body, cred=cred), 401,
                                     "expired")
        self.assertStatus(self.call("GET", acct(self.A, "keys"), cred=self.fresh_cred),
                          200)
        # the enforced setting was not turned off by the refused PUT
        r = self.call("GET", acct(self.A, "settings"), cred=self.fresh_cred)
        self.assertEqual(r.data["enforce_duration"], True)

        # renewal (Later): the new token works, the outdated old one is expired
        r = self.call("POST", acct(self.A, "keys", renewed_later["key"], "renew"),
                      {"delete_old": "later"}, cred=self.fresh_cred)
        self.assertStatus(r, 200)
        self.server.issued_tokens.append(r.data["token"])
        self.assertIs(r.data["outdated"], False)
        self.assertVerifyOK(self.verify(renewed_later["key"], r.data["token"]),
                            renewed_later["key"], "current")
        self.assertVerifyFail(self.verify(renewed_later["key"], renewed_later["token"]),
                              401, "expired")

        # the outdated Owner key can be renewed by the fresh one and works again
        r = self.call("POST", acct(self.A, "keys", old["key"], "renew"),
                      {"delete_old": "now"}, cred=self.fresh_cred)
        self.assertStatus(r, 200)
        self.server.issued_tokens.append(r.data["token"])
        self.assertStatus(self.call("GET", acct(self.A, "keys"),
                                    cred=(old["key"], r.data["token"])), 200)

        # turning enforcement off: outdated tokens verify again
        r = self.call("PUT", acct(self.A, "settings"), {"enforce_duration": False},
                      cred=self.fresh_cred)
        self.assertStatus(r, 200)
        v = self.assertVerifyOK(self.verify(*self.server.owner()), self.server.key)
        self.assertIs(v["outdated"], True)
        self.assertVerifyOK(self.verify(renewed_later["key"], renewed_later["token"]),
                            renewed_later["key"], "old")

    def test_enforce_6_months_not_yet_expired(self):
        k = self.create_key()
        self.assertStatus(self.call("PUT", acct(self.A, "settings"),
                                    {"token_duration_months": 6,
                                     "enforce_duration": True}), 200)
        self.at(100)
        v = self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        self.assertIs(v["outdated"], False)
        self.assertStatus(self.call("GET", acct(self.A, "keys")), 200)
        self.at(200)
        self.assertVerifyFail(self.verify(k["key"], k["token"]), 401, "expired")
        self.assertError(self.call("GET", acct(self.A, "keys")), 401, "expired")


if __name__ == "__main__":
    unittest.main()

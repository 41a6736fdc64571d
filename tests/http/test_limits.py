"""Per-key limits (issue 19, API.md "Per-key limits and usage"):

- allowed_cidrs and rate_limit on create and PATCH: normalised, kept across
  a restart, shown in the key object and in list pages; bad values are 400
  naming the field; PATCH of one leaves the other;
- (verify) a caller outside allowed_cidrs gets 403 address_not_allowed,
  through trusted proxies only when the peer is trusted; past the rate
  limit 429 rate_limited with Retry-After; 200s of limited keys carry the
  rate headers and the rate_limit object; edits are seen at once.
"""
import json
import threading
import time
import unittest

from harness import API, KeystileCase, acct, request, uid


def verify_from(case, key, token, source="127.0.0.1", xff=None, resource=None, basic=False):
    path = API + "/verify" + ("?resource=" + resource if resource else "")
    return request(case.server.port, "GET", path, key=key, token=token, source=source, basic=basic,
                   headers={"X-Forwarded-For": xff} if xff else None)


class LimitsFieldsTest(KeystileCase):
    def create(self, **fields):
        body = {"name": uid("lim-")}
        body.update(fields)
        r = self.call("POST", acct(self.A, "keys"), body)
        return r

    def test_defaults_are_no_limits(self):
        k = self.create_key()
        self.assertKeyObject(k, with_token=True)
        self.assertEqual(k["allowed_cidrs"], [])
        self.assertIsNone(k["rate_limit"])

    def test_create_normalises_and_keeps(self):
        r = self.create(allowed_cidrs=["203.0.113.7", "10.1.2.3/8", "2001:DB8::1/32", "10.0.0.0/8"],
                        rate_limit={"limit": 100, "period_seconds": 60})
        self.assertStatus(r, 201)
        self.assertKeyObject(r.data, with_token=True)
        want = ["203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32"]
        self.assertEqual(r.data["allowed_cidrs"], want)
        self.assertEqual(r.data["rate_limit"], {"limit": 100, "period_seconds": 60})
        got = self.get_key(r.data["key"])
        self.assertEqual(got["allowed_cidrs"], want)
        self.assertEqual(got["rate_limit"], {"limit": 100, "period_seconds": 60})
        listed = [k for k in self.list_all({}) if k["key"] == r.data["key"]]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["allowed_cidrs"], want)
        self.assertEqual(listed[0]["rate_limit"], {"limit": 100, "period_seconds": 60})

    def test_bad_values_name_the_field(self):
        for cidrs in (["10.0.0.0/33"], ["not an address"], "10.0.0.0/8", [1], ["10.0.0.0/8"] * 1 + [""],
                      ["10.0.0.%d" % i for i in range(33)], ["::1/129"], ["10.0.0.0/08"]):
            with self.subTest(cidrs=cidrs):
                self.assertError(self.create(allowed_cidrs=cidrs), 400, "invalid_request", "allowed_cidrs")
        for rate in ({"limit": 0, "period_seconds": 60}, {"limit": 1000000001, "period_seconds": 60},
                     {"limit": 10, "period_seconds": 0}, {"limit": 10, "period_seconds": 86401},
                     {"limit": 10}, {"limit": "10", "period_seconds": 60}, 10,
                     {"limit": 10, "period_seconds": 60, "burst": 3}, {"limit": 1.5, "period_seconds": 60}):
            with self.subTest(rate=rate):
                self.assertError(self.create(rate_limit=rate), 400, "invalid_request", "rate_limit")
        k = self.create_key()
        r = self.call("PATCH", acct(self.A, "keys", k["key"]), {"allowed_cidrs": ["300.1.1.1"]})
        self.assertError(r, 400, "invalid_request", "allowed_cidrs")
        r = self.call("PATCH", acct(self.A, "keys", k["key"]), {"rate_limit": {"limit": -1, "period_seconds": 1}})
        self.assertError(r, 400, "invalid_request", "rate_limit")
        self.assertEqual(self.get_key(k["key"])["allowed_cidrs"], [])

    def test_extremes_accepted(self):
        r = self.create(allowed_cidrs=["10.0.0.%d" % i for i in range(32)],
                        rate_limit={"limit": 1000000000, "period_seconds": 86400})
        self.assertStatus(r, 201)
        self.assertEqual(len(r.data["allowed_cidrs"]), 32)
        r = self.create(allowed_cidrs=["0.0.0.0/0", "::/0"], rate_limit={"limit": 1, "period_seconds": 1})
        self.assertStatus(r, 201)
        self.assertEqual(r.data["allowed_cidrs"], ["0.0.0.0/0", "::/0"])

    def test_patch_changes_one_and_keeps_the_other(self):
        r = self.create(allowed_cidrs=["192.0.2.0/24"], rate_limit={"limit": 5, "period_seconds": 10})
        key = r.data["key"]
        k = self.patch_key(key, {"rate_limit": {"limit": 7, "period_seconds": 20}})
        self.assertEqual(k["allowed_cidrs"], ["192.0.2.0/24"])
        self.assertEqual(k["rate_limit"], {"limit": 7, "period_seconds": 20})
        k = self.patch_key(key, {"allowed_cidrs": ["198.51.100.1"]})
        self.assertEqual(k["allowed_cidrs"], ["198.51.100.1/32"])
        self.assertEqual(k["rate_limit"], {"limit": 7, "period_seconds": 20})
        k = self.patch_key(key, {"allowed_cidrs": [], "rate_limit": None})
        self.assertEqual(k["allowed_cidrs"], [])
        self.assertIsNone(k["rate_limit"])
        self.assertEqual(self.get_key(key)["rate_limit"], None)
        # audited with what changed
        entries = [e for e in self.audit() if e["action"] == "key.update" and e["target"] == key]
        self.assertTrue(entries)
        detail = entries[0]["detail"]
        detail = json.loads(detail) if isinstance(detail, str) else detail
        self.assertEqual(detail.get("allowed_cidrs"), [])
        self.assertIn("rate_limit", detail)
        self.assertIsNone(detail["rate_limit"])

    def test_limits_survive_a_restart(self):
        r = self.create(allowed_cidrs=["127.0.0.0/8", "::1"], rate_limit={"limit": 3, "period_seconds": 3600})
        key = r.data["key"]
        self.server.restart()
        k = self.get_key(key)
        self.assertEqual(k["allowed_cidrs"], ["127.0.0.0/8", "::1/128"])
        self.assertEqual(k["rate_limit"], {"limit": 3, "period_seconds": 3600})


class VerifyLimitsTest(KeystileCase):
    SERVER_ARGS = ("--trusted-proxy", "127.0.0.8")

    def limited(self, roles=None, **fields):
        body = {"name": uid("lim-")}
        if roles is not None:
            body["roles"] = roles
        body.update(fields)
        r = self.call("POST", acct(self.A, "keys"), body)
        self.assertStatus(r, 201)
        return r.data["key"], r.data["token"]

    def test_allowed_cidrs(self):
        key, token = self.limited(allowed_cidrs=["127.0.0.2", "127.0.1.0/24"])
        self.assertVerifyOK(verify_from(self, key, token, "127.0.0.2"), key)
        self.assertVerifyOK(verify_from(self, key, token, "127.0.1.77"), key)
        r = verify_from(self, key, token, "127.0.0.3")
        self.assertVerifyFail(r, 403, "address_not_allowed")
        self.assertEqual(r.data, {"valid": False, "reason": "address_not_allowed"})
        # HTTP Basic the same
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.3", basic=True), 403, "address_not_allowed")
        # a wrong token is still invalid_token (the token is checked first)
        other = self.create_key()["token"]
        self.assertVerifyFail(verify_from(self, key, other, "127.0.0.3"), 401, "invalid_token")
        # no ranges: any address
        key2, token2 = self.limited(allowed_cidrs=[])
        self.assertVerifyOK(verify_from(self, key2, token2, "127.0.0.3"), key2)

    def test_address_before_resource(self):
        key, token = self.limited(roles=[], allowed_cidrs=["127.0.0.2"])
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.2", resource="orders.read"), 403, "forbidden")
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.3", resource="orders.read"), 403,
                              "address_not_allowed")

    def test_inactive_before_address(self):
        key, token = self.limited(allowed_cidrs=["127.0.0.2"])
        self.patch_key(key, {"status": "inactive"})
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.3"), 401, "inactive")

    def test_trusted_and_untrusted_forwarding(self):
        key, token = self.limited(allowed_cidrs=["203.0.113.0/24"])
        # through the trusted proxy: the forwarded client counts
        self.assertVerifyOK(verify_from(self, key, token, "127.0.0.8", xff="203.0.113.9"), key)
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.8", xff="198.51.100.9"), 403,
                              "address_not_allowed")
        # a forged hop left of the real one does not help
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.8", xff="203.0.113.9, 198.51.100.9"), 403,
                              "address_not_allowed")
        # an untrusted peer's header is not believed
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.9", xff="203.0.113.9"), 403,
                              "address_not_allowed")

    def test_rate_limit_headers_and_429(self):
        key, token = self.limited(rate_limit={"limit": 3, "period_seconds": 3600})
        before = int(time.time())
        seen = []
        for i in range(3):
            r = verify_from(self, key, token)
            self.assertVerifyOK(r, key)
            rl = r.data.get("rate_limit")
            self.assertEqual(set(rl), {"limit", "remaining", "reset"}, r)
            self.assertEqual(rl["limit"], 3)
            self.assertEqual(rl["remaining"], 2 - i)
            self.assertEqual(r.headers.get("X-RateLimit-Limit"), "3")
            self.assertEqual(r.headers.get("X-RateLimit-Remaining"), str(2 - i))
            self.assertEqual(r.headers.get("X-RateLimit-Reset"), str(rl["reset"]))
            # full again once every taken token is back: 1200 s per token
            self.assertLessEqual(rl["reset"], int(time.time()) + 1200 * (i + 1) + 1)
            self.assertGreaterEqual(rl["reset"], before + 1200 * (i + 1))
            seen.append(rl["reset"])
        r = verify_from(self, key, token)
        self.assertVerifyFail(r, 429, "rate_limited")
        self.assertEqual(r.data, {"valid": False, "reason": "rate_limited"})
        retry = int(r.headers.get("Retry-After"))
        self.assertTrue(1190 <= retry <= 1200, retry)
        self.assertIsNone(r.headers.get("X-RateLimit-Remaining"))
        # refused answers take no token, and other failures do not count
        self.assertVerifyFail(verify_from(self, key, self.create_key()["token"]), 401, "invalid_token")
        # a key without a limit has neither headers nor the object
        plain, ptoken = self.limited()
        r = verify_from(self, plain, ptoken)
        self.assertVerifyOK(r, plain)
        self.assertNotIn("rate_limit", r.data)
        self.assertIsNone(r.headers.get("X-RateLimit-Limit"))

    def test_rate_headers_on_one_connection(self):
        """A connection reuses its 200 response, rate headers rewritten in
        place: each answer's headers match its own body, in the same order,
        once each, also when Remaining loses a digit (1000 -> 999) and
        between a limited and an unlimited key."""
        import http.client
        key, token = self.limited(rate_limit={"limit": 1004, "period_seconds": 86400})
        other, otoken = self.limited(rate_limit={"limit": 1004, "period_seconds": 86400})
        plain, ptoken = self.limited()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)

        def answer(k, t):
            conn.request("GET", API + "/verify", headers={"X-API-Key": k, "X-API-Token": t})
            r = conn.getresponse()
            body = json.loads(r.read())
            self.assertEqual(r.status, 200, body)
            names = [h.lower() for h, _ in r.getheaders()]
            self.assertEqual(len(names), len(set(names)), names)
            return body, dict((h.lower(), v) for h, v in r.getheaders()), names

        try:
            order = None
            for i in range(8):
                k, t = (key, token) if i % 2 == 0 else (other, otoken)
                body, hdr, names = answer(k, t)
                rl = body["rate_limit"]
                self.assertEqual(rl["remaining"], 1003 - i // 2)
                self.assertEqual((hdr["x-keystile-key"], hdr["x-ratelimit-limit"], hdr["x-ratelimit-remaining"],
                                  hdr["x-ratelimit-reset"]),
                                 (k, "1004", str(rl["remaining"]), str(rl["reset"])))
                order = order or names
                self.assertEqual(names, order)
                if i == 3:
                    body, hdr, names = answer(plain, ptoken)
                    self.assertNotIn("rate_limit", body)
                    self.assertEqual(hdr["x-keystile-key"], plain)
                    self.assertNotIn("x-ratelimit-remaining", hdr)
            self.assertEqual(answer(key, token)[0]["rate_limit"]["remaining"], 999)
        finally:
            conn.close()

    def test_only_200s_take_tokens(self):
        key, token = self.limited(roles=[], rate_limit={"limit": 2, "period_seconds": 3600})
        for _ in range(5):
            self.assertVerifyFail(verify_from(self, key, token, resource="orders.read"), 403, "forbidden")
        self.assertVerifyOK(verify_from(self, key, token), key)
        self.assertVerifyOK(verify_from(self, key, token), key)
        self.assertVerifyFail(verify_from(self, key, token), 429, "rate_limited")

    def test_refill(self):
        key, token = self.limited(rate_limit={"limit": 2, "period_seconds": 4})  # a token every 2 s
        got = [verify_from(self, key, token).status for _ in range(3)]
        self.assertEqual(got, [200, 200, 429])
        time.sleep(4.1)
        self.assertEqual([verify_from(self, key, token).status for _ in range(3)], [200, 200, 429])

    def test_limits_edited_live(self):
        key, token = self.limited(allowed_cidrs=["127.0.0.2"], rate_limit={"limit": 1, "period_seconds": 3600})
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.3"), 403, "address_not_allowed")
        self.patch_key(key, {"allowed_cidrs": ["127.0.0.3"]})
        # the bucket goes on (same limit): the one token is still there
        self.assertVerifyOK(verify_from(self, key, token, "127.0.0.3"), key)
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.3"), 429, "rate_limited")
        # a renewal or a rename keeps the spent bucket
        self.patch_key(key, {"name": "renamed"})
        self.assertVerifyFail(verify_from(self, key, token, "127.0.0.3"), 429, "rate_limited")
        new = self.renew(key)["token"]
        self.assertVerifyFail(verify_from(self, key, new, "127.0.0.3"), 429, "rate_limited")
        # a changed limit starts a full bucket
        self.patch_key(key, {"rate_limit": {"limit": 2, "period_seconds": 3600}})
        self.assertEqual([verify_from(self, key, new, "127.0.0.3").status for _ in range(3)], [200, 200, 429])
        # removed: no limit at all
        self.patch_key(key, {"rate_limit": None, "allowed_cidrs": []})
        r = verify_from(self, key, new, "127.0.0.4")
        self.assertVerifyOK(r, key)
        self.assertNotIn("rate_limit", r.data)

    def test_many_threads_never_exceed_the_bucket(self):
        limit = 50
        key, token = self.limited(rate_limit={"limit": limit, "period_seconds": 3600})
        counts = {200: 0, 429: 0, "other": 0}
        lock = threading.Lock()

        def worker():
            for _ in range(25):
                st = verify_from(self, key, token).status
                with lock:
                    counts[st if st in counts else "other"] += 1

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # 200 verifies in far less than one token's refill time (72 s)
        self.assertEqual(counts, {200: limit, 429: 200 - limit, "other": 0})


if __name__ == "__main__":
    unittest.main()

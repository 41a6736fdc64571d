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
import time
import unittest

from harness import KeystileCase, acct, uid


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


if __name__ == "__main__":
    unittest.main()

"""External keys (#3): another account's key granted roles here, and verify across accounts."""
import unittest

from harness import KeystileCase, OWNER, acct, uid

EXTERNAL_FIELDS = {"key", "name", "type", "account", "roles", "status", "home_status",
                   "created_at", "added_at", "outdated", "renewal_alert"}


class TestExternalKeys(KeystileCase):
    ACCOUNTS = ("acme", "partner")

    def setUp(self):
        self.role = self.create_role(["orders.read", "orders.write"])
        # a fresh key of the partner account, made by the partner's Owner
        self.foreign = self.create_key(name=uid("partner key "), account="partner",
                                       cred=self.server.owner("partner"))
        self.fkey, self.ftoken = self.foreign["key"], self.foreign["token"]

    def add(self, key=None, roles=None, status=201):
        body = {"key": key or self.fkey, "roles": [self.role] if roles is None else roles}
        r = self.call("POST", acct(self.A, "external-keys"), body)
        self.assertStatus(r, status, "add external key")
        return r.data

    def test_add_list_and_object_shape(self):
        obj = self.add()
        self.assertEqual(set(obj), EXTERNAL_FIELDS, obj)
        self.assertEqual(obj["key"], self.fkey)
        self.assertEqual(obj["type"], "external")
        self.assertEqual(obj["account"], "partner")
        self.assertEqual(obj["roles"], [self.role])
        self.assertEqual(obj["status"], "active")
        self.assertNotIn("tokens", obj)
        r = self.call("GET", acct(self.A, "external-keys"))
        self.assertStatus(r, 200)
        mine = [k for k in r.data["items"] if k["key"] == self.fkey]
        self.assertEqual(len(mine), 1, r.data)
        self.assertEqual(mine[0]["type"], "external")
        self.assertNotIn("tokens", mine[0])

    def test_verify_across_accounts_only_through_active_grant(self):
        # before the grant: forbidden in acme, fine at home
        self.assertVerifyFail(self.verify(self.fkey, self.ftoken, account=self.A), 403, "forbidden")
        self.assertVerifyOK(self.verify(self.fkey, self.ftoken), self.fkey)
        self.add()
        d = self.assertVerifyOK(self.verify(self.fkey, self.ftoken, account=self.A,
                                            resource="orders.read"), self.fkey, account=self.A)
        self.assertEqual(d["roles"], [self.role])
        self.assertEqual(d["resources"], ["orders.read", "orders.write"])
        # only the granted roles' resources
        self.assertVerifyFail(self.verify(self.fkey, self.ftoken, account=self.A,
                                          resource="view-api-keys"), 403, "forbidden")
        # the grant does not open the management API beyond its roles
        r = self.call("GET", acct(self.A, "keys"), cred=(self.fkey, self.ftoken))
        self.assertError(r, 403, "forbidden")

    def test_deactivating_grant_refuses_at_once_and_reactivating_restores(self):
        self.add()
        r = self.call("PATCH", acct(self.A, "external-keys", self.fkey), {"status": "inactive"})
        self.assertStatus(r, 200)
        self.assertEqual(r.data["status"], "inactive")
        self.assertVerifyFail(self.verify(self.fkey, self.ftoken, account=self.A), 403, "forbidden")
        self.assertVerifyOK(self.verify(self.fkey, self.ftoken), self.fkey)  # home unaffected
        r = self.call("PATCH", acct(self.A, "external-keys", self.fkey), {"status": "active"})
        self.assertStatus(r, 200)
        self.assertVerifyOK(self.verify(self.fkey, self.ftoken, account=self.A), self.fkey, account=self.A)

    def test_edit_roles_changes_resources(self):
        self.add()
        other = self.create_role(["invoices.read"])
        r = self.call("PATCH", acct(self.A, "external-keys", self.fkey), {"roles": [other]})
        self.assertStatus(r, 200)
        self.assertEqual(r.data["roles"], [other])
        self.assertVerifyFail(self.verify(self.fkey, self.ftoken, account=self.A,
                                          resource="orders.read"), 403, "forbidden")
        self.assertVerifyOK(self.verify(self.fkey, self.ftoken, account=self.A,
                                        resource="invoices.read"), self.fkey, account=self.A)

    def test_remove_grant_refuses_at_once(self):
        self.add()
        r = self.call("DELETE", acct(self.A, "external-keys", self.fkey))
        self.assertStatus(r, 204)
        self.assertVerifyFail(self.verify(self.fkey, self.ftoken, account=self.A), 403, "forbidden")
        r = self.call("DELETE", acct(self.A, "external-keys", self.fkey))
        self.assertError(r, 404, "not_found")
        r = self.call("GET", acct(self.A, "external-keys"))
        self.assertNotIn(self.fkey, [k["key"] for k in r.data["items"]])

    def test_home_deactivation_and_deletion_refuse_everywhere(self):
        self.add()
        powner = self.server.owner("partner")
        r = self.call("PATCH", acct("partner", "keys", self.fkey), {"status": "inactive"}, cred=powner)
        self.assertStatus(r, 200)
        self.assertVerifyFail(self.verify(self.fkey, self.ftoken, account=self.A), 401, "inactive")
        r = self.call("PATCH", acct("partner", "keys", self.fkey), {"status": "active"}, cred=powner)
        self.assertStatus(r, 200)
        self.assertVerifyOK(self.verify(self.fkey, self.ftoken, account=self.A), self.fkey, account=self.A)
        r = self.call("DELETE", acct("partner", "keys", self.fkey), cred=powner)
        self.assertStatus(r, 204)
        self.assertVerifyFail(self.verify(self.fkey, self.ftoken, account=self.A), 401, "unknown_key")
        r = self.call("GET", acct(self.A, "external-keys"))
        self.assertNotIn(self.fkey, [k["key"] for k in r.data["items"]])

    def test_renewal_at_home_works_in_granting_account(self):
        self.add()
        powner = self.server.owner("partner")
        r = self.call("POST", acct("partner", "keys", self.fkey, "renew"), {"delete_old": "now"}, cred=powner)
        self.assertStatus(r, 200)
        new = r.data["token"]
        self.server.issued_tokens.append(new)
        self.assertVerifyOK(self.verify(self.fkey, new, account=self.A), self.fkey, account=self.A)
        self.assertVerifyFail(self.verify(self.fkey, self.ftoken, account=self.A), 401, "invalid_token")
        # the granting account cannot renew a foreign key
        r = self.call("POST", acct(self.A, "keys", self.fkey, "renew"))
        self.assertError(r, 404, "not_found")

    def test_add_errors(self):
        self.assertError(self.call("POST", acct(self.A, "external-keys"),
                                   {"key": "kst-nobody-aaaaaaaaaa", "roles": []}), 404, "not_found")
        own = self.create_key()["key"]
        self.assertError(self.call("POST", acct(self.A, "external-keys"), {"key": own, "roles": []}),
                         400, "invalid_request", field="key")
        self.assertError(self.call("POST", acct(self.A, "external-keys"), {"key": "nope", "roles": []}),
                         400, "invalid_request", field="key")
        self.assertError(self.call("POST", acct(self.A, "external-keys"),
                                   {"key": self.fkey, "roles": ["no such role"]}), 400, "invalid_request")
        self.assertError(self.call("POST", acct(self.A, "external-keys"), {"roles": []}),
                         400, "invalid_request", field="key")
        self.add()
        self.assertError(self.call("POST", acct(self.A, "external-keys"), {"key": self.fkey, "roles": []}),
                         409, "name_taken")
        self.assertError(self.call("PATCH", acct(self.A, "external-keys", self.fkey), {}),
                         400, "invalid_request")
        self.assertError(self.call("PATCH", acct(self.A, "external-keys", self.fkey), {"status": "off"}),
                         400, "invalid_request", field="status")

    def test_role_in_use_by_grant_and_rename_cascades(self):
        self.add()
        r = self.call("DELETE", acct(self.A, "roles", self.role))
        self.assertError(r, 409, "role_in_use")
        renamed = uid("renamed ")
        r = self.call("PATCH", acct(self.A, "roles", self.role), {"name": renamed})
        self.assertStatus(r, 200)
        d = self.assertVerifyOK(self.verify(self.fkey, self.ftoken, account=self.A,
                                            resource="orders.read"), self.fkey, account=self.A)
        self.assertEqual(d["roles"], [renamed])

    def test_authz(self):
        self.add()
        viewer = self.cred_with(["view-api-keys"])
        self.assertStatus(self.call("GET", acct(self.A, "external-keys"), cred=viewer), 200)
        for method, path, body in (
                ("POST", acct(self.A, "external-keys"), {"key": self.fkey, "roles": []}),
                ("PATCH", acct(self.A, "external-keys", self.fkey), {"status": "inactive"}),
                ("DELETE", acct(self.A, "external-keys", self.fkey), None)):
            self.assertError(self.call(method, path, body, cred=viewer), 403, "forbidden")
        no_view = self.cred_with(["edit-api-keys"])
        self.assertError(self.call("GET", acct(self.A, "external-keys"), cred=no_view), 403, "forbidden")
        self.assertError(self.call("GET", acct(self.A, "external-keys"), cred=None), 401, "unauthenticated")

    def test_grants_survive_restart(self):
        self.add()
        self.server.restart()
        self.assertVerifyOK(self.verify(self.fkey, self.ftoken, account=self.A, resource="orders.read"),
                            self.fkey, account=self.A)


if __name__ == "__main__":
    unittest.main()

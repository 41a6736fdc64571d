"""Roles: list (built-ins), create, edit (rename, resources), delete."""
import unittest

from harness import (KeystileCase, MANAGEMENT_RESOURCES, OWNER, USER_ADMIN,
                     USER_ADMIN_RESOURCES, acct, uid)


class TestRoles(KeystileCase):

    def roles(self):
        r = self.call("GET", acct(self.A, "roles"))
        self.assertStatus(r, 200)
        self.assertEqual(set(r.data), {"items"} | ({"next_cursor"} & set(r.data)))
        return {i["name"]: i for i in r.data["items"]}

    def test_builtins(self):
        roles = self.roles()
        self.assertIn(OWNER, roles)
        self.assertIn(USER_ADMIN, roles)
        o = roles[OWNER]
        self.assertEqual(set(o), {"name", "resources", "builtin"})
        self.assertIs(o["builtin"], True)
        self.assertEqual(sorted(o["resources"]), sorted(MANAGEMENT_RESOURCES))
        self.assertEqual(len(o["resources"]), 8)
        u = roles[USER_ADMIN]
        self.assertIs(u["builtin"], True)
        self.assertEqual(sorted(u["resources"]), sorted(USER_ADMIN_RESOURCES))

    def test_create_and_list(self):
        name = uid("Order Reader ")
        r = self.call("POST", acct(self.A, "roles"),
                      {"name": name, "resources": ["orders.read", "orders.list"]})
        self.assertStatus(r, 201)
        self.assertEqual(set(r.data), {"name", "resources", "builtin"})
        self.assertEqual(r.data["name"], name)
        self.assertEqual(sorted(r.data["resources"]), ["orders.list", "orders.read"])
        self.assertIs(r.data["builtin"], False)
        listed = self.roles()[name]
        self.assertEqual(listed["name"], name)
        self.assertEqual(sorted(listed["resources"]), ["orders.list", "orders.read"])
        self.assertIs(listed["builtin"], False)
        # usable at once
        k = self.create_key(roles=[name])
        self.assertEqual(k["roles"], [name])

    def test_create_with_management_resources(self):
        name = self.create_role(["view-api-keys"])
        k = self.create_key(roles=[name])
        r = self.call("GET", acct(self.A, "keys"), cred=(k["key"], k["token"]))
        self.assertStatus(r, 200)

    def test_create_empty_resources(self):
        name = uid("Empty ")
        r = self.call("POST", acct(self.A, "roles"), {"name": name, "resources": []})
        self.assertStatus(r, 201)
        self.assertEqual(r.data["resources"], [])

    def test_name_limits(self):
        u = uid("")
        for name in ((u + "x" * 100)[:100], (u + "\u00e9" * 100)[:100], "A" + u):
            with self.subTest(length=len(name)):
                r = self.call("POST", acct(self.A, "roles"),
                              {"name": name, "resources": ["a"]})
                self.assertStatus(r, 201)
                self.assertEqual(r.data["name"], name)
                self.assertIn(name, self.roles())

    def test_bad_create_400(self):
        cases = [({"resources": ["a"]}, "name"),
                 ({"name": "", "resources": ["a"]}, "name"),
                 ({"name": "x" * 101, "resources": ["a"]}, "name"),
                 ({"name": "\u00e9" * 101, "resources": ["a"]}, "name"),
                 ({"name": 5, "resources": ["a"]}, "name"),
                 ({"name": uid(), "resources": "a"}, "resources"),
                 ({"name": uid(), "resources": [5]}, "resources"),
                 ({"name": uid(), "resources": ["a"], "builtin": True}, "builtin"),
                 ({"name": uid(), "resources": ["a"], "colour": 1}, "colour")]
        for body, field in cases:
            with self.subTest(body=str(body)[:50]):
                r = self.call("POST", acct(self.A, "roles"), body)
                self.assertError(r, 400, "invalid_request", field=field)

    def test_name_edges_400(self):
        for name in (" leading", "trailing ", "new\nline", "\t"):
            with self.subTest(name=name):
                r = self.call("POST", acct(self.A, "roles"),
                              {"name": name, "resources": ["a"]})
                self.assertError(r, 400, "invalid_request", field="name")

    def test_resource_edges(self):
        for res in ("has space", "", "x" * 129, "semi;colon", "quote\"", "\u00e9"):
            with self.subTest(resource=res):
                r = self.call("POST", acct(self.A, "roles"),
                              {"name": uid(), "resources": [res]})
                self.assertError(r, 400, "invalid_request", field="resource")
        ok = ["a", "x" * 128, "orders.read", "a_b", "ns:res", "path/to/x", "wild*",
              "A-Z-09"]
        name = self.create_role(ok)
        self.assertEqual(sorted(self.roles()[name]["resources"]), sorted(ok))
        r = self.call("POST", acct(self.A, "roles"),
                      {"name": uid(), "resources": ["r%d" % i for i in range(101)]})
        self.assertError(r, 400, "invalid_request", field="resource")

    def test_duplicate_name_409(self):
        name = self.create_role(["a"])
        r = self.call("POST", acct(self.A, "roles"), {"name": name, "resources": ["b"]})
        self.assertError(r, 409, "name_taken")
        for builtin in (OWNER, USER_ADMIN):
            with self.subTest(name=builtin):
                r = self.call("POST", acct(self.A, "roles"),
                              {"name": builtin, "resources": ["b"]})
                self.assertError(r, 409, "name_taken")
        # the first one is unchanged
        self.assertEqual(self.roles()[name]["resources"], ["a"])

    def test_patch_resources(self):
        name = self.create_role(["a.read"])
        r = self.call("PATCH", acct(self.A, "roles", name),
                      {"resources": ["a.read", "a.write"]})
        self.assertStatus(r, 200)
        self.assertEqual(r.data["name"], name)
        self.assertEqual(sorted(r.data["resources"]), ["a.read", "a.write"])
        self.assertIs(r.data["builtin"], False)
        self.assertEqual(sorted(self.roles()[name]["resources"]), ["a.read", "a.write"])

    def test_rename_keeps_keys(self):
        name = self.create_role(["r.read"])
        k = self.create_key(roles=[name])
        new = uid("Renamed Role ")
        r = self.call("PATCH", acct(self.A, "roles", name), {"name": new})
        self.assertStatus(r, 200)
        self.assertEqual(r.data["name"], new)
        self.assertEqual(r.data["resources"], ["r.read"])
        roles = self.roles()
        self.assertIn(new, roles)
        self.assertNotIn(name, roles)
        self.assertEqual(self.get_key(k["key"])["roles"], [new])
        v = self.assertVerifyOK(self.verify(k["key"], k["token"], resource="r.read"),
                                k["key"])
        self.assertEqual(v["roles"], [new])
        # the old name is gone
        self.assertError(self.call("PATCH", acct(self.A, "roles", name),
                                   {"resources": []}), 404, "not_found")
        self.assertError(self.call("DELETE", acct(self.A, "roles", name)), 404,
                         "not_found")
        # and a key can't be given it any more
        r = self.call("POST", acct(self.A, "keys"), {"name": "x", "roles": [name]})
        self.assertError(r, 400, "invalid_request", field="role")

    def test_rename_and_resources_together(self):
        name = self.create_role(["a"])
        new = uid("Both ")
        r = self.call("PATCH", acct(self.A, "roles", name),
                      {"name": new, "resources": ["b"]})
        self.assertStatus(r, 200)
        self.assertEqual((r.data["name"], r.data["resources"]), (new, ["b"]))

    def test_rename_to_taken_409(self):
        a = self.create_role(["a"])
        b = self.create_role(["b"])
        for target in (b, OWNER, USER_ADMIN):
            with self.subTest(target=target):
                r = self.call("PATCH", acct(self.A, "roles", a), {"name": target})
                self.assertError(r, 409, "name_taken")
        self.assertIn(a, self.roles())

    def test_bad_patch_400(self):
        name = self.create_role(["a"])
        for body, field in (({}, None), ({"name": ""}, "name"),
                            ({"name": "x" * 101}, "name"),
                            ({"resources": "a"}, "resources"),
                            ({"builtin": True}, "builtin")):
            with self.subTest(body=body):
                r = self.call("PATCH", acct(self.A, "roles", name), body)
                self.assertError(r, 400, "invalid_request", field=field)

    def test_unknown_role_404(self):
        ghost = uid("No Such Role ")
        self.assertError(self.call("PATCH", acct(self.A, "roles", ghost),
                                   {"resources": ["a"]}), 404, "not_found")
        self.assertError(self.call("DELETE", acct(self.A, "roles", ghost)), 404,
                         "not_found")

    def test_builtin_roles_immutable(self):
        for builtin in (OWNER, USER_ADMIN):
            with self.subTest(role=builtin):
                r = self.call("PATCH", acct(self.A, "roles", builtin),
                              {"resources": ["x"]})
                self.assertError(r, 409, "builtin_role")
                r = self.call("PATCH", acct(self.A, "roles", builtin),
                              {"name": uid("Boss ")})
                self.assertError(r, 409, "builtin_role")
                r = self.call("DELETE", acct(self.A, "roles", builtin))
                self.assertError(r, 409, "builtin_role")
        roles = self.roles()
        self.assertEqual(sorted(roles[OWNER]["resources"]), sorted(MANAGEMENT_RESOURCES))
        self.assertEqual(sorted(roles[USER_ADMIN]["resources"]),
                         sorted(USER_ADMIN_RESOURCES))

    def test_delete(self):
        name = self.create_role(["a"])
        r = self.call("DELETE", acct(self.A, "roles", name))
        self.assertStatus(r, 204)
        self.assertFalse(r.raw)
        self.assertNotIn(name, self.roles())
        self.assertError(self.call("DELETE", acct(self.A, "roles", name)), 404,
                         "not_found")
        # the name is free again
        self.create_role(["b"], name=name)

    def test_delete_in_use_409(self):
        name = self.create_role(["a"])
        k = self.create_key(roles=[name])
        self.assertError(self.call("DELETE", acct(self.A, "roles", name)), 409,
                         "role_in_use")
        self.assertIn(name, self.roles())
        self.assertEqual(self.get_key(k["key"])["roles"], [name])
        self.patch_key(k["key"], {"roles": []})
        self.assertStatus(self.call("DELETE", acct(self.A, "roles", name)), 204)

    def test_delete_in_use_by_inactive_or_deleted_key(self):
        name = self.create_role(["a"])
        k = self.create_key(roles=[name])
        self.patch_key(k["key"], {"status": "inactive"})
        self.assertError(self.call("DELETE", acct(self.A, "roles", name)), 409,
                         "role_in_use")
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", k["key"])), 204)
        self.assertStatus(self.call("DELETE", acct(self.A, "roles", name)), 204)

    def test_names_with_special_characters(self):
        for name in (uid("Ops / Reader "), uid("100% sure? #1 & more ")):
            with self.subTest(name=name):
                self.create_role(["a"], name=name)
                self.assertIn(name, self.roles())
                k = self.create_key(roles=[name])
                self.assertEqual(k["roles"], [name])
                self.patch_key(k["key"], {"roles": []})
                r = self.call("PATCH", acct(self.A, "roles", name), {"resources": ["b"]})
                self.assertStatus(r, 200)
                self.assertEqual(r.data["name"], name)
                self.assertStatus(self.call("DELETE", acct(self.A, "roles", name)), 204)


class TestRolesPerAccount(KeystileCase):
    ACCOUNTS = ("acme", "beta")

    def test_roles_are_per_account(self):
        name = self.create_role(["a"])
        beta = self.server.owner("beta")
        r = self.call("GET", acct("beta", "roles"), cred=beta)
        self.assertStatus(r, 200)
        names = [i["name"] for i in r.data["items"]]
        self.assertNotIn(name, names)
        self.assertIn(OWNER, names)
        self.assertIn(USER_ADMIN, names)
        # same name may be made in beta
        r = self.call("POST", acct("beta", "roles"), {"name": name, "resources": ["b"]},
                      cred=beta)
        self.assertStatus(r, 201)
        # and a beta key can't hold acme's role unless beta has one by that name
        r = self.call("POST", acct("beta", "keys"),
                      {"name": "x", "roles": [uid("acme-only ")]}, cred=beta)
        self.assertError(r, 400, "invalid_request", field="role")


if __name__ == "__main__":
    unittest.main()

"""Delegation (API.md "Delegation: nobody gets more than its grantor holds").

- The escalation reported in the issue, verbatim, as a regression test.
- A matrix generated from the route table of src/http/router.c: every
  management route x the caller's authority (a subset of, equal to, or a
  superset of the target's and of what the body gives) x the expected
  outcome. A management route without a row in DELEGATION fails the test.
- The last Owner key: deleting, deactivating or taking Owner from it is 409.
- A random walk of a few hundred actions by random principals, checked step
  by step against a model of who may do what; afterwards nobody holds a
  management resource that the principals the walk started from lacked, and
  the owner still verifies.
"""
import os
import random
import re
import unittest

from harness import (KeystileCase, MANAGEMENT_RESOURCES, OWNER, USER_ADMIN,
                     USER_ADMIN_RESOURCES, acct, uid)

ROUTER_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "src", "http", "router.c")
MGMT = set(MANAGEMENT_RESOURCES)


def management_routes():
    """{(METHOD, pattern)} of router.c's routes under /api/v1/accounts/{a}/."""
    with open(ROUTER_C, encoding="utf-8") as f:
        return set(re.findall(r'\{"([A-Z]+)", "(/api/v1/accounts/[^"]*)"', f.read()))


# Per management route: the resource it needs, what it acts on ("key",
# "grant", "role" or None) and what its body gives ("roles", "resources" or
# None), and its success status. Rows are (method, pattern): a route of
# router.c that is missing here fails test_every_route_has_a_row.
DELEGATION = {
    ("GET", "/api/v1/accounts/*/keys"): ("view-api-keys", None, None, 200),
    ("POST", "/api/v1/accounts/*/keys"): ("edit-api-keys", None, "roles", 201),
    ("GET", "/api/v1/accounts/*/keys/export"): ("view-api-keys", None, None, 200),
    ("GET", "/api/v1/accounts/*/keys/*"): ("view-api-keys", None, None, 200),
    ("GET", "/api/v1/accounts/*/keys/*/usage"): ("view-api-keys", None, None, 200),
    ("GET", "/api/v1/accounts/*/usage"): ("view-api-keys", None, None, 200),
    ("PATCH", "/api/v1/accounts/*/keys/*"): ("edit-api-keys", "key", "roles", 200),
    ("DELETE", "/api/v1/accounts/*/keys/*"): ("edit-api-keys", "key", None, 204),
    ("POST", "/api/v1/accounts/*/keys/*/renew"): ("renew-api-token", "key", None, 200),
    ("DELETE", "/api/v1/accounts/*/keys/*/old-token"): ("renew-api-token", "key", None, 200),
    ("POST", "/api/v1/accounts/*/keys/*/undo-renewal"): ("renew-api-token", "key", None, 200),
    ("GET", "/api/v1/accounts/*/external-keys"): ("view-api-keys", None, None, 200),
    ("POST", "/api/v1/accounts/*/external-keys"): ("edit-api-keys", None, "roles", 201),
    ("PATCH", "/api/v1/accounts/*/external-keys/*"): ("edit-api-keys", "grant", "roles", 200),
    ("DELETE", "/api/v1/accounts/*/external-keys/*"): ("edit-api-keys", "grant", None, 204),
    ("GET", "/api/v1/accounts/*/settings"): ("view-api-keys", None, None, 200),
    ("PUT", "/api/v1/accounts/*/settings"): ("edit-api-keys-settings", None, None, 200),
    ("GET", "/api/v1/accounts/*/roles"): ("view-api-keys", None, None, 200),
    ("POST", "/api/v1/accounts/*/roles"): ("edit-roles", None, "resources", 201),
    ("PATCH", "/api/v1/accounts/*/roles/*"): ("edit-roles", "role", "resources", 200),
    ("DELETE", "/api/v1/accounts/*/roles/*"): ("edit-roles", "role", None, 204),
    ("GET", "/api/v1/accounts/*/audit"): ("view-audit-log", None, None, 200),
    ("GET", "/api/v1/accounts/*/users"): ("edit-users", None, None, 200),
    ("POST", "/api/v1/accounts/*/users"): ("edit-users", None, "roles", 201),
    ("PATCH", "/api/v1/accounts/*/users/*"): ("edit-users", "person", "roles", 200),
    ("DELETE", "/api/v1/accounts/*/users/*"): ("edit-users", "person", None, 204),
    # Webhooks act on no principal: only the route's resource counts.
    ("GET", "/api/v1/accounts/*/webhooks"): ("edit-webhooks", None, None, 200),
    ("POST", "/api/v1/accounts/*/webhooks"): ("edit-webhooks", None, None, 201),
    ("GET", "/api/v1/accounts/*/webhooks/*"): ("edit-webhooks", None, None, 200),
    ("PATCH", "/api/v1/accounts/*/webhooks/*"): ("edit-webhooks", None, None, 200),
    ("DELETE", "/api/v1/accounts/*/webhooks/*"): ("edit-webhooks", None, None, 204),
    ("GET", "/api/v1/accounts/*/webhooks/*/deliveries"): ("edit-webhooks", None, None, 200),
    ("POST", "/api/v1/accounts/*/webhooks/*/test"): ("edit-webhooks", None, None, 202),
}

# Relations of the caller's authority C to another set S (a target's or
# what the body gives): S below C, S equal to C, S above C (refused).
RELATIONS = ("subset", "equal", "superset")


def has_target(pattern):
    """/api/v1/accounts/*/keys/*...: the route names a key, grant or role."""
    parts = pattern.split("/")
    return len(parts) > 6 and parts[6] == "*"


def target_kind(pattern):
    """What a route without a principal target acts on: a webhook, or nothing."""
    return "webhook" if "/webhooks/" in pattern else None


def other_resources(need, n):
    """n management resources other than need, in a fixed order."""
    return [r for r in MANAGEMENT_RESOURCES if r != need][:n]


class TestEscalation(KeystileCase):
    """The report of the issue: a key holding only User Administrator -
    RESTRICTED created an Owner key and renewed the Owner key with
    delete_old now, locking the real owner out."""

    def test_restricted_admin_cannot_become_owner(self):
        owner_key, owner_token = self.server.owner()
        admin = self.create_key(roles=[USER_ADMIN])
        cred = (admin["key"], admin["token"])
        before = len(self.list_all({}))

        r = self.call("POST", acct(self.A, "keys"), {"name": "mine", "roles": [OWNER]}, cred=cred)
        self.assertError(r, 403, "forbidden", field="edit-roles")
        self.assertEqual(len(self.list_all({})), before, "a refused create made a key")

        r = self.call("POST", acct(self.A, "keys", owner_key, "renew"), {"delete_old": "now"},
                      cred=cred)
        self.assertError(r, 403, "forbidden", field="edit-roles")
        self.assertNotIn("token", r.data)
        self.assertVerifyOK(self.verify(owner_key, owner_token), owner_key)
        self.assertEqual(len(self.get_key(owner_key)["tokens"]), 1)

        # Nor through the other actions on the Owner key, or by making itself Owner.
        for method, path, body in (
                ("PATCH", acct(self.A, "keys", owner_key), {"status": "inactive"}),
                ("DELETE", acct(self.A, "keys", owner_key), None),
                ("PATCH", acct(self.A, "keys", admin["key"]), {"roles": [OWNER]}),
                ("PATCH", acct(self.A, "keys", admin["key"]), {"roles": [USER_ADMIN, OWNER]}),
                ("POST", acct(self.A, "roles"), {"name": uid("sneaky "), "resources": ["edit-roles"]})):
            with self.subTest(method=method, path=path, body=body):
                r = self.call(method, path, body, cred=cred)
                self.assertError(r, 403, "forbidden")
        self.assertEqual(self.get_key(admin["key"])["roles"], [USER_ADMIN])
        self.assertEqual(self.get_key(owner_key)["status"], "active")
        self.assertVerifyOK(self.verify(owner_key, owner_token), owner_key)

        # Every refusal is audited, naming who, where from and what was missing.
        denied = [e for e in self.audit() if e["action"] == "access.denied"]
        self.assertEqual(len(denied), 7, denied)
        for e in denied:
            self.assertEqual(e["actor"], admin["key"], e)
            self.assertEqual(e["via"], "token", e)
            self.assertEqual(e["address"], "127.0.0.1", e)
            self.assertEqual(e["detail"]["missing"], "edit-roles", e)
        renew = [e for e in denied if e["detail"]["route"].endswith("/renew")]
        self.assertEqual([e["target"] for e in renew], [owner_key])
        # A key lacking the route's own resource is audited too.
        reader = self.create_key(roles=[self.create_role(["view-api-keys"])])
        r = self.call("DELETE", acct(self.A, "keys", owner_key), cred=(reader["key"], reader["token"]))
        self.assertError(r, 403, "forbidden", field="edit-api-keys")
        e = self.audit(limit=1)[0]
        self.assertEqual((e["action"], e["actor"], e["target"], e["detail"]["missing"]),
                         ("access.denied", reader["key"], owner_key, "edit-api-keys"))

        # What it holds itself it may still hand on, and API resources are free.
        api_role = self.create_role(["orders.read", "orders.write"])
        r = self.call("POST", acct(self.A, "keys"), {"name": "erp", "roles": [USER_ADMIN, api_role]},
                      cred=cred)
        self.assertStatus(r, 201)
        r = self.call("POST", acct(self.A, "keys", r.data["key"], "renew"), {"delete_old": "now"},
                      cred=cred)
        self.assertStatus(r, 200)


class TestDelegationMatrix(KeystileCase):
    ACCOUNTS = ("acme", "beta")

    def test_every_route_has_a_row(self):
        routes = management_routes()
        self.assertTrue(routes, "no management routes found in router.c")
        self.assertEqual(routes - set(DELEGATION), set(),
                         "management routes without a delegation row (add one to DELEGATION)")
        self.assertEqual(set(DELEGATION) - routes, set(), "rows for routes router.c does not have")

    # --- fixtures, made by the Owner

    def role_of(self, resources):
        """A role holding exactly these management resources (plus an API one)."""
        return self.create_role(sorted(resources) + ["orders.read"])

    def caller_with(self, resources):
        k = self.create_key(roles=[self.role_of(resources)])
        return k["key"], k["token"]

    def target(self, kind, resources):
        """A fresh principal or role of the given authority (or a webhook); returns the path segment."""
        if kind == "webhook":
            r = self.call("POST", acct(self.A, "webhooks"), {"url": "http://127.0.0.1:9/h", "events": ["key.created"]})
            self.assertStatus(r, 201)
            return r.data["id"]
        if kind == "key":
            k = self.create_key(roles=[self.role_of(resources)])
            return k["key"]
        if kind == "grant":
            beta = self.create_key(account="beta", cred=self.server.owner("beta"))["key"]
            r = self.call("POST", acct(self.A, "external-keys"),
                          {"key": beta, "roles": [self.role_of(resources)]})
            self.assertStatus(r, 201, "grant")
            return beta
        if kind == "role":
            return self.role_of(resources)
        if kind == "person":
            r = self.call("POST", acct(self.A, "users"), {"email": uid("m") + "@example.com",
                                                           "roles": [self.role_of(resources)]})
            self.assertStatus(r, 201, "add a person")
            return r.data["email"]
        return self.create_key()["key"]  # a route that reads one key

    def request_for(self, method, pattern, target, gives):
        """(path, body) of one call of the route, with target and body filled."""
        parts = pattern.split("/")
        path = acct(self.A, *[target if p == "*" else p for p in parts[5:]])
        body = None
        if method == "POST" and pattern.endswith("/keys"):
            body = {"name": uid("m-")}
        elif method == "POST" and pattern.endswith("/external-keys"):
            body = {"key": self.create_key(account="beta", cred=self.server.owner("beta"))["key"]}
        elif method == "POST" and pattern.endswith("/roles"):
            body = {"name": uid("m role ")}
        elif method == "POST" and pattern.endswith("/users"):
            body = {"email": uid("m") + "@example.com"}
        elif method == "PATCH" and "/users/" in pattern:
            body = {"status": "active"}
        elif method == "PATCH" and "/keys/" in pattern:
            body = {"name": uid("renamed-")}
        elif method == "PATCH" and "/external-keys/" in pattern:
            body = {"status": "active"}
        elif method == "PATCH" and "/roles/" in pattern:
            body = {"resources": ["orders.read"]}
        elif method == "PUT":
            body = {"enforce_duration": False}
        elif method == "POST" and pattern.endswith("/webhooks"):
            body = {"url": "http://127.0.0.1:9/hook", "events": ["key.created"]}
        elif method == "PATCH" and "/webhooks/" in pattern:
            body = {"enabled": False}
        elif pattern.endswith("/renew"):
            body = {"delete_old": "later"}
        if gives == "roles" and body is not None:
            body["roles"] = [self.role_of(self._gives)]
        elif gives == "resources" and body is not None:
            body["resources"] = sorted(self._gives) + ["orders.read"]
        return path, body

    def prepare_target(self, method, pattern, target):
        """Old-token actions need an old token."""
        if pattern.endswith("/old-token") or pattern.endswith("/undo-renewal"):
            self.renew(target)

    def snapshot(self, kind, target):
        if kind == "key":
            return self.get_key(target)
        if kind == "grant":
            r = self.call("GET", acct(self.A, "external-keys"))
            return [x for x in r.data["items"] if x["key"] == target]
        if kind == "role":
            r = self.call("GET", acct(self.A, "roles"))
            return [x for x in r.data["items"] if x["name"] == target]
        if kind == "person":
            r = self.call("GET", acct(self.A, "users"))
            return [x for x in r.data["items"] if x["email"] == target]
        return None

    def test_matrix(self):
        cases = 0
        for (method, pattern), (need, acts_on, gives, ok_status) in sorted(DELEGATION.items()):
            mine = {need} | set(other_resources(need, 2))
            extra = other_resources(need, 3)[2]  # held by nobody's caller: makes "superset"
            below = {need}
            target_rel = RELATIONS if acts_on else (None,)
            gives_rel = RELATIONS if gives else (None,)
            for t_rel in target_rel:
                for g_rel in gives_rel:
                    with self.subTest(route="%s %s" % (method, pattern), target=t_rel, gives=g_rel):
                        cases += 1
                        rel_set = {"subset": below, "equal": mine, "superset": mine | {extra}}
                        theirs = rel_set[t_rel] if t_rel else set()
                        self._gives = rel_set[g_rel] if g_rel else set()
                        cred = self.caller_with(mine)
                        target = self.target(acts_on or target_kind(pattern), theirs) if has_target(pattern) else None
                        self.prepare_target(method, pattern, target)
                        before = self.snapshot(acts_on, target)
                        path, body = self.request_for(method, pattern, target, gives)
                        r = self.call(method, path, body, cred=cred)
                        if "superset" in (t_rel, g_rel):
                            self.assertError(r, 403, "forbidden", field=extra)
                            self.assertEqual(self.snapshot(acts_on, target), before,
                                             "a refused call changed its target")
                        else:
                            self.assertStatus(r, ok_status)
            # Without the route's own resource: 403 whatever else it holds.
            with self.subTest(route="%s %s" % (method, pattern), caller="lacks " + need):
                # Everything but `need` (GET settings and roles also take a
                # second resource, so those callers hold one unrelated resource).
                lacking = MGMT - {need} if need != "view-api-keys" else {"view-audit-log"}
                cred = self.caller_with(lacking)
                target = self.target(acts_on or target_kind(pattern), set()) if has_target(pattern) else None
                self.prepare_target(method, pattern, target)
                self._gives = set()
                path, body = self.request_for(method, pattern, target, gives)
                r = self.call(method, path, body, cred=cred)
                self.assertError(r, 403, "forbidden")
        self.assertGreaterEqual(cases, 40)

    def test_owner_may_do_everything(self):
        """Owner holds every management resource: no delegation check refuses it."""
        beta = self.create_key(account="beta", cred=self.server.owner("beta"))["key"]
        everything = self.role_of(MGMT)
        r = self.call("POST", acct(self.A, "external-keys"), {"key": beta, "roles": [everything, OWNER]})
        self.assertStatus(r, 201)
        k = self.create_key(roles=[OWNER, everything])
        self.renew(k["key"], delete_old="now")
        r = self.call("PATCH", acct(self.A, "roles", everything), {"resources": sorted(MGMT)})
        self.assertStatus(r, 200)


class TestLastOwner(KeystileCase):

    def test_last_active_owner_key_stays(self):
        owner_key, owner_token = self.server.owner()
        for body in ({"status": "inactive"}, {"roles": []}, {"roles": [USER_ADMIN]}):
            with self.subTest(body=body):
                r = self.call("PATCH", acct(self.A, "keys", owner_key), body)
                self.assertError(r, 409, "last_owner")
        r = self.call("DELETE", acct(self.A, "keys", owner_key))
        self.assertError(r, 409, "last_owner")
        k = self.get_key(owner_key)
        self.assertEqual((k["status"], k["roles"]), ("active", [OWNER]))
        self.assertVerifyOK(self.verify(owner_key, owner_token), owner_key)

        # A second active Owner key lets the first go (the second one may do it).
        second = self.create_key(roles=[OWNER])
        cred2 = (second["key"], second["token"])
        r = self.call("PATCH", acct(self.A, "keys", owner_key), {"status": "inactive"}, cred=cred2)
        self.assertStatus(r, 200)
        r = self.call("PATCH", acct(self.A, "keys", second["key"]), {"roles": []}, cred=cred2)
        self.assertError(r, 409, "last_owner")
        r = self.call("PATCH", acct(self.A, "keys", owner_key), {"status": "active"}, cred=cred2)
        self.assertStatus(r, 200)
        r = self.call("DELETE", acct(self.A, "keys", second["key"]))
        self.assertStatus(r, 204)


class TestRandomWalk(KeystileCase):
    """Random actions by random principals, each checked against a model."""
    STEPS = 300

    def setUp(self):
        seed = int(os.environ.get("KEYSTILE_WALK_SEED", "1301"))
        self.rng = random.Random(seed)
        self.seed = seed
        self.api = ["orders.read", "orders.write", "stock.read"]
        # The model: roles -> resources, keys -> {roles, active, tokens}.
        self.roles = {OWNER: set(MANAGEMENT_RESOURCES), USER_ADMIN: set(USER_ADMIN_RESOURCES)}
        self.keys = {}
        self.tally = {}  # status -> calls made by the walk's actors
        self.start_roles = []
        # The Owner key is a target of the walk, never an actor: every action
        # on it must be refused, since no actor holds all it holds.
        self.owner_key = self.server.owner()[0]
        self.owner_model = {"roles": [OWNER], "active": True, "token": None, "old": None}
        # The principals the walk starts from: none holds Owner.
        for res in (set(USER_ADMIN_RESOURCES), {"edit-roles", "view-api-keys", "edit-api-keys"},
                    {"renew-api-token", "view-api-keys"}, {"edit-api-keys", "edit-users"}):
            name = self.create_role(sorted(res) + ["orders.read"], name=self.new_name("start role"))
            self.roles[name] = set(res) | {"orders.read"}
            self.start_roles.append(name)
        for name in [USER_ADMIN] + self.start_roles:
            k = self.create_key(roles=[name])
            self.keys[k["key"]] = {"roles": [name], "active": True, "token": k["token"], "old": None}
        self.ceiling = set().union(*(self.authority(k) for k in self.keys))

    def call(self, method, path, body=None, cred=None, **kw):
        r = super().call(method, path, body, cred=cred, **kw) if cred else super().call(method, path, body, **kw)
        if cred:
            self.tally[r.status] = self.tally.get(r.status, 0) + 1
        return r

    def new_name(self, prefix):
        """Names in a fixed sequence, so the seed alone decides the walk."""
        self.names = getattr(self, "names", 0) + 1
        return "%s %d" % (prefix, self.names)

    def authority(self, key_id):
        k = self.keys.get(key_id, self.owner_model)
        out = set()
        for r in k["roles"]:
            out |= self.roles.get(r, set())
        return out & MGMT

    def role_authority(self, name):
        return self.roles[name] & MGMT

    def pick_roles(self, caller):
        names = sorted(self.roles)
        mine = self.authority(caller)
        within = [n for n in names if self.role_authority(n) <= mine]
        if within and self.rng.random() < 0.6:
            names = within
        return self.rng.sample(names, self.rng.randint(0, min(3, len(names))))

    def pick_resources(self):
        pool = sorted(MGMT) + self.api
        return self.rng.sample(pool, self.rng.randint(1, 4))

    def expect(self, caller, need, target_auth=None, gives=frozenset()):
        """The status the model expects before any 404/409 of the action."""
        c = self.keys[caller]
        if not c["active"]:
            return 401
        mine = self.authority(caller)
        if need not in mine:
            return 403
        if target_auth is not None and not target_auth <= mine:
            return 403
        if not set(gives) <= mine:
            return 403
        return None

    def step(self, i):
        callers = [k for k in self.keys if self.keys[k]["token"]]
        active = [k for k in callers if self.keys[k]["active"]]
        # Mostly active callers with some authority (the others only learn
        # 401 or 403).
        able = [k for k in active if self.authority(k)]
        roll = self.rng.random()
        caller = self.rng.choice(able if able and roll < 0.8 else active if active and roll < 0.9 else callers)
        cred = (caller, self.keys[caller]["token"])
        others = list(self.keys) + [self.owner_key]  # in creation order: the seed decides
        action = self.rng.choices(
            ["create", "edit_roles", "toggle", "delete", "renew", "renew_now", "delete_old", "undo",
             "role_create", "role_edit", "role_delete"],
            weights=[4, 3, 2, 1, 2, 1, 2, 2, 2, 2, 1])[0]
        custom_roles = [r for r in sorted(self.roles) if r not in (OWNER, USER_ADMIN)]
        note = "step %d (seed %d): %s by %s" % (i, self.seed, action, caller)

        if action == "create":
            roles = self.pick_roles(caller)
            gives = set().union(*(self.role_authority(r) for r in roles)) if roles else set()
            want = self.expect(caller, "edit-api-keys", gives=gives)
            r = self.call("POST", acct(self.A, "keys"), {"name": uid("walk-"), "roles": roles}, cred=cred)
            self.assertStatus(r, want or 201, note)
            if r.status == 201:
                self.keys[r.data["key"]] = {"roles": roles, "active": True, "token": r.data["token"],
                                            "old": None}
            return
        if action in ("edit_roles", "toggle", "delete", "renew", "renew_now", "delete_old", "undo"):
            # Mostly a target within the caller's reach, so that many actions
            # go through; the others must be refused.
            mine = self.authority(caller)
            within = [k for k in others if self.authority(k) <= mine]
            target = self.rng.choice(within if within and self.rng.random() < 0.6 else others)
            t = self.keys.get(target, self.owner_model)
            need = "edit-api-keys" if action in ("edit_roles", "toggle", "delete") else "renew-api-token"
            path = acct(self.A, "keys", target)
            body = None
            gives = set()
            if action == "edit_roles":
                roles = self.pick_roles(caller)
                gives = set().union(*(self.role_authority(x) for x in roles)) if roles else set()
                method, body = "PATCH", {"roles": roles}
            elif action == "toggle":
                method, body = "PATCH", {"status": "inactive" if t["active"] else "active"}
            elif action == "delete":
                method = "DELETE"
            elif action in ("renew", "renew_now"):
                method, path = "POST", path + "/renew"
                body = {"delete_old": "now" if action == "renew_now" else "later"}
            elif action == "delete_old":
                method, path = "DELETE", path + "/old-token"
            else:
                method, path = "POST", path + "/undo-renewal"
            want = self.expect(caller, need, self.authority(target), gives)
            if want is None and action in ("renew", "renew_now") and t["old"]:
                want = 409
            if want is None and action in ("delete_old", "undo") and not t["old"]:
                want = 409
            r = self.call(method, path, body, cred=cred)
            ok = {"DELETE": 200 if action == "delete_old" else 204}.get(method, 200)
            self.assertStatus(r, want or ok, note)
            if target == self.owner_key:
                self.assertIn(want, (401, 403), note)
            if r.status != ok:
                return
            if action == "edit_roles":
                t["roles"] = body["roles"]
            elif action == "toggle":
                t["active"] = not t["active"]
            elif action == "delete":
                del self.keys[target]
            elif action == "renew":
                t["old"], t["token"] = t["token"], r.data["token"]
            elif action == "renew_now":
                t["token"] = r.data["token"]
            elif action == "delete_old":
                t["old"] = None
            else:
                t["token"], t["old"] = t["old"], None
            return
        if action == "role_create":
            res = self.pick_resources()
            want = self.expect(caller, "edit-roles", gives=set(res) & MGMT)
            name = self.new_name("walk role")
            r = self.call("POST", acct(self.A, "roles"), {"name": name, "resources": res}, cred=cred)
            self.assertStatus(r, want or 201, note)
            if r.status == 201:
                self.roles[name] = set(res)
            return
        if not custom_roles:
            return
        name = self.rng.choice(custom_roles + [OWNER, USER_ADMIN])
        if action == "role_edit":
            res = self.pick_resources()
            want = self.expect(caller, "edit-roles", self.role_authority(name), set(res) & MGMT)
            if want is None and name in (OWNER, USER_ADMIN):
                want = 409
            r = self.call("PATCH", acct(self.A, "roles", name), {"resources": res}, cred=cred)
            self.assertStatus(r, want or 200, note)
            if r.status == 200:
                self.roles[name] = set(res)
        else:
            want = self.expect(caller, "edit-roles", self.role_authority(name))
            in_use = any(name in k["roles"] for k in self.keys.values())
            if want is None and (name in (OWNER, USER_ADMIN) or in_use):
                want = 409
            r = self.call("DELETE", acct(self.A, "roles", name), cred=cred)
            if r.status == 409 and want is None:
                self.fail("%s: 409 for role %r that the model thinks unused: %r" % (note, name, r))
            self.assertStatus(r, want or 204, note)
            if r.status == 204:
                del self.roles[name]

    def test_walk(self):
        owner_key, owner_token = self.server.owner()
        for i in range(self.STEPS):
            if not any(self.keys[k]["active"] for k in self.keys):
                break
            self.step(i)
            for k in self.keys:  # nobody exceeds what the walk started with
                self.assertLessEqual(self.authority(k), self.ceiling, "step %d: %s" % (i, k))
        # The model matches the server, and the server agrees on the ceiling.
        roles = {x["name"]: set(x["resources"]) for x in
                 self.call("GET", acct(self.A, "roles")).data["items"]}
        for key_id, k in self.keys.items():
            got = self.get_key(key_id)
            self.assertEqual(got["roles"], k["roles"], key_id)
            held = set().union(*(roles[r] for r in got["roles"])) if got["roles"] else set()
            self.assertLessEqual(held & MGMT, self.ceiling, key_id)
        self.assertNotIn("edit-webhooks", self.ceiling)
        self.assertFalse(any(OWNER in k["roles"] for k in self.keys.values()))
        self.assertVerifyOK(self.verify(owner_key, owner_token), owner_key)
        self.assertEqual(self.get_key(owner_key)["roles"], [OWNER])
        # Not a degenerate walk: many actions went through, many were refused.
        done = sum(n for st, n in self.tally.items() if st < 300)
        self.assertGreaterEqual(done, 40, self.tally)
        self.assertGreaterEqual(self.tally.get(403, 0), 40, self.tally)
        if os.environ.get("KEYSTILE_WALK_VERBOSE"):
            print("walk seed %d: %r" % (self.seed, self.tally))


if __name__ == "__main__":
    unittest.main()

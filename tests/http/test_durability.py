"""Restarts keep everything; kill -9 right after an acknowledged write keeps it."""
import unittest

from harness import (KeystileCase, OWNER, acct, uid, wait_until)


class TestDurability(KeystileCase):

    def without_owner_use(self, items):
        out = []
        for i in items:
            i = dict(i)
            if i["key"] == self.server.key:
                i["tokens"] = [dict(t, last_used_at=None, last_used_from=None) for t in i["tokens"]]
            out.append(i)
        return out

    def test_graceful_stop_exit_code(self):
        rc = self.server.stop()
        self.server.start()
        self.assertEqual(rc, 0, "SIGTERM should end the server cleanly (exit 0)")

    def test_restart_keeps_everything(self):
        role = self.create_role(["orders.read", "orders.write"])
        k = self.create_key(name=uid("persist "), roles=[role, OWNER])
        n = self.renew(k["key"], "later")
        inactive = self.create_key(name=uid("persist-inactive "))
        self.patch_key(inactive["key"], {"status": "inactive"})
        gone = self.create_key(name=uid("persist-gone "))
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", gone["key"])), 204)
        r = self.call("PUT", acct(self.A, "settings"),
                      {"token_duration_months": 6, "enforce_duration": False})
        self.assertStatus(r, 200)
        self.assertVerifyOK(self.verify(k["key"], n["token"]), k["key"], "current")
        used = wait_until(
            lambda: self.get_key(k["key"])["tokens"][0]["last_used_at"], timeout=8)
        self.assertTrue(used, "last_used_at not set within 8 s")

        before_key = self.get_key(k["key"])
        before_inactive = self.get_key(inactive["key"])
        before_roles = self.call("GET", acct(self.A, "roles")).data
        before_settings = self.call("GET", acct(self.A, "settings")).data
        before_audit = self.audit(500)
        before_list = self.list_all({})

        self.server.restart()

        self.assertEqual(self.get_key(k["key"]), before_key)
        self.assertEqual(self.get_key(inactive["key"]), before_inactive)
        self.assertEqual(self.call("GET", acct(self.A, "roles")).data, before_roles)
        self.assertEqual(self.call("GET", acct(self.A, "settings")).data, before_settings)
        self.assertEqual(self.audit(500), before_audit)
        # the Owner credential used by these calls may have a newer last_used_at
        # (management calls may count as use; the count may lag by 5 s)
        self.assertEqual(self.without_owner_use(self.list_all({})),
                         self.without_owner_use(before_list))
        d = self.assertVerifyOK(self.verify(k["key"], n["token"],
                                            resource="orders.write"), k["key"], "current")
        self.assertEqual(sorted(d["roles"]), sorted([role, OWNER]))
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"], "old")
        self.assertVerifyFail(self.verify(inactive["key"], inactive["token"]), 401,
                              "inactive")
        self.assertVerifyFail(self.verify(gone["key"], gone["token"]), 401,
                              "unknown_key")
        self.assertError(self.call("GET", acct(self.A, "keys", gone["key"])), 404,
                         "not_found")
        # state machine state survived too
        self.assertError(self.call("POST", acct(self.A, "keys", k["key"], "renew")), 409,
                         "old_token_exists")
        self.assertStatus(self.call("POST", acct(self.A, "keys", k["key"],
                                                 "undo-renewal")), 200)
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"], "current")
        self.call("PUT", acct(self.A, "settings"), {"token_duration_months": 3})

    def test_last_used_at_flushed_at_shutdown(self):
        k = self.create_key()
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        self.server.restart()  # SIGTERM at once: the pending count is written at shutdown
        self.assertIsNotNone(self.get_key(k["key"])["tokens"][0]["last_used_at"])

    def test_kill9_after_renew_later(self):
        k = self.create_key()
        n = self.renew(k["key"], "later")
        self.server.kill9()
        self.server.start()
        self.assertVerifyOK(self.verify(k["key"], n["token"]), k["key"], "current")
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"], "old")
        d = self.get_key(k["key"])
        self.assertEqual([t["slot"] for t in d["tokens"]], ["current", "old"])
        # the verifies above set last_used_at and last_used_from; everything else is as renewed
        self.assertEqual([t["last_used_from"] for t in d["tokens"]], ["127.0.0.1", "127.0.0.1"])
        self.assertEqual([dict(t, last_used_at=None, last_used_from=None) for t in d["tokens"]], n["tokens"])

    def test_kill9_after_renew_now(self):
        k = self.create_key()
        n = self.renew(k["key"], "now")
        self.server.kill9()
        self.server.start()
        self.assertVerifyOK(self.verify(k["key"], n["token"]), k["key"], "current")
        self.assertVerifyFail(self.verify(k["key"], k["token"]), 401, "invalid_token")
        self.assertEqual(len(self.get_key(k["key"])["tokens"]), 1)

    def test_kill9_keeps_every_acknowledged_write(self):
        p = uid("k9-")
        later = self.create_key(name=p)
        later_new = self.renew(later["key"], "later")
        undone = self.create_key(name=p)
        undone_new = self.renew(undone["key"], "later")
        self.assertStatus(self.call("POST", acct(self.A, "keys", undone["key"],
                                                 "undo-renewal")), 200)
        dropped = self.create_key(name=p)
        dropped_new = self.renew(dropped["key"], "later")
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", dropped["key"],
                                                   "old-token")), 200)
        off = self.create_key(name=p)
        self.patch_key(off["key"], {"status": "inactive"})
        gone = self.create_key(name=p)
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", gone["key"])), 204)
        role = self.create_role(["k9.read"])
        renamed = self.create_key(name=p)
        self.patch_key(renamed["key"], {"name": p + " renamed", "roles": [role]})
        last = self.create_key(name=p)

        self.server.kill9()
        self.server.start()

        self.assertVerifyOK(self.verify(later["key"], later_new["token"]), later["key"],
                            "current")
        self.assertVerifyOK(self.verify(later["key"], later["token"]), later["key"], "old")
        self.assertVerifyOK(self.verify(undone["key"], undone["token"]), undone["key"],
                            "current")
        self.assertVerifyFail(self.verify(undone["key"], undone_new["token"]), 401,
                              "invalid_token")
        self.assertVerifyOK(self.verify(dropped["key"], dropped_new["token"]),
                            dropped["key"], "current")
        self.assertVerifyFail(self.verify(dropped["key"], dropped["token"]), 401,
                              "invalid_token")
        self.assertVerifyFail(self.verify(off["key"], off["token"]), 401, "inactive")
        self.assertVerifyFail(self.verify(gone["key"], gone["token"]), 401, "unknown_key")
        d = self.get_key(renamed["key"])
        self.assertEqual((d["name"], d["roles"]), (p + " renamed", [role]))
        self.assertVerifyOK(self.verify(renamed["key"], renamed["token"],
                                        resource="k9.read"), renamed["key"])
        self.assertVerifyOK(self.verify(last["key"], last["token"]), last["key"])
        self.assertEqual(len(self.list_all({"q": p})), 6)
        actions = [i["action"] for i in self.audit(500)
                   if i["target"] in (last["key"], gone["key"])]
        self.assertEqual(actions[:3], ["key.create", "key.delete", "key.create"])


if __name__ == "__main__":
    unittest.main()

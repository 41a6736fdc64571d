"""Concurrent writes on one key are atomic; verify never sees a key without a
valid token while renewals and undos run."""
import collections
import threading
import time
import unittest

from harness import KeystileCase, acct


def run_together(n, fn):
    """Runs fn(i) in n threads released together by a barrier; returns results."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        try:
            barrier.wait(timeout=20)
            results[i] = fn(i)
        except Exception as e:  # reported as a result, so the test sees it
            results[i] = e
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


class TestConcurrency(KeystileCase):

    def statuses(self, results):
        out = collections.Counter()
        for r in results:
            self.assertNotIsInstance(r, Exception, r)
            code = r.data["error"]["code"] if r.status >= 400 and isinstance(r.data, dict) \
                and "error" in r.data else None
            out[(r.status, code)] += 1
        return out

    def test_20_simultaneous_renewals(self):
        k = self.create_key()
        path = acct(self.A, "keys", k["key"], "renew")
        results = run_together(20, lambda i: self.call("POST", path,
                                                       {"delete_old": "later"}))
        for r in results:
            if not isinstance(r, Exception) and r.status == 200:
                self.server.issued_tokens.append(r.data["token"])
        self.assertEqual(self.statuses(results),
                         {(200, None): 1, (409, "old_token_exists"): 19})
        winner = [r for r in results if r.status == 200][0]
        self.assertVerifyOK(self.verify(k["key"], winner.data["token"]), k["key"],
                            "current")
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"], "old")
        d = self.get_key(k["key"])
        self.assertEqual([t["slot"] for t in d["tokens"]], ["current", "old"])
        renews = [i for i in self.audit(500)
                  if i["target"] == k["key"] and i["action"] == "key.renew"]
        self.assertEqual(len(renews), 1)

    def test_20_simultaneous_renew_now(self):
        # each renew-now leaves no old token, so all succeed one after the other;
        # afterwards exactly one of the 20 new tokens is valid
        k = self.create_key()
        path = acct(self.A, "keys", k["key"], "renew")
        results = run_together(20, lambda i: self.call("POST", path,
                                                       {"delete_old": "now"}))
        self.assertEqual(self.statuses(results), {(200, None): 20})
        tokens = [r.data["token"] for r in results]
        self.server.issued_tokens.extend(tokens)
        self.assertEqual(len(set(tokens)), 20)
        ok = []
        for t in tokens + [k["token"]]:
            r = self.verify(k["key"], t)
            if r.status == 200:
                ok.append(r.data["token"])
            else:
                self.assertVerifyFail(r, 401, "invalid_token")
        self.assertEqual(ok, ["current"])
        self.assertEqual(len(self.get_key(k["key"])["tokens"]), 1)

    def test_20_simultaneous_undos_and_deletes(self):
        for action, method in (("undo-renewal", "POST"), ("old-token", "DELETE")):
            with self.subTest(action=action):
                k = self.create_key()
                n = self.renew(k["key"], "later")
                path = acct(self.A, "keys", k["key"], action)
                results = run_together(20, lambda i: self.call(method, path))
                self.assertEqual(self.statuses(results),
                                 {(200, None): 1, (409, "no_old_token"): 19})
                d = self.get_key(k["key"])
                self.assertEqual(len(d["tokens"]), 1)
                survivor = k["token"] if action == "undo-renewal" else n["token"]
                dead = n["token"] if action == "undo-renewal" else k["token"]
                self.assertVerifyOK(self.verify(k["key"], survivor), k["key"], "current")
                self.assertVerifyFail(self.verify(k["key"], dead), 401, "invalid_token")

    def test_verify_never_fails_during_renew_undo(self):
        k = self.create_key()
        t0 = k["token"]
        stop = threading.Event()
        bad = []
        counts = collections.Counter()
        shapes = []

        def verifier():
            while not stop.is_set():
                try:
                    r = self.verify(k["key"], t0)
                except Exception as e:
                    bad.append(repr(e))
                    continue
                if r.status != 200:
                    bad.append(repr(r))
                else:
                    counts[r.data.get("token")] += 1

        def shower():
            while not stop.is_set():
                r = self.call("GET", acct(self.A, "keys", k["key"]))
                if r.status != 200:
                    shapes.append(repr(r))
                    continue
                slots = [t["slot"] for t in r.data["tokens"]]
                if slots not in (["current"], ["current", "old"]):
                    shapes.append(slots)

        write_results = collections.Counter()
        new_tokens = []

        def writer(i):
            for j in range(25):
                if stop.is_set():
                    return
                r = self.call("POST", acct(self.A, "keys", k["key"], "renew"),
                              {"delete_old": "later"})
                write_results[("renew", r.status)] += 1
                if r.status == 200:
                    new_tokens.append(r.data["token"])
                r = self.call("POST", acct(self.A, "keys", k["key"], "undo-renewal"))
                write_results[("undo", r.status)] += 1

        readers = [threading.Thread(target=verifier) for _ in range(3)] + \
                  [threading.Thread(target=shower)]
        for t in readers:
            t.start()
        try:
            time.sleep(0.05)
            writers = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
            for t in writers:
                t.start()
            for t in writers:
                t.join(timeout=60)
        finally:
            stop.set()
            for t in readers:
                t.join(timeout=30)
        self.server.issued_tokens.extend(new_tokens)
        self.assertEqual(bad[:5], [], "verify with the pre-renewal token failed "
                                      "%d times" % len(bad))
        self.assertEqual(shapes[:5], [], "a reader saw a bad token list")
        for (_, s) in write_results:
            self.assertIn(s, (200, 409), write_results)
        self.assertGreater(write_results[("renew", 200)], 3, write_results)
        self.assertGreater(counts["current"] + counts["old"], 20, counts)
        self.assertEqual(set(counts) - {"current", "old"}, set(), counts)
        # the end state: the pre-renewal token is current or old
        r = self.verify(k["key"], t0)
        self.assertVerifyOK(r, k["key"], r.data.get("token"))
        self.assertIn(r.data["token"], ("current", "old"))

    def test_20_simultaneous_deletes(self):
        k = self.create_key()
        path = acct(self.A, "keys", k["key"])
        results = run_together(20, lambda i: self.call("DELETE", path))
        self.assertEqual(self.statuses(results), {(204, None): 1, (404, "not_found"): 19})
        self.assertVerifyFail(self.verify(k["key"], k["token"]), 401, "unknown_key")

    def test_20_simultaneous_role_creates(self):
        from harness import uid
        name = uid("Race Role ")
        results = run_together(20, lambda i: self.call(
            "POST", acct(self.A, "roles"), {"name": name, "resources": ["r%d" % i]}))
        self.assertEqual(self.statuses(results), {(201, None): 1, (409, "name_taken"): 19})
        r = self.call("GET", acct(self.A, "roles"))
        self.assertEqual([i["name"] for i in r.data["items"]].count(name), 1)

    def test_role_delete_races_role_assignment(self):
        from harness import uid
        k = self.create_key()
        outcomes = collections.Counter()
        for _ in range(15):
            role = self.create_role(["race.read"], name=uid("Race "))
            res = run_together(2, lambda i: self.call(
                "PATCH", acct(self.A, "keys", k["key"]), {"roles": [role]}) if i == 0
                else self.call("DELETE", acct(self.A, "roles", role)))
            patch, delete = res
            self.assertNotIsInstance(patch, Exception, patch)
            self.assertNotIsInstance(delete, Exception, delete)
            outcomes[(patch.status, delete.status)] += 1
            self.assertIn((patch.status, delete.status), ((200, 409), (400, 204)),
                          (patch, delete))
            roles = self.call("GET", acct(self.A, "roles")).data["items"]
            names = {i["name"] for i in roles}
            held = self.get_key(k["key"])["roles"]
            for h in held:
                self.assertIn(h, names, "key holds a deleted role")
            v = self.verify(k["key"], k["token"])
            self.assertEqual(v.status, 200, v)
            for h in v.data["roles"]:
                self.assertIn(h, names, "verify reports a deleted role")
            self.patch_key(k["key"], {"roles": []})
            if delete.status != 204:
                self.assertStatus(self.call("DELETE", acct(self.A, "roles", role)), 204)

    def test_parallel_creates_are_distinct(self):
        results = run_together(20, lambda i: self.call("POST", acct(self.A, "keys"),
                                                       {"name": "par-%d" % i}))
        self.assertEqual(self.statuses(results), {(201, None): 20})
        keys = {r.data["key"] for r in results}
        tokens = {r.data["token"] for r in results}
        self.server.issued_tokens.extend(tokens)
        self.assertEqual((len(keys), len(tokens)), (20, 20))
        for r in results:
            self.assertVerifyOK(self.verify(r.data["key"], r.data["token"]),
                                r.data["key"])


if __name__ == "__main__":
    unittest.main()

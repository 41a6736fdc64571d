"""Crash safety (#6): random writes from several clients, SIGKILL at random moments.

Each client owns its keys, so the operations on one key are sequential and at most
the last one before a kill is unacknowledged. After every restart each key must be
in the state its acknowledged operations give, or that state plus the one pending
operation (a write whose answer never arrived is wholly present or wholly absent);
every key has one or two tokens; at the end the database passes integrity_check.
"""
import http.client
import random
import sqlite3
import threading
import time
import unittest

from harness import API, OWNER, VALGRIND, Server, acct, request, uid

# Under valgrind (make test-valgrind: memory errors and leaks are the point)
# a restart takes seconds: fewer kills, a longer budget.
KILLS = 20 if VALGRIND else 50
BUDGET_SECONDS = 240 if VALGRIND else 100
CLIENTS = 3
KEYS_PER_CLIENT = 3


class KeyModel:
    """What we know of one key: the state after acknowledged writes."""

    def __init__(self, key, token):
        self.key = key
        self.exists = True
        self.active = True
        self.name = "k"
        self.current = token      # plaintext of the current token, None if unknown
        self.old = None           # plaintext of the old token, None if none
        self.has_old = False
        self.pending = None       # (op, arg) whose answer never arrived

    def apply(self, op, arg):
        """Returns the model after op (a copy); arg is the new token for renews."""
        m = KeyModel(self.key, self.current)
        m.__dict__.update(self.__dict__)
        m.pending = None
        if op == "renew_later":
            m.old, m.has_old, m.current = m.current, True, arg
        elif op == "renew_now":
            m.current = arg
        elif op == "delete_old":
            m.old, m.has_old = None, False
        elif op == "undo":
            m.current, m.old, m.has_old = m.old, None, False
        elif op == "deactivate":
            m.active = False
        elif op == "activate":
            m.active = True
        elif op == "rename":
            m.name = arg
        elif op == "delete":
            m.exists = False
        return m


class TestCrashLoop(unittest.TestCase):

    def setUp(self):
        self.server = Server(accounts=("acme",), start=True)
        self.owner = self.server.owner()
        self.models = []
        self.settings = {"acked": 3, "pending": None}
        self.in_flight = 0  # writes whose answer a kill cut off
        for c in range(CLIENTS):
            mine = []
            for _ in range(KEYS_PER_CLIENT):
                mine.append(self.new_key())
            self.models.append(mine)

    def tearDown(self):
        self.server.cleanup()

    def call(self, method, path, body=None, timeout=5):
        return request(self.server.port, method, path, body=body, key=self.owner[0],
                       token=self.owner[1], timeout=timeout)

    def new_key(self):
        r = self.call("POST", acct("acme", "keys"), {"name": "k", "roles": [OWNER]})
        self.assertEqual(r.status, 201, r)
        self.server.issued_tokens.append(r.data["token"])
        return KeyModel(r.data["key"], r.data["token"])

    # ---- one client's random writes until the server dies

    def client(self, models, rng, stop, changes_settings):
        while not stop.is_set():
            m = rng.choice(models)
            if not m.exists or m.pending or m.current is None:
                continue
            # one client alone changes the settings, so their order is known
            choices = ["rename", "settings"] if changes_settings else ["rename"]
            choices += ["delete_old", "undo"] if m.has_old else ["renew_later", "renew_now"]
            choices += ["deactivate"] if m.active else ["activate"]
            if rng.random() < 0.03:
                choices = ["delete"]
            op = rng.choice(choices)
            path = acct("acme", "keys", m.key)
            arg = None
            try:
                if op == "settings":
                    months = rng.choice([3, 6])
                    self.settings["pending"] = months
                    r = self.call("PUT", acct("acme", "settings"), {"token_duration_months": months})
                    if r.status == 200:
                        self.settings["acked"], self.settings["pending"] = months, None
                    continue
                m.pending = (op, None)
                if op in ("renew_later", "renew_now"):
                    r = self.call("POST", path + "/renew",
                                  {"delete_old": "later" if op == "renew_later" else "now"})
                    if r.status == 200:
                        arg = r.data["token"]
                        self.server.issued_tokens.append(arg)
                elif op == "delete_old":
                    r = self.call("DELETE", path + "/old-token")
                elif op == "undo":
                    r = self.call("POST", path + "/undo-renewal")
                elif op in ("deactivate", "activate"):
                    r = self.call("PATCH", path, {"status": "inactive" if op == "deactivate" else "active"})
                elif op == "rename":
                    arg = uid("n")
                    m.pending = (op, arg)
                    r = self.call("PATCH", path, {"name": arg})
                else:
                    r = self.call("DELETE", path)
                if r.status not in (200, 204):
                    raise AssertionError("%s on %s: %r" % (op, m.key, r))
                new = m.apply(op, arg)
                m.__dict__.update(new.__dict__)
            except (OSError, http.client.HTTPException, AttributeError):
                # the server died mid-request (http.client may fail in several ways):
                # m.pending stays as the unknown write
                return

    # ---- checking a key against its model after a restart

    def observe(self, m):
        """The server's view: exists, name, status, token count, and which known tokens verify how."""
        r = self.call("GET", acct("acme", "keys", m.key))
        if r.status == 404:
            return {"exists": False}
        self.assertEqual(r.status, 200, r)
        self.assertIn(len(r.data["tokens"]), (1, 2), "a key with zero or three tokens: %r" % (r.data,))
        seen = {"exists": True, "name": r.data["name"], "active": r.data["status"] == "active",
                "has_old": len(r.data["tokens"]) == 2, "verify": {}}
        for t in {m.current, m.old} - {None}:
            v = request(self.server.port, "GET", API + "/verify", key=m.key, token=t)
            seen["verify"][t] = v.data.get("token") if v.status == 200 else v.data.get("reason")
        return seen

    def expected(self, m, seen_tokens):
        if not m.exists:
            return {"exists": False}
        want = {"exists": True, "name": m.name, "active": m.active, "has_old": m.has_old, "verify": {}}
        for t in seen_tokens:
            if not m.active:
                # inactive keys say so only to a right token
                right = t in (m.current, m.old) and (t == m.current or m.has_old)
                want["verify"][t] = "inactive" if right else "invalid_token"
            elif t == m.current:
                want["verify"][t] = "current"
            elif m.has_old and t == m.old:
                want["verify"][t] = "old"
            else:
                want["verify"][t] = "invalid_token"
        return want

    def check_key(self, m):
        if m.pending:
            self.in_flight += 1
        seen = self.observe(m)
        tokens = list(seen.get("verify", {}))
        if seen == self.expected(m, tokens):
            m.pending = None
            return
        self.assertIsNotNone(m.pending, "acknowledged write lost on %s: saw %r, model %r" % (
            m.key, seen, m.__dict__))
        op, arg = m.pending
        if op in ("renew_later", "renew_now"):
            # the new token is unknown to us: the old current must now be "old" (Later) or dead (Now)
            if op == "renew_now":
                want_old = "invalid_token"
            else:
                want_old = "old" if m.active else "inactive"
            self.assertEqual(seen["verify"].get(m.current), want_old,
                             "half a renewal on %s: %r (pending %s)" % (m.key, seen, op))
            self.assertEqual(seen["has_old"], op == "renew_later", seen)
            m.exists = False  # we can no longer follow this key; stop using it
            return
        after = m.apply(op, arg)
        self.assertEqual(seen, self.expected(after, tokens),
                         "write neither wholly present nor absent on %s (pending %s)" % (m.key, op))
        m.__dict__.update(after.__dict__)

    def check_settings(self):
        r = self.call("GET", acct("acme", "settings"))
        self.assertEqual(r.status, 200, r)
        months = r.data["token_duration_months"]
        allowed = {self.settings["acked"], self.settings["pending"]} - {None}
        self.assertIn(months, allowed, "settings lost: %r, acked %r" % (months, self.settings))
        self.settings = {"acked": months, "pending": None}

    def test_kill_loop(self):
        rng = random.Random(int(time.time()))
        deadline = time.time() + BUDGET_SECONDS
        kills = 0
        while kills < KILLS and time.time() < deadline:
            stop = threading.Event()
            threads = [threading.Thread(target=self.client, args=(self.models[c], random.Random(rng.random()), stop, c == 0))
                       for c in range(CLIENTS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.02, 0.25))
            self.server.kill9()
            kills += 1
            stop.set()
            for t in threads:
                t.join(timeout=10)
            self.server.start()
            for mine in self.models:
                for m in mine:
                    if m.exists:
                        self.check_key(m)
                # keep every client busy with at least one live key
                if sum(1 for m in mine if m.exists) < 2:
                    mine.append(self.new_key())
            self.check_settings()
        self.assertGreaterEqual(kills, KILLS, "only %d kills in the time budget" % kills)
        # the kills must really cut writes off, or the test proves nothing
        self.assertGreater(self.in_flight, KILLS // 2, "too few writes in flight at a kill")
        self.server.stop()
        db = sqlite3.connect(self.server.db)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            bad = db.execute("SELECT key_seq, COUNT(*) FROM tokens GROUP BY key_seq HAVING COUNT(*) NOT IN (1, 2)"
                             ).fetchall()
            self.assertEqual(bad, [])
            orphans = db.execute("SELECT COUNT(*) FROM keys k WHERE NOT EXISTS "
                                 "(SELECT 1 FROM tokens t WHERE t.key_seq = k.seq AND t.slot = 0)").fetchone()[0]
            self.assertEqual(orphans, 0, "keys without a current token")
        finally:
            db.close()


if __name__ == "__main__":
    unittest.main()

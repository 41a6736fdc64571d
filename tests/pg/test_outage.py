"""The database stopped and started again under load (run by tests/pg/run.py).

While PostgreSQL is down, both nodes keep answering verify from memory, say
"degraded" in /healthz, and fail writes at once with 503 storage_unavailable;
when it is back they reconnect by themselves, writes work again and the
change feed carries them across nodes. The cluster is always started again,
also when an assertion fails.
"""
import threading
import time
import unittest

import pgcluster
from harness import API, acct
from test_nodes import ENFORCE_WITHIN, NodesCase, until, verify


class TestDatabaseOutage(NodesCase):

    def healthz(self, node):
        r = node.request("GET", "/healthz")
        self.assertStatus(r, 200)  # degraded is still 200: the node serves verify
        return r.data.get("status")

    def start_load(self, creds):
        """Threads verifying creds on A and B until stopped; counts answers."""
        stats = {"ok": 0, "bad": [], "stop": False}
        lock = threading.Lock()

        def loop(node, cred):
            while not stats["stop"]:
                r = verify(node, *cred)
                with lock:
                    if r.status == 200:
                        stats["ok"] += 1
                    else:
                        stats["bad"].append(r)
                time.sleep(0.002)
        threads = [threading.Thread(target=loop, args=(n, c))
                   for n in (self.server, self.b) for c in creds]
        for t in threads:
            t.start()
        return stats, threads

    def test_stop_and_restart_under_load(self):
        cluster = pgcluster.Cluster()
        keys = [self.create_key() for _ in range(2)]
        creds = [(k["key"], k["token"]) for k in keys]
        victim = self.create_key()
        for c in creds + [(victim["key"], victim["token"])]:
            self.assert_accepted_on_b(c)
        self.assertEqual(self.healthz(self.server), "ok")
        stats, threads = self.start_load(creds)
        try:
            cluster.stop()
            try:
                for node in (self.server, self.b):
                    status, took = until(lambda: self.healthz(node) == "degraded", 3)
                    self.assertTrue(status, "/healthz never said degraded")
                    self.assertLess(took, 1.5)
                for node in (self.server, self.b):
                    for i in range(3):
                        t0 = time.time()
                        r = node.request("POST", acct(self.A, "keys"), body={"name": "during outage"},
                                         key=self.server.key, token=self.server.token)
                        self.assertError(r, 503, "storage_unavailable")
                        self.assertLess(time.time() - t0, 1.0, "a write took long to fail")
                    r = node.request("PATCH", acct(self.A, "keys", victim["key"]), body={"status": "inactive"},
                                     key=self.server.key, token=self.server.token)
                    self.assertError(r, 503, "storage_unavailable")
                time.sleep(0.5)  # verify load keeps running against the cut-off nodes
                with_db_down = stats["ok"]
            finally:
                cluster.start()
            # Both recover by themselves.
            for node in (self.server, self.b):
                status, took = until(lambda: self.healthz(node) == "ok", 6)
                self.assertTrue(status, "/healthz never went back to ok")
            r, took = until(lambda: self.call("PATCH", acct(self.A, "keys", victim["key"]),
                                              {"status": "inactive"}).status == 200, 5)
            self.assertTrue(r, "writes never worked again")
            self.assertLess(took, 3.0)
            self.assert_refused_on_b((victim["key"], victim["token"]), 401, "inactive")
        finally:
            stats["stop"] = True
            for t in threads:
                t.join()
        self.assertEqual(stats["bad"], [], "verify failed during the outage")
        self.assertGreater(with_db_down, 0)
        self.assertGreater(stats["ok"], with_db_down)
        self.assertLess(ENFORCE_WITHIN, 1.01)


STALE_AFTER = 2  # node B's --max-staleness


class TestMaxStaleness(NodesCase):
    """Node B (--max-staleness 2) stops answering verify from memory once the
    database has been away that long; node A (the default, 300 s) goes on
    answering, degraded. Both come back when the database does."""
    B_ARGS = ("--max-staleness", str(STALE_AFTER))

    def test_stale_node_answers_503_until_the_database_is_back(self):
        cluster = pgcluster.Cluster()
        k = self.create_key()
        cred = (k["key"], k["token"])
        self.assert_accepted_on_b(cred)
        r = self.b.request("GET", "/healthz")
        self.assertEqual((r.status, r.data["status"]), (200, "ok"))
        # The node's staleness counts from its last successful poll, which is
        # up to a poll (KS_FEED_POLL_MS, 0.4 s) before the database goes, and
        # `pg_ctl stop` returns some time after that: t0 is taken before it.
        t0 = time.time()
        cluster.stop()
        try:
            # before max-staleness: degraded (once its change feed has seen the database go,
            # a few milliseconds, longer on a loaded machine), verify from memory
            degraded, _ = until(lambda: self.b.request("GET", "/healthz").data.get("status") == "degraded",
                                STALE_AFTER)
            r = self.b.request("GET", "/healthz")
            self.assertTrue(degraded, "node B never said degraded: %r" % (r,))
            self.assertEqual((r.status, r.data["status"]), (200, "degraded"), r)
            self.assertEqual(verify(self.b, *cred).status, 200)
            stale, took = until(lambda: self.b.request("GET", "/healthz").status == 503, STALE_AFTER + 3)
            self.assertTrue(stale, "node B never said stale")
            self.assertGreaterEqual(time.time() - t0, STALE_AFTER - 1.0)  # not stale at once: a poll's slack
            r = self.b.request("GET", "/healthz")
            self.assertEqual(r.data["status"], "stale")
            r = verify(self.b, *cred)
            self.assertError(r, 503, "storage_unavailable")
            self.assertIn("max-staleness", r.data["error"]["message"])
            r = self.b.request("GET", API + "/verify", headers={"Authorization": "Bearer x.y.z"})
            self.assertError(r, 503, "storage_unavailable")
            # node A, with the default 300 s, still answers from memory
            r = self.server.request("GET", "/healthz")
            self.assertEqual((r.status, r.data["status"]), (200, "degraded"))
            self.assertEqual(verify(self.server, *cred).status, 200)
        finally:
            cluster.start()
        back, took = until(lambda: verify(self.b, *cred).status == 200, 6)
        self.assertTrue(back, "node B never verified again after the database came back")
        r = self.b.request("GET", "/healthz")
        self.assertEqual((r.status, r.data["status"]), (200, "ok"))


if __name__ == "__main__":
    unittest.main()

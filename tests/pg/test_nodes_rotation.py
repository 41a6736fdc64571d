"""Rotation on autopilot with two nodes on one PostgreSQL database.

An old token's deadline set on node A is enforced by node B to the second,
from B's own index (B's sweeps run only every 10 minutes here, so no sweep
helps); 500 events raised on A and B are each delivered exactly once
although both nodes' workers take from the one outbox.
"""
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

import harness  # noqa: E402
from harness import acct  # noqa: E402
from test_nodes import NodesCase, node_like, verify  # noqa: E402
from test_rotation import Receiver, iso, verify_signature  # noqa: E402


class RotationNodesCase(NodesCase):
    SWEEP = ["--sweep-interval", "600"]

    @classmethod
    def setUpClass(cls):
        if not harness.PG_URL:
            import unittest
            raise unittest.SkipTest("needs KEYSTILE_TEST_DB_URL (tests/pg/run.py)")
        cls.server = harness.Server(accounts=cls.ACCOUNTS, extra_args=cls.SWEEP)
        cls.b = node_like(cls.server, cls.SWEEP)
        try:
            cls.b.start()
        except BaseException:
            cls.b.cleanup()
            cls.server.stop()
            cls.server.cleanup()
            raise


class TestDeadlineOnOtherNode(RotationNodesCase):

    def test_deadline_enforced_by_b_to_the_second(self):
        k = self.create_key()
        cred = (k["key"], k["token"])
        self.assert_accepted_on_b(cred)
        end = int(time.time()) + 3
        r = self.call("POST", acct(self.A, "keys", k["key"], "renew"),
                      {"delete_old": "later", "old_token_expires_at": iso(end)})
        self.assertStatus(r, 200)
        self.assert_accepted_on_b((k["key"], r.data["token"]))
        time.sleep(max(0, end - 0.35 - time.time()))
        self.assertEqual(verify(self.b, *cred).data.get("token"), "old")
        time.sleep(max(0, end + 0.05 - time.time()))
        v = verify(self.b, *cred)
        self.assertEqual((v.status, v.data.get("reason")), (401, "invalid_token"), v)
        # No sweep ran: the old token is still in the database, yet refused.
        self.assertFalse([a for a in self.audit(50) if a["target"] == k["key"]
                          and a["action"] == "key.delete_old_token"])


class TestNoDuplicateDelivery(RotationNodesCase):

    def test_500_events_once_each(self):
        rx = Receiver()
        try:
            r = self.call("POST", acct(self.A, "webhooks"), {"url": rx.url, "events": ["key.created"]})
            self.assertStatus(r, 201)
            made = []
            lock = threading.Lock()

            def make(node, n):
                key, token = self.server.owner()
                for i in range(n):
                    res = node.request("POST", acct(self.A, "keys"), body={"name": "ev-%d" % i},
                                       key=key, token=token)
                    if res.status == 201:
                        with lock:
                            made.append(res.data["key"])

            threads = [threading.Thread(target=make, args=(n, 250)) for n in (self.server, self.b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(len(made), 500)
            done = harness.wait_until(lambda: len(rx.events("key.created")) >= 500, timeout=120, interval=0.5)
            self.assertTrue(done, "only %d of 500 delivered" % len(rx.events("key.created")))
            time.sleep(3)  # anything doubled would arrive by now
            got = [e["data"]["key"] for e in rx.events("key.created")]
            self.assertEqual(len(got), 500, "duplicates: %d deliveries" % len(got))
            self.assertEqual(sorted(got), sorted(made))
            ids = [h["webhook-id"] for h, _ in rx.deliveries]
            self.assertEqual(len(set(ids)), 500)
            self.assertTrue(all(verify_signature(r.data["secret"], h, b) for h, b in rx.deliveries))
        finally:
            rx.close()

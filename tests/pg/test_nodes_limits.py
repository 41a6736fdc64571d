"""Per-key limits with two nodes on one PostgreSQL database (issue 19).

Each node writes a heartbeat row every 3 s and counts the nodes heard of in
the last 10 s (/healthz "nodes"); a rate-limited key gets ceil(limit /
live nodes) on each node, so the cluster as a whole gives `limit` when
traffic is spread evenly; allowed_cidrs set on one node are enforced by the
other; a node that stops cleanly removes its row and the other goes back
to the whole limit within one heartbeat.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

from harness import acct, request, API, uid  # noqa: E402
from test_nodes import NodesCase, until  # noqa: E402


def nodes_of(server):
    r = server.request("GET", "/healthz")
    return r.data.get("nodes") if isinstance(r.data, dict) else None


def verify_from(server, key, token, source="127.0.0.1"):
    return request(server.port, "GET", API + "/verify", key=key, token=token, source=source)


class TestLimitsAcrossNodes(NodesCase):

    def limited(self, **fields):
        body = {"name": uid("lim-")}
        body.update(fields)
        r = self.call("POST", acct(self.A, "keys"), body)
        self.assertStatus(r, 201)
        return r.data["key"], r.data["token"]

    def wait_nodes(self, server, n, timeout=8.0):
        got, _ = until(lambda: nodes_of(server) == n, timeout)
        self.assertTrue(got, "healthz nodes is %r, want %d" % (nodes_of(server), n))

    def test_a_healthz_counts_both_nodes(self):
        self.wait_nodes(self.server, 2)
        self.wait_nodes(self.b, 2)

    def test_b_each_node_enforces_its_share(self):
        self.wait_nodes(self.server, 2)
        self.wait_nodes(self.b, 2)
        key, token = self.limited(rate_limit={"limit": 9, "period_seconds": 3600})
        until(lambda: verify_from(self.b, key, token).status != 401, 3.0)  # B has loaded the key
        # B took at most one token above: count from there on both nodes
        on_a = [verify_from(self.server, key, token).status for _ in range(7)]
        self.assertEqual(on_a, [200] * 5 + [429] * 2)  # ceil(9 / 2) = 5 on A
        on_b = [verify_from(self.b, key, token).status for _ in range(7)]
        self.assertEqual(on_b.count(200), 4, on_b)  # 5 on B, one taken while waiting for it
        self.assertEqual(on_b[-1], 429)
        r = verify_from(self.server, key, token)
        self.assertGreaterEqual(int(r.headers.get("Retry-After")), 1)

    def test_c_allowed_cidrs_reach_the_other_node(self):
        key, token = self.limited()
        until(lambda: verify_from(self.b, key, token).status == 200, 3.0)
        self.patch_key(key, {"allowed_cidrs": ["127.0.0.2"]})
        r, _ = until(lambda: verify_from(self.b, key, token).status == 403, 3.0)
        self.assertTrue(r, "node B still accepts from 127.0.0.1")
        r = verify_from(self.b, key, token)
        self.assertEqual(r.data.get("reason"), "address_not_allowed")
        self.assertEqual(verify_from(self.b, key, token, "127.0.0.2").status, 200)

    def test_z_a_stopped_node_leaves_the_count(self):
        self.wait_nodes(self.server, 2)
        self.b.stop()
        self.wait_nodes(self.server, 1, timeout=6.0)  # its row went at once; A counts at its next beat
        key, token = self.limited(rate_limit={"limit": 3, "period_seconds": 3600})
        self.assertEqual([verify_from(self.server, key, token).status for _ in range(4)], [200, 200, 200, 429])

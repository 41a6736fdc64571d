"""Caddy forward_auth in front of an upstream, with examples/caddy/Caddyfile and
`keystile serve --resource-map` (issue 18): Caddy from Debian, started here on loopback.
The resource comes from the method and path Caddy forwards (X-Forwarded-Method/-Uri):
allowed, unmapped (403), the wrong method (403), traversal tricks, no or bad
credentials (401), a deactivated key; the upstream sees X-Keystile-Key and
X-Keystile-Account and never the token."""
import json
import os
import shutil
import tempfile
import unittest

from gateway import example, start_gateway, start_upstream
from harness import KeystileCase, Server, make_token, request

CADDY = shutil.which("caddy") or "/usr/bin/caddy"
MAP = """GET    /orders/**   orders.read
POST   /orders      orders.write
*      /admin/**    admin
"""


@unittest.skipUnless(os.path.exists(CADDY), "caddy is not installed")
class TestCaddyForwardAuth(KeystileCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="keystile-caddy-")
        map_path = os.path.join(cls.dir, "resources.map")
        with open(map_path, "w") as f:
            f.write(MAP)
        cls.server = Server(accounts=cls.ACCOUNTS, extra_args=("--resource-map", map_path,
                                                                "--trusted-proxy", "127.0.0.1"))
        cls.upstream = start_upstream()
        env = dict(os.environ, HOME=cls.dir, XDG_DATA_HOME=cls.dir, XDG_CONFIG_HOME=cls.dir)

        def argv_for(port):
            conf = example("caddy/Caddyfile", cls.server.port, cls.upstream.server_address[1],
                           (":8000 {", "http://127.0.0.1:%d {" % port))
            path = os.path.join(cls.dir, "Caddyfile")
            with open(path, "w") as f:
                f.write(conf)
            return [CADDY, "run", "--config", path, "--adapter", "caddyfile"]
        cls.caddy = start_gateway(argv_for, os.path.join(cls.dir, "caddy.log"), env=env)
        cls.caddy_port = cls.caddy.port

    @classmethod
    def tearDownClass(cls):
        cls.caddy.stop()
        cls.upstream.shutdown()
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def via_caddy(self, method, path, cred=None, basic=False, body=None):
        key, token = cred or (None, None)
        return request(self.caddy_port, method, path, key=key, token=token, basic=basic, body=body)

    def setUp(self):
        if not hasattr(type(self), "reader"):
            type(self).reader = self.cred_with(["orders.read"])
            type(self).writer = self.cred_with(["orders.read", "orders.write"])

    def test_allowed_forwards_identity_not_token(self):
        r = self.via_caddy("GET", "/orders/42?expand=items", self.reader)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.data["key"], self.reader[0])
        self.assertEqual(r.data["account"], self.A)
        self.assertEqual(r.data["path"], "/orders/42?expand=items")
        self.assertFalse(r.data["token"])
        self.assertFalse(r.data["authorization"])
        r = self.via_caddy("GET", "/orders/42", self.reader, basic=True)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.data["authorization"])
        r = self.via_caddy("POST", "/orders", self.writer, body={"item": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.data["method"], json.loads(r.data["body"])), ("POST", {"item": 1}))

    def test_refused_by_the_map(self):
        self.assertEqual(self.via_caddy("POST", "/orders", self.reader).status, 403)   # lacks orders.write
        self.assertEqual(self.via_caddy("DELETE", "/orders/1", self.writer).status, 403)  # no rule
        self.assertEqual(self.via_caddy("GET", "/admin/users", self.writer).status, 403)
        self.assertEqual(self.via_caddy("GET", "/elsewhere", self.writer).status, 403)
        for path in ("/orders/../admin/users", "/orders/%2e%2e/admin/users", "/orders/..%2Fadmin",
                     "/orders/..;/admin"):
            with self.subTest(path=path):
                r = self.via_caddy("GET", path, self.reader)
                self.assertIn(r.status, (400, 403), r)  # Caddy or Keystile refuses; never the upstream
                self.assertNotEqual(r.status, 200)

    def test_credentials(self):
        self.assertEqual(self.via_caddy("GET", "/orders/1").status, 401)
        self.assertEqual(self.via_caddy("GET", "/orders/1", (self.reader[0], make_token())).status, 401)
        k = self.create_key(roles=[self.create_role(["orders.read"])])
        self.assertEqual(self.via_caddy("GET", "/orders/1", (k["key"], k["token"])).status, 200)
        self.patch_key(k["key"], {"status": "inactive"})
        r = self.via_caddy("GET", "/orders/1", (k["key"], k["token"]))
        self.assertEqual(r.status, 401)
        self.assertEqual(r.data, {"valid": False, "reason": "inactive"})  # verify's answer, as it is


if __name__ == "__main__":
    unittest.main()

"""nginx auth_request in front of an upstream, with examples/nginx/keystile.conf (#8):
allowed, denied (401 and 403), the old token during an overlap, and a revoked key;
with Keystile trusting nginx (--trusted-proxy 127.0.0.1), the failed-credential limit
counts each integration's own address (X-Forwarded-For) and reaches it as 429 (#17).
The /api/ location sets no resource: Keystile takes it from X-Original-Method and
X-Original-URI with its --resource-map, while the explicit resource= of the other
locations still wins (#18)."""
import os
import shutil
import signal
import tempfile
import unittest

from gateway import example, start_gateway, start_upstream
from harness import KeystileCase, acct, make_token, request

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed")
class TestNginxAuthRequest(KeystileCase):
    MAP = "GET /api/orders/** orders.read\nPOST /api/orders orders.write\n* /orders/** nothing.here\n"

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="keystile-nginx-")
        map_path = os.path.join(cls.dir, "resources.map")
        with open(map_path, "w") as f:
            f.write(cls.MAP)
        cls.SERVER_ARGS = ("--trusted-proxy", "127.0.0.1", "--failed-auth-limit", "5", "--resource-map", map_path)
        super().setUpClass()
        cls.upstream = start_upstream()

        def argv_for(port):
            site = example("nginx/keystile.conf", cls.server.port, cls.upstream.server_address[1],
                           ("listen 8000;", "listen 127.0.0.1:%d;" % port))
            conf = os.path.join(cls.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write("daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log stderr;\n"
                        "events { worker_connections 256; }\nhttp {\n access_log off;\n"
                        " client_body_temp_path %s; proxy_temp_path %s;\n%s\n}\n"
                        % (cls.dir, cls.dir, cls.dir, site))
            return [NGINX, "-c", conf, "-p", cls.dir]
        cls.nginx = start_gateway(argv_for, os.path.join(cls.dir, "nginx.out"), stop_signal=signal.SIGQUIT)
        cls.nginx_port = cls.nginx.port

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        cls.upstream.shutdown()
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def via_nginx(self, path, key=None, token=None, basic=False, source="127.0.0.1", method="GET"):
        return request(self.nginx_port, method, path, key=key, token=token, basic=basic, source=source)

    def setUp(self):
        role = self.create_role(["orders.read"])
        self.k = self.create_key(roles=[role])

    def test_allowed_forwards_identity_not_token(self):
        r = self.via_nginx("/orders/42", self.k["key"], self.k["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.data["key"], self.k["key"])
        self.assertEqual(r.data["account"], self.A)
        self.assertFalse(r.data["token"])
        r = self.via_nginx("/orders/42", self.k["key"], self.k["token"], basic=True)
        self.assertEqual(r.status, 200, r)

    def test_denied(self):
        self.assertEqual(self.via_nginx("/orders/1").status, 401)
        self.assertEqual(self.via_nginx("/orders/1", self.k["key"], self.k["token"][:-1] + ("y" if self.k["token"].endswith("x") else "x")).status, 401)
        # authenticated, but the key's roles lack invoices.write
        self.assertEqual(self.via_nginx("/invoices/1", self.k["key"], self.k["token"]).status, 403)

    def test_old_token_during_overlap_then_revoked(self):
        old = self.k["token"]
        new = self.renew(self.k["key"], "later")["token"]
        self.assertEqual(self.via_nginx("/orders/1", self.k["key"], old).status, 200)
        self.assertEqual(self.via_nginx("/orders/1", self.k["key"], new).status, 200)
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", self.k["key"], "old-token")), 200)
        self.assertEqual(self.via_nginx("/orders/1", self.k["key"], old).status, 401)
        self.patch_key(self.k["key"], {"status": "inactive"})
        self.assertEqual(self.via_nginx("/orders/1", self.k["key"], new).status, 401)

    def test_failed_credentials_limited_per_integration_address(self):
        wrong = make_token()
        got = [self.via_nginx("/orders/1", self.k["key"], wrong, source="127.0.0.2").status for _ in range(6)]
        self.assertEqual(got, [401] * 5 + [429])
        r = self.via_nginx("/orders/1", self.k["key"], wrong, source="127.0.0.2")
        self.assertEqual(r.status, 429)
        self.assertTrue(1 <= int(r.headers["Retry-After"]) <= 120, r.headers)
        # its valid token still passes; another integration's wrong token is still a 401
        self.assertEqual(self.via_nginx("/orders/1", self.k["key"], self.k["token"], source="127.0.0.2").status, 200)
        self.assertEqual(self.via_nginx("/orders/1", self.k["key"], wrong, source="127.0.0.3").status, 401)


    def test_resource_from_the_map(self):
        # /orders/ names orders.read itself: the map's "nothing.here" for /orders/** is not used
        self.assertEqual(self.via_nginx("/orders/1", self.k["key"], self.k["token"]).status, 200)
        r = self.via_nginx("/api/orders/7?x=1", self.k["key"], self.k["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.data["key"], r.data["path"]), (self.k["key"], "/api/orders/7?x=1"))
        self.assertFalse(r.data["token"])
        self.assertEqual(self.via_nginx("/api/orders", self.k["key"], self.k["token"], method="POST").status, 403)
        writer = self.create_key(roles=[self.create_role(["orders.read", "orders.write"])])
        self.assertEqual(self.via_nginx("/api/orders", writer["key"], writer["token"], method="POST").status, 200)
        self.assertEqual(self.via_nginx("/api/invoices/1", writer["key"], writer["token"]).status, 403)  # no rule
        for path in ("/api/orders/../invoices/1", "/api/orders/%2e%2e/invoices/1", "/api/orders/..;/invoices"):
            with self.subTest(path=path):
                self.assertIn(self.via_nginx(path, writer["key"], writer["token"]).status, (400, 403, 404))
        self.assertEqual(self.via_nginx("/api/orders/1").status, 401)


if __name__ == "__main__":
    unittest.main()

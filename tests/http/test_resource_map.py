"""serve --resource-map (issue 18): verify takes the resource from the request a
gateway forwards (X-Forwarded-Method/-Uri from Caddy and Traefik, X-Original-Method/-URI
from nginx), first match wins, an unmapped path is 403 forbidden once the credential is
good, an explicit resource= wins, traversal and encoding tricks cannot reach another
rule, SIGHUP reloads the file (a bad file keeps the old map and logs why), and a bad
file at start exits non-zero naming the line."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import API, BIN, KeystileCase, Server, wait_until

MAP = """# the orders API of the examples
GET    /orders             orders.read
GET    /orders/*           orders.read
POST   /orders             orders.write
*      /orders/*/items/**  orders.write
*      /admin/**           admin.all
GET    /public/**          public.read
"""


def fwd(method, uri, style="caddy"):
    if style == "nginx":
        return {"X-Original-Method": method, "X-Original-URI": uri}
    # Caddy forward_auth and Traefik ForwardAuth send the same pair (Traefik also
    # X-Forwarded-Proto/-Host/-For, which verify ignores).
    h = {"X-Forwarded-Method": method, "X-Forwarded-Uri": uri}
    if style == "traefik":
        h.update({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com",
                  "X-Forwarded-For": "203.0.113.7"})
    return h


class TestResourceMap(KeystileCase):
    @classmethod
    def setUpClass(cls):
        cls.map_dir = tempfile.mkdtemp(prefix="keystile-map-")
        cls.map_path = os.path.join(cls.map_dir, "resources.map")
        with open(cls.map_path, "w") as f:
            f.write(MAP)
        cls.server = Server(accounts=cls.ACCOUNTS, extra_args=("--resource-map", cls.map_path))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.map_dir, ignore_errors=True)

    def setUp(self):
        if not hasattr(type(self), "reader"):
            type(self).reader = self.cred_with(["orders.read"])
            type(self).writer = self.cred_with(["orders.read", "orders.write"])

    def check(self, cred, method, uri, status, style="caddy", resource=None):
        r = self.verify(*cred, resource=resource, headers=fwd(method, uri, style))
        if status == 200:
            self.assertVerifyOK(r, cred[0])
        else:
            self.assertVerifyFail(r, status, "forbidden")
        return r

    def test_mapped_resources(self):
        for style in ("caddy", "traefik", "nginx"):
            with self.subTest(style=style):
                self.check(self.reader, "GET", "/orders", 200, style)
                self.check(self.reader, "GET", "/orders/42?expand=items", 200, style)
                self.check(self.reader, "POST", "/orders", 403, style)
                self.check(self.writer, "POST", "/orders", 200, style)
                self.check(self.writer, "DELETE", "/orders/42/items/7", 200, style)
                self.check(self.reader, "DELETE", "/orders/42/items/7", 403, style)
                self.check(self.writer, "GET", "/admin/users", 403, style)
                self.check(self.writer, "PUT", "/orders/42", 403, style)  # no rule: 403

    def test_traversal_and_encoding_tricks(self):
        for uri in ("/orders/../admin/users", "/orders/%2e%2e/admin/users", "/orders/%2E%2e/admin",
                    "/orders/..;/admin", "/orders/1/../../admin", "/orders%2F1", "/orders/1%2F..%2F..%2Fadmin",
                    "/orders/a%5C..%5Cadmin", "/orders/%00", "/../orders", "/orders/%zz", "//admin//x",
                    "/admin/../admin/x", "orders/1", "http://evil/orders/1"):
            with self.subTest(uri=uri):
                self.check(self.reader, "GET", uri, 403)
        # normalised forms that stay inside the orders rules
        for uri in ("/orders/./7", "//orders//7/", "/orders/x/../7", "/%6Frders/7"):
            with self.subTest(uri=uri):
                self.check(self.reader, "GET", uri, 200)

    def test_explicit_resource_wins(self):
        # the map would say orders.write for POST /orders; resource= says orders.read
        self.check(self.reader, "POST", "/orders", 200, resource="orders.read")
        self.check(self.reader, "GET", "/orders", 403, resource="orders.write")
        self.check(self.reader, "GET", "/unmapped", 200, resource="orders.read")

    def test_without_forwarded_headers_no_resource_is_needed(self):
        self.assertVerifyOK(self.verify(*self.reader), self.reader[0])
        # half a pair is no forwarded request
        r = self.verify(*self.reader, headers={"X-Forwarded-Method": "POST"})
        self.assertVerifyOK(r, self.reader[0])

    def test_credentials_are_checked_before_the_map(self):
        key, token = self.reader
        r = self.verify(key, token[:-1] + ("A" if token[-1] != "A" else "B"), headers=fwd("GET", "/nope"))
        self.assertEqual(r.status, 401, r)
        r = self.verify(headers=fwd("GET", "/orders"))
        self.assertVerifyFail(r, 401, "missing_credentials")

    def test_login_token_uses_the_map_too(self):
        r = self.server.request("POST", API + "/login", key=self.reader[0], token=self.reader[1])
        self.assertStatus(r, 200)
        bearer = {"Authorization": "Bearer " + r.data["token"]}
        r = self.verify(headers=dict(bearer, **fwd("GET", "/orders/1")))
        self.assertVerifyOK(r, self.reader[0])
        r = self.verify(headers=dict(bearer, **fwd("POST", "/orders")))
        self.assertVerifyFail(r, 403, "forbidden")

    def test_sighup_reloads_and_a_bad_file_keeps_the_old_map(self):
        public = self.cred_with(["public.read", "orders.read"])
        self.check(public, "GET", "/public/logo.png", 200)
        self.check(public, "GET", "/catalog/1", 403)
        try:
            with open(self.map_path, "w") as f:
                f.write(MAP + "GET /catalog/* public.read\n")
            self.server.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_until(lambda: self.verify(*public, headers=fwd("GET", "/catalog/1")).status == 200),
                            "the new rule never applied")
            with open(self.map_path, "w") as f:
                f.write("GET /orders orders.read\nGET /x/**/y bad\n")
            self.server.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_until(lambda: "resource map not reloaded" in self.server.log_tail()),
                            self.server.log_tail())
            self.assertIn("line 2", self.server.log_tail())
            self.check(public, "GET", "/catalog/1", 200)  # the previous map is still in use
            self.check(public, "GET", "/public/a", 200)
            self.assertEqual(self.server.proc.poll(), None, "SIGHUP must not stop the server")
        finally:
            with open(self.map_path, "w") as f:
                f.write(MAP)
            self.server.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: self.verify(*public, headers=fwd("GET", "/catalog/1")).status == 403)


class TestResourceMapAtStart(KeystileCase):
    """No server of its own: runs `keystile serve` with bad maps."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="keystile-map-start-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def serve(self, text):
        path = os.path.join(self.dir, "m%d.map" % time.monotonic_ns())
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        p = subprocess.run([BIN, "serve", "--db", os.path.join(self.dir, "k.db"), "--listen", "127.0.0.1:1",
                            "--resource-map", path], capture_output=True, timeout=30)
        return p.returncode, p.stderr.decode("utf-8", "replace"), path

    def test_bad_file_at_start_exits_naming_the_line(self):
        rc, err, path = self.serve("# ok\nGET /a a.read\nGET /b\n")
        self.assertNotEqual(rc, 0)
        self.assertIn(path, err)
        self.assertIn("line 3", err)
        rc, err, _ = self.serve("GET /a a.read\nget /b b.read\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("line 2", err)
        self.assertIn("method", err)

    def test_missing_file_at_start(self):
        rc, err, path = self.serve(None)
        self.assertNotEqual(rc, 0)
        self.assertIn(path, err)

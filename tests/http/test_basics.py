"""Health, routing (404/405), error envelope, request body rules (400/413/415),
credential transports (headers and HTTP Basic)."""
import http.client
import json
import unittest

from harness import API, KeystileCase, acct, make_token, uid


class TestHealthAndRouting(KeystileCase):

    def test_healthz(self):
        r = self.call("GET", "/healthz", cred=None)
        self.assertStatus(r, 200)
        self.assertEqual(r.data, {"status": "ok", "nodes": 1})  # one node: SQLite
        self.assertIn("application/json", r.headers.get("Content-Type", ""))

    def test_healthz_ignores_credentials(self):
        r = self.call("GET", "/healthz", cred=("kst-acme-aaaaaaaaaa", make_token()))
        self.assertStatus(r, 200)
        self.assertEqual(r.data["status"], "ok")
        self.assertEqual(set(r.data), {"status", "nodes"})

    def test_unknown_route_404(self):
        for path in ("/nope", API + "/nope", API + "/accounts/acme/nope",
                     API + "/accounts/acme/keys/kst-acme-aaaaaaaaaa/nope"):
            r = self.call("GET", path)
            self.assertError(r, 404, "not_found")

    def test_unknown_route_404_without_credentials(self):
        r = self.call("GET", API + "/does-not-exist", cred=None)
        self.assertEqual(r.status, 404, r)

    def test_wrong_method_405(self):
        k = self.create_key()["key"]
        cases = [
            ("DELETE", "/healthz"),
            ("PUT", acct(self.A, "keys")),
            ("DELETE", acct(self.A, "keys")),
            ("PUT", acct(self.A, "keys", k)),
            ("POST", acct(self.A, "keys", k)),
            ("GET", acct(self.A, "keys", k, "renew")),
            ("GET", acct(self.A, "keys", k, "old-token")),
            ("POST", acct(self.A, "keys", k, "old-token")),
            ("GET", acct(self.A, "keys", k, "undo-renewal")),
            ("POST", acct(self.A, "settings")),
            ("DELETE", acct(self.A, "settings")),
            ("PUT", acct(self.A, "roles")),
            ("POST", acct(self.A, "audit")),
            ("DELETE", API + "/verify"),
            ("PUT", API + "/verify"),
        ]
        for method, path in cases:
            with self.subTest(method=method, path=path):
                r = self.call(method, path)
                self.assertError(r, 405, "method_not_allowed")
                self.assertTrue(r.headers.get("Allow"),
                                "405 without an Allow header: %r" % (r,))

    def test_head_or_options_not_500(self):
        r = self.call("OPTIONS", acct(self.A, "keys"))
        self.assertLess(r.status, 500, r)


class TestRequestBodies(KeystileCase):

    def keys_path(self):
        return acct(self.A, "keys")

    def test_json_without_content_type_accepted(self):
        r = self.call("POST", self.keys_path(),
                      raw=json.dumps({"name": uid()}).encode(), content_type=None)
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])

    def test_json_with_charset_accepted(self):
        r = self.call("POST", self.keys_path(), {"name": uid()},
                      content_type="application/json; charset=utf-8")
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])

    def test_other_content_type_415(self):
        for ct in ("text/plain", "application/x-www-form-urlencoded",
                   "multipart/form-data; boundary=x", "application/xml"):
            with self.subTest(ct=ct):
                r = self.call("POST", self.keys_path(),
                              raw=json.dumps({"name": uid()}).encode(), content_type=ct)
                self.assertError(r, 415, "unsupported_media_type")
        # nothing was created by those
        r = self.call("PUT", acct(self.A, "settings"),
                      raw=b'{"enforce_duration":false}', content_type="text/plain")
        self.assertError(r, 415, "unsupported_media_type")

    def test_body_over_64k_413(self):
        name = "x" * 70000
        r = self.call("POST", self.keys_path(), {"name": name})
        self.assertError(r, 413, "payload_too_large")

    def test_body_of_65537_bytes_413(self):
        head = b'{"name":"big"'
        raw = head + b" " * (65537 - len(head) - 1) + b"}"
        self.assertEqual(len(raw), 65537)
        r = self.call("POST", self.keys_path(), raw=raw,
                      content_type="application/json")
        self.assertError(r, 413, "payload_too_large")

    def test_body_of_exactly_64k_accepted(self):
        head = ('{"name":"%s"' % uid()).encode()
        raw = head + b" " * (65536 - len(head) - 1) + b"}"
        self.assertEqual(len(raw), 65536)
        r = self.call("POST", self.keys_path(), raw=raw,
                      content_type="application/json")
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])

    def test_media_type_is_case_insensitive(self):
        r = self.call("POST", self.keys_path(), {"name": uid()},
                      content_type="Application/JSON; charset=UTF-8")
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])

    def test_similar_media_types_415(self):
        for ct in ("application/json-patch+json", "application/jsonx", "text/json"):
            with self.subTest(ct=ct):
                r = self.call("POST", self.keys_path(), {"name": uid()}, content_type=ct)
                self.assertError(r, 415, "unsupported_media_type")

    def test_other_content_type_without_body_is_fine(self):
        k = self.create_key()
        r = self.call("POST", acct(self.A, "keys", k["key"], "renew"), raw=b"",
                      content_type="text/plain")
        self.assertStatus(r, 200)
        self.server.issued_tokens.append(r.data["token"])

    def test_chunked_body_over_64k_413(self):
        k, t = self.server.owner()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            head = b'{"name":"' + b"x" * 70000 + b'"}'
            conn.putrequest("POST", self.keys_path())
            conn.putheader("X-API-Key", k)
            conn.putheader("X-API-Token", t)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            try:
                for i in range(0, len(head), 8192):
                    chunk = head[i:i + 8192]
                    conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            resp = conn.getresponse()
            body = json.loads(resp.read() or b"null")
        finally:
            conn.close()
        self.assertEqual(resp.status, 413, body)
        self.assertEqual(body["error"]["code"], "payload_too_large")

    def test_chunked_small_body_accepted(self):
        k, t = self.server.owner()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            payload = json.dumps({"name": uid("chunked ")}).encode()
            conn.putrequest("POST", self.keys_path())
            conn.putheader("X-API-Key", k)
            conn.putheader("X-API-Token", t)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            conn.send(b"%x\r\n" % len(payload) + payload + b"\r\n0\r\n\r\n")
            resp = conn.getresponse()
            body = json.loads(resp.read())
        finally:
            conn.close()
        self.assertEqual(resp.status, 201, body)
        self.server.issued_tokens.append(body["token"])

    def test_malformed_json_400(self):
        for raw in (b"{", b'{"name":', b"not json", b'{"name":"a",}', b"\xff\xfe"):
            with self.subTest(raw=raw):
                r = self.call("POST", self.keys_path(), raw=raw,
                              content_type="application/json")
                self.assertError(r, 400, "invalid_request")

    def test_non_object_json_400(self):
        for body in ([], ["name"], "name", 5, None, True):
            with self.subTest(body=body):
                r = self.call("POST", self.keys_path(), raw=json.dumps(body).encode(),
                              content_type="application/json")
                self.assertError(r, 400, "invalid_request")

    def test_put_settings_non_object_400(self):
        r = self.call("PUT", acct(self.A, "settings"), raw=b"[3]",
                      content_type="application/json")
        self.assertError(r, 400, "invalid_request")

    def test_unknown_field_400(self):
        r = self.call("POST", self.keys_path(), {"name": uid(), "colour": "red"})
        self.assertError(r, 400, "invalid_request", field="colour")


class TestConnections(KeystileCase):

    def test_keep_alive(self):
        created = self.create_key()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            for i in range(50):
                conn.request("GET", API + "/verify",
                             headers={"X-API-Key": created["key"],
                                      "X-API-Token": created["token"]})
                resp = conn.getresponse()
                body = json.loads(resp.read())
                self.assertEqual(resp.status, 200, body)
                self.assertNotEqual((resp.getheader("Connection") or "").lower(),
                                    "close", "request %d closed the connection" % i)
            # management calls on the same connection too
            k, t = self.server.owner()
            conn.request("GET", acct(self.A, "keys", created["key"]),
                         headers={"X-API-Key": k, "X-API-Token": t})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        finally:
            conn.close()

    def test_long_url_refused_not_500(self):
        r = self.call("GET", acct(self.A, "keys") + "?q=" + "a" * 9000)
        self.assertIn(r.status, (400, 414), r)


class TestCredentialTransports(KeystileCase):

    def test_basic_auth_for_management(self):
        k, t = self.server.owner()
        r = self.server.request("GET", acct(self.A, "keys"), key=k, token=t, basic=True)
        self.assertStatus(r, 200)
        self.assertIn("items", r.data)

    def test_basic_auth_wrong_token_401(self):
        k, _ = self.server.owner()
        r = self.server.request("GET", acct(self.A, "keys"), key=k, token=make_token(),
                                basic=True)
        self.assertError(r, 401, "unauthenticated")

    def test_basic_auth_for_verify(self):
        created = self.create_key()
        r = self.verify(created["key"], created["token"], basic=True)
        self.assertVerifyOK(r, created["key"])
        r = self.verify(created["key"], created["token"], basic=True, method="POST")
        self.assertVerifyOK(r, created["key"])

    def test_basic_auth_wrong_token_verify(self):
        created = self.create_key()
        r = self.verify(created["key"], make_token(), basic=True)
        self.assertVerifyFail(r, 401, "invalid_token")

    def test_headers_for_management(self):
        k, t = self.server.owner()
        r = self.server.request("GET", acct(self.A, "settings"), key=k, token=t)
        self.assertStatus(r, 200)

    def test_create_via_basic(self):
        k, t = self.server.owner()
        r = self.server.request("POST", acct(self.A, "keys"), body={"name": uid()},
                                key=k, token=t, basic=True)
        self.assertStatus(r, 201)
        self.server.issued_tokens.append(r.data["token"])


if __name__ == "__main__":
    unittest.main()

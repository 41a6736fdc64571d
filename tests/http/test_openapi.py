"""The OpenAPI document (docs/openapi.json): served at GET /openapi.json, in step
with the route table of src/http/router.c, and true to the handlers (paths answer,
request bodies list exactly the accepted fields, query ranges hold, responses match
their schemas)."""
import json
import os
import re
import time
import unittest
import urllib.parse

from test_people import PASSWORD as PERSON_PASSWORD, totp_code  # noqa: E402
from harness import API, RFC3339_RE, ROOT, KeystileCase, q, uid

DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")
ROUTER_C = os.path.join(ROOT, "src", "http", "router.c")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
UNKNOWN_FIELD = "zz_not_a_field"
NO_SUCH_ENDPOINT = "No such endpoint."


def load_doc():
    with open(DOC_PATH, encoding="utf-8") as f:
        return json.load(f)


def router_routes():
    """{(METHOD, pattern)} from the ROUTES table of router.c, HEAD left out."""
    with open(ROUTER_C, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"\bROUTES\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\};", text, re.S)
    if not m:
        raise AssertionError("no ROUTES[] table found in %s" % ROUTER_C)
    rows = re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*[A-Za-z_]\w*\s*,', m.group(1))
    if not rows:
        raise AssertionError("the ROUTES[] table of %s has no rows" % ROUTER_C)
    return {(meth, pat) for meth, pat in rows if meth != "HEAD"}


def path_to_pattern(path):
    """/api/v1/accounts/{account}/keys -> /api/v1/accounts/*/keys"""
    return "/".join("*" if re.fullmatch(r"\{[^/{}]+\}", s) else s for s in path.split("/"))


def operations(doc):
    """[(path, METHOD, operation)] of every documented operation."""
    out = []
    for path, item in doc["paths"].items():
        for meth in HTTP_METHODS:
            if meth in item:
                out.append((path, meth.upper(), item[meth]))
    return out


def pointer(doc, ref):
    """Resolves a local JSON pointer ('#/a/b'); KeyError/IndexError if it does not."""
    if not ref.startswith("#"):
        raise KeyError("not a local reference: %s" % ref)
    node = doc
    for part in ref[1:].split("/")[1:]:
        part = urllib.parse.unquote(part).replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def deref(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        node = pointer(doc, node["$ref"])
        seen += 1
        if seen > 50:
            raise AssertionError("reference loop")
    return node


def media_type(content_type):
    return (content_type or "").split(";")[0].strip().lower()


# ---------------------------------------------------------------- a small JSON Schema check
# Enough of JSON Schema 2020-12 for this document: $ref, allOf/anyOf/oneOf, type, const,
# enum, properties/required/additionalProperties/minProperties, items/minItems/maxItems,
# minLength/maxLength/pattern, format date-time, minimum/maximum.

def _same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _type_ok(t, v):
    return {
        "null": v is None,
        "boolean": isinstance(v, bool),
        "integer": isinstance(v, int) and not isinstance(v, bool),
        "number": isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": isinstance(v, str),
        "array": isinstance(v, list),
        "object": isinstance(v, dict),
    }.get(t, False)


def schema_errors(doc, schema, value, where="$"):
    errs = []
    _check(doc, schema, value, where, errs)
    return errs


def _check(doc, s, v, where, errs):
    if s is True or s == {}:
        return
    if s is False:
        errs.append("%s: no value allowed" % where)
        return
    if "$ref" in s:
        _check(doc, pointer(doc, s["$ref"]), v, where, errs)
    for sub in s.get("allOf", []):
        _check(doc, sub, v, where, errs)
    if "anyOf" in s and not any(not schema_errors(doc, sub, v, where) for sub in s["anyOf"]):
        errs.append("%s: matches none of anyOf" % where)
    if "oneOf" in s:
        n = sum(1 for sub in s["oneOf"] if not schema_errors(doc, sub, v, where))
        if n != 1:
            errs.append("%s: matches %d of oneOf" % (where, n))
    if "const" in s and not _same(v, s["const"]):
        errs.append("%s: %r is not %r" % (where, v, s["const"]))
    if "enum" in s and not any(_same(v, e) for e in s["enum"]):
        errs.append("%s: %r not in %r" % (where, v, s["enum"]))
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(_type_ok(t, v) for t in types):
            errs.append("%s: %r is not of type %s" % (where, v, "/".join(types)))
            return
    if isinstance(v, dict):
        props = s.get("properties", {})
        for name in s.get("required", []):
            if name not in v:
                errs.append("%s: missing required %r" % (where, name))
        for name, val in v.items():
            if name in props:
                _check(doc, props[name], val, "%s.%s" % (where, name), errs)
            elif s.get("additionalProperties") is False:
                errs.append("%s: unexpected property %r" % (where, name))
        if len(v) < s.get("minProperties", 0):
            errs.append("%s: fewer than %d properties" % (where, s["minProperties"]))
    if isinstance(v, list):
        if "items" in s:
            for i, item in enumerate(v):
                _check(doc, s["items"], item, "%s[%d]" % (where, i), errs)
        if len(v) < s.get("minItems", 0) or len(v) > s.get("maxItems", len(v)):
            errs.append("%s: %d items out of range" % (where, len(v)))
    if isinstance(v, str):
        if len(v) < s.get("minLength", 0) or len(v) > s.get("maxLength", len(v)):
            errs.append("%s: length %d out of range" % (where, len(v)))
        if "pattern" in s and not re.search(s["pattern"], v):
            errs.append("%s: %r does not match %s" % (where, v, s["pattern"]))
        if s.get("format") == "date-time" and not RFC3339_RE.match(v):
            errs.append("%s: %r is not an RFC 3339 UTC time" % (where, v))
    if _type_ok("number", v):
        if "minimum" in s and v < s["minimum"]:
            errs.append("%s: %r below %r" % (where, v, s["minimum"]))
        if "maximum" in s and v > s["maximum"]:
            errs.append("%s: %r above %r" % (where, v, s["maximum"]))


# ---------------------------------------------------------------- structure (no server)


class TestOpenAPIDocument(unittest.TestCase):
    """Checks of docs/openapi.json against itself and against router.c."""

    @classmethod
    def setUpClass(cls):
        cls.doc = load_doc()

    def test_shape(self):
        d = self.doc
        self.assertTrue(str(d.get("openapi", "")).startswith("3.1"), d.get("openapi"))
        self.assertEqual(d["info"]["title"], "Keystile")
        self.assertTrue(d["info"].get("version"))
        self.assertTrue(d["info"].get("description"))
        self.assertIn("http://127.0.0.1:8080", [s["url"] for s in d["servers"]])
        schemes = d["components"]["securitySchemes"]
        headers = {(s["type"], s.get("in"), s.get("name")) for s in schemes.values()}
        for h in [("apiKey", "header", "X-API-Key"), ("apiKey", "header", "X-API-Token"),
                  ("apiKey", "header", "X-CSRF-Token"), ("apiKey", "cookie", "keystile_session")]:
            self.assertIn(h, headers)
        http = {s.get("scheme") for s in schemes.values() if s["type"] == "http"}
        self.assertLessEqual({"basic", "bearer"}, http)
        for name in ["Error", "Key", "Token", "ExternalKey", "KeyWithToken", "KeyList", "Role",
                     "Settings", "AuditEntry", "VerifyOK", "VerifyFail", "Session"]:
            self.assertIn(name, d["components"]["schemas"])

    def test_every_route_documented_and_every_documented_route_exists(self):
        server = router_routes() | {("GET", "/openapi.json")}
        documented = {(meth, path_to_pattern(path)) for path, meth, _ in operations(self.doc)
                      if meth != "HEAD"}
        self.assertEqual(sorted(server - documented), [],
                         "routes of router.c missing from docs/openapi.json")
        self.assertEqual(sorted(documented - server), [],
                         "documented operations that router.c does not have")

    def test_refs_resolve(self):
        bad = []

        def walk(node, where):
            if isinstance(node, dict):
                r = node.get("$ref")
                if isinstance(r, str):
                    try:
                        pointer(self.doc, r)
                    except (KeyError, IndexError, ValueError, TypeError):
                        bad.append("%s -> %s" % (where, r))
                for k, v in node.items():
                    walk(v, where + "/" + k)
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, "%s/%d" % (where, i))

        walk(self.doc, "#")
        self.assertEqual(bad, [], "unresolved $ref")

    def test_operations_are_well_formed(self):
        ids = []
        schemes = self.doc["components"]["securitySchemes"]
        for path, meth, op in operations(self.doc):
            with self.subTest(op="%s %s" % (meth, path)):
                ids.append(op.get("operationId"))
                self.assertTrue(op.get("responses"))
                item = self.doc["paths"][path]
                params = [deref(self.doc, p) for p in item.get("parameters", []) + op.get("parameters", [])]
                in_path = {p["name"] for p in params if p["in"] == "path"}
                templated = set(re.findall(r"\{([^/{}]+)\}", path))
                self.assertEqual(in_path, templated, "path parameters vs. the template")
                for p in params:
                    if p["in"] == "path":
                        self.assertIs(p.get("required"), True, p)
                for req in op.get("security", self.doc.get("security", [])):
                    for name in req:
                        self.assertIn(name, schemes)
                if "requestBody" in op:
                    body = deref(self.doc, op["requestBody"])
                    schema = deref(self.doc, body["content"]["application/json"]["schema"])
                    self.assertIs(schema.get("additionalProperties"), False,
                                  "request bodies are closed: the server rejects unknown fields")
                    example = body["content"]["application/json"].get("example")
                    if example is not None:
                        self.assertEqual(schema_errors(self.doc, schema, example), [])
        self.assertEqual(len(ids), len(set(ids)), "operationId not unique")
        self.assertNotIn(None, ids)


# ---------------------------------------------------------------- against the server


class TestOpenAPIServer(KeystileCase):
    ACCOUNTS = ("acme", "partner")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doc = load_doc()

    # --- fixtures

    def partner_key(self):
        return self.create_key(name=uid("partner "), account="partner",
                               cred=self.server.owner("partner"))["key"]

    def fixture(self, collection, path_tail):
        """A fresh value for the path parameter that follows segment `collection`."""
        if collection == "accounts":
            return self.A
        if collection == "keys":
            key = self.create_key(roles=[])["key"]
            if path_tail and path_tail[0] in ("old-token", "undo-renewal"):
                self.renew(key, "later")  # so that an old token exists
            return key
        if collection == "external-keys":
            key = self.partner_key()
            r = self.call("POST", API + "/accounts/%s/external-keys" % q(self.A),
                          {"key": key, "roles": []})
            self.assertStatus(r, 201, "grant a partner key")
            return key
        if collection == "roles":
            return self.create_role(["orders.read"], name=uid("ops/role "))  # encoded space and /
        if collection == "users":  # a fresh member holding nothing
            r = self.call("POST", API + "/accounts/%s/users" % q(self.A), {"email": uid("m") + "@example.com"})
            self.assertStatus(r, 201, "add a person")
            return r.data["email"]
        if collection in ("invite", "invites"):
            r = self.call("POST", API + "/accounts/%s/users" % q(self.A), {"email": uid("i") + "@example.com"})
            self.assertStatus(r, 201, "invite a person")
            return r.data["invite_url"].rsplit("/", 1)[1]
        if collection == "webhooks":
            r = self.call("POST", API + "/accounts/%s/webhooks" % q(self.A),
                          {"url": "http://127.0.0.1:9/hook", "events": ["key.created"]})
            self.assertStatus(r, 201, "create a webhook")
            return r.data["id"]
        if collection == "share":
            url = self.create_key()["share_url"]
            self.assertIsInstance(url, str, "create answered no share_url")
            return urllib.parse.unquote(url.rstrip("/").rsplit("/", 1)[1])
        return None

    def concrete(self, path):
        """(URL, fully_known): the documented path with fresh fixtures filled in."""
        segs = path.split("/")
        out, known = [], True
        for i, s in enumerate(segs):
            if re.fullmatch(r"\{[^/{}]+\}", s):
                v = self.fixture(segs[i - 1], segs[i + 1:])
                if v is None:
                    known, v = False, "x"
                out.append(q(v))
            else:
                out.append(s)
        return "/".join(out), known

    def example_body(self, path, meth, op):
        """A valid body for the operation: its example, made fresh where it must be."""
        if "requestBody" not in op:
            return None
        body = deref(self.doc, op["requestBody"])
        example = body["content"]["application/json"].get("example")
        example = dict(example) if isinstance(example, dict) else {}
        pattern = path_to_pattern(path)
        if meth == "POST" and pattern.endswith("/external-keys"):
            example["key"] = self.partner_key()
        if meth == "POST" and pattern.endswith("/roles"):
            example["name"] = uid("role ")
        if meth == "POST" and pattern.endswith("/users"):
            example["email"] = uid("p") + "@example.com"
        if op.get("x-person-only"):  # a fresh person, in the state the call needs
            sess = self.person_session()
            if pattern == "/api/v1/me/password":
                example = {"current": PERSON_PASSWORD, "new": "another long password"}
            elif pattern == "/api/v1/me/totp/confirm" or (pattern == "/api/v1/me/totp" and meth == "DELETE"):
                r = self.call("POST", API + "/me/totp", cred=None,
                              headers={"Cookie": sess[0], "X-CSRF-Token": sess[1]})
                self.assertStatus(r, 200, "enrol")
                secret = r.data["secret"]
                if meth == "DELETE":  # confirmed with the previous step's code (drift), removed with this one's
                    r = self.call("POST", API + "/me/totp/confirm", {"code": totp_code(secret, time.time() - 30)},
                                  cred=None, headers={"Cookie": sess[0], "X-CSRF-Token": sess[1]})
                    self.assertStatus(r, 204, "confirm")
                example = {"code": totp_code(secret, time.time())}
        return example

    def person_session(self):
        """A fresh person's (cookie, csrf); the next credentials() call of a
        person-only operation uses it."""
        r = self.call("POST", API + "/accounts/%s/users" % q(self.A), {"email": uid("me") + "@example.com"})
        self.assertStatus(r, 201, "invite")
        inv = r.data["invite_url"].rsplit("/", 1)[1]
        self.assertStatus(self.call("POST", API + "/invites/%s/accept" % inv, {"password": PERSON_PASSWORD},
                                    cred=None), 200, "accept")
        s = self.call("POST", API + "/session", {"email": r.data["email"], "password": PERSON_PASSWORD}, cred=None)
        self.assertStatus(s, 201, "person sign-in")
        self._person = (s.headers["Set-Cookie"].split(";")[0], s.data["csrf"])
        return self._person

    def sign_in(self):
        r = self.call("POST", API + "/session")
        self.assertStatus(r, 201, "sign in")
        return r.headers["Set-Cookie"].split(";")[0], r.data["csrf"]

    def security_options(self, op):
        """The operation's security requirements as sets of credential kinds:
        "basic", "bearer", or (in, lower-case name) for apiKey schemes."""
        schemes = self.doc["components"]["securitySchemes"]
        options = []
        for req in op.get("security", self.doc.get("security", [])):
            kinds = set()
            for name in req:
                s = schemes[name]
                if s["type"] == "http":
                    kinds.add(s["scheme"].lower())
                else:
                    kinds.add((s["in"], s["name"].lower()))
            options.append(kinds)
        return options

    def login_token(self):
        """A login token for the Owner key, from the documented login operation."""
        for path, meth, op in operations(self.doc):
            ok = op["responses"].get("200")
            schema = deref(self.doc, ok).get("content", {}).get("application/json", {}).get("schema") if ok else None
            if schema == {"$ref": "#/components/schemas/LoginToken"}:
                r = self.call(meth, path)
                self.assertStatus(r, 200, "login")
                return r.data["token"]
        self.fail("no documented operation answers a LoginToken")

    def credentials(self, op):
        """(cred, headers) satisfying the operation's documented security."""
        options = self.security_options(op)
        if not options or any(len(k) == 0 for k in options):
            return None, {}
        if op.get("x-person-only"):  # a person's session: the one example_body made, else a fresh one
            cookie, csrf = getattr(self, "_person", None) or self.person_session()
            self._person = None
            return None, {"Cookie": cookie, "X-CSRF-Token": csrf}
        if {("header", "x-api-key"), ("header", "x-api-token")} in options:
            return self.server.owner(), {}
        for k in options:
            if ("cookie", "keystile_session") in k:
                cookie, csrf = self.sign_in()
                headers = {"Cookie": cookie}
                if ("header", "x-csrf-token") in k:
                    headers["X-CSRF-Token"] = csrf
                return None, headers
        return self.server.owner(), {}

    def invoke(self, path, meth, op, url=None, body=None, query=None, cred="doc", headers=None):
        """Calls the operation (with credentials its security accepts unless cred or
        headers are given); returns the response."""
        if cred == "doc" and headers is None:
            cred, headers = self.credentials(op)
        elif cred == "doc":
            cred = None
        if url is None:
            url, _ = self.concrete(path)
        if query:
            url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        return self.call(meth, url, body, cred=cred, headers=headers)

    def assertDocumented(self, r, path, meth, op):
        """The response's status, media type and body are as documented."""
        self.assertNotEqual(r.status, 405, "%s %s: %r" % (meth, path, r))
        if r.status == 404 and isinstance(r.data, dict):
            self.assertNotEqual(r.data.get("error", {}).get("message"), NO_SUCH_ENDPOINT,
                                "%s %s is documented but the server has no such endpoint" % (meth, path))
        responses = op["responses"]
        spec = responses.get(str(r.status), responses.get("default"))
        self.assertIsNotNone(spec, "%s %s answered %d, not documented: %r" % (meth, path, r.status, r))
        spec = deref(self.doc, spec)
        content = spec.get("content")
        if not content:
            self.assertFalse(r.raw, "%s %s %d: documented without a body" % (meth, path, r.status))
            return
        mt = media_type(r.headers.get("Content-Type"))
        self.assertIn(mt, [media_type(k) for k in content],
                      "%s %s %d: undocumented Content-Type" % (meth, path, r.status))
        if mt == "application/json":
            schema = [v for k, v in content.items() if media_type(k) == mt][0].get("schema")
            if schema is not None:
                errs = schema_errors(self.doc, schema, r.data)
                self.assertEqual(errs, [], "%s %s %d: body does not match the schema: %r"
                                 % (meth, path, r.status, r))

    @staticmethod
    def success_status(op):
        ok = [int(c) for c in op["responses"] if c.isdigit() and 200 <= int(c) < 300]
        return ok[0] if len(ok) == 1 else None

    # --- tests

    def test_served_document(self):
        r = self.server.request("GET", "/openapi.json")
        self.assertStatus(r, 200)
        self.assertEqual(media_type(r.headers.get("Content-Type")), "application/json")
        doc = json.loads(r.raw.decode("utf-8"))
        self.assertTrue(str(doc.get("openapi", "")).startswith("3.1"), doc.get("openapi"))
        self.assertEqual(doc, self.doc, "the binary embeds another docs/openapi.json: rebuild")
        self.assertStatus(self.server.request("HEAD", "/openapi.json"), 200)

    def test_every_documented_operation_answers_as_documented(self):
        for path, meth, op in operations(self.doc):
            with self.subTest(op="%s %s" % (meth, path)):
                url, known = self.concrete(path)
                r = self.invoke(path, meth, op, url=url, body=self.example_body(path, meth, op))
                self.assertDocumented(r, path, meth, op)
                want = self.success_status(op)
                if known and want is not None and not op.get("x-keystile-requires"):  # not started with it
                    self.assertEqual(r.status, want, "%s %s: %r" % (meth, path, r))

    def test_documented_security_is_enforced(self):
        for path, meth, op in operations(self.doc):
            reqs = op.get("security", self.doc.get("security", []))
            with self.subTest(op="%s %s" % (meth, path)):
                url, _ = self.concrete(path)
                r = self.invoke(path, meth, op, url=url, body=self.example_body(path, meth, op),
                                cred=None)
                if op.get("x-keystile-requires"):  # a feature this server was started without
                    self.assertEqual(r.status, 404, "%r" % (r,))
                elif not reqs or any(len(x) == 0 for x in reqs):
                    self.assertLess(r.status, 300, "open operation refused: %r" % (r,))
                else:
                    self.assertEqual(r.status, 401, "no credentials: %r" % (r,))
                self.assertDocumented(r, path, meth, op)

    def test_bearer_login_token_where_documented(self):
        bearer = {"Authorization": "Bearer " + self.login_token()}
        checked = 0
        for path, meth, op in operations(self.doc):
            options = self.security_options(op)
            if not options or any(len(k) == 0 for k in options):
                continue
            with self.subTest(op="%s %s" % (meth, path)):
                url, known = self.concrete(path)
                r = self.invoke(path, meth, op, url=url, body=self.example_body(path, meth, op),
                                headers=bearer)
                self.assertDocumented(r, path, meth, op)
                if {"bearer"} in options:
                    checked += 1
                    if known and self.success_status(op):
                        self.assertEqual(r.status, self.success_status(op), r)
                else:
                    self.assertEqual(r.status, 401, "Bearer is not documented here: %r" % (r,))
        self.assertGreater(checked, 0, "no operation documents the Bearer login token")

    def test_query_parameter_ranges(self):
        for path, meth, op in operations(self.doc):
            item = self.doc["paths"][path]
            params = [deref(self.doc, p) for p in item.get("parameters", []) + op.get("parameters", [])]
            for p in params:
                if p["in"] != "query":
                    continue
                s = deref(self.doc, p.get("schema", {}))
                bad, good = [], []
                if "enum" in s:
                    bad.append("zz-not-a-value")
                    good.extend(str(v).lower() if isinstance(v, bool) else str(v) for v in s["enum"])
                if s.get("type") == "integer":
                    bad.append("twelve")
                    if "minimum" in s:
                        bad.append(str(s["minimum"] - 1))
                        good.append(str(s["minimum"]))
                    if "maximum" in s:
                        bad.append(str(s["maximum"] + 1))
                        good.append(str(s["maximum"]))
                if "maxLength" in s:
                    bad.append("a" * (s["maxLength"] + 1))
                    good.append("a" * s["maxLength"])
                for value in bad:
                    with self.subTest(op="%s %s" % (meth, path), param=p["name"], value=value[:20]):
                        r = self.invoke(path, meth, op, query={p["name"]: value})
                        self.assertError(r, 400, "invalid_request", field=p["name"])
                        self.assertDocumented(r, path, meth, op)
                for value in good:
                    with self.subTest(op="%s %s" % (meth, path), param=p["name"], value=value[:20]):
                        r = self.invoke(path, meth, op, query={p["name"]: value})
                        self.assertEqual(r.status, self.success_status(op), r)
                        self.assertDocumented(r, path, meth, op)

    def test_request_bodies_list_exactly_the_accepted_fields(self):
        checked = 0
        for path, meth, op in operations(self.doc):
            if "requestBody" not in op:
                continue
            checked += 1
            schema = deref(self.doc, deref(self.doc, op["requestBody"])["content"]["application/json"]["schema"])
            props = schema.get("properties", {})
            name = "%s %s" % (meth, path)
            with self.subTest(op=name, field=UNKNOWN_FIELD):
                body = self.example_body(path, meth, op)
                body[UNKNOWN_FIELD] = 1
                r = self.invoke(path, meth, op, body=body)
                self.assertError(r, 400, "invalid_request", field=UNKNOWN_FIELD)
                self.assertDocumented(r, path, meth, op)
            example = self.example_body(path, meth, op)
            for field, fschema in props.items():
                with self.subTest(op=name, field=field):
                    value = example[field] if field in example else self.sample(fschema)
                    r = self.invoke(path, meth, op, body={field: value})
                    msg = r.data.get("error", {}).get("message", "") if isinstance(r.data, dict) else ""
                    self.assertNotIn("unknown field", msg.lower(),
                                     "documented field %r is refused: %r" % (field, r))
                    self.assertDocumented(r, path, meth, op)
            # Fields of other schemas that this body does not document must be unknown
            # to the handler too (catches an accepted field missing from the document).
            url, _ = self.concrete(path)
            # One set of credentials for all of these calls (each must be refused
            # before it acts): a person's session costs two Argon2id hashings.
            cred, headers = self.credentials(op)
            for field in sorted(self.all_property_names() - set(props)):
                with self.subTest(op=name, undocumented=field):
                    r = self.invoke(path, meth, op, url=url, body={field: 1}, cred=cred, headers=headers)
                    self.assertError(r, 400, "invalid_request", field=field)
                    self.assertIn("unknown field", r.data["error"]["message"].lower(),
                                  "%r is accepted but not documented: %r" % (field, r))
            for field in schema.get("required", []):
                with self.subTest(op=name, missing=field):
                    body = self.example_body(path, meth, op)
                    body.pop(field, None)
                    r = self.invoke(path, meth, op, body=body)
                    self.assertError(r, 400, "invalid_request", field=field)
            if schema.get("minProperties", 0) >= 1:
                with self.subTest(op=name, body="{}"):
                    self.assertError(self.invoke(path, meth, op, body={}), 400, "invalid_request")
        self.assertGreater(checked, 0)

    def all_property_names(self):
        names = set()

        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("properties"), dict):
                    names.update(node["properties"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(self.doc["components"])
        walk(self.doc["paths"])
        return names

    def sample(self, schema):
        s = deref(self.doc, schema)
        if "example" in s:
            return s["example"]
        if "enum" in s:
            return s["enum"][0]
        if "default" in s:
            return s["default"]
        return {"string": "x", "integer": 1, "boolean": False, "array": [],
                "object": {}}.get(s.get("type"), "x")


if __name__ == "__main__":
    unittest.main()

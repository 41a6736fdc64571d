"""Keys: create, show, edit (PATCH), delete, list with q/status filters and paging."""
import datetime
import unittest
import urllib.parse

from harness import (KeystileCase, OWNER, USER_ADMIN, acct, add_months, parse_time,
                     token_checksum_ok, uid)


class TestCreateKey(KeystileCase):

    def test_create_returns_key_object_and_token(self):
        before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        name = uid("ERP sync ")
        r = self.call("POST", acct(self.A, "keys"), {"name": name, "roles": [OWNER]})
        after = datetime.datetime.now(datetime.timezone.utc)
        self.assertStatus(r, 201)
        k = r.data
        self.server.issued_tokens.append(k.get("token"))
        self.assertKeyObject(k, with_token=True)
        self.assertToken(k["token"])
        self.assertEqual(k["name"], name)
        self.assertEqual(k["type"], "generated")
        self.assertEqual(k["roles"], [OWNER])
        self.assertEqual(k["status"], "active")
        self.assertIs(k["outdated"], False)
        self.assertEqual(k["renewal_alert"], "none")
        self.assertEqual(len(k["tokens"]), 1)
        t = k["tokens"][0]
        self.assertEqual(t["slot"], "current")
        self.assertIsNone(t["last_used_at"])
        created = parse_time(k["created_at"])
        self.assertLessEqual(before - datetime.timedelta(seconds=2), created)
        self.assertLessEqual(created, after + datetime.timedelta(seconds=2))
        tc = parse_time(t["created_at"])
        self.assertLessEqual(abs((tc - created).total_seconds()), 2)
        self.assertEqual(parse_time(t["expires_at"]), add_months(tc, 3))

    def test_token_format_and_checksum(self):
        seen_keys, seen_tokens = set(), set()
        for _ in range(5):
            k = self.create_key()
            self.assertRegex(k["key"], r"^kst-acme-[a-z2-7]{10}$")
            self.assertRegex(k["token"], r"^kstt_[0-9A-Za-z]{49}$")
            self.assertTrue(token_checksum_ok(k["token"]),
                            "last 6 chars are not the base62 CRC32: %s" % k["token"])
            seen_keys.add(k["key"])
            seen_tokens.add(k["token"])
        self.assertEqual(len(seen_keys), 5)
        self.assertEqual(len(seen_tokens), 5)

    def test_account_create_output(self):
        info = self.server.accounts["acme"]
        self.assertEqual(set(info), {"account", "key", "token"})
        self.assertEqual(info["account"], "acme")
        self.assertRegex(info["key"], r"^kst-acme-[a-z2-7]{10}$")
        self.assertTrue(token_checksum_ok(info["token"]))
        k = self.get_key(info["key"])
        self.assertEqual(k["roles"], [OWNER])

    def test_default_roles_empty(self):
        k = self.create_key(name=uid())
        self.assertEqual(k["roles"], [])

    def test_multiple_roles(self):
        k = self.create_key(roles=[OWNER, USER_ADMIN])
        self.assertEqual(sorted(k["roles"]), sorted([OWNER, USER_ADMIN]))

    def test_names_need_not_be_unique(self):
        name = uid("same ")
        a = self.create_key(name=name)
        b = self.create_key(name=name)
        self.assertNotEqual(a["key"], b["key"])
        self.assertEqual(a["name"], b["name"])

    def test_name_length_in_characters(self):
        for name in ("a", "x" * 100, "\u00e9" * 100, "\u65e5" * 100,
                     "\U0001F511" * 100, "ERP sync \u2013 Zürich"):
            with self.subTest(name=name[:12], length=len(name)):
                k = self.create_key(name=name)
                self.assertEqual(k["name"], name)
                self.assertEqual(self.get_key(k["key"])["name"], name)

    def test_bad_names_400(self):
        for body in ({}, {"name": ""}, {"name": "x" * 101}, {"name": "\u00e9" * 101},
                     {"name": None}, {"name": 5}, {"name": ["a"]}, {"roles": []}):
            with self.subTest(body=str(body)[:40]):
                r = self.call("POST", acct(self.A, "keys"), body)
                self.assertError(r, 400, "invalid_request", field="name")

    def test_bad_roles_400(self):
        for roles in ("Owner", 5, {"a": 1}, [5], [None]):
            with self.subTest(roles=roles):
                r = self.call("POST", acct(self.A, "keys"),
                              {"name": uid(), "roles": roles})
                self.assertError(r, 400, "invalid_request", field="roles")

    def test_unknown_role_400(self):
        r = self.call("POST", acct(self.A, "keys"),
                      {"name": uid(), "roles": [OWNER, "no-such-role-xyz"]})
        self.assertError(r, 400, "invalid_request", field="role")
        # role names are case-sensitive and exact
        r = self.call("POST", acct(self.A, "keys"), {"name": uid(), "roles": ["owner"]})
        self.assertError(r, 400, "invalid_request", field="role")

    def test_control_characters_in_name_400(self):
        # docs/API.md: tab, CR and LF are allowed in key names (exports quote them),
        # other control characters are not
        k = self.create_key()
        for name in ("esc\u001b[31m", "del\u007f", "bell\u0007"):
            with self.subTest(name=name, call="create"):
                r = self.call("POST", acct(self.A, "keys"), {"name": name})
                if r.status == 201:
                    self.server.issued_tokens.append(r.data.get("token"))
                self.assertError(r, 400, "invalid_request", field="name")
            with self.subTest(name=name, call="edit"):
                r = self.call("PATCH", acct(self.A, "keys", k["key"]), {"name": name})
                self.assertError(r, 400, "invalid_request", field="name")
        # U+0000 is valid JSON; refusing it as a parse error is fine
        r = self.call("POST", acct(self.A, "keys"), {"name": "nul\u0000x"})
        self.assertError(r, 400, "invalid_request")

    def test_tab_and_newlines_allowed_in_name(self):
        for name in ("a\nb", "tab\there", "cr\r\nx"):
            k = self.create_key(name=name)
            self.assertEqual(k["name"], name)
            self.assertEqual(self.get_key(k["key"])["name"], name)
            d = self.patch_key(k["key"], {"name": name + "!"})
            self.assertEqual(d["name"], name + "!")

    def test_duplicate_json_field_400(self):
        r = self.call("POST", acct(self.A, "keys"),
                      raw=b'{"name":"a","name":"b"}', content_type="application/json")
        self.assertError(r, 400, "invalid_request", field="name")

    def test_duplicate_roles_ignored(self):
        k = self.create_key(roles=[OWNER, OWNER])
        self.assertEqual(k["roles"], [OWNER])
        d = self.patch_key(k["key"], {"roles": [USER_ADMIN, USER_ADMIN]})
        self.assertEqual(d["roles"], [USER_ADMIN])

    def test_created_key_verifies(self):
        k = self.create_key()
        r = self.verify(k["key"], k["token"])
        self.assertVerifyOK(r, k["key"])


class TestShowEditDelete(KeystileCase):

    def test_show(self):
        k = self.create_key(roles=[USER_ADMIN])
        r = self.call("GET", acct(self.A, "keys", k["key"]))
        self.assertStatus(r, 200)
        self.assertKeyObject(r.data)
        expected = dict(k)
        expected.pop("token")
        expected.pop("share_url", None)
        self.assertEqual(r.data, expected)
        self.assertNotIn(k["token"].encode(), r.raw)

    def test_show_unknown_404(self):
        for key in ("kst-acme-aaaaaaaaaa", "not-a-key", "kst-beta-aaaaaaaaaa"):
            with self.subTest(key=key):
                r = self.call("GET", acct(self.A, "keys", key))
                self.assertError(r, 404, "not_found")

    def test_patch_name(self):
        k = self.create_key()
        new = uid("renamed ")
        d = self.patch_key(k["key"], {"name": new})
        self.assertKeyObject(d)
        self.assertEqual(d["name"], new)
        self.assertEqual(d["key"], k["key"])
        self.assertEqual(self.get_key(k["key"])["name"], new)
        # token untouched
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        self.assertEqual(d["tokens"], k["tokens"])

    def test_patch_roles(self):
        k = self.create_key()
        d = self.patch_key(k["key"], {"roles": [USER_ADMIN]})
        self.assertEqual(d["roles"], [USER_ADMIN])
        v = self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        self.assertEqual(v["roles"], [USER_ADMIN])
        d = self.patch_key(k["key"], {"roles": []})
        self.assertEqual(d["roles"], [])
        self.assertEqual(self.get_key(k["key"])["roles"], [])

    def test_patch_status(self):
        k = self.create_key()
        d = self.patch_key(k["key"], {"status": "inactive"})
        self.assertEqual(d["status"], "inactive")
        self.assertEqual(self.get_key(k["key"])["status"], "inactive")
        d = self.patch_key(k["key"], {"status": "active"})
        self.assertEqual(d["status"], "active")

    def test_patch_all_fields(self):
        k = self.create_key()
        d = self.patch_key(k["key"], {"name": "n2", "roles": [OWNER],
                                      "status": "inactive"})
        self.assertEqual((d["name"], d["roles"], d["status"]),
                         ("n2", [OWNER], "inactive"))

    def test_patch_bad_input_400(self):
        k = self.create_key()
        path = acct(self.A, "keys", k["key"])
        cases = [
            ({}, None),
            ({"name": ""}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"name": 3}, "name"),
            ({"roles": "Owner"}, "roles"),
            ({"roles": ["no-such-role-xyz"]}, "role"),
            ({"status": "disabled"}, "status"),
            ({"status": True}, "status"),
            ({"status": "ACTIVE"}, "status"),
            ({"colour": "red"}, "colour"),
            ({"key": "kst-acme-aaaaaaaaaa"}, "key"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                r = self.call("PATCH", path, body)
                self.assertError(r, 400, "invalid_request", field=field)
        # nothing changed
        d = self.get_key(k["key"])
        self.assertEqual((d["name"], d["roles"], d["status"]),
                         (k["name"], k["roles"], "active"))

    def test_patch_unknown_404(self):
        r = self.call("PATCH", acct(self.A, "keys", "kst-acme-aaaaaaaaaa"), {"name": "x"})
        self.assertError(r, 404, "not_found")

    def test_delete(self):
        k = self.create_key(roles=[USER_ADMIN])
        self.renew(k["key"])  # an old token too
        r = self.call("DELETE", acct(self.A, "keys", k["key"]))
        self.assertStatus(r, 204)
        self.assertFalse(r.raw)
        self.assertError(self.call("GET", acct(self.A, "keys", k["key"])), 404,
                         "not_found")
        self.assertVerifyFail(self.verify(k["key"], k["token"]), 401, "unknown_key")
        self.assertError(self.call("DELETE", acct(self.A, "keys", k["key"])), 404,
                         "not_found")
        items = self.list_all({"q": k["key"]})
        self.assertEqual(items, [])

    def test_delete_unknown_404(self):
        r = self.call("DELETE", acct(self.A, "keys", "kst-acme-aaaaaaaaaa"))
        self.assertError(r, 404, "not_found")


class TestListKeys(KeystileCase):

    def list(self, **params):
        path = acct(self.A, "keys")
        if params:
            path += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        return self.call("GET", path)

    def test_shape(self):
        self.create_key()
        r = self.list()
        self.assertStatus(r, 200)
        self.assertEqual(set(r.data), {"items", "next_cursor"})
        self.assertIsInstance(r.data["items"], list)
        self.assertTrue(r.data["items"])
        for item in r.data["items"]:
            self.assertKeyObject(item)
        self.assertNotIn(b"kstt_", r.raw)

    def test_newest_first(self):
        p = uid("order-")
        made = [self.create_key(name="%s-%d" % (p, i))["key"] for i in range(4)]
        items = self.list_all({"q": p})
        self.assertEqual([i["key"] for i in items], list(reversed(made)))
        times = [parse_time(i["created_at"]) for i in items]
        self.assertEqual(times, sorted(times, reverse=True))

    def test_q_name_case_insensitive(self):
        p = uid("AlphaZulu-")
        k = self.create_key(name="The %s Sync" % p)
        self.create_key(name="unrelated " + uid())
        for qq in (p, p.lower(), p.upper(), "the %s sync" % p.lower()):
            with self.subTest(q=qq):
                items = self.list_all({"q": qq})
                self.assertEqual([i["key"] for i in items], [k["key"]])

    def test_q_key_substring(self):
        k = self.create_key(name="whatever")
        for qq in (k["key"], k["key"][-7:], k["key"][-7:].upper()):
            with self.subTest(q=qq):
                items = self.list_all({"q": qq})
                self.assertIn(k["key"], [i["key"] for i in items])
                for i in items:
                    self.assertTrue(qq.lower() in i["key"].lower()
                                    or qq.lower() in i["name"].lower(), i)

    def test_q_no_match(self):
        r = self.list(q=uid("nomatch-"))
        self.assertStatus(r, 200)
        self.assertEqual(r.data, {"items": [], "next_cursor": None})

    def test_status_filter(self):
        p = uid("st-")
        a = self.create_key(name=p + "-a")["key"]
        b = self.create_key(name=p + "-b")["key"]
        self.patch_key(b, {"status": "inactive"})
        self.assertEqual([i["key"] for i in self.list_all({"q": p, "status": "active"})],
                         [a])
        self.assertEqual([i["key"] for i in self.list_all({"q": p,
                                                            "status": "inactive"})], [b])
        self.assertEqual(len(self.list_all({"q": p})), 2)
        for i in self.list_all({"status": "inactive"}):
            self.assertEqual(i["status"], "inactive")
        for i in self.list_all({"status": "active"}):
            self.assertEqual(i["status"], "active")

    def test_outdated_false_filter_at_offset_zero(self):
        p = uid("od-")
        a = self.create_key(name=p)["key"]
        self.assertEqual([i["key"] for i in self.list_all({"q": p, "outdated": "false"})],
                         [a])
        self.assertEqual(self.list_all({"q": p, "outdated": "true"}), [])

    def test_paging_every_key_once(self):
        p = uid("page-")
        made = [self.create_key(name="%s-%d" % (p, i))["key"] for i in range(7)]
        pages = []
        cursor = None
        for _ in range(10):
            params = {"q": p, "limit": "3"}
            if cursor:
                params["cursor"] = cursor
            r = self.list(**params)
            self.assertStatus(r, 200)
            pages.append([i["key"] for i in r.data["items"]])
            cursor = r.data["next_cursor"]
            if cursor is None:
                break
            self.assertIsInstance(cursor, str)
            self.assertTrue(cursor)
        self.assertEqual([len(pg) for pg in pages], [3, 3, 1])
        flat = [k for pg in pages for k in pg]
        self.assertEqual(flat, list(reversed(made)))

    def test_paging_exact_multiple(self):
        p = uid("pm-")
        made = [self.create_key(name=p)["key"] for _ in range(4)]
        items = self.list_all({"q": p}, limit=2)
        self.assertEqual([i["key"] for i in items], list(reversed(made)))
        items = self.list_all({"q": p}, limit=1)
        self.assertEqual([i["key"] for i in items], list(reversed(made)))
        r = self.list(q=p, limit="4")
        self.assertEqual(len(r.data["items"]), 4)
        if r.data["next_cursor"] is not None:  # allowed; the next page must be empty
            r2 = self.list(q=p, limit="4", cursor=r.data["next_cursor"])
            self.assertEqual(r2.data["items"], [])
            self.assertIsNone(r2.data["next_cursor"])

    def test_default_limit_50(self):
        p = uid("lim-")
        for i in range(51):
            self.create_key(name="%s-%d" % (p, i))
        r = self.list(q=p)
        self.assertStatus(r, 200)
        self.assertEqual(len(r.data["items"]), 50)
        self.assertIsNotNone(r.data["next_cursor"])
        r2 = self.list(q=p, cursor=r.data["next_cursor"])
        self.assertEqual(len(r2.data["items"]), 1)
        self.assertIsNone(r2.data["next_cursor"])
        r3 = self.list(q=p, limit="500")
        self.assertEqual(len(r3.data["items"]), 51)
        self.assertIsNone(r3.data["next_cursor"])

    def test_bad_params_400(self):
        cases = [({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"),
                 ({"limit": "abc"}, "limit"), ({"limit": "-1"}, "limit"),
                 ({"limit": "1.5"}, "limit"), ({"limit": ""}, "limit"),
                 ({"status": "deleted"}, "status"), ({"status": "ACTIVE"}, "status"),
                 ({"outdated": "yes"}, "outdated"), ({"outdated": "1"}, "outdated")]
        for params, field in cases:
            with self.subTest(params=params):
                self.assertError(self.list(**params), 400, "invalid_request",
                                 field=field)

    def test_q_wildcards_are_literal(self):
        p = uid("wild")
        pct = self.create_key(name=p + " 100% sure")["key"]
        und = self.create_key(name=p + " snake_case")["key"]
        self.create_key(name=p + " plain")
        for qq, expected in (("%", pct), ("_", und), (p + " 100%", pct),
                             (p + "%plain", None), (p + " snake_", und),
                             (p + " snake%case", None), (p + " _nake", None)):
            with self.subTest(q=qq):
                items = self.list_all({"q": qq})
                for i in items:
                    self.assertTrue(qq.lower() in i["name"].lower()
                                    or qq.lower() in i["key"].lower(),
                                    "q=%r matched %r" % (qq, i["name"]))
                mine = [i["key"] for i in items if i["name"].startswith(p)]
                self.assertEqual(mine, [expected] if expected else [])

    def test_q_too_long_400(self):
        self.assertError(self.list(q="a" * 201), 400, "invalid_request", field="q")
        self.assertStatus(self.list(q="a" * 200), 200)

    def test_paging_while_keys_are_created_and_deleted(self):
        p = uid("live-")
        made = [self.create_key(name="%s-%d" % (p, i))["key"] for i in range(7)]
        newest_first = list(reversed(made))
        r = self.list(q=p, limit="3")
        self.assertStatus(r, 200)
        seen = [i["key"] for i in r.data["items"]]
        self.assertEqual(seen, newest_first[:3])
        # a key created during the walk, and one not yet seen deleted
        late = self.create_key(name=p + "-late")["key"]
        victim = newest_first[4]
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", victim)), 204)
        cursor = r.data["next_cursor"]
        while cursor:
            r = self.list(q=p, limit="3", cursor=cursor)
            self.assertStatus(r, 200)
            seen += [i["key"] for i in r.data["items"]]
            cursor = r.data["next_cursor"]
        self.assertEqual(seen, [k for k in newest_first if k != victim])
        self.assertNotIn(late, seen)
        self.assertEqual(len(seen), len(set(seen)))

    def test_cursor_with_filters(self):
        p = uid("cf-")
        made = []
        for i in range(6):
            k = self.create_key(name="%s-%d" % (p, i))["key"]
            if i % 2:
                self.patch_key(k, {"status": "inactive"})
            made.append((k, "inactive" if i % 2 else "active"))
        for status in ("active", "inactive"):
            want = [k for k, s in reversed(made) if s == status]
            got = [i["key"] for i in self.list_all({"q": p, "status": status}, limit=2)]
            self.assertEqual(got, want)

    def test_bad_cursor_not_500(self):
        r = self.list(cursor="!!!garbage!!!")
        self.assertTrue(400 <= r.status < 500, r)


if __name__ == "__main__":
    unittest.main()

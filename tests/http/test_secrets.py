"""No plaintext token (nor any 20-character piece of one) is written anywhere:
database, -wal, -shm, server log. Checked after a full scenario with the server
stopped so that everything is flushed."""
import base64
import os
import re
import unittest

from harness import (API, KeystileCase, OWNER, USER_ADMIN, acct, make_token, typo,
                     uid, wait_until)


class TestNoPlaintextTokens(KeystileCase):
    ACCOUNTS = ("acme", "beta")

    def scenario(self):
        srv = self.server
        sent = []  # tokens we sent that the server never issued
        self.basic_pairs = [self.server.owner()]
        role = self.create_role(["orders.read"])
        keys = []
        for i in range(3):
            keys.append(self.create_key(name=uid("leak "), roles=[role, USER_ADMIN]))
        a, b, c = keys
        later = self.renew(a["key"], "later")
        # verify with every transport and method, good and bad
        for key, tok in ((a["key"], a["token"]), (a["key"], later["token"]),
                         (b["key"], b["token"])):
            self.assertVerifyOK(self.verify(key, tok), key, self.verify(key, tok)
                                .data["token"])
            self.assertEqual(self.verify(key, tok, basic=True).status, 200)
            self.assertEqual(self.verify(key, tok, method="POST").status, 200)
            self.assertEqual(self.verify(key, tok, resource="orders.read").status, 200)
            self.assertEqual(self.verify(key, tok, resource="nope").status, 403)
            self.assertEqual(self.verify(key, tok, account="beta").status, 403)
        for bad in (make_token(), typo(a["token"]), a["token"][:30]):
            sent.append(bad)
            self.assertEqual(self.verify(a["key"], bad).status, 401)
            self.assertEqual(self.verify(a["key"], bad, basic=True).status, 401)
        # a real token under the wrong key, and in the wrong header order
        self.assertEqual(self.verify(b["key"], a["token"]).status, 401)
        self.assertEqual(self.verify("kst-acme-aaaaaaaaaa", a["token"]).status, 401)
        # management calls with each transport; some refused
        ck, ct = c["key"], c["token"]
        self.basic_pairs += [(ck, ct), (a["key"], a["token"]), (a["key"], later["token"]),
                             (b["key"], b["token"])]
        self.assertEqual(srv.request("GET", acct("acme", "keys"), key=ck, token=ct,
                                     basic=True).status, 200)
        self.assertEqual(srv.request("GET", acct("acme", "audit"), key=ck,
                                     token=ct).status, 403)
        self.assertEqual(srv.request("GET", acct("acme", "keys"), key=ck,
                                     token=make_token()).status, 401)
        self.assertEqual(srv.request("GET", acct("beta", "keys"), key=ck,
                                     token=ct).status, 403)
        self.assertEqual(srv.request("POST", acct("acme", "keys", b["key"], "renew"),
                                     key=ck, token=ct, raw=b"{bad json",
                                     content_type="application/json").status, 400)
        now = self.renew(b["key"], "now")
        self.renew(c["key"], "later")
        self.assertStatus(self.call("POST", acct(self.A, "keys", c["key"],
                                                 "undo-renewal")), 200)
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", a["key"],
                                                   "old-token")), 200)
        self.patch_key(b["key"], {"status": "inactive"})
        self.assertEqual(self.verify(b["key"], now["token"]).data["reason"], "inactive")
        self.patch_key(b["key"], {"status": "active"})
        self.assertStatus(self.call("PUT", acct(self.A, "settings"),
                                    {"token_duration_months": 6}), 200)
        d = self.create_key(roles=[OWNER])
        self.assertStatus(self.call("DELETE", acct(self.A, "keys", d["key"])), 204)
        self.call("GET", API + "/verify?account=acme", cred=(a["key"], later["token"]))
        # let last_used_at be flushed
        wait_until(lambda: self.get_key(a["key"])["tokens"][0]["last_used_at"])
        return sent

    def test_no_plaintext_tokens_on_disk_or_in_log(self):
        sent = self.scenario()
        self.server.stop()
        tokens = [t for t in self.server.issued_tokens if t] + sent
        self.assertGreater(len(self.server.issued_tokens), 8)
        files = {}
        for root, _, names in os.walk(self.server.dir):
            for n in names:
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    files[os.path.relpath(p, self.server.dir)] = f.read()
        self.assertIn("k.db", files)
        self.assertIn("server.log", files)
        everything = b"".join(files.values())
        # sanity: the scan reads the right data (public key ids are stored)
        keys_found = [a for a in self.server.accounts.values()
                      if a["key"].encode() in everything]
        self.assertTrue(keys_found, "no key id found in the files: wrong files?")
        # any 20-char piece of a token lies in a run of >= 20 token characters
        runs = {name: b"\n".join(re.findall(rb"[0-9A-Za-z_]{20,}", data))
                for name, data in files.items()}
        leaks = []
        for t in tokens:
            pieces = {t[i:i + 20] for i in range(len(t) - 19)}
            for name, hay in runs.items():
                for piece in pieces:
                    if piece.encode() in hay:
                        leaks.append((name, t[:9] + "...", piece))
                        break
        for k, t in self.basic_pairs:
            b64 = base64.b64encode(("%s:%s" % (k, t)).encode())
            for name, data in files.items():
                if b64[:24] in data:
                    leaks.append((name, "Basic credentials of " + k, ""))
        self.assertEqual(leaks, [], "plaintext token material found on disk")
        self.server.start()  # leave the class fixture running for tearDownClass


if __name__ == "__main__":
    unittest.main()

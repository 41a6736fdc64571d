"""POST /api/v1/secret-scanning/github (issue 18): GitHub's signed partner call, with
keys made by the openssl command here. True and false positives, bad and missing
signatures, an unknown key id and a key not in the file (401, nothing done), alert and
revoke (old token deleted, current token's key deactivated, the last Owner kept), the
token.leaked event delivered to a webhook, the audit entry (never the token), 413 over
64 KiB, the leak metrics, the setting, SIGHUP reloading the keys file, and 404 when
secret scanning is off."""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

from harness import API, KeystileCase, Server, acct, make_token, request, wait_until
from test_rotation import Receiver

URL = API + "/secret-scanning/github"


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, capture_output=True, check=True).stdout


class GithubKey:
    """An EC P-256 key pair made by openssl, signing as GitHub does."""

    def __init__(self, d, name):
        self.id = "ks-test-" + name
        self.priv = os.path.join(d, name + ".pem")
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.priv)
        self.pub = openssl("ec", "-in", self.priv, "-pubout").decode()

    def sign(self, body):
        return base64.b64encode(openssl("dgst", "-sha256", "-sign", self.priv, data=body)).decode()

    def entry(self, current=True):
        return {"key_identifier": self.id, "key": self.pub, "is_current": current}


def write_keys(path, *entries):
    with open(path, "w") as f:
        json.dump({"public_keys": list(entries)}, f)


class TestSecretScanning(KeystileCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="keystile-github-")
        cls.gh = GithubKey(cls.dir, "one")
        cls.gh2 = GithubKey(cls.dir, "two")
        cls.stranger = GithubKey(cls.dir, "stranger")  # never in the file
        cls.keys_path = os.path.join(cls.dir, "github-keys.json")
        write_keys(cls.keys_path, cls.gh.entry(False), cls.gh2.entry(True))
        cls.server = Server(accounts=cls.ACCOUNTS, extra_args=("--github-keys", cls.keys_path))
        cls.rx = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        super().tearDownClass()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def report(self, items, key=None, key_id=None, signature=None, raw=None):
        key = key or self.gh2
        body = raw if raw is not None else json.dumps(items).encode()
        headers = {"Github-Public-Key-Identifier": key_id or key.id,
                   "Github-Public-Key-Signature": signature if signature is not None else key.sign(body)}
        return self.server.request("POST", URL, raw=body, content_type="application/json", headers=headers)

    def item(self, token, url="https://github.com/octo/app/blob/main/.env"):
        return {"token": token, "type": "keystile_api_token", "url": url, "source": "content"}

    def set_action(self, action):
        r = self.call("PUT", acct(self.A, "settings"), {"leaked_token_action": action})
        self.assertStatus(r, 200)
        self.assertEqual(r.data["leaked_token_action"], action)

    def leak_entries(self, key):
        return [e for e in self.audit() if e["action"] == "token.leaked" and e["target"] == key]

    def metric(self, label, action):
        text = self.call("GET", "/metrics", cred=None).raw.decode()
        m = re.search(r'^keystile_leaked_tokens_total\{label="%s",action="%s"\} (\d+)$' % (label, action), text, re.M)
        self.assertIsNotNone(m, "no leak metric %s/%s" % (label, action))
        return int(m.group(1))

    def setUp(self):
        self.set_action("alert")

    def test_setting_default_and_validation(self):
        r = self.call("GET", acct(self.A, "settings"))
        self.assertStatus(r, 200)
        self.assertIn(r.data["leaked_token_action"], ("alert", "revoke"))
        self.assertError(self.call("PUT", acct(self.A, "settings"), {"leaked_token_action": "delete"}), 400,
                         "invalid_request", "leaked_token_action")
        self.assertError(self.call("PUT", acct(self.A, "settings"), {"leaked_token_action": True}), 400,
                         "invalid_request", "leaked_token_action")
        self.set_action("revoke")
        self.assertEqual(self.call("GET", acct(self.A, "settings")).data["leaked_token_action"], "revoke")
        settings_entries = [e for e in self.audit() if e["action"] == "settings.update"]
        self.assertEqual(settings_entries[0]["detail"]["leaked_token_action"], "revoke")

    def test_true_and_false_positives_alert(self):
        hook = self.call("POST", acct(self.A, "webhooks"), {"url": self.rx.url, "events": ["token.leaked"]})
        self.assertStatus(hook, 201)
        k = self.create_key()
        alerted0, false0 = self.metric("true_positive", "alert"), self.metric("false_positive", "none")
        unknown = make_token()  # right format and checksum, issued by nobody
        items = [self.item(k["token"]), self.item(unknown), self.item("kstt_garbage"), self.item("x" * 100)]
        r = self.report(items)
        self.assertStatus(r, 200)
        self.assertEqual(r.data, [
            {"token_raw": k["token"], "token_type": "keystile_api_token", "label": "true_positive"},
            {"token_raw": unknown, "token_type": "keystile_api_token", "label": "false_positive"},
            {"token_raw": "kstt_garbage", "token_type": "keystile_api_token", "label": "false_positive"},
            {"token_raw": "x" * 100, "token_type": "keystile_api_token", "label": "false_positive"}])
        # alert: the token still verifies, the entry names key and slot, never the token
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        entries = self.leak_entries(k["key"])
        self.assertEqual(len(entries), 1, entries)
        e = entries[0]
        self.assertEqual(e["actor"], "secret-scanning:github")
        self.assertEqual(e["detail"], {"slot": "current", "action": "alert", "source": "content",
                                       "url": "https://github.com/octo/app/blob/main/.env"})
        self.assertEqual(e.get("via"), "system")
        self.assertNotIn(k["token"], json.dumps(self.audit()))
        self.assertEqual(self.metric("true_positive", "alert"), alerted0 + 1)
        self.assertEqual(self.metric("false_positive", "none"), false0 + 3)
        got = wait_until(lambda: self.rx.events("token.leaked"), timeout=15)
        self.assertTrue(got, "token.leaked was not delivered")
        ev = [x for x in got if x["data"]["key"] == k["key"]][0]
        self.assertEqual(ev["data"]["slot"], "current")
        self.assertEqual(ev["data"]["action"], "alert")
        self.assertEqual(ev["data"]["account"], self.A)
        self.assertNotIn(k["token"], json.dumps(got))
        self.assertNotIn(k["token"], self.server.log_tail(100000))

    def test_a_token_that_does_not_verify_is_a_false_positive(self):
        k = self.create_key()
        self.patch_key(k["key"], {"status": "inactive"})
        r = self.report([self.item(k["token"])])
        self.assertEqual(r.data[0]["label"], "false_positive")
        renewed = self.renew(self.create_key()["key"], delete_old="now")  # the previous token is gone
        self.assertEqual(self.report([self.item(renewed["token"])]).data[0]["label"], "true_positive")
        self.assertEqual(self.leak_entries(k["key"]), [])

    def test_bad_signatures_do_nothing(self):
        self.set_action("revoke")
        k = self.create_key()
        body = json.dumps([self.item(k["token"])]).encode()
        cases = {
            "signed by a key not in the file": dict(key=self.stranger, key_id=self.gh2.id,
                                                    signature=self.stranger.sign(body)),
            "an unknown key id": dict(key=self.stranger),
            "another listed key's signature": dict(key_id=self.gh.id, signature=self.gh2.sign(body)),
            "no signature": dict(signature=""),
            "not base64": dict(signature="%%%not-base64%%%"),
            "a signature of another body": dict(signature=self.gh2.sign(body + b" ")),
        }
        for what, kw in cases.items():
            with self.subTest(what):
                r = self.report(None, raw=body, **kw)
                self.assertError(r, 401, "unauthenticated")
        r = self.server.request("POST", URL, raw=body, content_type="application/json")
        self.assertError(r, 401, "unauthenticated")
        self.assertVerifyOK(self.verify(k["key"], k["token"]), k["key"])
        self.assertEqual(self.leak_entries(k["key"]), [])
        # both listed keys are accepted (GitHub keeps signing with a retired one for a while)
        self.set_action("alert")
        self.assertStatus(self.report([self.item(k["token"])], key=self.gh), 200)

    def test_revoke_current_deactivates_the_key(self):
        self.set_action("revoke")
        k = self.create_key()
        revoked0 = self.metric("true_positive", "revoke")
        r = self.report([self.item(k["token"])])
        self.assertEqual(r.data[0]["label"], "true_positive")
        self.assertVerifyFail(self.verify(k["key"], k["token"]), 401, "inactive")
        self.assertEqual(self.get_key(k["key"])["status"], "inactive")
        e = self.leak_entries(k["key"])[0]
        self.assertEqual((e["detail"]["slot"], e["detail"]["action"]), ("current", "revoke"))
        self.assertEqual(self.metric("true_positive", "revoke"), revoked0 + 1)
        # reported again: it no longer verifies, so nothing more happens
        self.assertEqual(self.report([self.item(k["token"])]).data[0]["label"], "false_positive")
        self.assertEqual(len(self.leak_entries(k["key"])), 1)

    def test_revoke_old_deletes_only_the_old_token(self):
        self.set_action("revoke")
        k = self.create_key()
        new = self.renew(k["key"], delete_old="later")
        r = self.report([self.item(k["token"])])  # the old token leaked
        self.assertEqual(r.data[0]["label"], "true_positive")
        self.assertEqual(self.verify(k["key"], k["token"]).status, 401)
        self.assertVerifyOK(self.verify(k["key"], new["token"]), k["key"])
        key = self.get_key(k["key"])
        self.assertEqual(key["status"], "active")
        self.assertEqual([t["slot"] for t in key["tokens"]], ["current"])
        e = self.leak_entries(k["key"])[0]
        self.assertEqual((e["detail"]["slot"], e["detail"]["action"]), ("old", "revoke"))

    def test_revoke_keeps_the_last_owner(self):
        self.set_action("revoke")
        owner_key, owner_token = self.server.owner()
        r = self.report([self.item(owner_token)])
        self.assertEqual(r.data[0]["label"], "true_positive")
        self.assertVerifyOK(self.verify(owner_key, owner_token), owner_key)
        e = self.leak_entries(owner_key)[0]
        self.assertEqual(e["detail"]["action"], "alert")
        self.assertEqual(e["detail"]["revoke_refused"], "last_owner")

    def test_body_limits_and_shape(self):
        big = json.dumps([self.item(make_token()) for _ in range(700)]).encode()
        self.assertGreater(len(big), 64 * 1024)
        r = self.report(None, raw=big)
        self.assertError(r, 413, "payload_too_large")
        for raw in (b"{}", b"[]", b"not json", b'[{"type":"x"}]', b'[{"token":7,"type":"x"}]', b"[1]"):
            with self.subTest(raw=raw):
                self.assertError(self.report(None, raw=raw), 400, "invalid_request")

    def test_sighup_reloads_the_keys(self):
        k = self.create_key()
        try:
            write_keys(self.keys_path, self.stranger.entry())
            self.server.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_until(lambda: self.report([self.item(k["token"])], key=self.stranger).status == 200),
                            "the new key was never accepted")
            self.assertError(self.report([self.item(k["token"])]), 401, "unauthenticated")
            with open(self.keys_path, "w") as f:
                f.write('{"public_keys": [{"key_identifier": "x", "key": "not a key"}]}')
            self.server.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_until(lambda: "secret scanning keys not reloaded" in self.server.log_tail()))
            self.assertStatus(self.report([self.item(k["token"])], key=self.stranger), 200)  # kept
        finally:
            write_keys(self.keys_path, self.gh.entry(False), self.gh2.entry(True))
            self.server.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: self.report([self.item(k["token"])]).status == 200)


class TestForgedSignaturesThrottled(KeystileCase):
    """A bad signature is a failed credential of the client address (Abuse limits)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="keystile-github-throttle-")
        cls.gh = GithubKey(cls.dir, "one")
        keys = os.path.join(cls.dir, "keys.json")
        write_keys(keys, cls.gh.entry())
        cls.server = Server(accounts=cls.ACCOUNTS, extra_args=("--github-keys", keys, "--failed-auth-limit", "3"))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_429_past_the_limit_while_signed_calls_pass(self):
        body = json.dumps([{"token": make_token(), "type": "keystile_api_token"}]).encode()
        forged = {"Github-Public-Key-Identifier": self.gh.id, "Github-Public-Key-Signature": self.gh.sign(b"other")}
        got = [self.server.request("POST", URL, raw=body, content_type="application/json", headers=forged,
                                   source="127.0.0.5").status for _ in range(4)]
        self.assertEqual(got, [401, 401, 401, 429])
        r = self.server.request("POST", URL, raw=body, content_type="application/json", headers=forged,
                                source="127.0.0.5")
        self.assertError(r, 429, "rate_limited")
        self.assertTrue(1 <= int(r.headers["Retry-After"]) <= 120, r.headers)
        signed = {"Github-Public-Key-Identifier": self.gh.id, "Github-Public-Key-Signature": self.gh.sign(body)}
        r = self.server.request("POST", URL, raw=body, content_type="application/json", headers=signed,
                                source="127.0.0.5")
        self.assertStatus(r, 200)
        self.assertEqual(r.data[0]["label"], "false_positive")


class TestChecksumScript(KeystileCase):
    """scripts/kstt-check (docs/secret-scanning.md): keeps exactly the tokens whose checksum is right."""

    def test_filters_look_alikes(self):
        from harness import ROOT
        k = self.create_key()
        real, issued_by_nobody = k["token"], make_token()
        broken = real[:-1] + ("A" if real[-1] != "A" else "B")
        text = "x=%s\ny=%s z=%s kstt_short\n" % (real, broken, issued_by_nobody)
        p = subprocess.run(["python3", os.path.join(ROOT, "scripts", "kstt-check")], input=text.encode(),
                           capture_output=True, check=True, timeout=30)
        self.assertEqual(p.stdout.decode().split(), [real, issued_by_nobody])


class TestSecretScanningOff(KeystileCase):
    def test_off_without_keys(self):
        r = self.server.request("POST", URL, body=[{"token": make_token(), "type": "keystile_api_token"}])
        self.assertError(r, 404, "not_found")

    def test_bad_keys_file_at_start(self):
        d = tempfile.mkdtemp(prefix="keystile-github-bad-")
        try:
            path = os.path.join(d, "keys.json")
            write_keys(path, {"key_identifier": "k1", "key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})
            p = subprocess.run([self.server_bin(), "serve", "--db", os.path.join(d, "k.db"), "--listen",
                                "127.0.0.1:1", "--github-keys", path], capture_output=True, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("public_keys[0]", p.stderr.decode())
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def server_bin(self):
        from harness import BIN
        return BIN

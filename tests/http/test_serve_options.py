"""keystile serve configuration (#8): config file, KEYSTILE_* environment, flags win,
text logs, HTTPS with a self-signed certificate, and clear errors for bad settings."""
import http.client
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Server, free_port, request


def run_serve(args, env=None, cwd=None, timeout=5):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BIN, "serve"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=e, cwd=cwd, timeout=timeout)


class TestServeOptions(unittest.TestCase):

    def setUp(self):
        self.server = Server(start=False)
        self.conf = os.path.join(self.server.dir, "keystile.conf")

    def tearDown(self):
        self.server.cleanup()

    def start_with(self, args, env=None):
        """Starts serve with our own args; returns (proc, port)."""
        e = dict(os.environ)
        e.update(env or {})
        log = open(self.server.log_path, "ab")
        proc = subprocess.Popen([BIN, "serve"] + args, stdout=log, stderr=subprocess.STDOUT, env=e,
                                cwd=self.server.dir)
        log.close()
        self.addCleanup(lambda: (proc.terminate(), proc.wait(10)))
        return proc

    def wait_healthy(self, port, tls_ctx=None):
        for _ in range(100):
            try:
                if tls_ctx:
                    c = http.client.HTTPSConnection("127.0.0.1", port, context=tls_ctx, timeout=2)
                    c.request("GET", "/healthz")
                    return c.getresponse().status
                return request(port, "GET", "/healthz", timeout=2).status
            except OSError:
                time.sleep(0.05)
        return None

    def test_config_file_then_env_then_flags(self):
        p1, p2, p3 = free_port(), free_port(), free_port()
        with open(self.conf, "w") as f:
            f.write("# keystile settings\ndb = %s\nlisten = 127.0.0.1:%d\n\naccess-log = all\n" % (self.server.db, p1))
        # the file alone
        self.start_with(["--config", self.conf])
        self.assertEqual(self.wait_healthy(p1), 200)

    def test_env_overrides_file_and_flag_overrides_env(self):
        p1, p2, p3 = free_port(), free_port(), free_port()
        with open(self.conf, "w") as f:
            f.write("db = %s\nlisten = 127.0.0.1:%d\n" % (self.server.db, p1))
        self.start_with(["--config", self.conf], env={"KEYSTILE_LISTEN": "127.0.0.1:%d" % p2})
        self.assertEqual(self.wait_healthy(p2), 200)
        self.start_with(["--config", self.conf, "--listen", "127.0.0.1:%d" % p3],
                        env={"KEYSTILE_LISTEN": "127.0.0.1:%d" % free_port()})
        self.assertEqual(self.wait_healthy(p3), 200)

    def test_text_log_format(self):
        port = free_port()
        proc = self.start_with(["--db", self.server.db, "--listen", "127.0.0.1:%d" % port,
                                "--log-format", "text"])
        self.assertEqual(self.wait_healthy(port), 200)
        proc.terminate()
        proc.wait(10)
        with open(self.server.log_path) as f:
            lines = [l for l in f.read().splitlines() if " listening " in l]
        self.assertTrue(lines, "no text log line")
        self.assertFalse(lines[0].startswith("{"), lines[0])
        self.assertIn("address=127.0.0.1:%d" % port, lines[0])

    def test_bad_settings_are_usage_errors(self):
        with open(self.conf, "w") as f:
            f.write("no-such-setting = 1\n")
        p = run_serve(["--config", self.conf, "--db", self.server.db])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"no-such-setting", p.stderr)
        self.assertIn(b":1:", p.stderr)  # names the line
        with open(self.conf, "w") as f:
            f.write("clock-offset-days = 30\n")  # test-only: never from a file
        self.assertEqual(run_serve(["--config", self.conf]).returncode, 2)
        self.assertEqual(run_serve(["--config", os.path.join(self.server.dir, "missing.conf")]).returncode, 2)
        self.assertEqual(run_serve(["--log-format", "xml"]).returncode, 2)
        self.assertEqual(run_serve(["--tls-cert", self.conf]).returncode, 2)  # without --tls-key
        p = run_serve(["--threads", "0"])
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--threads", p.stderr)

    def test_https_with_self_signed_certificate(self):
        cert = os.path.join(self.server.dir, "cert.pem")
        key = os.path.join(self.server.dir, "key.pem")
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr)
        os.chmod(key, 0o600)
        port = free_port()
        self.start_with(["--db", self.server.db, "--listen", "127.0.0.1:%d" % port, "--tls-cert", cert,
                         "--tls-key", key])
        ctx = ssl.create_default_context(cafile=cert)
        self.assertEqual(self.wait_healthy(port, ctx), 200)
        # a verify over HTTPS
        self.server.add_account("acme") if not self.server.accounts else None
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
        c.request("GET", "/api/v1/verify", headers={"X-API-Key": "kst-acme-aaaaaaaaaa", "X-API-Token": "x"})
        self.assertEqual(c.getresponse().status, 401)
        # plain HTTP on the TLS port is not served
        with self.assertRaises((OSError, http.client.HTTPException)):
            request(port, "GET", "/healthz", timeout=2)


if __name__ == "__main__":
    unittest.main()

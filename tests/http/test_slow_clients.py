"""Slow and hostile clients (#6): partial requests do not stop the server from serving
others, idle connections are closed after the idle timeout, the connection limit holds,
and oversized headers are refused without harm."""
import socket
import time
import unittest

from harness import API, Server

IDLE = 2
LIMIT = 48


class TestSlowClients(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_args=["--idle-timeout", str(IDLE), "--connection-limit", str(LIMIT)])

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def partial(self, data=b"GET /api/v1/verify HTTP/1.1\r\nHost: x\r\n"):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        s.sendall(data)
        return s

    def verify_ok(self):
        key, token = self.server.owner()
        t0 = time.time()
        r = self.server.request("GET", API + "/verify", key=key, token=token, timeout=5)
        return r.status == 200, time.time() - t0

    def test_partial_requests_do_not_block_others(self):
        held = [self.partial() for _ in range(LIMIT // 2)]
        try:
            for _ in range(20):
                ok, took = self.verify_ok()
                self.assertTrue(ok)
                self.assertLess(took, 1.0, "a verify took %.2fs beside slow clients" % took)
        finally:
            for s in held:
                s.close()

    def test_idle_partial_connections_are_closed(self):
        held = [self.partial() for _ in range(8)]
        time.sleep(IDLE + 1.5)
        closed = 0
        for s in held:
            s.settimeout(2)
            try:
                closed += s.recv(1024) == b""
            except (ConnectionResetError, socket.timeout):
                closed += 1
            s.close()
        self.assertEqual(closed, len(held), "slow connections outlived the idle timeout")

    def test_connection_limit_then_recovery(self):
        held = []
        try:
            for _ in range(LIMIT + 8):
                try:
                    held.append(self.partial())
                except OSError:
                    break
            time.sleep(0.3)
            # at the limit new clients may be refused; after the idle timeout they are served again
            time.sleep(IDLE + 1.5)
            ok, took = self.verify_ok()
            self.assertTrue(ok, "server did not recover after slow clients timed out")
        finally:
            for s in held:
                s.close()

    def test_oversized_headers_refused_and_server_fine(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
        except OSError:
            pass  # the server may close before reading it all
        try:
            reply = s.recv(200)
        except OSError:
            reply = b""
        s.close()
        self.assertTrue(reply == b"" or reply.split(b" ")[1] in (b"413", b"431", b"400"), reply)
        self.assertTrue(self.verify_ok()[0])

    def test_long_url_refused(self):
        r = self.server.request("GET", API + "/verify?resource=" + "a" * 9000)
        self.assertIn(r.status, (414, 431), r)
        self.assertTrue(self.verify_ok()[0])


if __name__ == "__main__":
    unittest.main()

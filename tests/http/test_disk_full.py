"""Disk full (#6): writes get 503 storage_unavailable, verify keeps answering from memory,
and writes work again once space returns. The database lives on a small tmpfs."""
import os
import subprocess
import unittest

from harness import API, Server, acct


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode == 0, p.stdout.decode()


class TestDiskFull(unittest.TestCase):

    def setUp(self):
        self.server = Server(accounts=(), start=False)
        self.mount = os.path.join(self.server.dir, "data")
        ok, why = mount_tmpfs(self.mount, "4m")
        if not ok:
            self.server.cleanup()
            self.skipTest("cannot mount a tmpfs here (needs root): " + why)
        self.server.db = os.path.join(self.mount, "k.db")
        self.server.add_account("acme")
        self.server.start()
        self.filler = os.path.join(self.mount, "filler")

    def tearDown(self):
        self.server.stop()
        subprocess.run(["umount", "-l", self.mount])
        self.server.cleanup()

    def fill_disk(self):
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for chunk in (65536, 4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError:
                    pass
        finally:
            os.close(fd)

    def test_full_disk_gives_503_and_recovers(self):
        key, token = self.server.owner()
        r = self.server.request("POST", acct("acme", "keys"), {"name": "before"}, key=key, token=token)
        self.assertEqual(r.status, 201, r)
        k2, t2 = r.data["key"], r.data["token"]
        self.fill_disk()
        failures = 0
        for i in range(5):
            r = self.server.request("POST", acct("acme", "keys"), {"name": "x" * 90 + str(i)},
                                    key=key, token=token)
            if r.status == 503:
                self.assertEqual(r.data["error"]["code"], "storage_unavailable", r)
                failures += 1
            else:
                self.assertEqual(r.status, 201, r)  # SQLite may still fit a page
        self.assertGreater(failures, 0, "no write failed on a full disk")
        r = self.server.request("POST", acct("acme", "keys", k2, "renew"), {"delete_old": "now"},
                                key=key, token=token)
        self.assertIn(r.status, (503,), r)
        # verify keeps answering from memory, and the failed renewal changed nothing
        v = self.server.request("GET", API + "/verify", key=k2, token=t2)
        self.assertEqual(v.status, 200, v)
        self.assertEqual(v.data["token"], "current")
        # space returns: writes work again without a restart
        os.unlink(self.filler)
        r = self.server.request("POST", acct("acme", "keys"), {"name": "after"}, key=key, token=token)
        self.assertEqual(r.status, 201, r)
        r = self.server.request("POST", acct("acme", "keys", k2, "renew"), {"delete_old": "now"},
                                key=key, token=token)
        self.assertEqual(r.status, 200, r)
        new = r.data["token"]
        self.assertEqual(self.server.request("GET", API + "/verify", key=k2, token=t2).status, 401)
        self.assertEqual(self.server.request("GET", API + "/verify", key=k2, token=new).status, 200)
        # and all of it survives a restart
        self.server.restart()
        self.assertEqual(self.server.request("GET", API + "/verify", key=k2, token=new).status, 200)


if __name__ == "__main__":
    unittest.main()

"""The private PostgreSQL cluster of the tests (a thin wrapper of cluster.sh).

run.py starts one cluster for a whole run and exports, for the tests and the
harness: KEYSTILE_TEST_PG_DIR (its directory) and KEYSTILE_TEST_DB_URL (its base
URI, postgresql://postgres@127.0.0.1:PORT/). Tests that take the database away
call stop() / start() on that same cluster.
"""
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "cluster.sh")


def _run(*args):
    p = subprocess.run(["sh", SCRIPT] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("cluster.sh %s failed: %s" % (" ".join(args),
                                                         p.stderr.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8").strip()


class Cluster:
    def __init__(self, directory=None):
        self.dir = directory or os.environ.get("KEYSTILE_TEST_PG_DIR")
        self.url = os.environ.get("KEYSTILE_TEST_DB_URL")

    @classmethod
    def create(cls, port):
        c = cls(tempfile.mkdtemp(prefix="keystile-pg-"))
        c.url = _run("start", c.dir, str(port))
        return c

    def stop(self):
        """Fast shutdown: connections are cut, the data stays."""
        _run("stop", self.dir)

    def start(self):
        """Starts it again on the same port."""
        _run("restart", self.dir)

    def destroy(self):
        _run("destroy", self.dir)

"""A real gateway (nginx, Caddy) in front of an echoing upstream, for the tests that put
Keystile behind one: the gateway's example from examples/ with its ports rewritten,
started on loopback, waited for and stopped. The test classes say what differs (the
command line, the stop signal); this module does the rest once."""
import http.server
import json
import os
import signal
import subprocess
import threading
import time

from harness import ROOT, free_port, request


class EchoUpstream(http.server.BaseHTTPRequestHandler):
    """Answers with what it was given, so a test sees what the gateway forwarded."""

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body_in = self.rfile.read(n) if n else b""
        body = json.dumps({"method": self.command, "path": self.path, "key": self.headers.get("X-Keystile-Key"),
                           "account": self.headers.get("X-Keystile-Account"),
                           "token": self.headers.get("X-API-Token"), "authorization": self.headers.get("Authorization"),
                           "body": body_in.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = answer

    def log_message(self, *args):
        pass


def start_upstream():
    """An EchoUpstream on a free loopback port, served by a daemon thread; stop it with
    .shutdown(). Its port is .server_address[1]."""
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    return upstream


def example(relative_path, keystile_port, upstream_port, listen):
    """The text of examples/<relative_path> pointed at Keystile and the upstream on their
    loopback ports (the examples use 127.0.0.1:8080 and :9000), with listen = (old, new)
    for the gateway's own address; fails when an old text is missing, so a changed
    example cannot silently keep the default ports."""
    with open(os.path.join(ROOT, "examples", relative_path)) as f:
        text = f.read()
    for old, new in [("127.0.0.1:8080", "127.0.0.1:%d" % keystile_port),
                     ("127.0.0.1:9000", "127.0.0.1:%d" % upstream_port), listen]:
        if old not in text:
            raise AssertionError("examples/%s no longer contains %r" % (relative_path, old))
        text = text.replace(old, new)
    return text


class Gateway:
    """A gateway process started with argv, logging into log_path, answering HTTP on
    127.0.0.1:port; stopped with stop_signal (then killed after 10 s)."""

    def __init__(self, argv, port, log_path, stop_signal=signal.SIGTERM, env=None, start_timeout=10.0):
        self.port = port
        self.log_path = log_path
        self.stop_signal = stop_signal
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                request(port, "GET", "/", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    with open(log_path, errors="replace") as f:
                        raise RuntimeError("%s did not answer on port %d: %s" % (argv[0], port, f.read()[-2000:]))
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_gateway(argv_for_port, log_path, attempts=3, **kw):
    """A Gateway on a free loopback port: argv_for_port(port) writes the gateway's
    configuration for that port and returns its command line. Another suite running
    beside this one can take the port between free_port() and the gateway's bind; then
    it tries again on another port (at most `attempts` times)."""
    for attempt in range(attempts):
        port = free_port()
        try:
            return Gateway(argv_for_port(port), port, log_path, **kw)
        except RuntimeError as e:
            if "address already in use" not in str(e).lower() or attempt == attempts - 1:
                raise

"""Starts build/wspush for one test and always stops it again.

The server runs under `setpriv --pdeathsig KILL`, so even if the test process is
killed (run.sh's time limit) the server dies with it. Its stdout and stderr go to
a temp file (an undrained pipe would block the server once the pipe fills).
"""
import asyncio
import atexit
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.environ.get("WSPUSH_BUILD", "build")
BINARY = os.path.join(ROOT, BUILD, "wspush")
SANITIZED = os.environ.get("WSPUSH_SANITIZED") == "1"
# Every time bound in the suite is multiplied by SLOW: ASan+UBSan builds run ~3x slower.
SLOW = 4.0 if SANITIZED else 1.0
# WSPUSH_E2E_TLS=1 runs the whole suite over TLS: every server gets a test certificate, every
# client (python3-websockets and the raw probes) speaks wss:// and trusts the test CA.
TLS = os.environ.get("WSPUSH_E2E_TLS") == "1"

LISTENING = re.compile(rb"listening on (\S+):(\d+) \(websocket(, tls)?\)")
SANITIZER_REPORT = re.compile(rb"ERROR: (Address|Leak|Thread)Sanitizer|runtime error:")

# Options every test server gets unless the test overrides them. --api-listen off
# keeps parallel servers from colliding on the API port; a short shutdown timeout
# keeps teardown fast when a test leaves a client open.
DEFAULTS = {"--host": "127.0.0.1", "--port": "0", "--api-listen": "off", "--shutdown-timeout": "1"}


_certs_dir = None


def test_certs():
    """Directory of throwaway certificates (tests/tls/make_test_certs.sh), made once per run."""
    global _certs_dir
    if _certs_dir is None:
        d = tempfile.mkdtemp(prefix="wspush-e2e-certs-")
        atexit.register(shutil.rmtree, d, True)
        subprocess.run([os.path.join(ROOT, "tests", "tls", "make_test_certs.sh"), d], check=True)
        _certs_dir = d
    return _certs_dir


def client_ssl_context():
    """What a careful client does: verify the chain against the (test) CA and the host name."""
    ctx = ssl.create_default_context(cafile=os.path.join(test_certs(), "ca.pem"))
    return ctx


def tls_options(kind="ec"):
    d = test_certs()
    return {"--tls-cert": os.path.join(d, kind + ".pem"), "--tls-key": os.path.join(d, kind + ".key")}


class WspushServer:
    """One build/wspush process on an ephemeral port (over TLS when tls)."""

    def __init__(self, options=None, extra_env=None, tls=False):
        self.tls = tls
        merged = dict(DEFAULTS)
        if self.tls:
            merged.update(tls_options())
        merged.update(options or {})
        self.argv = [BINARY]
        for name, value in merged.items():
            self.argv += [name] if value is None else [name, str(value)]  # None: a bare flag
        self.extra_env = extra_env or {}
        self.proc = None
        self.port = None
        self.returncode = None

    def start(self, timeout=5.0 * SLOW):
        fd, self.log_path = tempfile.mkstemp(prefix="wspush-e2e-", suffix=".log")
        os.close(fd)
        env = dict(os.environ, **self.extra_env)
        # O_APPEND for the child so our reads (separate open file) never race its offset.
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", *self.argv],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = LISTENING.search(self.log())
            if m:
                self.port = int(m.group(2))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        self.kill()
        raise RuntimeError(f"wspush did not report 'listening on ...:PORT (websocket)' "
                           f"within {timeout}s; argv={self.argv}\n{self.log_tail()}")

    @property
    def pid(self):
        return self.proc.pid

    @property
    def url(self):
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/"

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def log_tail(self, lines=40):
        return "\n".join(self.log().decode("utf-8", "replace").splitlines()[-lines:])

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS line")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Exit status, or None if still running after timeout seconds."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    async def wait_exit(self, timeout):
        """Like wait(), but keeps the event loop (and so our clients) running."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        self.returncode = self.proc.poll()
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM, then SIGKILL if it lingers. Raises if a sanitizer reported anything."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(3.0 * SLOW) is None:
                self.kill()
        report = self.log()
        os.unlink(self.log_path)
        if SANITIZER_REPORT.search(report):
            raise AssertionError("sanitizer report from wspush:\n" +
                                 report.decode("utf-8", "replace")[-6000:])

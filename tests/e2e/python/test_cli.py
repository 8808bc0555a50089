"""The command line as a user meets it: --version, --help labels, each bad flag's exact
message and exit code 2, host names and IPv6 for --host and --api-listen, bind errors that
name the flag to change, the start-up lines (demo page URL) and debug-level login logs."""
import asyncio
import os
import re
import socket
import subprocess
import time
import unittest
import urllib.request

import websockets

from wspush_server import BINARY, SLOW, WspushServer


def run(*args, timeout=10 * SLOW):
    """Runs wspush with args to completion; returns (exit code, stdout, stderr)."""
    p = subprocess.run([BINARY, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def without_timestamp(log_line):
    return re.sub(r"^\S+Z (debug|info |warn |error) ", "", log_line)


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Version(unittest.TestCase):
    def test_version_prints_release_and_commit_and_exits_0(self):
        code, out, err = run("--version")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^wspush \d+\.\d+\.\d+ \(git \S+\)\n$")


class Help(unittest.TestCase):
    def test_help_shows_plain_labels_with_defaults(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        self.assertIn("--port PORT (default 1234)", out)
        self.assertIn("--login-timeout SECONDS (default 30)", out)
        self.assertIn("--max-message BYTES (default 1048576)", out)
        self.assertIn("--api-listen HOST:PORT (default 127.0.0.1:1235)", out)
        self.assertIn("--log-level LEVEL (default info)", out)
        self.assertIn("--tls-ticket-rotate SECONDS (default 3600)", out)
        self.assertIn("--max-login-message BYTES (default 16384)", out)
        self.assertIn("--max-inbound-buffered BYTES (default 268435456)", out)
        self.assertIn("--version", out)

    def test_help_has_no_cli11_type_noise(self):
        _, out, _ = run("--help")
        for noise in ("FLOAT", "UINT", "TEXT", " in [", "=1234", ":{debug"):
            self.assertNotIn(noise, out)


class BadFlags(unittest.TestCase):
    """Each: the exact message on stderr, nothing on stdout, exit code 2."""

    def assertRefused(self, args, message):
        code, out, err = run(*args)
        self.assertEqual(code, 2, err)
        self.assertEqual(out, "")
        self.assertEqual(err.splitlines()[0], message)

    def test_port_not_a_number_names_the_range(self):
        self.assertRefused(["--port", "abc"], "--port: 'abc' is not a port number; valid: 0-65535 (0: any free port)")

    def test_port_above_65535_names_the_range(self):
        self.assertRefused(["--port", "70000"], "--port: '70000' is not a port number; valid: 0-65535 (0: any free port)")

    def test_negative_port_names_the_range(self):
        self.assertRefused(["--port", "-1"], "--port: '-1' is not a port number; valid: 0-65535 (0: any free port)")

    def test_cluster_heartbeat_out_of_range_names_the_range(self):
        self.assertRefused(["--cluster-heartbeat", "5"], "--cluster-heartbeat: '5' is not a number of seconds; valid: 0.1-2")
        self.assertRefused(["--cluster-heartbeat", "0.05"],
                           "--cluster-heartbeat: '0.05' is not a number of seconds; valid: 0.1-2")

    def test_tls_ticket_rotate_out_of_range_or_not_whole_names_the_range(self):
        for bad in ("0", "-1", "1.5", "1h", "604801", ""):
            self.assertRefused(["--tls-ticket-rotate", bad],
                               f"--tls-ticket-rotate: '{bad}' is not a whole number of seconds; "
                               "valid: 1-604800 (604800: 7 days, TLS 1.3's longest ticket)")

    def test_input_limits_out_of_range_name_the_range(self):
        for bad in ("0", "127", "1k", "-5"):
            self.assertRefused(["--max-login-message", bad],
                               f"--max-login-message: '{bad}' is not a number of bytes; valid: 128-2147483648")
        for bad in ("65535", "1099511627777", "lots"):
            self.assertRefused(["--max-inbound-buffered", bad],
                               f"--max-inbound-buffered: '{bad}' is not a number of bytes; valid: 65536-1099511627776")

    def test_mistyped_flag_suggests_the_closest(self):
        self.assertRefused(["--prot", "2000"], "wspush: unknown flag '--prot'; did you mean --port?")

    def test_mistyped_flag_with_equals_suggests_the_closest(self):
        self.assertRefused(["--api-liste=off"], "wspush: unknown flag '--api-liste'; did you mean --api-listen?")

    def test_single_dash_long_flag_suggests_the_double_dash(self):
        self.assertRefused(["-port", "2000"], "wspush: unknown flag '-port'; did you mean --port?")

    def test_unknown_flag_far_from_any_suggests_nothing(self):
        self.assertRefused(["--frobnicate"], "wspush: unknown flag '--frobnicate'")

    def test_seconds_not_a_number_names_the_range(self):
        self.assertRefused(["--login-timeout", "soon"],
                           "--login-timeout: 'soon' is not a number of seconds; valid: 0.001-31536000")

    def test_unknown_log_level_lists_the_levels(self):
        self.assertRefused(["--log-level", "verbose"],
                           "--log-level: 'verbose' is not a log level; valid: debug, info, warn, error")

    def test_api_listen_port_out_of_range_names_the_range(self):
        self.assertRefused(["--api-listen", "localhost:99999"],
                           "--api-listen: 'localhost:99999': '99999' is not a port number; "
                           "valid: 0-65535 (0: any free port), or off")

    def test_api_listen_bare_ipv6_asks_for_brackets(self):
        self.assertRefused(["--api-listen", "::1:1235"],
                           "--api-listen: '::1:1235' is ambiguous: write an IPv6 address in brackets, "
                           "as in [::1]:1235, or off")

    def test_host_that_does_not_resolve_is_refused(self):
        code, out, err = run("--host", "no-such-host.invalid", "--api-listen", "off")
        self.assertEqual(code, 2, err)
        self.assertRegex(without_timestamp(err.splitlines()[0]), r"^--host: cannot resolve 'no-such-host\.invalid': ")


class ListenAddresses(unittest.TestCase):
    def start(self, *options):
        opts = dict(zip(options[::2], options[1::2]))
        s = WspushServer(opts).start()
        self.addCleanup(s.stop)
        return s

    def test_host_name_localhost_binds_loopback(self):
        s = self.start("--host", "localhost")
        self.assertIn(f"listening on 127.0.0.1:{s.port} (websocket)".encode(), s.log())
        with urllib.request.urlopen(f"http://127.0.0.1:{s.port}/healthz", timeout=5 * SLOW) as r:
            self.assertEqual(r.status, 200)

    def test_api_listen_accepts_a_host_name(self):
        s = self.start("--api-listen", "localhost:0")
        api = re.search(rb"listening on 127\.0\.0\.1:(\d+) \(api, no key\)", s.log())
        self.assertIsNotNone(api, s.log_tail())
        with urllib.request.urlopen(f"http://127.0.0.1:{int(api.group(1))}/healthz", timeout=5 * SLOW) as r:
            self.assertEqual(r.read(), b'{"status":"ok"}\n')

    @unittest.skipUnless(ipv6_loopback_available(), "no IPv6 loopback on this host")
    def test_api_listen_accepts_bracketed_ipv6(self):
        s = self.start("--api-listen", "[::1]:0")
        api = re.search(rb"listening on \[::1\]:(\d+) \(api, no key\)", s.log())
        self.assertIsNotNone(api, s.log_tail())
        with socket.create_connection(("::1", int(api.group(1))), timeout=5 * SLOW) as c:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(c.recv(100).startswith(b"HTTP/1.1 200"))

    @unittest.skipUnless(ipv6_loopback_available(), "no IPv6 loopback on this host")
    def test_ipv6_wildcard_host_accepts_ipv4_and_ipv6_clients(self):
        s = self.start("--host", "[::]")
        self.assertIn(f"listening on [::]:{s.port} (websocket)".encode(), s.log())
        self.assertIn(f"demo page: http://[::1]:{s.port}/".encode(), s.log())
        for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            with socket.create_connection((addr, s.port), timeout=5 * SLOW) as c:
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertTrue(c.recv(100).startswith(b"HTTP/1.1 200"), addr)


class StartUpLog(unittest.TestCase):
    def test_start_logs_the_demo_page_url(self):
        s = WspushServer({"--host": "0.0.0.0"}).start()
        self.addCleanup(s.stop)
        deadline = 5 * SLOW
        while b"demo page" not in s.log() and deadline > 0:
            deadline -= 0.05
            time.sleep(0.05)
        self.assertIn(f"demo page: http://127.0.0.1:{s.port}/".encode(), s.log())

    def test_debug_level_logs_logins_and_logouts_with_the_uid_escaped(self):
        s = WspushServer({"--log-level": "debug"}).start()
        self.addCleanup(s.stop)

        async def session():
            async with websockets.connect(s.url) as ws:
                await ws.send('ali"ce\nforged')
                self.assertEqual(await ws.recv(), 'login success, your uid is ali"ce\nforged')

        asyncio.run(session())
        text = b""
        for _ in range(int(100 * SLOW)):
            text = s.log()
            if b"logout" in text:
                break
            time.sleep(0.05)
        lines = [without_timestamp(l) for l in text.decode().splitlines()]
        self.assertTrue(any(re.fullmatch(r'login uid="ali\\x22ce\\x0aforged" fd=\d+', l) for l in lines), lines)
        self.assertTrue(any(re.fullmatch(r'logout uid="ali\\x22ce\\x0aforged" fd=\d+', l) for l in lines), lines)
        self.assertFalse(any(l.startswith("forged") for l in lines))

    def test_info_level_does_not_log_logins(self):
        s = WspushServer({"--log-level": "info"}).start()
        self.addCleanup(s.stop)

        async def session():
            async with websockets.connect(s.url) as ws:
                await ws.send("alice")
                await ws.recv()

        asyncio.run(session())
        self.assertNotIn(b"login uid=", s.log())


class SecondInstance(unittest.TestCase):
    """A second wspush on ports already taken: one error naming the flag, no 'listening'."""

    def taken_port(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        self.addCleanup(sock.close)
        return sock.getsockname()[1]

    def test_taken_websocket_port_names_port_flag_and_logs_no_listening(self):
        port = self.taken_port()
        code, out, err = run("--host", "127.0.0.1", "--port", str(port), "--api-listen", "off")
        self.assertEqual(code, 1, err)
        self.assertNotIn("listening", err)
        self.assertEqual(without_timestamp(err.splitlines()[-1]),
                         f"cannot listen for WebSocket clients: bind 127.0.0.1:{port}: Address already in use; "
                         "choose another port with --port N (make run PORT=N) or another address with --host")

    def test_taken_api_port_names_api_listen_flag_and_logs_no_listening(self):
        port = self.taken_port()
        code, out, err = run("--host", "127.0.0.1", "--port", "0", "--api-listen", f"127.0.0.1:{port}")
        self.assertEqual(code, 1, err)
        self.assertNotIn("listening", err)
        self.assertEqual(without_timestamp(err.splitlines()[-1]),
                         f"cannot listen for the push API: bind 127.0.0.1:{port}: Address already in use; "
                         "choose another address with --api-listen HOST:PORT (make run API=PORT), "
                         "or turn the API off with --api-listen off")


if __name__ == "__main__":
    unittest.main()

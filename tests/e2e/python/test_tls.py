"""TLS (--tls-cert/--tls-key/--api-tls) as clients and attackers see it: what only a TLS
port does. The protocol itself over TLS is the whole suite run again with WSPUSH_E2E_TLS=1.

Certificates are throwaway (tests/tls/make_test_certs.sh): a root CA the clients trust, an
intermediate, ECDSA P-256 and RSA 2048 leaves for localhost/127.0.0.1 served as chain files.
"""
import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import websockets

from e2ecase import WspushTestCase
from wspush_server import BINARY, SLOW, TLS, WspushServer, client_ssl_context, test_certs, tls_options

STATS = re.compile(rb"stats conns=(\d+) .*")


def client_hello():
    """The first flight of a real TLS client (Python's), without a socket."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ssl_context().wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


# One request, and stay until the server closes: a TLS 1.3 ticket comes after the handshake.
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def openssl_client(port, *args, stdin=HEALTHZ, timeout=10.0):
    """openssl s_client's output (stdout + stderr) for one connection."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile",
            os.path.join(test_certs(), "ca.pem"), *(("-ign_eof",) if stdin == HEALTHZ else ()), *args]
    r = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout * SLOW)
    return (r.stdout + r.stderr).decode("utf-8", "replace")


@unittest.skipIf(TLS, "TLS-only cases run once, in the plaintext pass")
class TlsCase(WspushTestCase):
    server_tls = True
    server_options = {"--stats-interval": "0.1"}

    def stats(self):
        """The latest stats line's counters, as a dict of ints."""
        lines = [l for l in self.server.log().splitlines() if b"stats conns=" in l]
        if not lines:
            return {}
        return {k.decode(): int(v) for k, v in re.findall(rb"(\w+)=(\d+)", lines[-1])}

    async def until_stat(self, name, at_least, timeout=None):
        deadline = time.monotonic() + (timeout or self.PROMPT)
        while time.monotonic() < deadline:
            if self.stats().get(name, 0) >= at_least:
                return
            await asyncio.sleep(0.05)
        self.fail(f"{name} did not reach {at_least}: {self.stats()}")

    async def _plain(self):
        """A TCP connection that speaks no TLS."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        self.addCleanup(writer.transport.abort)
        return reader, writer

    async def read_to_eof(self, reader, timeout=None):
        data = bytearray()
        async def go():
            try:
                while chunk := await reader.read(65536):
                    data.extend(chunk)
            except ConnectionError:
                pass
        await asyncio.wait_for(go(), timeout or self.PROMPT)
        return bytes(data)


class TlsServes(TlsCase):
    server_options = {"--stats-interval": "0.1", "--max-backlog": str(64 << 20)}

    own_records = True  # TLS 1.3 connections move to wspush's record layer after the handshake

    async def test_wss_login_and_route_with_ecdsa_chain(self):
        ws = await self.login("alice")
        await ws.send("alice:" + "x" * 100000)
        self.assertEqual(await self.recv(ws), "x" * 100000)

    async def test_tls13_connections_use_the_configured_record_layer(self):
        ws = await self.login("bob")
        await ws.send("bob:hi")
        self.assertEqual(await self.recv(ws), "hi")
        await self.until_stat("tls_handshakes", 1)
        await asyncio.sleep(0.3 * SLOW)  # a stats line after the handshake
        stats = self.stats()
        self.assertEqual(stats["tls_own_records"], stats["tls_handshakes"] if self.own_records else 0)
        self.assertEqual(stats["tls_record_failures"], 0)

    async def test_healthz_over_https(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, context=client_ssl_context(),
                                           timeout=self.PROMPT)
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        self.assertEqual((r.status, r.read()), (200, b'{"status":"ok"}\n'))
        conn.close()

    async def test_alpn_selects_http_1_1(self):
        ctx = client_ssl_context()
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        _, writer = await asyncio.open_connection("127.0.0.1", self.server.port, ssl=ctx)
        self.assertEqual(writer.get_extra_info("ssl_object").selected_alpn_protocol(), "http/1.1")
        writer.close()

    async def test_tls_1_3_and_1_2_are_served_1_1_is_refused(self):
        out13 = await asyncio.to_thread(openssl_client, self.server.port, "-tls1_3")
        self.assertIn("New, TLSv1.3", out13)
        out12 = await asyncio.to_thread(openssl_client, self.server.port, "-tls1_2")
        self.assertIn("New, TLSv1.2, Cipher is ECDHE-ECDSA-", out12)
        out11 = await asyncio.to_thread(openssl_client, self.server.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        self.assertNotIn("New, TLSv1.1", out11)
        self.assertRegex(out11, "alert protocol version|no protocols available|unsupported protocol")

    async def test_session_ticket_resumes_tls13_and_tls12(self):
        for version in ("-tls1_3", "-tls1_2"):
            with tempfile.NamedTemporaryFile() as sess:
                first = await asyncio.to_thread(openssl_client, self.server.port, version, "-sess_out", sess.name)
                self.assertIn("New, TLSv1.", first)
                again = await asyncio.to_thread(openssl_client, self.server.port, version, "-sess_in", sess.name)
                self.assertIn("Reused, TLSv1.", again, version)
        await self.until_stat("tls_resumed", 2)

    async def test_hello_retry_request_and_a_0rtt_attempt_are_served(self):
        # X448 first: we do not take it (X25519, P-256, P-384), so a HelloRetryRequest moves the
        # client to P-256; the second ClientHello and the CCS records must not upset the counts.
        out = await asyncio.to_thread(openssl_client, self.server.port, "-tls1_3", "-groups", "X448:P-256")
        self.assertIn("New, TLSv1.3", out)
        self.assertRegex(out, "Server Temp Key: ECDH, (P-256|prime256v1)")
        self.assertIn('{"status":"ok"}', out)
        # Our tickets allow no early data: s_client resumes and keeps its request for 1-RTT.
        with tempfile.NamedTemporaryFile() as sess, tempfile.NamedTemporaryFile() as early:
            early.write(HEALTHZ)
            early.flush()
            await asyncio.to_thread(openssl_client, self.server.port, "-tls1_3", "-sess_out", sess.name)
            again = await asyncio.to_thread(openssl_client, self.server.port, "-tls1_3", "-sess_in", sess.name,
                                            "-early_data", early.name)
            self.assertIn("Reused, TLSv1.3", again)
            self.assertNotIn("Early data was accepted", again)
            self.assertIn('{"status":"ok"}', again)
        stats = self.stats()
        self.assertEqual(stats.get("tls_record_failures", 0), 0)

    async def test_max_fragment_length_client_gets_the_demo_page(self):
        # A small client (RFC 6066 max_fragment_length 512): the page, several KB, must come in
        # records of at most 512 bytes, or the client refuses the first one (record_overflow).
        get = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        out = await asyncio.to_thread(openssl_client, self.server.port, "-tls1_3", "-maxfraglen", "512",
                                      "-ign_eof", stdin=get)
        self.assertIn("HTTP/1.1 200", out)
        self.assertIn("</html>", out)
        self.assertNotIn("record overflow", out)
        self.assertEqual(self.stats().get("tls_record_failures", 0), 0)

    async def test_tls13_key_update_requested_by_the_client_keeps_the_connection(self):
        def run():
            argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{self.server.port}", "-CAfile",
                    os.path.join(test_certs(), "ca.pem")]
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            p.stdin.write(b"K\n")  # s_client: KeyUpdate, update_requested (the server must answer with its own)
            p.stdin.flush()
            time.sleep(0.5 * SLOW)
            p.stdin.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            p.stdin.flush()
            time.sleep(0.5 * SLOW)
            return p.communicate(timeout=10 * SLOW)[0].decode("utf-8", "replace")
        out = await asyncio.to_thread(run)
        self.assertIn("KEYUPDATE", out)
        self.assertIn('{"status":"ok"}', out)
        if self.own_records:
            await self.until_stat("tls_key_updates", 1)

    async def test_tls12_renegotiation_is_refused(self):
        out = await asyncio.to_thread(openssl_client, self.server.port, "-tls1_2", stdin=b"R\n")
        self.assertIn("RENEGOTIATING", out)
        self.assertIn("no renegotiation", out)

    async def test_slow_reader_gets_every_byte_in_order(self):
        # More than the socket buffers hold, to a reader with a small window that pauses: the
        # server's record writes block (WANT_WRITE) again and again, and every retry must pass
        # the same bytes for the stream to stay intact.
        sender = await self.login("sender")
        reader = await self.raw(rcvbuf=4096)
        await reader.upgrade()
        await reader.login("slow")
        messages = [f"{i:05d}:" + chr(97 + i % 26) * (20000 + 37 * i) for i in range(300)]
        for m in messages:
            await sender.send("slow:" + m)
        got = []
        while len(got) < len(messages):
            f = await reader.read_frame(self.PROMPT)
            got.append(f.payload.decode())
            if len(got) % 30 == 0:
                await asyncio.sleep(0.05)
        self.assertEqual(got, messages)


    def _half_closed_request(self, with_close_notify):
        """GET /healthz, then (close_notify and) FIN at once; everything the server sends back."""
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = client_ssl_context().wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5 * SLOW)
        self.addCleanup(sock.close)
        def pump():  # one round: our pending bytes out, the server's in
            if outgoing.pending:
                sock.sendall(outgoing.read())
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pump()
                data = sock.recv(65536)
                if not data:
                    self.fail("EOF during the handshake")
                incoming.write(data)
        tls.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        if with_close_notify:
            try:
                tls.unwrap()  # writes close_notify, then would wait for the server's
            except ssl.SSLWantReadError:
                pass
        pump()
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while data := sock.recv(65536):
            incoming.write(data)
            try:
                while chunk := tls.read(65536):
                    answer += chunk
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
        incoming.write_eof()
        return answer

    async def test_half_closed_request_is_answered_after_fin(self):
        if not self.own_records:
            self.skipTest("OpenSSL's record layer ends the connection at the client's EOF")
        for with_close_notify in (False, True):
            answer = await asyncio.to_thread(self._half_closed_request, with_close_notify)
            self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK\r\n"), (with_close_notify, answer))
            self.assertTrue(answer.endswith(b'{"status":"ok"}\n'), answer)


class TlsServesOnOpenSslRecords(TlsServes):
    """The same, with --tls-records openssl: the fallback keeps working."""
    server_options = {**TlsServes.server_options, "--tls-records": "openssl"}
    own_records = False


class TlsRefuses(TlsCase):
    server_options = {"--stats-interval": "0.1", "--handshake-timeout": "1"}

    async def test_plain_http_gets_400_in_clear_and_is_closed(self):
        reader, writer = await self._plain()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = await self.read_to_eof(reader)
        self.assertTrue(data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), data)
        self.assertIn(b"use https:// or wss://", data)
        await self.until_stat("tls_plain_http", 1)

    async def test_garbage_client_hello_is_closed_and_counted(self):
        hello = bytearray(client_hello())
        hello[60:120] = os.urandom(60)  # the record header is fine, the handshake inside is not
        hello[9] ^= 0xFF               # ... nor its version
        reader, writer = await self._plain()
        writer.write(bytes(hello))
        await self.read_to_eof(reader)
        await self.until_stat("tls_failed", 1)

    async def test_random_bytes_are_closed_and_counted(self):
        reader, writer = await self._plain()
        writer.write(os.urandom(3000))
        await self.read_to_eof(reader)
        await self.until_stat("tls_failed", 1)

    async def test_stalled_handshake_is_closed_at_handshake_timeout(self):
        hello = client_hello()
        t0 = time.monotonic()
        reader, writer = await self._plain()
        writer.write(hello[:len(hello) // 2])  # half a ClientHello, then nothing
        await self.read_to_eof(reader, timeout=5 * SLOW)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 3.0 * SLOW)
        await self.until_stat("handshake_timeout", 1)

    async def test_silent_tcp_connection_is_closed_at_handshake_timeout(self):
        t0 = time.monotonic()
        reader, _ = await self._plain()
        await self.read_to_eof(reader, timeout=5 * SLOW)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)

    async def test_client_closing_mid_handshake_is_counted_and_freed(self):
        reader, writer = await self._plain()
        writer.write(client_hello())
        await asyncio.wait_for(reader.read(100), self.PROMPT)  # the server's flight has begun
        writer.transport.abort()
        await self.until_stat("tls_aborted", 1)
        deadline = time.monotonic() + self.PROMPT
        while self.stats().get("conns", 1) != 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.assertEqual(self.stats().get("conns"), 0)

    async def test_no_fd_leak_after_good_and_bad_connections(self):
        fd_dir = f"/proc/{self.server.pid}/fd"
        before = len(os.listdir(fd_dir))
        hello = client_hello()
        for i in range(10):
            ws = await self.login(f"u{i}")
            await ws.close()
            reader, writer = await self._plain()
            writer.write([b"GET / HTTP/1.1\r\n\r\n", os.urandom(500), hello[:30], hello][i % 4])
            if i % 4 == 3:
                await asyncio.wait_for(reader.read(100), self.PROMPT)
            writer.transport.abort()
        deadline = time.monotonic() + 3 * self.PROMPT
        while len(os.listdir(fd_dir)) != before and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        self.assertEqual(len(os.listdir(fd_dir)), before)


@unittest.skipIf(TLS, "runs once, in the plaintext pass")
class TlsStartErrors(unittest.TestCase):
    """A bad certificate or key is an exit 2 with a reason, never a plaintext listener."""

    def start(self, *args):
        r = subprocess.run([BINARY, "--host", "127.0.0.1", "--port", "0", "--api-listen", "off", *args],
                           capture_output=True, timeout=10 * SLOW)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertNotIn("listening on", out)
        return r.returncode, out

    def setUp(self):
        self.d = test_certs()

    def path(self, name):
        return os.path.join(self.d, name)

    def test_missing_certificate_file(self):
        code, out = self.start("--tls-cert", self.path("nope.pem"), "--tls-key", self.path("ec.key"))
        self.assertEqual(code, 2)
        self.assertIn("nope.pem: cannot read it: No such file or directory", out)

    def test_key_that_does_not_match_the_certificate(self):
        code, out = self.start("--tls-cert", self.path("ec.pem"), "--tls-key", self.path("rsa.key"))
        self.assertEqual(code, 2)
        self.assertIn("does not match the certificate", out)

    def test_unreadable_key(self):
        code, out = self.start("--tls-cert", self.path("ec.pem"), "--tls-key", self.d)  # a directory
        self.assertEqual(code, 2)
        self.assertIn("--tls-key", out)

    def test_certificate_file_that_is_not_pem(self):
        code, out = self.start("--tls-cert", self.path("ec.key"), "--tls-key", self.path("ec.key"))
        self.assertEqual(code, 2)
        self.assertIn("not a PEM certificate", out)

    def test_cert_without_key_and_api_tls_without_cert(self):
        self.assertEqual(self.start("--tls-cert", self.path("ec.pem"))[0], 2)
        self.assertEqual(self.start("--api-tls")[0], 2)


class TlsReload(TlsCase):
    def setUp(self):
        # The server reads its own copies, which the test rewrites.
        self.dir = tempfile.mkdtemp(prefix="wspush-reload-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.cert, self.key = os.path.join(self.dir, "c.pem"), os.path.join(self.dir, "k.pem")
        self.install("ec")
        self.server_options = {"--stats-interval": "0.1", "--tls-cert": self.cert, "--tls-key": self.key}

    def install(self, kind):
        shutil.copy(os.path.join(test_certs(), kind + ".pem"), self.cert + ".tmp")
        shutil.copy(os.path.join(test_certs(), kind + ".key"), self.key + ".tmp")
        os.replace(self.cert + ".tmp", self.cert)
        os.replace(self.key + ".tmp", self.key)

    async def leaf_cn(self):
        _, writer = await asyncio.open_connection("127.0.0.1", self.server.port, ssl=client_ssl_context())
        cert = writer.get_extra_info("peercert")
        writer.close()
        return dict(x[0] for x in cert["subject"])["commonName"]

    async def test_sighup_swaps_certificate_keeps_connections_and_tickets(self):
        ws = await self.login("alice")
        self.assertEqual(await self.leaf_cn(), "localhost")
        with tempfile.NamedTemporaryFile() as sess:
            await asyncio.to_thread(openssl_client, self.server.port, "-sess_out", sess.name)
            self.install("other")
            self.server.signal(signal.SIGHUP)
            await self.until_stat("tls_reloads", 1)
            self.assertEqual(await self.leaf_cn(), "other.localhost")
            await self.assertStillOpen(ws, "alice")
            resumed = await asyncio.to_thread(openssl_client, self.server.port, "-sess_in", sess.name)
            self.assertIn("Reused, TLSv1.3", resumed)  # ticket keys carried over

    async def test_failed_reload_keeps_the_old_certificate_and_says_why(self):
        with open(self.key, "w") as f:
            f.write("not a key\n")
        self.server.signal(signal.SIGHUP)
        await self.until_stat("tls_reload_failures", 1)
        self.assertIn(b"TLS reload failed, the previous certificate stays in use", self.server.log())
        self.assertEqual(await self.leaf_cn(), "localhost")
        await self.login("bob")


class TicketKeyRotation(TlsCase):
    """--tls-ticket-rotate 1: keys rotate by the loop's clock with no connection at all, and a
    ticket older than two intervals gets a full handshake. (The client, told the ticket lives
    1 s, does not even offer it then: the server-side refusal of a retired key is covered by
    tests/engine/ticket_keys_test.cpp, whose clock the test moves.)"""
    server_options = {"--stats-interval": "0.1", "--tls-ticket-rotate": "1"}

    async def test_keys_rotate_without_connections_and_old_tickets_do_not_resume(self):
        self.assertIn(b"session-ticket keys rotate every 1 s", self.server.log())
        await self.until_stat("tls_ticket_key_rotations", 2, timeout=10 * SLOW)
        self.assertEqual(self.stats()["tls_handshakes"], 0)
        with tempfile.NamedTemporaryFile() as sess:
            first = await asyncio.to_thread(openssl_client, self.server.port, "-sess_out", sess.name)
            self.assertIn("New, TLSv1.3", first)
            start = self.stats()["tls_ticket_key_rotations"]
            # +3: the stats line may be 0.1 s behind the key that sealed the ticket
            await self.until_stat("tls_ticket_key_rotations", start + 3, timeout=10 * SLOW)
            late = await asyncio.to_thread(openssl_client, self.server.port, "-sess_in", sess.name)
            self.assertIn("New, TLSv1.3", late)  # a full handshake
            await self.until_stat("tls_handshakes", 2)
            self.assertEqual(self.stats()["tls_resumed"], 0)


class TicketRotateIsDecimal(TlsCase):
    """A leading zero does not make the interval octal: CLI11 converts integers with
    strtoull(base 0), so '0600' was 384 s and '09' was refused with CLI11's own message."""
    server_options = {"--tls-ticket-rotate": "0600"}

    async def test_leading_zero_is_read_as_decimal(self):
        self.assertIn(b"session-ticket keys rotate every 600 s", self.server.log())


@unittest.skipIf(TLS, "runs once, in the plaintext pass")
class ReadmeTlsSection(unittest.TestCase):
    """README.md's "## TLS" commands, run as written (ports and the certificate directory
    swapped for free ones), print what the README shows."""

    def blocks(self):
        text = open(os.path.join(os.path.dirname(BINARY), "..", "README.md"), encoding="utf-8").read()
        start = text.index("\n## TLS\n")
        found = re.findall(r"^```(\w*)\n(.*?)^```$", text[start:text.index("\n### Behind a proxy instead\n")],
                           re.M | re.S)
        return [body.rstrip("\n").split("\n") for _, body in found]

    def test_tls_section_commands_print_what_it_shows(self):
        start, log_shown, commands = self.blocks()[:3]
        certs = tempfile.mkdtemp(prefix="wspush-readme-certs-")
        self.addCleanup(shutil.rmtree, certs, True)
        ours = lambda line: line.split("#")[0].strip().replace("/tmp/wspush-certs", certs)
        root = os.path.abspath(os.path.join(os.path.dirname(BINARY), ".."))
        self.assertTrue(start[0].startswith("tests/tls/make_test_certs.sh /tmp/wspush-certs"), start)
        subprocess.run(ours(start[0]), shell=True, cwd=root, check=True)
        argv = ours(start[1]).split()
        self.assertEqual(argv[:1], ["build/wspush"])
        server = WspushServer(dict(zip(argv[1::2], argv[2::2])) | {"--host": "127.0.0.1", "--api-listen": "127.0.0.1:0"},
                              tls=True)
        server.argv[0] = BINARY
        server.start()
        self.addCleanup(server.stop)
        log = server.log().decode()
        for shown in log_shown:  # the same lines, but for the time stamps, dates and ports
            text = re.sub(r"expires .*GMT", "EXPIRES", shown.split("info  ", 1)[1])
            text = re.sub(r"[0-9.]+:123[45]", "ADDRESS", text)
            pattern = re.escape(text).replace("EXPIRES", "expires .* GMT").replace("ADDRESS", r"[0-9.]+:\d+")
            self.assertRegex(log, "info  " + pattern)
        port = str(server.port)
        for line in commands:
            if line.startswith("# -> "):
                self.assertEqual(out.strip(), line[5:], cmd)
            elif line.startswith("# wspush logs: "):
                deadline = time.monotonic() + 5 * SLOW
                want = line[len("# wspush logs: "):].split("...")[0]
                while want not in server.log().decode() and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertIn(want.replace("/tmp/wspush-certs", certs), server.log().decode())
            elif line and not line.startswith("#"):
                cmd = ours(line).replace(":1234", ":" + port).replace("$(pidof wspush)", str(server.pid))
                out = subprocess.run(cmd + " 2>/dev/null", shell=True, cwd=root, capture_output=True,
                                     timeout=10 * SLOW).stdout.decode()


@unittest.skipIf(TLS, "runs once, in the plaintext pass")
class ApiOverTls(WspushTestCase):
    server_tls = True

    def setUp(self):
        self.server_options = {"--api-listen": "127.0.0.1:0", "--api-tls": None, "--api-key": "k3y"}

    async def test_push_over_https_with_the_key(self):
        m = re.search(rb"listening on \S+:(\d+) \(api, key required, tls\)", self.server.log())
        self.assertIsNotNone(m, self.server.log())
        ws = await self.login("alice")
        conn = http.client.HTTPSConnection("127.0.0.1", int(m.group(1)), context=client_ssl_context(),
                                           timeout=self.PROMPT)
        body = json.dumps({"uid": "alice", "message": "over https"})
        conn.request("POST", "/v1/push", body, {"Authorization": "Bearer k3y", "Content-Type": "application/json"})
        r = conn.getresponse()
        self.assertEqual(r.status, 200, r.read())
        r.read()
        self.assertEqual(await self.recv(ws), "over https")
        conn.request("POST", "/v1/push", body, {"Authorization": "Bearer wrong"})
        r = conn.getresponse()
        self.assertEqual(r.status, 401)
        r.read()
        conn.request("GET", "/metrics", headers={"Authorization": "Bearer k3y"})
        r = conn.getresponse()
        metrics = r.read().decode()
        self.assertEqual(r.status, 200)
        self.assertRegex(metrics, r"(?m)^wspush_tls_handshakes_total [1-9]")  # the wss client and this one
        self.assertIn('wspush_tls_reloads_total{result="failed"} 0', metrics)
        self.assertIn("wspush_tls_ticket_key_rotations_total 0", metrics)  # the first hour
        self.assertIn('wspush_tls_tickets_total{outcome="refused"} 0', metrics)
        conn.close()


@unittest.skipIf(TLS, "runs once, in the plaintext pass")
class RsaCertificate(WspushTestCase):
    server_tls = True

    def setUp(self):
        self.server_options = tls_options("rsa")

    async def test_wss_with_rsa_2048_chain(self):
        ws = await self.login("alice")
        self.assertEqual(ws.transport.get_extra_info("ssl_object").version(), "TLSv1.3")
        await self.assertStillOpen(ws, "alice")


if __name__ == "__main__":
    unittest.main()

"""HTTP on both ports: every request shape two HTTP implementations could frame differently
(request smuggling) gets 400 (501 for a coding we do not decode) and the connection closes;
what one request can make the server hold is bounded in total, trailers included."""
import asyncio
import os
import re
import select
import socket
import time
import unittest

from e2ecase import WspushTestCase
from wspush_server import SLOW

API_KEY = "strict-key"
API_LISTENING = re.compile(rb"listening on \S+:(\d+) \(api")


def post(headers, body=b"", version=b"1.1", path=b"/v1/push"):
    return (b"POST " + path + b" HTTP/" + version + b"\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
            API_KEY.encode() + b"\r\n" + headers + b"\r\n" + body)


# name -> (headers, body, status). The body is what a front proxy reading the other framing
# would take for part of the next request.
SMUGGLING = {
    "two_different_content_lengths": (b"Content-Length: 5\r\nContent-Length: 40\r\n", b"hello", 400),
    "two_equal_content_lengths": (b"Content-Length: 5\r\nContent-Length: 5\r\n", b"hello", 400),
    "content_length_list": (b"Content-Length: 5, 5\r\n", b"hello", 400),
    "content_length_with_sign": (b"Content-Length: +5\r\n", b"hello", 400),
    "empty_content_length": (b"Content-Length: \r\n", b"", 400),
    "content_length_and_chunked": (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n", 400),
    "chunked_and_content_length": (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n", 400),
    "chunked_not_last": (b"Transfer-Encoding: chunked, gzip\r\n", b"0\r\n\r\n", 400),
    "identity_coding": (b"Transfer-Encoding: identity\r\n", b"hello", 400),
    "chunked_twice_in_two_fields": (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n", 400),
    "chunked_twice_in_one_list": (b"Transfer-Encoding: chunked, chunked\r\n", b"0\r\n\r\n", 400),
    "empty_transfer_encoding": (b"Transfer-Encoding: \r\n", b"0\r\n\r\n", 400),
    "unknown_coding_then_chunked": (b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n", 501),
}
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class Exchange:
    """Blocking helpers, run in a thread: raw HTTP bytes in, (status, all bytes read) out."""

    @staticmethod
    def send_and_read_to_eof(port, data, timeout):
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(data)
            out = b""
            try:
                while chunk := s.recv(65536):
                    out += chunk
            except ConnectionResetError:
                pass
            return out


async def api_port_of(server):
    """The API port, logged just after the WebSocket one (which is what start() waits for)."""
    for _ in range(int(500 * SLOW)):
        m = API_LISTENING.search(server.log())
        if m:
            return int(m.group(1))
        await asyncio.sleep(0.01)
    raise AssertionError("no 'listening on ... (api' line")


def status_of(data):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    return int(m.group(1)) if m else None


class Strictness(WspushTestCase):
    server_options = {"--api-listen": "127.0.0.1:0", "--api-key": API_KEY}

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.api_port = await api_port_of(self.server)

    async def exchange(self, port, data):
        """All bytes the server sends back before it closes (raises on a timeout: the
        server must close after refusing)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, Exchange.send_and_read_to_eof, port, data, self.PROMPT)

    async def check_refused(self, port, name, headers, body, status, path):
        data = await self.exchange(port, post(headers, body + SMUGGLED, path=path))
        self.assertEqual(status_of(data), status, f"{name}: {data[:200]!r}")
        self.assertEqual(data.count(b"HTTP/1.1 "), 1, f"{name}: the smuggled request was answered too")

    async def test_each_smuggling_shape_gets_400_and_close_on_the_api_port(self):
        for name, (headers, body, status) in SMUGGLING.items():
            await self.check_refused(self.api_port, name, headers, body, status, b"/v1/push")

    async def test_each_smuggling_shape_gets_400_and_close_on_the_websocket_port(self):
        for name, (headers, body, status) in SMUGGLING.items():
            await self.check_refused(self.server.port, name, headers, body, status, b"/")

    async def test_transfer_encoding_in_http_1_0_gets_400_and_close(self):
        for port in (self.api_port, self.server.port):
            data = await self.exchange(port, post(b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n" + SMUGGLED,
                                                  version=b"1.0"))
            self.assertEqual(status_of(data), 400, data[:200])
            self.assertEqual(data.count(b"HTTP/1.1 "), 1)

    async def test_an_upgrade_request_with_a_body_gets_400(self):
        request = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   b"Content-Length: 5\r\n\r\nhello")
        data = await self.exchange(self.server.port, request)
        self.assertEqual(status_of(data), 400, data[:200])

    async def test_a_well_framed_chunked_push_still_works(self):
        body = b'{"uid":"nobody","message":"x"}'
        data = await self.exchange(self.api_port, post(b"Transfer-Encoding: chunked\r\nConnection: close\r\n",
                                                       b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)))
        self.assertEqual(status_of(data), 200, data[:300])

    async def test_the_api_wants_exactly_one_host_in_http_1_1(self):
        """RFC 9112 3.2: 400 for an HTTP/1.1 request without Host or with two; HTTP/1.0 needs none."""
        alice = await self.login("alice")
        body = b'{"uid":"alice","message":"m"}'
        tail = (b"Authorization: Bearer " + API_KEY.encode() + b"\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body)
        cases = [(b"1.1", b"", 400, b"HTTP/1.1 requires a Host header"),
                 (b"1.1", b"Host: 127.0.0.1\r\nHost: evil.example\r\n", 400, b"more than one Host header"),
                 (b"1.0", b"Host: a\r\nhost: b\r\n", 400, b"more than one Host header")]
        for version, hosts, status, error in cases:
            data = await self.exchange(self.api_port, b"POST /v1/push HTTP/" + version + b"\r\n" + hosts + tail)
            self.assertEqual(status_of(data), status, f"{version} {hosts}: {data[:200]!r}")
            self.assertIn(error, data)
        await self.assertReceivesNothing(alice)
        data = await self.exchange(self.api_port, b"POST /v1/push HTTP/1.0\r\n" + tail)
        self.assertEqual(status_of(data), 200, data[:200])
        self.assertEqual(await self.recv(alice), "m")

    async def test_the_websocket_port_wants_exactly_one_host_in_http_1_1_too(self):
        for head, status in ((b"GET / HTTP/1.1\r\n", 400),
                             (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: other.example\r\n", 400),
                             (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n", 400),
                             (b"GET / HTTP/1.0\r\n", 200)):
            data = await self.exchange(self.server.port, head + b"Connection: close\r\n\r\n")
            self.assertEqual(status_of(data), status, f"{head!r}: {data[:200]!r}")
        data = await self.exchange(self.api_port, post(b"Connection: close\r\n", path=b"/metrics").replace(
            b"POST", b"GET"))
        self.assertRegex(data.decode(), r'wspush_refused_total\{reason="bad_request"\} [3-9]')

    async def test_refusals_are_counted(self):
        await self.check_refused(self.api_port, "dup", *SMUGGLING["two_different_content_lengths"], b"/v1/push")
        data = await self.exchange(self.api_port, post(b"Connection: close\r\n", path=b"/metrics").replace(
            b"POST", b"GET"))
        self.assertRegex(data.decode(), r'wspush_refused_total\{reason="bad_request"\} [1-9]')


class RequestBounds(WspushTestCase):
    """The issue's attack: 'POST /' chunked, '0', then endless 8 KB trailer lines, before any
    authentication. It once cost 1 GiB of server memory until a timeout."""
    server_options = {"--api-listen": "127.0.0.1:0", "--api-key": API_KEY}
    # ASan's quarantine holds freed memory back: RSS would track bytes freed, not bytes held.
    server_env = {"ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0").lstrip(":")}
    GIB = 1 << 30
    RSS_GROWTH_LIMIT_KIB = 16 * 1024

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.api_port = await api_port_of(self.server)

    def flood(self, port, head, line):
        """Sends head, then `line` over and over (up to 1 GiB) until the server answers.
        Returns (bytes sent before the answer, the answer's first bytes, peak RSS growth KiB)."""
        base = self.server.rss_kib()
        peak = base
        sent = 0
        block = line * max(1, 65536 // len(line))
        with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW) as s:
            s.sendall(head)
            answer = b""
            while sent < self.GIB:
                readable, writable, _ = select.select([s], [s], [], 5 * SLOW)
                if readable:
                    try:
                        answer = s.recv(4096)
                    except ConnectionResetError:
                        pass
                    break
                if not writable:
                    break
                try:
                    sent += s.send(block)
                except (BrokenPipeError, ConnectionResetError):
                    break
                if sent % (1 << 20) < len(block):
                    peak = max(peak, self.server.rss_kib())
            peak = max(peak, self.server.rss_kib())
        return sent, answer, peak - base

    @staticmethod
    def in_flight_limit(server_bound):
        """The most a flooding client can have sent when it sees the answer: what the server may
        read (server_bound) plus what the kernel can hold between the two sockets (the sender's
        and the receiver's largest autotuned buffers). Without the bounds it is about 1 GiB."""
        def max_of(path):
            with open(path) as f:
                return int(f.read().split()[2])
        return server_bound + max_of("/proc/sys/net/ipv4/tcp_wmem") + max_of("/proc/sys/net/ipv4/tcp_rmem")

    async def run_flood(self, port, head, line):
        return await asyncio.get_running_loop().run_in_executor(None, self.flood, port, head, line)

    async def test_endless_trailers_on_the_websocket_port_get_an_early_answer_and_cost_no_memory(self):
        head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        sent, answer, growth = await self.run_flood(self.server.port, head, b"X-T: " + b"t" * 8185 + b"\r\n")
        self.assertIn(status_of(answer), (413, 431), answer[:200])
        self.assertLess(sent, self.in_flight_limit(64 << 10), "answered only after the client flooded")
        self.assertLess(growth, self.RSS_GROWTH_LIMIT_KIB, f"RSS grew {growth} KiB")

    async def test_endless_trailers_on_the_api_port_get_an_early_answer_and_cost_no_memory(self):
        head = post(b"Transfer-Encoding: chunked\r\n", b"0\r\n")
        sent, answer, growth = await self.run_flood(self.api_port, head, b"X-T: 1234567890\r\n")
        self.assertEqual(status_of(answer), 431, answer[:200])
        self.assertLess(sent, self.in_flight_limit(64 << 10))
        self.assertLess(growth, self.RSS_GROWTH_LIMIT_KIB, f"RSS grew {growth} KiB")

    async def test_chunk_framing_without_data_is_bounded_too(self):
        # One byte of data per chunk behind a 1000-byte extension: 1 MiB of body would be a
        # gigabyte on the wire. Refused once the request passes head + 2 x body + 8 KiB.
        head = post(b"Transfer-Encoding: chunked\r\n")
        sent, answer, growth = await self.run_flood(self.api_port, head, b"1;" + b"e" * 1000 + b"\r\nx\r\n")
        self.assertEqual(status_of(answer), 413, answer[:200])
        self.assertLess(sent, self.in_flight_limit(3 << 20))  # head + 2 x 1 MiB + 8 KiB, rounded up
        self.assertLess(growth, self.RSS_GROWTH_LIMIT_KIB, f"RSS grew {growth} KiB")

    async def test_a_body_on_the_websocket_port_over_its_limit_gets_413_before_it_is_sent(self):
        data = await asyncio.get_running_loop().run_in_executor(
            None, Exchange.send_and_read_to_eof, self.server.port,
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n", self.PROMPT)
        self.assertEqual(status_of(data), 413, data[:200])


if __name__ == "__main__":
    unittest.main()

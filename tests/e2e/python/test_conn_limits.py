"""Connection limits on the WebSocket port: plain HTTP counts toward --max-conns (idle
keep-alive connections give way to new clients and time out on their own), a per-address
limit, and the Origin allowlist. Each refusal has its status and its counter in /metrics."""
import asyncio
import re
import subprocess
import time
import unittest

import websockets
import websockets.exceptions

from e2ecase import WspushTestCase
from test_http_strictness import api_port_of
from wspush_server import BINARY, SLOW

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"  # keep-alive (HTTP/1.1 default)


class LimitsCase(WspushTestCase):
    """The API on an ephemeral loopback port without a key, for /metrics."""

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.api_port = await api_port_of(self.server)

    async def metric(self, name, labels=""):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.api_port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = (await asyncio.wait_for(reader.read(), self.PROMPT)).decode()
        writer.close()
        m = re.search(r"^" + re.escape(name + labels) + r" (\d+)$", data, re.M)
        self.assertIsNotNone(m, f"{name}{labels} not in /metrics")
        return int(m.group(1))

    async def idle_http(self):
        """A raw keep-alive connection that got its /healthz answer and now sits idle."""
        client = await self.raw()
        await client.send(HEALTHZ)
        self.assertEqual((await client.read_http_response(self.PROMPT)).status, 200)
        return client

    async def assertRefused(self, status, **kwargs):
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
            await self.connect(**kwargs)
        self.assertEqual(refused.exception.status_code, status)


class IdleHttpAndMaxConns(LimitsCase):
    server_options = {"--max-conns": 10, "--http-idle-timeout": 30, "--api-listen": "127.0.0.1:0"}

    async def test_idle_keep_alive_connections_give_their_slots_to_websocket_clients(self):
        idle = [await self.idle_http() for _ in range(10)]  # every slot
        for i in range(5):
            await self.login(f"u{i}")
        # The five oldest idle connections were closed to make room, the rest still stand.
        for client in idle[:5]:
            await client.wait_closed_by_peer(self.PROMPT)
        self.assertEqual(await self.metric("wspush_http_idle_evicted_total"), 5)

    async def test_plain_http_is_refused_503_when_websockets_hold_every_slot(self):
        for i in range(10):
            await self.login(f"u{i}")
        client = await self.raw()
        await client.send(HEALTHZ)
        resp = await client.read_http_response(self.PROMPT)
        self.assertEqual(resp.status, 503)
        await client.wait_closed_by_peer(self.PROMPT)
        await self.assertRefused(503)
        self.assertGreaterEqual(await self.metric("wspush_refused_total", '{reason="max_conns"}'), 2)

    async def test_connections_that_never_send_a_request_are_not_evicted_but_time_out(self):
        silent = [await self.raw() for _ in range(10)]
        await asyncio.sleep(0.2)
        await self.assertRefused(503)  # nothing idle to evict: only requests in progress
        del silent


class HttpIdleTimeout(LimitsCase):
    server_options = {"--http-idle-timeout": 0.5, "--api-listen": "127.0.0.1:0"}

    async def test_an_idle_keep_alive_connection_is_closed_at_its_idle_timeout(self):
        client = await self.idle_http()
        started = time.monotonic()
        await client.wait_closed_by_peer(3.0 * SLOW)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)

    async def test_a_connection_that_keeps_asking_is_not_closed(self):
        client = await self.idle_http()
        for _ in range(4):
            await asyncio.sleep(0.3)
            await client.send(HEALTHZ)
            self.assertEqual((await client.read_http_response(self.PROMPT)).status, 200)


class MaxConnsPerIp(LimitsCase):
    server_options = {"--max-conns-per-ip": 5, "--api-listen": "127.0.0.1:0"}

    async def test_connections_beyond_the_per_address_limit_get_429(self):
        first = await self.login("a")
        for uid in "bcd":
            await self.login(uid)
        await self.idle_http()  # plain HTTP counts too: 5
        await self.assertRefused(429)
        self.assertEqual(await self.metric("wspush_refused_total", '{reason="max_conns_per_ip"}'), 1)
        await self.assertStillOpen(first, "a")

    async def test_a_closed_connection_gives_its_place_back(self):
        clients = [await self.login(f"u{i}") for i in range(5)]
        await self.assertRefused(429)
        await clients[0].close()
        for _ in range(int(40 * SLOW)):
            try:
                await self.login("newcomer")
                return
            except websockets.exceptions.InvalidStatusCode as e:
                self.assertEqual(e.status_code, 429)
                await asyncio.sleep(0.05)
        self.fail("the place of a closed connection was not given back")

    async def test_the_answer_is_429_with_retry_after(self):
        for i in range(5):
            await self.connect()
        client = await self.raw()
        await client.send(HEALTHZ)
        resp = await client.read_http_response(self.PROMPT)
        self.assertEqual(resp.status, 429)
        self.assertIn("retry-after", resp.headers)


class AllowedOrigins(LimitsCase):
    server_options = {"--allowed-origins": "https://app.example.com, https://*.example.org",
                      "--api-listen": "127.0.0.1:0"}

    async def test_a_listed_origin_is_accepted(self):
        ws = await self.connect(origin="https://app.example.com")
        await ws.send("alice")
        self.assertEqual(await self.recv(ws), "login success, your uid is alice")

    async def test_a_subdomain_matching_a_wildcard_is_accepted(self):
        await self.connect(origin="https://chat.eu.example.org")

    async def test_a_handshake_without_origin_is_accepted(self):
        await self.login("backend")  # not a browser: nothing to check

    async def test_other_origins_get_403(self):
        for origin in ("https://evil.example", "https://example.org", "http://app.example.com",
                       "https://app.example.com.evil.com", "https://app.example.com:8443", "null",
                       "https://evil.com#.example.org"):
            await self.assertRefused(403, origin=origin)
        self.assertEqual(await self.metric("wspush_refused_total", '{reason="origin"}'), 7)


class AllowedOriginsFlag(unittest.TestCase):
    def test_a_malformed_origin_list_stops_the_server_at_start(self):
        out = subprocess.run([BINARY, "--port", "0", "--api-listen", "off", "--allowed-origins", "app.example.com"],
                             capture_output=True, timeout=10 * SLOW)
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"is not an origin", out.stderr + out.stdout)


if __name__ == "__main__":
    unittest.main()

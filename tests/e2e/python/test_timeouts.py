"""Timers: half-finished handshakes and silent clients are closed, live ones are not."""
import asyncio
import signal
import time
import unittest

from e2ecase import WspushTestCase
from rawws import OP_CLOSE, OP_PING, OP_TEXT
from wspush_server import SLOW

GOING_AWAY = 1001


class HandshakeTimeout(WspushTestCase):
    server_options = {"--handshake-timeout": 0.5}

    async def test_half_sent_request_is_closed_after_handshake_timeout(self):
        client = await self.raw()
        await client.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        data = await client.wait_closed_by_peer(2.0 * SLOW)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)
        if data:  # an HTTP 408 before the close is allowed, nothing else
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data[:80])

    async def test_silent_tcp_connection_is_closed_after_handshake_timeout(self):
        client = await self.raw()
        data = await client.wait_closed_by_peer(2.0 * SLOW)
        if data:
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data[:80])

    async def test_upgraded_connection_outlives_handshake_timeout(self):
        alice = await self.login("alice")
        await asyncio.sleep(1.0)
        await self.assertStillOpen(alice, "alice")


class IdleTimeout(WspushTestCase):
    server_options = {"--ping-interval": 0.3, "--idle-timeout": 1}

    async def silent_raw_client(self):
        client = await self.raw()
        await client.upgrade()
        await client.login("silent")
        return client

    async def test_silent_client_receives_a_ping_first(self):
        client = await self.silent_raw_client()
        first = await client.read_frame(2.0 * SLOW)
        self.assertEqual(first.opcode, OP_PING, first)

    async def test_silent_client_is_closed_1001_idle_timeout(self):
        client = await self.silent_raw_client()
        started = time.monotonic()
        frames, close = await client.read_until_close(4.0 * SLOW)
        self.assertGreaterEqual(time.monotonic() - started, 0.8)
        self.assertEqual([f.opcode for f in frames if f.opcode != OP_PING], [])
        self.assertEqual((close.close_code(), close.close_reason()), (GOING_AWAY, "idle timeout"))

    async def test_silent_client_tcp_connection_is_closed(self):
        client = await self.silent_raw_client()
        await client.read_until_close(4.0 * SLOW)
        await client.wait_closed_by_peer(2.0 * SLOW)

    async def test_client_that_answers_pings_stays_open_past_idle_timeout(self):
        alice = await self.login("alice")  # websockets answers pings by itself
        await asyncio.sleep(2.5)
        await self.assertStillOpen(alice, "alice")

    async def test_client_that_only_receives_stays_open_past_idle_timeout(self):
        listener, talker = await self.login("listener"), await self.login("talker")
        for i in range(5):
            await talker.send(f"listener:{i}")
            self.assertEqual(await self.recv(listener), str(i))
            await asyncio.sleep(0.5)
        await self.assertStillOpen(listener, "listener")


class SigTerm(WspushTestCase):
    server_options = {"--shutdown-timeout": 2}

    async def test_sigterm_sends_close_1001_to_every_client(self):
        clients = [await self.login("alice"), await self.login("bob"), await self.login("bob"),
                   await self.connect()]  # the last is not logged in: it counts too
        self.server.signal(signal.SIGTERM)
        for ws in clients:
            await self.assertClosedWith(ws, GOING_AWAY)

    async def test_sigterm_exits_0_within_shutdown_timeout(self):
        await self.login("alice")
        await self.login("bob")
        self.server.signal(signal.SIGTERM)
        self.assertEqual(await self.server.wait_exit(2.0 + 1.0 * SLOW), 0, self.server.log_tail())

    async def test_sigterm_exits_0_even_if_a_client_never_answers_close(self):
        client = await self.raw()
        await client.upgrade()
        await client.login("mute")
        started = time.monotonic()
        self.server.signal(signal.SIGTERM)
        self.assertEqual(await self.server.wait_exit(2.0 + 1.0 * SLOW), 0, self.server.log_tail())
        self.assertLess(time.monotonic() - started, 2.0 + 1.0 * SLOW)

    async def test_sigint_sends_close_1001_and_exits_0(self):
        alice = await self.login("alice")
        self.server.signal(signal.SIGINT)
        await self.assertClosedWith(alice, GOING_AWAY)
        self.assertEqual(await self.server.wait_exit(2.0 + 1.0 * SLOW), 0, self.server.log_tail())

    async def test_sigterm_stops_accepting_new_connections(self):
        client = await self.raw()
        await client.upgrade()
        await client.login("mute")  # never answers the close, so shutdown lasts ~2 s
        self.server.signal(signal.SIGTERM)
        await asyncio.sleep(0.3)
        try:
            ws = await self.connect(open_timeout=1.0)
        except Exception:
            return  # refused, reset, 503 or no answer: all mean "not accepted"
        self.fail(f"a new connection was upgraded during shutdown: {ws}")


if __name__ == "__main__":
    unittest.main()

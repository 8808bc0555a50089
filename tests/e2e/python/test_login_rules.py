"""Which uids are refused, and what happens to a connection that never logs in."""
import asyncio
import time
import unittest

from e2ecase import WspushTestCase
from wspush_server import SLOW

POLICY_VIOLATION = 1008


class BadUid(WspushTestCase):
    server_options = {"--max-uid-len": 16}

    async def assertRefused(self, uid):
        ws = await self.connect()
        await ws.send(uid)
        reply = await self.recv(ws)
        self.assertIsInstance(reply, str)
        self.assertTrue(reply.startswith("error: "), reply)
        await self.assertClosedWith(ws, POLICY_VIOLATION)

    async def test_empty_uid_gets_error_then_close_1008(self):
        await self.assertRefused("")

    async def test_uid_with_colon_gets_error_then_close_1008(self):
        await self.assertRefused("a:b")

    async def test_uid_longer_than_max_uid_len_gets_error_then_close_1008(self):
        await self.assertRefused("u" * 17)

    async def test_uid_of_exactly_max_uid_len_is_accepted(self):
        uid = "u" * 16
        await self.login(uid)

    async def test_max_uid_len_counts_bytes_not_characters(self):
        await self.assertRefused("é" * 9)  # 9 characters, 18 bytes

    async def test_refused_uid_is_not_registered(self):
        alice = await self.login("alice")
        await self.assertRefused("x:y")
        await alice.send("x:y:z")  # to uid "x", who is not online
        await self.assertReceivesNothing(alice)


class LoginTimeout(WspushTestCase):
    server_options = {"--login-timeout": 0.5}

    async def test_connection_that_never_logs_in_is_closed_1008(self):
        ws = await self.connect()
        started = time.monotonic()
        await self.assertClosedWith(ws, POLICY_VIOLATION, timeout=3.0 * SLOW)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)

    async def test_connection_that_logs_in_in_time_stays_open(self):
        alice = await self.login("alice")
        await asyncio.sleep(1.0)
        await self.assertStillOpen(alice, "alice")


if __name__ == "__main__":
    unittest.main()

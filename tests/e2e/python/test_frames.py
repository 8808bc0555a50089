"""Frame-level rules of RFC 6455, probed with raw sockets where real clients refuse."""
import asyncio
import unittest

from e2ecase import WspushTestCase
from rawws import OP_BINARY, OP_PING, OP_PONG, OP_TEXT

PROTOCOL_ERROR, INVALID_PAYLOAD, MESSAGE_TOO_BIG = 1002, 1007, 1009


class ClientFrames(WspushTestCase):
    async def logged_in_raw(self, uid="raw"):
        client = await self.raw()
        await client.upgrade()
        await client.login(uid)
        return client

    async def test_unmasked_client_frame_is_closed_1002(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_TEXT, b"raw:hello", mask=False)
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), PROTOCOL_ERROR)

    async def test_connection_is_closed_after_protocol_error_close(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_TEXT, b"raw:hello", mask=False)
        await client.read_until_close(self.PROMPT)
        await client.wait_closed_by_peer(self.PROMPT)

    async def test_invalid_utf8_text_is_closed_1007(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_TEXT, b"raw:\xff\xfe")
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), INVALID_PAYLOAD)

    async def test_invalid_utf8_login_is_closed_1007(self):
        client = await self.raw()
        await client.upgrade()
        await client.send_frame(OP_TEXT, b"\xc3\x28")
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), INVALID_PAYLOAD)

    async def test_invalid_utf8_in_binary_frame_is_delivered_untouched(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_BINARY, b"raw:\xff\xfe")
        got = await client.read_frame(self.PROMPT)
        self.assertEqual((got.fin, got.opcode, got.payload), (True, OP_BINARY, b"\xff\xfe"))

    async def test_ping_is_answered_with_pong_echoing_payload(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_PING, b"abc")
        got = await client.read_frame(self.PROMPT)
        self.assertEqual((got.fin, got.opcode, got.payload), (True, OP_PONG, b"abc"))

    async def test_ping_before_login_is_answered_with_pong(self):
        client = await self.raw()
        await client.upgrade()
        await client.send_frame(OP_PING, b"early")
        got = await client.read_frame(self.PROMPT)
        self.assertEqual((got.opcode, got.payload), (OP_PONG, b"early"))

    async def test_websockets_client_ping_gets_pong(self):
        ws = await self.login("alice")
        pong = await ws.ping(b"e2e")
        await asyncio.wait_for(pong, self.PROMPT)

    async def test_ping_between_fragments_is_answered_and_message_reassembled(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_TEXT, b"raw:frag", fin=False)
        await client.send_frame(OP_PING, b"mid")
        await client.send_frame(0x0, b"mented", fin=True)
        pong = await client.read_frame(self.PROMPT)
        self.assertEqual((pong.opcode, pong.payload), (OP_PONG, b"mid"))
        got = await client.read_frame(self.PROMPT)
        self.assertEqual((got.fin, got.opcode, got.payload), (True, OP_TEXT, b"fragmented"))

    async def test_continuation_without_start_is_closed_1002(self):
        client = await self.logged_in_raw()
        await client.send_frame(0x0, b"orphan")
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), PROTOCOL_ERROR)


class MessageSizeLimit(WspushTestCase):
    server_options = {"--max-message": 1024}

    async def test_message_of_exactly_max_message_bytes_is_delivered(self):
        alice = await self.login("alice")
        body = "x" * (1024 - len("alice:"))
        await alice.send("alice:" + body)
        self.assertEqual(await self.recv(alice), body)

    async def test_message_over_max_message_is_closed_1009(self):
        alice = await self.login("alice")
        await alice.send("alice:" + "x" * 1019)  # 1025 bytes
        await self.assertClosedWith(alice, MESSAGE_TOO_BIG)

    async def test_fragmented_message_over_max_message_is_closed_1009(self):
        alice = await self.login("alice")
        await alice.send(["alice:" + "x" * 500, "y" * 500, "z" * 500])  # websockets fragments an iterable
        await self.assertClosedWith(alice, MESSAGE_TOO_BIG)


if __name__ == "__main__":
    unittest.main()

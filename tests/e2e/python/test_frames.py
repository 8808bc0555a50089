"""Frame-level rules of RFC 6455, probed with raw sockets where real clients refuse."""
import asyncio
import unittest

from e2ecase import WspushTestCase
from rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, close_payload, frame

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

    async def test_frame_arriving_one_byte_at_a_time_is_reassembled(self):
        client = await self.logged_in_raw()
        for byte in frame(OP_TEXT, b"raw:trickle"):
            await client.send(bytes([byte]))
            await asyncio.sleep(0.002)
        got = await client.read_frame(self.PROMPT)
        self.assertEqual((got.opcode, got.payload), (OP_TEXT, b"trickle"))

    async def test_several_frames_in_one_segment_are_all_handled_in_order(self):
        client = await self.raw()
        await client.upgrade()
        await client.send(frame(OP_TEXT, b"raw") + frame(OP_TEXT, b"raw:1") + frame(OP_TEXT, b"raw:2"))
        got = [(await client.read_frame(self.PROMPT)).payload for _ in range(3)]
        self.assertEqual(got, [b"login success, your uid is raw", b"1", b"2"])

    async def test_utf8_character_split_across_fragments_is_accepted(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_TEXT, b"raw:caf\xc3", fin=False)  # e-acute is c3 a9
        await client.send_frame(OP_CONT, b"\xa9", fin=True)
        got = await client.read_frame(self.PROMPT)
        self.assertEqual((got.opcode, got.payload), (OP_TEXT, "café".encode()))

    async def test_utf8_truncated_at_end_of_fragmented_message_is_closed_1007(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_TEXT, b"raw:caf", fin=False)
        await client.send_frame(OP_CONT, b"\xc3", fin=True)
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), INVALID_PAYLOAD)

    async def test_client_close_is_answered_with_close_and_tcp_close(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_CLOSE, close_payload(1000, b"bye"))
        got = await client.read_frame(self.PROMPT)
        self.assertEqual((got.opcode, got.close_code()), (OP_CLOSE, 1000))
        await client.wait_closed_by_peer(self.PROMPT)

    async def test_ping_with_payload_over_125_bytes_is_closed_1002(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_PING, b"p" * 126)
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), PROTOCOL_ERROR)

    async def test_fragmented_ping_is_closed_1002(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_PING, b"half", fin=False)
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), PROTOCOL_ERROR)

    async def test_reserved_bit_without_extension_is_closed_1002(self):
        client = await self.logged_in_raw()
        data = bytearray(frame(OP_TEXT, b"raw:rsv1"))
        data[0] |= 0x40  # RSV1: nothing was negotiated that would give it a meaning
        await client.send(bytes(data))
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), PROTOCOL_ERROR)

    async def test_unknown_opcode_is_closed_1002(self):
        client = await self.logged_in_raw()
        await client.send_frame(0x3, b"raw:what")
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), PROTOCOL_ERROR)

    async def test_new_message_inside_fragmented_message_is_closed_1002(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_TEXT, b"raw:first", fin=False)
        await client.send_frame(OP_TEXT, b"raw:second")
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), PROTOCOL_ERROR)

    async def test_close_with_one_byte_payload_is_closed_1002(self):
        client = await self.logged_in_raw()
        await client.send_frame(OP_CLOSE, b"\x03")
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), PROTOCOL_ERROR)

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

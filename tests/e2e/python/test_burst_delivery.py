"""Slow consumers are judged by what they fail to drain, not by what one loop pass queued.

Five 1 MB messages sent in one write reach the server in one read burst: before this was
fixed the engine queued all five to every receiver before writing any, counted 5 MB against
--max-backlog (4 MiB) and closed every receiver 1008. Now a frame that would pass the limit
is first offered to the socket, and only what the kernel could not take counts.
"""
import asyncio
import os
import subprocess
import unittest

from e2ecase import WspushTestCase
from rawws import OP_CLOSE, OP_TEXT, parse_frames
from wspush_server import BINARY, SLOW

POLICY_VIOLATION = 1008
MESSAGE = 1_000_000  # payload bytes; "all:" + MESSAGE stays under --max-message (1 MiB)
BURST = 5


def masked_frame(opcode, payload):
    """A client frame with a random mask, masked fast (int XOR, not a byte loop)."""
    key = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = (key * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big") if n else b""
    return head + key + body


class BurstToReaders(WspushTestCase):
    """Default --max-backlog (4 MiB): the burst is 5 MB per receiver."""
    TEST_LIMIT = 180.0 * SLOW

    async def raw_sender(self, uid):
        """A raw client (to send a burst in one write) that reads and drops what it receives
        (its own copies of "all:" messages), so that it is no slow consumer itself."""
        sender = await self.raw()
        await sender.upgrade()
        await sender.login(uid)

        async def discard():
            try:
                while await sender.reader.read(1 << 20):
                    pass
            except ConnectionError:
                pass
        task = asyncio.ensure_future(discard())
        self.addCleanup(task.cancel)
        return sender

    async def drain(self, ws, count):
        """Receives `count` messages of MESSAGE bytes; returns how many arrived."""
        got = 0
        while got < count:
            msg = await asyncio.wait_for(ws.recv(), 60.0 * SLOW)
            if len(msg) == MESSAGE:
                got += 1
        return got

    async def test_every_reader_gets_a_burst_of_five_1mb_broadcasts(self):
        receivers = [await self.login(f"r{i}", max_size=2 * MESSAGE) for i in range(200)]
        sender = await self.raw_sender("sender")
        payload = b"all:" + b"m" * MESSAGE
        await sender.send(b"".join(masked_frame(OP_TEXT, payload) for _ in range(BURST)))  # one write
        results = await asyncio.gather(*(self.drain(ws, BURST) for ws in receivers), return_exceptions=True)
        failed = [(i, r) for i, r in enumerate(results) if r != BURST]
        self.assertEqual(failed, [], f"{len(failed)} of 200 receivers did not get all {BURST} messages")
        for ws in receivers[:5]:
            self.assertIsNone(ws.close_code, ws.close_reason)
        await self.assertStillOpen(receivers[0], "r0")
        self.assertNotIn(b"slow_consumer=", self.server.log())

    async def test_a_burst_of_five_1mb_messages_to_one_uid_closes_none_of_its_connections(self):
        first = await self.login("victim", max_size=2 * MESSAGE)
        second = await self.login("victim", max_size=2 * MESSAGE)
        sender = await self.raw_sender("sender")
        payload = b"victim:" + b"v" * MESSAGE
        await sender.send(b"".join(masked_frame(OP_TEXT, payload) for _ in range(BURST)))
        self.assertEqual(await asyncio.gather(self.drain(first, BURST), self.drain(second, BURST)), [BURST, BURST])
        await self.assertStillOpen(first, "victim")
        await self.assertStillOpen(second, "victim")

    async def test_a_receiver_that_never_reads_is_still_closed_1008_while_readers_get_everything(self):
        stalled = await self.raw(rcvbuf=4096)
        await stalled.upgrade()
        await stalled.login("stalled")
        readers = [await self.login(f"r{i}", max_size=2 * MESSAGE) for i in range(3)]
        sender = await self.raw_sender("sender")
        # Four bursts of four (16 MB: past what the stalled socket holds plus 4 MiB), each
        # read by the readers before the next is sent.
        payload = b"all:" + b"m" * MESSAGE
        for _ in range(4):
            await sender.send(b"".join(masked_frame(OP_TEXT, payload) for _ in range(4)))
            self.assertEqual(await asyncio.gather(*(self.drain(ws, 4) for ws in readers)), [4] * 3)
        data = await stalled.wait_closed_by_peer(10.0 * SLOW)
        closes = [f for f in parse_frames(data) if f.opcode == OP_CLOSE]
        if closes:
            self.assertEqual(closes[0].close_code(), POLICY_VIOLATION)


class BacklogFlag(unittest.TestCase):
    def test_a_backlog_limit_the_queue_cannot_count_is_refused_at_start(self):
        # A write queue counts its bytes in 32 bits: a larger limit would never be reached.
        out = subprocess.run([BINARY, "--port", "0", "--api-listen", "off", "--max-backlog", str(8 << 30)],
                             capture_output=True, timeout=10 * SLOW)
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"--max-backlog", out.stderr + out.stdout)


if __name__ == "__main__":
    unittest.main()

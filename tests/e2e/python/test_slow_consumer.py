"""A consumer that stops reading is cut off; the server does not buffer for it forever."""
import asyncio
import os
import unittest

from e2ecase import WspushTestCase
from rawws import OP_CLOSE, parse_frames
from wspush_server import SANITIZED, SLOW

POLICY_VIOLATION = 1008
MESSAGE = 64 * 1024
COUNT = 512  # 32 MiB broadcast in total, 128x --max-backlog
# Growth allowed for the whole flood. The server may keep the backlog of one
# connection (256 KiB) plus socket-sized buffers; 32 MiB buffered for the stalled
# reader would blow far past this (a server with --max-backlog 1 GiB grows ~30 MiB
# here; this one grew 0.3 MiB, 1.4 MiB under ASan, when the limit was set).
RSS_GROWTH_LIMIT_KIB = 4 * 1024 if not SANITIZED else 12 * 1024


class SlowConsumer(WspushTestCase):
    server_options = {"--max-backlog": 262144}
    # ASan's quarantine holds freed memory back; with it RSS would track the bytes freed,
    # not the bytes held.
    server_env = {"ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0").lstrip(":")}

    async def flood(self):
        """A raw client logs in and stops reading; `sender` broadcasts COUNT x 64 KiB. Returns (stalled raw client, sender, peak RSS growth KiB)."""
        stalled = await self.raw(rcvbuf=4096)
        await stalled.upgrade()
        await stalled.login("stalled")
        sender = await self.login("sender", max_size=2 * MESSAGE)
        baseline = self.server.rss_kib()
        peak = baseline

        async def send_all():
            # Lock-step: the sender reads its own copy before sending the next, so the
            # sender itself never has more than one message queued and is no slow consumer.
            nonlocal peak
            payload = "all:" + "m" * (MESSAGE - 4)
            for i in range(COUNT):
                await sender.send(payload)
                self.assertEqual(len(await sender.recv()), MESSAGE - 4)
                if i % 16 == 0:
                    peak = max(peak, self.server.rss_kib())
        await asyncio.wait_for(send_all(), 30.0 * SLOW)
        peak = max(peak, self.server.rss_kib())
        return stalled, sender, peak - baseline

    async def test_stalled_consumer_is_disconnected(self):
        stalled, _, _ = await self.flood()
        data = await stalled.wait_closed_by_peer(5.0 * SLOW)  # EOF or reset, not a timeout
        closes = [f for f in parse_frames(data) if f.opcode == OP_CLOSE]
        if closes:  # a queued close frame, if the server got one out, says 1008
            self.assertEqual(closes[0].close_code(), POLICY_VIOLATION)

    async def test_server_rss_stays_bounded_while_consumer_stalls(self):
        _, _, growth = await self.flood()
        self.assertLess(growth, RSS_GROWTH_LIMIT_KIB,
                        f"VmRSS grew {growth} KiB while {COUNT * MESSAGE >> 20} MiB were broadcast")

    async def test_sender_keeps_working_after_stalled_consumer_is_dropped(self):
        _, sender, _ = await self.flood()
        await self.assertStillOpen(sender, "sender")


if __name__ == "__main__":
    unittest.main()

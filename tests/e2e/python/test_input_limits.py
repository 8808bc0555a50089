"""What clients can make the server hold: --max-login-message before a login, and
--max-inbound-buffered for the partial messages of all clients together."""
import asyncio
import re
import time
import unittest

from e2ecase import WspushTestCase
from rawws import OP_CLOSE, OP_PING, OP_TEXT, close_payload, frame
from test_http_strictness import api_port_of

MESSAGE_TOO_BIG, TRY_AGAIN_LATER = 1009, 1013


class StatsCase(WspushTestCase):
    def stats_line(self):
        lines = [l for l in self.server.log().splitlines() if b"stats conns=" in l]
        return lines[-1].decode() if lines else ""

    def stat(self, name):
        m = re.search(rf"\b{name}=(\d+)", self.stats_line())
        return int(m.group(1)) if m else 0

    async def until(self, what, predicate):
        deadline = time.monotonic() + self.PROMPT
        while time.monotonic() < deadline:
            if predicate():
                return
            await asyncio.sleep(0.05)
        self.fail(f"{what}: {self.stats_line()}")


class LoginMessageLimit(StatsCase):
    server_options = {"--max-login-message": 1024, "--max-uid-len": 2000, "--stats-interval": "0.1"}

    async def test_login_message_over_the_login_limit_is_closed_1009(self):
        ws = await self.connect()
        await ws.send("u" * 1025)
        await self.assertClosedWith(ws, MESSAGE_TOO_BIG)
        self.assertEqual(ws.close_reason, "login message too big")

    async def test_fragmented_login_message_over_the_login_limit_is_closed_1009(self):
        ws = await self.connect()
        await ws.send(["u" * 600, "v" * 600])  # websockets fragments an iterable
        await self.assertClosedWith(ws, MESSAGE_TOO_BIG)

    async def test_login_message_of_exactly_the_login_limit_logs_in(self):
        await self.login("u" * 1024)

    async def test_after_login_the_full_max_message_applies(self):
        alice = await self.login("alice")
        body = "x" * 100_000
        await alice.send("alice:" + body)
        self.assertEqual(await self.recv(alice), body)

    async def test_message_right_after_the_login_in_the_same_read_gets_the_full_limit(self):
        client = await self.raw()
        await client.upgrade()
        body = b"y" * 5000
        # One write: the server reads the login and the message together, and the login lifts
        # the limit for the message behind it.
        await client.send(frame(OP_TEXT, b"bob") + frame(OP_TEXT, b"bob:" + body))
        self.assertEqual((await client.read_frame(self.PROMPT)).payload, b"login success, your uid is bob")
        self.assertEqual((await client.read_frame(self.PROMPT)).payload, body)

    async def test_refusals_are_counted_as_message_too_big(self):
        ws = await self.connect()
        await ws.send("u" * 2000)
        await self.assertClosedWith(ws, MESSAGE_TOO_BIG)
        await self.until("message_too_big not counted", lambda: self.stat("message_too_big") == 1)


class MaxMessageBelowTheLoginLimit(StatsCase):
    """--max-message smaller than --max-login-message: it is what refuses a long first message,
    and the close reason says so."""
    server_options = {"--max-message": 1000, "--max-login-message": 16384}

    async def test_first_message_over_max_message_is_refused_as_message_too_big(self):
        ws = await self.connect()
        await ws.send("u" * 1001)
        await self.assertClosedWith(ws, MESSAGE_TOO_BIG)
        self.assertEqual(ws.close_reason, "message too big")


class LoginLimitBelowTheLongestLogin(StatsCase):
    # An honest uid of 20,000 bytes (allowed by --max-uid-len) cannot fit in the default 16 KiB
    # login limit: the server says so when it starts instead of leaving it to a 1009 to find.
    server_options = {"--max-uid-len": 20000}

    async def test_startup_warns_that_longer_logins_will_be_closed(self):
        self.assertIn(b"--max-login-message 16384 is below the longest login (--max-uid-len 20000)",
                      self.server.log())
        ws = await self.connect()
        await ws.send("u" * 16385)
        await self.assertClosedWith(ws, MESSAGE_TOO_BIG)


class InboundBudget(StatsCase):
    server_options = {"--max-inbound-buffered": 1 << 20, "--stats-interval": "0.1"}

    async def partial(self, uid, total, sent):
        """A logged-in raw client that has sent `sent` bytes of a `total`-byte message to
        itself; returns the client and the rest of the frame."""
        client = await self.raw()
        await client.upgrade()
        await client.login(uid)
        data = frame(OP_TEXT, f"{uid}:".encode() + b"z" * (total - len(uid) - 1))
        await client.send(data[:sent])
        return client, data[sent:]

    async def test_the_read_that_passes_the_budget_is_closed_1013_and_the_others_finish(self):
        # a and b hold 150 kB each: their spill buffers take 150-300 kB, under 1 MiB together.
        a, rest_a = await self.partial("a", 200_000, 150_000)
        b, rest_b = await self.partial("b", 200_000, 150_000)
        await self.until("a and b not held", lambda: self.stat("inbound_buffered") >= 290_000)
        # c's 1 MB (within --max-message) takes the total past 1 MiB: c goes, a and b stay.
        c, _ = await self.partial("c", 1_040_000, 1_000_000)
        _, close = await c.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), TRY_AGAIN_LATER)
        self.assertEqual(close.close_reason(), "server busy")
        await a.send(rest_a)
        await b.send(rest_b)
        self.assertEqual(len((await a.read_frame(self.PROMPT)).payload), 200_000 - 2)
        self.assertEqual(len((await b.read_frame(self.PROMPT)).payload), 200_000 - 2)
        # Everything completed or closed gives its bytes back; the refusal is counted.
        await self.until("the budget not given back", lambda: "inbound_budget=1" in self.stats_line()
                         and self.stat("inbound_buffered") == 0)

    async def test_a_client_that_leaves_mid_message_gives_its_bytes_back(self):
        a, _ = await self.partial("a", 200_000, 150_000)
        await self.until("a not held", lambda: self.stat("inbound_buffered") >= 140_000)
        a.abort()
        await self.until("a's bytes not given back", lambda: self.stat("inbound_buffered") == 0)
        # And the budget is whole again: a message that needs most of it goes through (one frame:
        # its spill buffer is sized to the 500 kB it announced, under the 1 MiB).
        b, rest = await self.partial("b", 500_000, 450_000)
        await b.send(rest)
        self.assertEqual(len((await b.read_frame(self.PROMPT)).payload), 500_000 - 2)



class LoginBudget(StatsCase):
    # Clients that have not logged in may fill half the budget: the other half stays for those
    # who have (without it, ~16k connections that never log in deny every big message).
    server_options = {"--max-inbound-buffered": 65536, "--stats-interval": "0.1"}

    async def unauthenticated_partial(self):
        client = await self.raw()
        await client.upgrade()
        await client.send(frame(OP_TEXT, b"u" * 15_000)[:14_000])  # ~14 kB held, 15 kB at most
        return client

    async def test_clients_not_logged_in_get_half_the_budget_and_the_rest_is_kept_for_the_others(self):
        held = [await self.unauthenticated_partial() for _ in range(2)]  # kept open to the end
        await self.until("two partial logins not held", lambda: self.stat("inbound_buffered") >= 27_000)
        third = await self.unauthenticated_partial()  # ~42 kB > 32 kB: refused
        _, close = await third.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), TRY_AGAIN_LATER)
        # A logged-in client still has room for a 20 kB message arriving in pieces.
        alice, rest = await InboundBudget.partial(self, "alice", 20_000, 10_000)
        await alice.send(rest)
        self.assertEqual(len((await alice.read_frame(self.PROMPT)).payload), 20_000 - 6)
        for client in held:
            client.abort()


class ClosingClientBudget(StatsCase):
    server_options = {"--max-inbound-buffered": 1 << 20, "--stats-interval": "0.1"}
    # Plaintext only: a TLS client answers the server's close_notify and the connection goes at
    # once, so no lingering connection is there to look at (the engine path is the same).
    server_tls = False

    async def test_a_client_that_closes_mid_message_gives_its_bytes_back_at_once(self):
        # A partial message and a close frame in one read: the read that closes the connection
        # skipped the budget check, and the spill stayed counted (and allocated) until the
        # connection was freed, close_linger_ms later if the client withholds its FIN. Many
        # clients doing so held 256 KiB (one read) each, whatever the budget.
        client = await self.raw()
        await client.upgrade()
        await client.login("a")
        await client.send(frame(OP_TEXT, b"a:" + b"z" * 200_000, fin=False) + frame(OP_CLOSE, close_payload(1000)))
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), 1000)
        # We send no FIN: the server lingers on the connection (conns=1) but holds nothing.
        await self.until("a closing client still holds its partial message",
                         lambda: self.stat("conns") == 1 and self.stat("inbound_buffered") == 0)


class PartialMessageAccounting(StatsCase):
    """Every way a connection holding a partial message can end gives its bytes back: the
    total returns to 0 (a drift would stay above, an underflow show as ~2^64)."""
    server_options = {"--stats-interval": "0.1", "--api-listen": "127.0.0.1:0"}

    async def holding(self, uid, tail=b""):
        client = await self.raw()
        await client.upgrade()
        await client.login(uid)
        await client.send(frame(OP_TEXT, f"{uid}:".encode() + b"q" * 100_000, fin=False) + tail)
        await self.until(f"{uid} not held", lambda: self.stat("inbound_buffered") >= 100_000)
        return client

    async def test_a_refused_login_with_a_partial_message_behind_it_holds_nothing(self):
        client = await self.raw()
        await client.upgrade()
        await client.send(frame(OP_TEXT, b"bad:uid") + frame(OP_TEXT, b"q" * 100_000, fin=False))
        frames, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), 1008)
        self.assertNotIn(b"login success", b"".join(f.payload for f in frames))
        await self.until("a refused client's bytes still counted",
                         lambda: self.stat("login_failures") == 1 and self.stat("inbound_buffered") == 0)

    async def test_a_protocol_error_mid_message_gives_its_bytes_back(self):
        client = await self.holding("a")
        await client.send(frame(3, b""))  # reserved opcode
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), 1002)
        await self.until("bytes not given back", lambda: self.stat("inbound_buffered") == 0)

    async def test_a_half_close_with_a_control_frame_split_mid_message_gives_its_bytes_back(self):
        client = await self.holding("a", tail=frame(OP_PING, b"p" * 100)[:20])
        if not client.writer.can_write_eof():
            self.skipTest("asyncio cannot half-close a TLS stream")
        client.writer.write_eof()
        await self.until("bytes not given back",
                         lambda: self.stat("conns") == 0 and self.stat("inbound_buffered") == 0)

    async def test_a_client_kicked_through_the_api_mid_message_gives_its_bytes_back(self):
        client = await self.holding("k")
        port = await api_port_of(self.server)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = b'{"code": 4000, "reason": "bye"}'
        writer.write(b"POST /v1/users/k/disconnect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        self.assertIn(b" 200 ", await asyncio.wait_for(reader.read(), self.PROMPT))
        writer.close()
        _, close = await client.read_until_close(self.PROMPT)
        self.assertEqual(close.close_code(), 4000)
        await self.until("bytes not given back", lambda: self.stat("inbound_buffered") == 0)


if __name__ == "__main__":
    unittest.main()

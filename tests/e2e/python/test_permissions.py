"""What a client may send (--client-send, a token's "send" claim), --mark-sender, --client-rate."""
import asyncio
import re
import time
import urllib.request

import auth_keys as keys
from e2ecase import WspushTestCase
from wspush_server import SLOW

POLICY_VIOLATION = 1008
NO_ALL = "error: this connection may not send to all"
NO_SEND = "error: this connection may not send messages"


class MetricsMixin:
    def metrics(self):
        m = re.search(rb"listening on 127\.0\.0\.1:(\d+) \(api", self.server.log())
        with urllib.request.urlopen(f"http://127.0.0.1:{int(m.group(1))}/metrics", timeout=self.PROMPT) as r:
            return r.read().decode()


class ClientSendAllIsTheDefault(WspushTestCase):
    async def test_clients_may_broadcast(self):
        alice = await self.login("alice")
        await alice.send("all:hello")
        self.assertEqual(await self.recv(alice), "hello")


class ClientSendUid(MetricsMixin, WspushTestCase):
    server_options = {"--client-send": "uid", "--api-listen": "127.0.0.1:0"}

    async def test_all_is_refused_and_the_connection_stays(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        await alice.send("all:PHISH")
        self.assertEqual(await self.recv(alice), NO_ALL)
        await self.assertReceivesNothing(bob)
        await self.assertStillOpen(alice, "alice")

    async def test_messages_to_a_uid_still_go(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        await alice.send("bob:hi")
        self.assertEqual(await self.recv(bob), "hi")

    async def test_binary_all_is_refused_too(self):
        alice = await self.login("alice")
        await alice.send(b"all:\x00\x01")
        self.assertEqual(await self.recv(alice), NO_ALL)

    async def test_refused_sends_are_counted(self):
        alice = await self.login("alice")
        for _ in range(3):
            await alice.send("all:x")
            self.assertEqual(await self.recv(alice), NO_ALL)
        self.assertIn("wspush_refused_sends_total 3", self.metrics())


class ClientSendNone(WspushTestCase):
    server_options = {"--client-send": "none"}

    async def test_every_message_is_refused_and_the_connection_stays(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        for msg in ["bob:hi", "all:hi", "alice:hi", "no colon"]:
            await alice.send(msg)
            self.assertEqual(await self.recv(alice), NO_SEND)
        await self.assertReceivesNothing(bob)
        await alice.ping()  # still open: pings are answered


class TokenNarrowsSend(WspushTestCase):
    server_options = {"--auth": "jwt", "--jwt-secret-file": keys.SECRET_FILE}

    async def login_token(self, token, uid):
        ws = await self.connect()
        await ws.send(token)
        self.assertEqual(await self.recv(ws), f"login success, your uid is {uid}")
        return ws

    async def test_send_uid_claim_refuses_all_for_that_client_only(self):
        narrow = await self.login_token(keys.hs256("alice", send="uid"), "alice")
        wide = await self.login_token(keys.hs256("bob"), "bob")
        await narrow.send("all:x")
        self.assertEqual(await self.recv(narrow), NO_ALL)
        await narrow.send("bob:direct")
        self.assertEqual(await self.recv(wide), "direct")
        await wide.send("all:everyone")
        self.assertEqual(await self.recv(wide), "everyone")
        self.assertEqual(await self.recv(narrow), "everyone")

    async def test_send_none_claim_makes_the_client_receive_only(self):
        quiet = await self.login_token(keys.hs256("alice", send="none"), "alice")
        bob = await self.login_token(keys.hs256("bob"), "bob")
        await quiet.send("bob:hi")
        self.assertEqual(await self.recv(quiet), NO_SEND)
        await bob.send("alice:to you")
        self.assertEqual(await self.recv(quiet), "to you")

    async def test_unknown_send_claim_is_an_invalid_token(self):
        ws = await self.connect()
        await ws.send(keys.hs256("alice", send="everything"))
        self.assertEqual(await self.recv(ws), "error: invalid token")
        await self.assertClosedWith(ws, POLICY_VIOLATION)


class TokenNeverWidensSend(WspushTestCase):
    server_options = {"--auth": "jwt", "--jwt-secret-file": keys.SECRET_FILE, "--client-send": "uid"}

    async def test_send_all_claim_does_not_allow_all_when_the_server_says_uid(self):
        ws = await self.connect()
        await ws.send(keys.hs256("alice", send="all"))
        self.assertEqual(await self.recv(ws), "login success, your uid is alice")
        await ws.send("all:x")
        self.assertEqual(await self.recv(ws), NO_ALL)


class MarkSender(WspushTestCase):
    server_options = {"--mark-sender": None}

    async def test_a_message_to_a_uid_arrives_with_the_senders_uid(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        await alice.send("bob:hello: there")
        self.assertEqual(await self.recv(bob), "alice:hello: there")

    async def test_a_broadcast_arrives_with_the_senders_uid_everywhere(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        await alice.send("all:hi")
        self.assertEqual(await self.recv(bob), "alice:hi")
        self.assertEqual(await self.recv(alice), "alice:hi")

    async def test_binary_messages_are_marked_too(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        await alice.send(b"bob:\x00\xff")
        self.assertEqual(await self.recv(bob), b"alice:\x00\xff")


class UnmarkedByDefault(WspushTestCase):
    async def test_messages_arrive_bare(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        await alice.send("bob:hello")
        self.assertEqual(await self.recv(bob), "hello")


class RateLimit(MetricsMixin, WspushTestCase):
    server_options = {"--client-rate": 20, "--client-burst": 10, "--api-listen": "127.0.0.1:0"}

    async def test_a_burst_beyond_the_limit_is_closed_1008_rate_limit(self):
        flood = await self.login("flood")
        for i in range(40):
            await flood.send(f"nobody:{i}")
        await self.assertClosedWith(flood, POLICY_VIOLATION)
        self.assertEqual(flood.close_reason, "rate limit")
        self.assertIn("wspush_rate_limited_total 1", self.metrics())

    async def test_the_burst_itself_is_allowed(self):
        alice = await self.login("alice")
        for i in range(10):
            await alice.send(f"alice:{i}")
        for i in range(10):
            self.assertEqual(await self.recv(alice), str(i))

    async def test_a_client_under_the_rate_is_never_closed(self):
        alice = await self.login("alice")
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < 1.5:  # 10/s, half the limit
            await alice.send(f"alice:{sent}")
            self.assertEqual(await self.recv(alice), str(sent))
            sent += 1
            await asyncio.sleep(0.1)
        await self.assertStillOpen(alice, "alice")

    async def test_each_connection_has_its_own_budget(self):
        flood = await self.login("flood")
        calm = await self.login("calm")
        for i in range(40):
            await flood.send(f"nobody:{i}")
        await self.assertClosedWith(flood, POLICY_VIOLATION)
        await self.assertStillOpen(calm, "calm")


class StatsLineCounters(WspushTestCase):
    server_options = {"--client-send": "uid", "--client-rate": 20, "--client-burst": 5, "--stats-interval": 0.2}

    async def test_refused_sends_and_rate_limit_closes_are_in_the_stats_line(self):
        alice = await self.login("alice")
        await alice.send("all:x")
        self.assertEqual(await self.recv(alice), NO_ALL)
        flood = await self.login("flood")
        for i in range(30):
            await flood.send(f"nobody:{i}")
        await self.assertClosedWith(flood, POLICY_VIOLATION)
        deadline = time.monotonic() + self.PROMPT
        while time.monotonic() < deadline:
            lines = [l for l in self.server.log().decode().splitlines() if " stats conns=" in l]
            if lines and "rate_limited=1" in lines[-1]:
                break
            await asyncio.sleep(0.1)
        self.assertIn("refused_sends=1", lines[-1])
        self.assertIn("rate_limited=1", lines[-1])
        self.assertIn("auth_failures=0", lines[-1])

"""Login and routing as a python3-websockets client sees them."""
import os
import unittest

from e2ecase import WspushTestCase


class Login(WspushTestCase):
    async def test_first_message_is_the_uid_and_reply_is_exact(self):
        ws = await self.connect()
        await ws.send("alice")
        self.assertEqual(await self.recv(ws), "login success, your uid is alice")

    async def test_uid_may_contain_non_ascii_utf8(self):
        ws = await self.connect()
        await ws.send("用户一")
        self.assertEqual(await self.recv(ws), "login success, your uid is 用户一")


class RoutingToUid(WspushTestCase):
    async def test_message_is_delivered_to_the_named_uid(self):
        alice, bob = await self.login("alice"), await self.login("bob")
        await alice.send("bob:hello bob")
        self.assertEqual(await self.recv(bob), "hello bob")

    async def test_split_is_at_the_first_colon_only(self):
        alice, bob = await self.login("alice"), await self.login("bob")
        await alice.send("bob:a:b:c")
        self.assertEqual(await self.recv(bob), "a:b:c")

    async def test_message_to_uid_is_not_echoed_to_sender(self):
        alice, bob = await self.login("alice"), await self.login("bob")
        await alice.send("bob:for bob only")
        self.assertEqual(await self.recv(bob), "for bob only")
        await self.assertReceivesNothing(alice)

    async def test_message_to_uid_reaches_no_other_uid(self):
        alice, bob, carol = await self.login("alice"), await self.login("bob"), await self.login("carol")
        await alice.send("bob:for bob only")
        self.assertEqual(await self.recv(bob), "for bob only")
        await self.assertReceivesNothing(carol)

    async def test_uid_allx_is_a_uid_not_a_broadcast(self):
        alice, allx, bob = await self.login("alice"), await self.login("allx"), await self.login("bob")
        await alice.send("allx:hi")
        self.assertEqual(await self.recv(allx), "hi")
        await self.assertReceivesNothing(bob)
        await self.assertReceivesNothing(alice)

    async def test_messages_from_one_sender_arrive_complete_and_in_order(self):
        alice, bob = await self.login("alice"), await self.login("bob")
        for i in range(2000):
            await alice.send(f"bob:{i}")
        got = [await self.recv(bob) for _ in range(2000)]
        self.assertEqual(got, [str(i) for i in range(2000)])

    async def test_message_sent_right_after_uid_without_waiting_for_reply_is_routed(self):
        bob = await self.login("bob")
        alice = await self.connect()
        await alice.send("alice")
        await alice.send("bob:hasty")
        self.assertEqual(await self.recv(alice), "login success, your uid is alice")
        self.assertEqual(await self.recv(bob), "hasty")

    async def test_message_of_default_max_message_bytes_arrives_intact(self):
        alice = await self.login("alice")
        body = os.urandom(1048576 - len(b"alice:"))
        await alice.send(b"alice:" + body)
        self.assertEqual(await self.recv(alice), body)

    async def test_binary_message_is_routed_and_delivered_as_binary(self):
        alice, bob = await self.login("alice"), await self.login("bob")
        await alice.send(b"bob:\x00\x01\xff")
        got = await self.recv(bob)
        self.assertIsInstance(got, bytes)
        self.assertEqual(got, b"\x00\x01\xff")

    async def test_text_message_is_delivered_as_text(self):
        alice, bob = await self.login("alice"), await self.login("bob")
        await alice.send("bob:plain")
        got = await self.recv(bob)
        self.assertIsInstance(got, str)
        self.assertEqual(got, "plain")


class Broadcast(WspushTestCase):
    async def test_all_reaches_every_logged_in_connection_including_sender(self):
        alice, bob, carol = await self.login("alice"), await self.login("bob"), await self.login("carol")
        await alice.send("all:hello everyone")
        for ws in (alice, bob, carol):
            self.assertEqual(await self.recv(ws), "hello everyone")

    async def test_all_splits_at_the_first_colon_only(self):
        alice = await self.login("alice")
        await alice.send("all:x:y")
        self.assertEqual(await self.recv(alice), "x:y")

    async def test_connection_not_logged_in_receives_no_broadcast(self):
        lurker = await self.connect()
        alice = await self.login("alice")
        await alice.send("all:secret")
        self.assertEqual(await self.recv(alice), "secret")
        await self.assertReceivesNothing(lurker)

    async def test_connection_not_logged_in_receives_nothing_queued_on_login(self):
        lurker = await self.connect()
        alice = await self.login("alice")
        await alice.send("all:before your login")
        self.assertEqual(await self.recv(alice), "before your login")
        await lurker.send("late")
        self.assertEqual(await self.recv(lurker), "login success, your uid is late")
        await self.assertReceivesNothing(lurker)

    async def test_binary_broadcast_is_delivered_as_binary(self):
        alice, bob = await self.login("alice"), await self.login("bob")
        await alice.send(b"all:\xfe\x00")
        self.assertEqual(await self.recv(bob), b"\xfe\x00")
        self.assertEqual(await self.recv(alice), b"\xfe\x00")


class ManyConnectionsPerUid(WspushTestCase):
    async def test_every_connection_of_a_uid_receives(self):
        alice = await self.login("alice")
        bobs = [await self.login("bob") for _ in range(3)]
        await alice.send("bob:to all my tabs")
        for bob in bobs:
            self.assertEqual(await self.recv(bob), "to all my tabs")

    async def test_closing_the_first_connection_leaves_the_others_receiving(self):
        alice = await self.login("alice")
        bobs = [await self.login("bob") for _ in range(3)]
        await bobs[0].close()
        await alice.send("bob:after close")
        for bob in bobs[1:]:
            self.assertEqual(await self.recv(bob), "after close")

    async def test_closing_the_last_logged_in_connection_leaves_the_others_receiving(self):
        # The seed kept only the newest connection per uid and unset the uid on close.
        alice = await self.login("alice")
        bobs = [await self.login("bob") for _ in range(3)]
        await bobs[2].close()
        await alice.send("bob:after close")
        for bob in bobs[:2]:
            self.assertEqual(await self.recv(bob), "after close")

    async def test_aborted_connection_leaves_the_others_receiving(self):
        alice = await self.login("alice")
        bobs = [await self.login("bob") for _ in range(2)]
        bobs[0].transport.abort()  # TCP reset, no close handshake
        await bobs[0].wait_closed()
        await alice.send("bob:after reset")
        self.assertEqual(await self.recv(bobs[1]), "after reset")

    async def test_uid_with_every_connection_closed_can_log_in_again(self):
        alice, bob = await self.login("alice"), await self.login("bob")
        await bob.close()
        bob_again = await self.login("bob")
        await alice.send("bob:welcome back")
        self.assertEqual(await self.recv(bob_again), "welcome back")


class UndeliverableAndMalformed(WspushTestCase):
    async def test_message_to_offline_uid_is_dropped_silently(self):
        alice = await self.login("alice")
        await alice.send("nobody:hello?")
        await self.assertReceivesNothing(alice)
        await self.assertStillOpen(alice, "alice")

    async def test_message_without_colon_gets_error_text(self):
        alice = await self.login("alice")
        await alice.send("no colon here")
        reply = await self.recv(alice)
        self.assertIsInstance(reply, str)
        self.assertTrue(reply.startswith("error: "), reply)

    async def test_message_without_colon_leaves_connection_open(self):
        alice = await self.login("alice")
        await alice.send("no colon here")
        await self.recv(alice)
        await self.assertStillOpen(alice, "alice")

    async def test_message_with_empty_uid_gets_error_text(self):
        alice = await self.login("alice")
        await alice.send(":hello")
        self.assertEqual(await self.recv(alice), "error: no uid before ':' (send <uid>:<message> or all:<message>)")
        await self.assertStillOpen(alice, "alice")

    async def test_binary_message_with_empty_uid_gets_error_text(self):
        alice = await self.login("alice")
        await alice.send(b":\x00\x01")
        self.assertEqual(await self.recv(alice), "error: no uid before ':' (send <uid>:<message> or all:<message>)")
        await self.assertStillOpen(alice, "alice")


if __name__ == "__main__":
    unittest.main()

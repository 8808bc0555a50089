"""The HTTP side: malformed upgrades get exact statuses, plain GETs get pages."""
import asyncio
import unittest

import websockets

from e2ecase import WspushTestCase

GOOD_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3


def upgrade_request(method=b"GET", version=b"13", key=GOOD_KEY, extra=b""):
    return (method + b" / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
            b"Sec-WebSocket-Version: " + version + b"\r\n" + extra + b"\r\n")


class MalformedUpgrade(WspushTestCase):
    async def respond(self, request):
        client = await self.raw()
        await client.send(request)
        return await client.read_http_response(self.PROMPT)

    async def test_valid_upgrade_gets_101_with_rfc_accept_value(self):
        resp = await self.respond(upgrade_request())
        self.assertEqual(resp.status, 101)
        self.assertEqual(resp.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    async def test_connection_header_listing_keep_alive_and_upgrade_gets_101(self):
        # Firefox sends "Connection: keep-alive, Upgrade".
        request = upgrade_request().replace(b"Connection: Upgrade", b"Connection: keep-alive, Upgrade")
        resp = await self.respond(request)
        self.assertEqual(resp.status, 101)

    async def test_header_names_and_upgrade_token_are_case_insensitive(self):
        request = (b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: WebSocket\r\nconnection: upgrade\r\n"
                   b"sec-websocket-key: " + GOOD_KEY + b"\r\nsec-websocket-version: 13\r\n\r\n")
        resp = await self.respond(request)
        self.assertEqual(resp.status, 101)
        self.assertEqual(resp.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    async def test_upgrade_arriving_one_byte_at_a_time_gets_101(self):
        client = await self.raw()
        for byte in upgrade_request():
            await client.send(bytes([byte]))
            await asyncio.sleep(0.001)
        resp = await client.read_http_response(self.PROMPT)
        self.assertEqual(resp.status, 101)

    async def test_wrong_websocket_version_gets_426_naming_version_13(self):
        resp = await self.respond(upgrade_request(version=b"8"))
        self.assertEqual(resp.status, 426)
        self.assertEqual(resp.headers.get("sec-websocket-version"), "13")

    async def test_post_with_upgrade_headers_gets_405(self):
        resp = await self.respond(upgrade_request(method=b"POST", extra=b"Content-Length: 0\r\n"))
        self.assertEqual(resp.status, 405)

    async def test_key_that_is_not_16_bytes_base64_gets_400(self):
        resp = await self.respond(upgrade_request(key=b"not-a-valid-key"))
        self.assertEqual(resp.status, 400)

    async def test_missing_key_gets_400(self):
        request = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
        resp = await self.respond(request)
        self.assertEqual(resp.status, 400)

    async def test_headers_over_8_kib_get_431(self):
        resp = await self.respond(upgrade_request(extra=b"X-Filler: " + b"a" * 9000 + b"\r\n"))
        self.assertEqual(resp.status, 431)

    async def test_garbage_request_line_gets_400(self):
        resp = await self.respond(b"HELLO\r\n\r\n")
        self.assertEqual(resp.status, 400)


class PlainHttp(WspushTestCase):
    async def get(self, path):
        client = await self.raw()
        await client.send(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return await client.read_http_response(self.PROMPT)

    async def test_get_root_serves_html_demo_page(self):
        resp = await self.get(b"/")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.headers.get("content-type", "").startswith("text/html"), resp.headers)
        self.assertIn(b"WebSocket", resp.body)

    async def test_get_healthz_is_200(self):
        resp = await self.get(b"/healthz")
        self.assertEqual(resp.status, 200)

    async def test_get_favicon_is_204_without_a_body(self):
        client = await self.raw()
        await client.send(b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                          b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        resp = await client.read_http_response(self.PROMPT)
        self.assertEqual(resp.status, 204)
        self.assertNotIn("content-length", resp.headers)
        # Nothing after the head but the next response: the 204 had no body.
        self.assertEqual((await client.read_http_response(self.PROMPT)).status, 200)

    async def test_post_to_the_demo_page_gets_405(self):
        client = await self.raw()
        await client.send(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi")
        resp = await client.read_http_response(self.PROMPT)
        self.assertEqual(resp.status, 405)

    async def test_expect_100_continue_is_answered_before_the_body_arrives(self):
        # curl sends this for bodies over 1 KiB and waits a second for the interim answer.
        client = await self.raw()
        await client.send(b"POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                          b"Content-Length: 5\r\n\r\n")
        interim = await asyncio.wait_for(client.reader.readexactly(25), self.PROMPT)
        self.assertEqual(interim, b"HTTP/1.1 100 Continue\r\n\r\n")
        await client.send(b"hello")
        resp = await client.read_http_response(self.PROMPT)
        self.assertEqual(resp.status, 404)

    async def test_post_without_a_length_gets_411(self):
        client = await self.raw()
        await client.send(b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        resp = await client.read_http_response(self.PROMPT)
        self.assertEqual(resp.status, 411)



class MaxConns(WspushTestCase):
    server_options = {"--max-conns": 3}

    async def test_handshake_beyond_max_conns_gets_503(self):
        for _ in range(3):
            await self.connect()
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
            await self.connect()
        self.assertEqual(refused.exception.status_code, 503)

    async def test_connections_within_max_conns_keep_working_after_a_503(self):
        alice, bob, _ = await self.login("alice"), await self.login("bob"), await self.connect()
        with self.assertRaises(websockets.exceptions.InvalidStatusCode):
            await self.connect()
        await alice.send("bob:still here")
        self.assertEqual(await self.recv(bob), "still here")

    async def test_finished_http_requests_do_not_keep_slots(self):
        for _ in range(5):
            async with await self.raw() as client:
                await client.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                self.assertEqual((await client.read_http_response(self.PROMPT)).status, 200)
                await client.wait_closed_by_peer(self.PROMPT)
        for uid in ("a", "b", "c"):
            await self.login(uid)

    async def test_slot_freed_by_close_admits_a_new_connection(self):
        first = await self.connect()
        for _ in range(2):
            await self.connect()
        await first.close()
        # The server frees the slot when it closes the socket, a moment after our close
        # handshake completes; allow it that moment.
        for _ in range(int(20 * self.PROMPT)):
            try:
                ws = await self.login("newcomer")
                break
            except websockets.exceptions.InvalidStatusCode as e:
                self.assertEqual(e.status_code, 503)
                await asyncio.sleep(0.05)
        else:
            self.fail("slot was not freed after a connection closed")
        await self.assertStillOpen(ws, "newcomer")


if __name__ == "__main__":
    unittest.main()

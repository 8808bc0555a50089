"""The push API without a key (allowed on loopback only) refuses what a browser can send it:
any request with an Origin (a form post from any site: CSRF) and any Host that does not name
loopback (a name the attacker controls resolving to 127.0.0.1: DNS rebinding). 403, then the
connection closes. Backends send neither, and /healthz stays open."""
import asyncio
import json
import unittest

from e2ecase import WspushTestCase
from test_http_strictness import api_port_of, status_of


class KeylessApi(WspushTestCase):
    server_options = {"--api-listen": "127.0.0.1:0"}

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.api_port = await api_port_of(self.server)

    async def request(self, head_lines, body=b"", path="/v1/push", method="POST"):
        """Everything the server sends before it closes (Connection: close is sent)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.api_port)
        head = f"{method} {path} HTTP/1.1\r\n{head_lines}Connection: close\r\n"
        if body:
            head += f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n"
        writer.write(head.encode() + b"\r\n" + body)
        data = await asyncio.wait_for(reader.read(), self.PROMPT)
        writer.close()
        return data

    PUSH = json.dumps({"uid": "alice", "message": "phish"}).encode()

    async def test_a_request_with_an_origin_is_refused_403_and_pushes_nothing(self):
        alice = await self.login("alice")
        data = await self.request("Host: 127.0.0.1\r\nOrigin: https://evil.example\r\n", self.PUSH)
        self.assertEqual(status_of(data), 403, data[:200])
        await self.assertReceivesNothing(alice)

    async def test_a_form_post_shaped_request_is_refused(self):
        data = await self.request("Host: 127.0.0.1\r\nOrigin: null\r\n"
                                  "Content-Type: text/plain\r\n", self.PUSH)
        self.assertEqual(status_of(data), 403, data[:200])

    async def test_a_host_that_is_not_loopback_is_refused_403(self):
        alice = await self.login("alice")
        for host in ("rebind.attacker.example", "rebind.attacker.example:1235", "127.0.0.1.evil.example",
                     "10.0.0.1", "[::2]:80", "localhost.evil.example", "127.0.0.256"):
            data = await self.request(f"Host: {host}\r\n", self.PUSH)
            self.assertEqual(status_of(data), 403, f"{host}: {data[:200]!r}")
        data = await self.request("", self.PUSH)  # no Host at all: HTTP/1.1 requires one (RFC 9112 3.2)
        self.assertEqual(status_of(data), 400, data[:200])
        await self.assertReceivesNothing(alice)

    async def test_loopback_hosts_are_served(self):
        alice = await self.login("alice")
        for host in ("127.0.0.1", f"127.0.0.1:{self.api_port}", "localhost", f"LOCALHOST:{self.api_port}",
                     "[::1]", f"[::1]:{self.api_port}", "127.1.2.3"):
            data = await self.request(f"Host: {host}\r\n", json.dumps({"uid": "alice", "message": host}).encode())
            self.assertEqual(status_of(data), 200, f"{host}: {data[:200]!r}")
            self.assertEqual(await self.recv(alice), host)

    async def test_healthz_stays_open_to_any_host_and_origin(self):
        data = await self.request("Host: probe.internal\r\nOrigin: https://x.example\r\n", path="/healthz",
                                  method="GET")
        self.assertEqual(status_of(data), 200, data[:200])

    async def test_refusals_are_counted_by_route_and_status(self):
        await self.request("Host: evil.example\r\n", self.PUSH)
        data = await self.request("Host: 127.0.0.1\r\n", path="/metrics", method="GET")
        self.assertIn(b'wspush_api_requests_total{route="push",status="403"} 1', data)


if __name__ == "__main__":
    unittest.main()

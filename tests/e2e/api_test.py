"""End-to-end tests of the HTTP push API against the real build/wspush.

Each test gets its own server (--port 0, --api-listen 127.0.0.1:0, --api-key testkey), so
the counters that /v1/stats and /metrics report are exactly what that test did. WebSocket
clients (Debian's python3-websockets) check what actually arrives; raw sockets check the
HTTP transport (keep-alive, pipelining, 1-byte writes, 408/411/413/431).
Run: /usr/bin/python3 tests/e2e/api_test.py  (tests/e2e/test_api.sh does).
"""
import asyncio
import base64
import http.client
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import unittest

import websockets

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, os.environ.get("WSPUSH_BUILD", "build"), "wspush")
SLOW = 4.0 if os.environ.get("WSPUSH_SANITIZED") == "1" else 1.0
PROMPT = 3.0 * SLOW   # bound for things that happen "at once" on loopback
QUIET = 0.3 * SLOW    # how long we listen to conclude that nothing arrives
KEY = "testkey"
AUTH = {"Authorization": "Bearer " + KEY}


class Server:
    """One wspush process; always killed (setpriv --pdeathsig too, if we die first)."""

    WS = re.compile(rb"listening on \S+:(\d+) \(websocket\)")
    API = re.compile(rb"listening on \S+:(\d+) \(api")

    def __init__(self, *extra):
        self.argv = [BINARY, "--host", "127.0.0.1", "--port", "0", "--api-listen", "127.0.0.1:0",
                     "--api-key", KEY, "--shutdown-timeout", "1", *extra]

    def start(self):
        fd, self.log_path = tempfile.mkstemp(prefix="wspush-api-", suffix=".log")
        self.log = os.fdopen(fd, "ab")
        self.proc = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", *self.argv],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 5 * SLOW
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                text = f.read()
            ws, api = self.WS.search(text), self.API.search(text)
            if ws and api:
                self.ws_port, self.api_port = int(ws.group(1)), int(api.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        self.stop()
        with open(self.log_path, "rb") as f:
            raise RuntimeError("wspush did not start:\n" + f.read().decode("utf-8", "replace"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        os.unlink(self.log_path)


def raw_exchange(port, data, expect_responses=1, chunked_writes=None, timeout=PROMPT):
    """Sends bytes on a fresh socket, returns everything read until `expect_responses`
    complete responses arrived (or EOF)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if chunked_writes:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(0, len(data), chunked_writes):
                s.sendall(data[i:i + chunked_writes])
                time.sleep(0.0005)
        else:
            s.sendall(data)
        buf = b""
        while len(parse_responses(buf)) < expect_responses:
            got = s.recv(65536)
            if not got:
                break
            buf += got
        return parse_responses(buf)
    finally:
        s.close()


def parse_responses(buf):
    """[(status, headers dict lower-case, body bytes)] for every complete response in buf."""
    out = []
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out
        head = buf[:end].decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in head[1:])}
        n = int(headers.get("content-length", "0"))
        if len(buf) < end + 4 + n:
            return out
        out.append((int(head[0].split()[1]), headers, buf[end + 4:end + 4 + n]))
        buf = buf[end + 4 + n:]


def request_bytes(method, path, body=None, key=True, extra=""):
    body = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\n" + (f"Authorization: Bearer {KEY}\r\n" if key else "") + extra
    if body is not None:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


class ApiTestCase(unittest.IsolatedAsyncioTestCase):
    server_args = ()

    def setUp(self):
        # The API calls below are blocking http.client on purpose (simple, exact); asyncio's
        # debug mode (on under IsolatedAsyncioTestCase) would report each slow one as noise.
        # Off in setUp, before the loop runs (and times) the first step of asyncSetUp.
        asyncio.get_event_loop().set_debug(False)

    async def asyncSetUp(self):
        self.server = Server(*self.server_args).start()
        self.addCleanup(self.server.stop)  # LIFO: clients close before the server stops
        self.http = http.client.HTTPConnection("127.0.0.1", self.server.api_port, timeout=PROMPT)
        self.addCleanup(self.http.close)

    def api(self, method, path, body=None, headers=None, key=True, raw_body=None):
        """(status, response headers, parsed JSON or text) over one keep-alive connection."""
        h = dict(AUTH if key else {})
        h.update(headers or {})
        data = raw_body if raw_body is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        self.http.request(method, path, body=data, headers=h)
        r = self.http.getresponse()
        text = r.read().decode()
        ctype = r.getheader("Content-Type", "")
        return r.status, r, (json.loads(text) if ctype.startswith("application/json") else text)

    async def login(self, uid):
        ws = await websockets.connect(f"ws://127.0.0.1:{self.server.ws_port}/", ping_interval=None,
                                      open_timeout=PROMPT, close_timeout=1)
        self.addAsyncCleanup(ws.close)
        await ws.send(uid)
        self.assertEqual(await self.recv(ws), f"login success, your uid is {uid}")
        return ws

    async def recv(self, ws):
        return await asyncio.wait_for(ws.recv(), PROMPT)

    async def assertReceivesNothing(self, ws):
        try:
            got = await asyncio.wait_for(ws.recv(), QUIET)
        except asyncio.TimeoutError:
            return
        self.fail(f"expected nothing, got {got!r}")

    async def assertClosedWith(self, ws, code, reason):
        await asyncio.wait_for(ws.wait_closed(), PROMPT)
        self.assertEqual((ws.close_code, ws.close_reason), (code, reason))

    def assertError(self, result, status, field=None):
        got_status, _, body = result
        self.assertEqual(got_status, status, body)
        self.assertIn("error", body)
        if field is not None:
            self.assertEqual(body.get("field"), field, body)

    def stats(self):
        status, _, body = self.api("GET", "/v1/stats")
        self.assertEqual(status, 200)
        return body

    def metric(self, name, labels=""):
        status, _, text = self.api("GET", "/metrics")
        self.assertEqual(status, 200)
        line = re.search(rf"^{re.escape(name + ('{' + labels + '}' if labels else ''))} (\S+)$", text, re.M)
        return float(line.group(1)) if line else None


class Startup(unittest.TestCase):
    def test_refuses_to_start_on_all_interfaces_without_a_key(self):
        r = subprocess.run([BINARY, "--host", "127.0.0.1", "--port", "0", "--api-listen", "0.0.0.0:0"],
                           capture_output=True, timeout=5 * SLOW)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"refusing to start", r.stderr)

    def test_api_key_file_is_required_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".key") as f:
            f.write("filekey\n")
            f.flush()
            srv = Server("--api-key-file", f.name)
            srv.argv.remove("--api-key")
            srv.argv.remove(KEY)
            srv.start()
            try:
                ok = raw_exchange(srv.api_port, request_bytes("GET", "/v1/stats", key=False,
                                                              extra="Authorization: Bearer filekey\r\n"))
                bad = raw_exchange(srv.api_port, request_bytes("GET", "/v1/stats"))
                self.assertEqual((ok[0][0], bad[0][0]), (200, 401))
            finally:
                srv.stop()


class Auth(ApiTestCase):
    async def test_missing_key_is_401_with_www_authenticate(self):
        status, r, body = self.api("POST", "/v1/push", {"uid": "a", "message": "x"}, key=False)
        self.assertEqual((status, body), (401, {"error": "missing or wrong API key"}))
        self.assertEqual(r.getheader("WWW-Authenticate"), "Bearer")

    async def test_wrong_key_is_401_and_pushes_nothing(self):
        ws = await self.login("a")
        status, _, _ = self.api("POST", "/v1/push", {"uid": "a", "message": "x"}, key=False,
                                headers={"Authorization": "Bearer testkez"})
        self.assertEqual(status, 401)
        await self.assertReceivesNothing(ws)

    async def test_healthz_is_open_without_key(self):
        self.assertEqual(self.api("GET", "/healthz", key=False)[::2], (200, {"status": "ok"}))

    async def test_metrics_need_the_key(self):
        self.assertEqual(self.api("GET", "/metrics", key=False)[0], 401)


class KeyBeforeBody(ApiTestCase):
    """The key is checked on the head alone: a client without it cannot make the server read,
    hold or ask for a body, and its connection ends with the 401."""

    def head_only_exchange(self, head, timeout=PROMPT):
        """Sends a head announcing a body that never comes; returns all bytes until EOF."""
        s = socket.create_connection(("127.0.0.1", self.server.api_port), timeout=timeout)
        try:
            s.sendall(head)
            buf = b""
            while got := s.recv(65536):
                buf += got
            return buf
        finally:
            s.close()

    async def test_a_wrong_key_gets_401_without_the_body_being_sent(self):
        t0 = time.monotonic()
        data = self.head_only_exchange(b"POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
                                       b"Content-Length: 1000000\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 401 "), data[:100])
        self.assertLess(time.monotonic() - t0, 2 * SLOW, "answered at once, not at the request timeout")

    async def test_a_wrong_key_with_expect_100_continue_gets_401_and_no_100(self):
        data = self.head_only_exchange(b"POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
                                       b"Expect: 100-continue\r\nContent-Length: 50\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 401 "), data[:100])
        self.assertNotIn(b"100 Continue", data)

    async def test_the_right_key_with_expect_100_continue_gets_100(self):
        s = socket.create_connection(("127.0.0.1", self.server.api_port), timeout=PROMPT)
        self.addCleanup(s.close)
        body = json.dumps({"uid": "nobody", "message": "x"}).encode()
        s.sendall(f"POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                  f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        self.assertEqual(s.recv(25), b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(body)
        self.assertEqual(parse_responses(s.recv(4096))[0][0], 200)

    async def test_a_401_closes_the_connection_even_with_keep_alive(self):
        wrong = request_bytes("GET", "/v1/stats", key=False, extra="Authorization: Bearer nope\r\n")
        data = self.head_only_exchange(wrong + request_bytes("GET", "/v1/stats"))
        self.assertEqual([r[0] for r in parse_responses(data)], [401], "the pipelined request must not be served")

    async def test_keys_of_other_lengths_and_schemes_are_refused(self):
        for auth in ("Bearer ", "Bearer t", "Bearer testke", "Bearer testkeyy", "Bearer " + KEY * 50,
                     "Basic " + KEY, "bearer  " + KEY, KEY):
            status, _, _ = self.api("GET", "/v1/stats", key=False, headers={"Authorization": auth})
            self.assertEqual(status, 401, auth)
        self.assertEqual(self.api("GET", "/v1/stats", key=False, headers={"Authorization": "bearer " + KEY})[0], 200)


class Routing(ApiTestCase):
    async def test_unknown_route_is_404(self):
        self.assertEqual(self.api("GET", "/v1/nope")[::2], (404, {"error": "unknown route"}))

    async def test_wrong_method_is_405_with_allow(self):
        status, r, body = self.api("GET", "/v1/push")
        self.assertEqual((status, r.getheader("Allow"), body), (405, "POST", {"error": "method not allowed"}))

    async def test_group_path_allows_get_and_delete(self):
        status, r, _ = self.api("PUT", "/v1/groups/g", {})
        self.assertEqual((status, r.getheader("Allow")), (405, "GET, DELETE"))

    async def test_bad_percent_encoding_is_400(self):
        self.assertError(self.api("GET", "/v1/users/a%zz"), 400)

    async def test_parameter_that_is_not_utf8_is_400(self):
        self.assertError(self.api("GET", "/v1/users/%FF"), 400)
        self.assertError(self.api("POST", "/v1/groups/%C0%AF/members", {"uid": "a"}), 400)

    async def test_empty_parameter_is_400(self):
        self.assertError(self.api("POST", "/v1/groups//push", {"message": "x"}), 400)
        self.assertError(self.api("GET", "/v1/users/"), 400)

    async def test_extra_trailing_slash_is_404(self):
        self.assertEqual(self.api("GET", "/v1/users/a/")[0], 404)
        self.assertEqual(self.api("POST", "/v1/push/", {"uid": "a", "message": "x"})[0], 404)


class Push(ApiTestCase):
    async def test_push_to_uid_reaches_each_of_its_connections_exactly(self):
        a1, a2, b = await self.login("42"), await self.login("42"), await self.login("43")
        self.assertEqual(self.api("POST", "/v1/push", {"uid": "42", "message": "order shipped"})[::2],
                         (200, {"delivered": 2}))
        self.assertEqual([await self.recv(a1), await self.recv(a2)], ["order shipped"] * 2)
        await self.assertReceivesNothing(b)

    async def test_push_to_offline_uid_delivers_zero(self):
        self.assertEqual(self.api("POST", "/v1/push", {"uid": "ghost", "message": "x"})[::2], (200, {"delivered": 0}))

    async def test_push_keeps_colons_and_unicode(self):
        ws = await self.login("u")
        self.api("POST", "/v1/push", {"uid": "u", "message": "a:b:c – ünïcödé ✓"})
        self.assertEqual(await self.recv(ws), "a:b:c – ünïcödé ✓")

    async def test_push_to_uids_list(self):
        a, b, c = await self.login("a"), await self.login("b"), await self.login("c")
        self.assertEqual(self.api("POST", "/v1/push", {"uids": ["a", "b", "offline"], "message": "hi"})[::2],
                         (200, {"delivered": 2}))
        self.assertEqual([await self.recv(a), await self.recv(b)], ["hi", "hi"])
        await self.assertReceivesNothing(c)

    async def test_uid_listed_twice_is_delivered_once(self):
        a1, a2, b = await self.login("a"), await self.login("a"), await self.login("b")
        self.assertEqual(self.api("POST", "/v1/push", {"uids": ["a", "b", "a", "a"], "message": "once"})[::2],
                         (200, {"delivered": 3}))
        self.assertEqual([await self.recv(a1), await self.recv(a2), await self.recv(b)], ["once"] * 3)
        for ws in (a1, a2, b):
            await self.assertReceivesNothing(ws)
        self.assertEqual(self.stats()["deliveries"], 3)

    async def test_empty_uids_list_is_400(self):
        self.assertError(self.api("POST", "/v1/push", {"uids": [], "message": "x"}), 400, "uids")

    async def test_group_field_on_push_is_400(self):
        self.assertError(self.api("POST", "/v1/push", {"uid": "a", "group": "g", "message": "x"}), 400, "group")

    async def test_binary_push_arrives_as_binary_bytes(self):
        ws = await self.login("bin")
        payload = bytes(range(256))
        self.api("POST", "/v1/push", {"uid": "bin", "message": base64.b64encode(payload).decode(), "binary": True})
        self.assertEqual(await self.recv(ws), payload)

    async def test_malformed_json_is_400_and_nothing_sent(self):
        ws = await self.login("a")
        self.assertError(self.api("POST", "/v1/push", raw_body=b'{"uid":"a","message":"x"'), 400)
        await self.assertReceivesNothing(ws)

    async def test_missing_message_is_400(self):
        self.assertError(self.api("POST", "/v1/push", {"uid": "a"}), 400, "message")

    async def test_uid_of_wrong_type_is_400(self):
        self.assertError(self.api("POST", "/v1/push", {"uid": 42, "message": "x"}), 400, "uid")

    async def test_message_of_wrong_type_is_400(self):
        self.assertError(self.api("POST", "/v1/push", {"uid": "a", "message": 1}), 400, "message")

    async def test_uid_and_uids_together_is_400(self):
        self.assertError(self.api("POST", "/v1/push", {"uid": "a", "uids": ["b"], "message": "x"}), 400)

    async def test_uid_with_colon_is_400(self):
        self.assertError(self.api("POST", "/v1/push", {"uid": "a:b", "message": "x"}), 400, "uid")

    async def test_bad_base64_is_400_and_nothing_sent(self):
        ws = await self.login("a")
        self.assertError(self.api("POST", "/v1/push", {"uid": "a", "message": "***", "binary": True}), 400, "message")
        await self.assertReceivesNothing(ws)

    async def test_one_bad_uid_in_list_sends_to_none(self):
        ws = await self.login("a")
        self.assertError(self.api("POST", "/v1/push", {"uids": ["a", 7], "message": "x"}), 400, "uids")
        await self.assertReceivesNothing(ws)

    async def test_broadcast_reaches_every_logged_in_connection(self):
        a, b = await self.login("a"), await self.login("b")
        self.assertEqual(self.api("POST", "/v1/broadcast", {"message": "all hands"})[::2], (200, {"delivered": 2}))
        self.assertEqual([await self.recv(a), await self.recv(b)], ["all hands"] * 2)

    async def test_broadcast_naming_a_uid_is_400_and_reaches_nobody(self):
        a, b = await self.login("a"), await self.login("b")
        self.assertError(self.api("POST", "/v1/broadcast", {"uid": "a", "message": "x"}), 400, "uid")
        self.assertError(self.api("POST", "/v1/groups/g/push", {"uids": ["a"], "message": "x"}), 400, "uids")
        await self.assertReceivesNothing(a)
        await self.assertReceivesNothing(b)

    async def test_chunked_request_body_is_accepted(self):
        ws = await self.login("a")
        body = json.dumps({"uid": "a", "message": "chunky"}).encode()
        req = (f"POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode()
        req += b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
        (status, _, resp), = raw_exchange(self.server.api_port, req)
        self.assertEqual((status, json.loads(resp)), (200, {"delivered": 1}))
        self.assertEqual(await self.recv(ws), "chunky")


class Batch(ApiTestCase):
    async def test_json_array_batch_delivers_each_in_order(self):
        a, b = await self.login("a"), await self.login("b")
        self.api("POST", "/v1/groups/g/members", {"uid": "b"})
        items = [{"uid": "a", "message": "1"}, {"uids": ["a", "b"], "message": "2"},
                 {"group": "g", "message": "3"}, {"uid": "nobody", "message": "4"}]
        self.assertEqual(self.api("POST", "/v1/push/batch", items)[::2],
                         (200, {"delivered": 4, "results": [1, 2, 1, 0]}))
        self.assertEqual([await self.recv(a), await self.recv(a)], ["1", "2"])
        self.assertEqual([await self.recv(b), await self.recv(b)], ["2", "3"])

    async def test_ndjson_batch(self):
        a = await self.login("a")
        body = b'{"uid":"a","message":"x"}\n\n{"uid":"a","message":"y"}\r\n'
        self.assertEqual(self.api("POST", "/v1/push/batch", raw_body=body,
                                  headers={"Content-Type": "application/x-ndjson"})[::2],
                         (200, {"delivered": 2, "results": [1, 1]}))
        self.assertEqual([await self.recv(a), await self.recv(a)], ["x", "y"])

    async def test_batch_item_listing_a_uid_twice_delivers_once(self):
        a = await self.login("a")
        self.assertEqual(self.api("POST", "/v1/push/batch", [{"uids": ["a", "a"], "message": "1"}])[::2],
                         (200, {"delivered": 1, "results": [1]}))
        self.assertEqual(await self.recv(a), "1")
        await self.assertReceivesNothing(a)

    async def test_one_invalid_item_rejects_the_whole_batch(self):
        a = await self.login("a")
        status, _, body = self.api("POST", "/v1/push/batch", [{"uid": "a", "message": "x"}, {"uid": "a"}])
        self.assertEqual((status, body.get("index"), body.get("field")), (400, 1, "message"))
        await self.assertReceivesNothing(a)

    async def test_ndjson_bad_line_names_its_index(self):
        body = b'{"uid":"a","message":"x"}\nnot json\n'
        status, _, resp = self.api("POST", "/v1/push/batch", raw_body=body,
                                   headers={"Content-Type": "application/x-ndjson"})
        self.assertEqual((status, resp.get("index")), (400, 1))

    async def test_batch_that_is_not_an_array_is_400(self):
        self.assertError(self.api("POST", "/v1/push/batch", {"uid": "a", "message": "x"}), 400)


class Groups(ApiTestCase):
    async def test_joined_uid_receives_group_push_and_leaving_stops_it(self):
        a1, a2, b, c = await self.login("a"), await self.login("a"), await self.login("b"), await self.login("c")
        self.assertEqual(self.api("POST", "/v1/groups/room%201/members", {"uid": "a"})[::2],
                         (200, {"group": "room 1", "uid": "a", "joined": 2, "members": 2}))
        self.api("POST", "/v1/groups/room%201/members", {"uid": "b"})
        self.assertEqual(self.api("POST", "/v1/groups/room%201/push", {"message": "m1"})[::2], (200, {"delivered": 3}))
        self.assertEqual([await self.recv(x) for x in (a1, a2, b)], ["m1"] * 3)
        await self.assertReceivesNothing(c)
        self.assertEqual(self.api("DELETE", "/v1/groups/room%201/members/a")[::2],
                         (200, {"group": "room 1", "uid": "a", "left": 2, "members": 1}))
        self.assertEqual(self.api("POST", "/v1/groups/room%201/push", {"message": "m2"})[::2], (200, {"delivered": 1}))
        self.assertEqual(await self.recv(b), "m2")
        await self.assertReceivesNothing(a1)

    async def test_ungroup_removes_everyone(self):
        a, b = await self.login("a"), await self.login("b")
        self.api("POST", "/v1/groups/g/members", {"uid": "a"})
        self.api("POST", "/v1/groups/g/members", {"uid": "b"})
        self.assertEqual(self.api("DELETE", "/v1/groups/g")[::2], (200, {"group": "g", "removed": 2}))
        self.assertEqual(self.api("POST", "/v1/groups/g/push", {"message": "x"})[::2], (200, {"delivered": 0}))
        await self.assertReceivesNothing(a)

    async def test_group_get_lists_distinct_uids_paged(self):
        for uid in ("d", "b", "a", "c", "a"):
            await self.login(uid)
        for uid in ("a", "b", "c", "d"):
            self.api("POST", "/v1/groups/g/members", {"uid": uid})
        self.assertEqual(self.api("GET", "/v1/groups/g?offset=1&limit=2")[::2],
                         (200, {"group": "g", "connections": 5, "uid_count": 4, "offset": 1, "limit": 2,
                                "uids": ["b", "c"]}))

    async def test_unknown_group_is_empty(self):
        self.assertEqual(self.api("GET", "/v1/groups/none")[::2],
                         (200, {"group": "none", "connections": 0, "uid_count": 0, "offset": 0, "limit": 100,
                                "uids": []}))

    async def test_bad_limit_is_400(self):
        self.assertError(self.api("GET", "/v1/groups/g?limit=0"), 400)
        self.assertError(self.api("GET", "/v1/groups/g?limit=x"), 400)

    async def test_member_add_without_uid_is_400(self):
        self.assertError(self.api("POST", "/v1/groups/g/members", {"user": "a"}), 400, "uid")

    async def test_closed_connection_leaves_its_groups(self):
        a = await self.login("a")
        self.api("POST", "/v1/groups/g/members", {"uid": "a"})
        await a.close()
        await asyncio.sleep(0.1)
        self.assertEqual(self.api("GET", "/v1/groups/g")[2]["connections"], 0)


class Presence(ApiTestCase):
    async def test_user_presence_counts_connections(self):
        await self.login("a")
        await self.login("a")
        self.assertEqual(self.api("GET", "/v1/users/a")[::2], (200, {"uid": "a", "online": True, "connections": 2}))
        self.assertEqual(self.api("GET", "/v1/users/b")[::2], (200, {"uid": "b", "online": False, "connections": 0}))

    async def test_uid_in_path_is_percent_decoded(self):
        await self.login("a b/ü")
        self.assertEqual(self.api("GET", "/v1/users/a%20b%2F%C3%BC")[::2],
                         (200, {"uid": "a b/ü", "online": True, "connections": 1}))

    async def test_presence_of_many_in_request_order(self):
        await self.login("x")
        self.assertEqual(self.api("POST", "/v1/presence", {"uids": ["y", "x"]})[::2],
                         (200, {"users": [{"uid": "y", "online": False, "connections": 0},
                                          {"uid": "x", "online": True, "connections": 1}], "online": 1}))

    async def test_presence_without_uids_is_400(self):
        self.assertError(self.api("POST", "/v1/presence", {"uid": "x"}), 400, "uids")


class Kick(ApiTestCase):
    async def test_kick_closes_every_connection_with_code_and_reason(self):
        a1, a2, b = await self.login("a"), await self.login("a"), await self.login("b")
        self.assertEqual(self.api("POST", "/v1/users/a/disconnect", {"code": 4000, "reason": "bye now"})[::2],
                         (200, {"uid": "a", "disconnected": 2}))
        await self.assertClosedWith(a1, 4000, "bye now")
        await self.assertClosedWith(a2, 4000, "bye now")
        self.assertEqual(self.api("GET", "/v1/users/a")[2]["connections"], 0)
        self.assertEqual(self.api("GET", "/v1/users/b")[2]["connections"], 1)

    async def test_kick_without_body_closes_with_1000(self):
        a = await self.login("a")
        self.assertEqual(self.api("POST", "/v1/users/a/disconnect", raw_body=b"")[0], 200)
        await self.assertClosedWith(a, 1000, "")

    async def test_protocol_close_codes_are_400_and_nothing_closed(self):
        a = await self.login("a")
        for code in (1001, 2999, 5000, "4000"):
            self.assertError(self.api("POST", "/v1/users/a/disconnect", {"code": code}), 400, "code")
        await self.assertReceivesNothing(a)
        self.assertEqual(self.api("GET", "/v1/users/a")[2]["connections"], 1)

    async def test_reason_of_123_bytes_is_accepted(self):
        a = await self.login("a")
        reason = "é" * 61 + "x"  # 123 bytes of UTF-8
        self.assertEqual(self.api("POST", "/v1/users/a/disconnect", {"code": 3000, "reason": reason})[0], 200)
        await self.assertClosedWith(a, 3000, reason)

    async def test_reason_over_123_bytes_is_400(self):
        self.assertError(self.api("POST", "/v1/users/a/disconnect", {"code": 4000, "reason": "é" * 62}), 400, "reason")


class Counters(ApiTestCase):
    async def test_stats_match_what_happened(self):
        await self.login("a")
        await self.login("a")
        await self.login("b")
        self.api("POST", "/v1/push", {"uid": "a", "message": "x"})
        self.api("POST", "/v1/push/batch", [{"uid": "b", "message": "y"}, {"uid": "z", "message": "z"}])
        self.api("POST", "/v1/push", {"uid": "a"})  # 400: not counted as a message
        s = self.stats()
        self.assertEqual({k: s[k] for k in ("websockets", "online_connections", "online_uids", "logins",
                                            "api_messages", "deliveries", "api_deliveries", "dropped_offline")},
                         {"websockets": 3, "online_connections": 3, "online_uids": 2, "logins": 3,
                          "api_messages": 3, "deliveries": 3, "api_deliveries": 3, "dropped_offline": 1})

    async def test_metrics_match_what_happened(self):
        a = await self.login("a")
        self.api("POST", "/v1/push", {"uid": "a", "message": "hello"})
        self.api("POST", "/v1/push", {"uid": "a", "message": "hello"})
        self.api("POST", "/v1/push", {"uid": "a"})
        self.api("GET", "/v1/nothing")
        self.api("POST", "/v1/users/a/disconnect", {"code": 4001})
        await self.assertClosedWith(a, 4001, "")
        # The server frees the connection when the client's TCP close follows the close frame.
        for _ in range(100):
            if self.metric("wspush_online_connections") == 0:
                break
            await asyncio.sleep(0.02)
        self.assertEqual(self.metric("wspush_api_requests_total", 'route="push",status="200"'), 2)
        self.assertEqual(self.metric("wspush_api_requests_total", 'route="push",status="400"'), 1)
        self.assertEqual(self.metric("wspush_api_requests_total", 'route="unknown",status="404"'), 1)
        self.assertEqual(self.metric("wspush_api_push_duration_seconds_count"), 3)
        self.assertEqual(self.metric("wspush_api_push_duration_seconds_bucket", 'le="+Inf"'), 3)
        self.assertEqual(self.metric("wspush_messages_in_total", 'path="api"'), 2)
        self.assertEqual(self.metric("wspush_messages_out_total", 'path="api"'), 2)
        self.assertEqual(self.metric("wspush_message_bytes_out_total", 'path="api"'), 10)
        self.assertEqual(self.metric("wspush_messages_in_total", 'path="client"'), 1)  # the login
        self.assertEqual(self.metric("wspush_logins_total"), 1)
        self.assertEqual(self.metric("wspush_closes_total", 'reason="kicked"'), 1)
        self.assertEqual(self.metric("wspush_online_connections"), 0)

    async def test_metrics_are_prometheus_text(self):
        status, r, text = self.api("GET", "/metrics")
        self.assertEqual((status, r.getheader("Content-Type")), (200, "text/plain; version=0.0.4; charset=utf-8"))
        for line in text.splitlines():
            self.assertRegex(line, r'^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [0-9.e+-]+)$')


class Transport(ApiTestCase):
    server_args = ("--api-max-body", "1024", "--handshake-timeout", "1")

    async def test_keep_alive_serves_sequential_requests_on_one_socket(self):
        s = socket.create_connection(("127.0.0.1", self.server.api_port), timeout=PROMPT)
        self.addCleanup(s.close)
        for _ in range(3):
            s.sendall(request_bytes("GET", "/v1/users/a"))
            buf = b""
            while not parse_responses(buf):
                buf += s.recv(4096)
            self.assertEqual(parse_responses(buf)[0][0], 200)

    async def test_pipelined_requests_are_answered_in_order(self):
        a = await self.login("a")
        data = b"".join(request_bytes("POST", "/v1/push", {"uid": "a", "message": str(i)}) for i in range(3))
        data += request_bytes("GET", "/v1/users/a")
        responses = raw_exchange(self.server.api_port, data, expect_responses=4)
        self.assertEqual([(st, json.loads(b)) for st, _, b in responses],
                         [(200, {"delivered": 1})] * 3 + [(200, {"uid": "a", "online": True, "connections": 1})])
        self.assertEqual([await self.recv(a) for _ in range(3)], ["0", "1", "2"])

    async def test_request_written_one_byte_at_a_time(self):
        a = await self.login("a")
        (status, _, body), = raw_exchange(self.server.api_port,
                                          request_bytes("POST", "/v1/push", {"uid": "a", "message": "slow"}),
                                          chunked_writes=1)
        self.assertEqual((status, json.loads(body)), (200, {"delivered": 1}))
        self.assertEqual(await self.recv(a), "slow")

    async def test_post_without_length_is_411(self):
        (status, _, _), = raw_exchange(self.server.api_port, b"POST /v1/push HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 411)

    async def test_body_over_max_is_413(self):
        (status, _, _), = raw_exchange(self.server.api_port,
                                       request_bytes("POST", "/v1/push", {"uid": "a", "message": "x" * 2000}))
        self.assertEqual(status, 413)

    async def test_head_over_8k_is_431(self):
        (status, _, _), = raw_exchange(self.server.api_port,
                                       request_bytes("GET", "/v1/stats", extra="X-Big: " + "a" * 9000 + "\r\n"))
        self.assertEqual(status, 431)

    async def test_stalled_client_gets_408_and_does_not_block_websockets(self):
        a = await self.login("a")
        stalled = socket.create_connection(("127.0.0.1", self.server.api_port), timeout=5 * SLOW)
        self.addCleanup(stalled.close)
        stalled.sendall(f"POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Length: 100\r\n\r\n{{\"uid\"".encode())
        t0 = time.monotonic()
        self.assertEqual(self.api("POST", "/v1/push", {"uid": "a", "message": "still here"})[2], {"delivered": 1})
        self.assertEqual(await self.recv(a), "still here")
        buf = b""
        while not parse_responses(buf):
            got = stalled.recv(4096)
            if not got:
                break
            buf += got
        self.assertEqual(parse_responses(buf)[0][0], 408)
        self.assertLess(time.monotonic() - t0, 3 * SLOW)


def chunked(body, sizes):
    """body in chunked transfer coding, chunk lengths cycling through sizes, with a trailer."""
    out, i, k = [], 0, 0
    while i < len(body):
        n = sizes[k % len(sizes)]
        out.append(b"%x\r\n" % len(body[i:i + n]) + body[i:i + n] + b"\r\n")
        i, k = i + n, k + 1
    return b"".join(out) + b"0\r\nX-Trailer: t\r\n\r\n"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class SlowUploads(ApiTestCase):
    """A request that arrives a few bytes per read is read once, not once per read."""
    server_args = ("--handshake-timeout", "30")

    async def test_chunked_body_in_pieces_of_every_size_is_delivered_intact(self):
        a = await self.login("a")
        message = "".join(chr(0x41 + i % 26) for i in range(3000))
        body = json.dumps({"uid": "a", "message": message}).encode()
        head = (f"POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()
        for sizes, write in (([1, 7, 300], 1), ([5], 3), ([64, 1], 17), ([1000], 101)):
            (status, _, resp), = raw_exchange(self.server.api_port, head + chunked(body, sizes), chunked_writes=write)
            self.assertEqual((status, json.loads(resp)), (200, {"delivered": 1}), (sizes, write))
            self.assertEqual(await self.recv(a), message)

    async def test_a_slow_chunked_upload_costs_the_server_linear_cpu(self):
        # 150 KB of body in 1-byte chunks (~0.9 MB on the wire), written 450 bytes at a time:
        # ~2000 reads. Decoding everything held on every read (the old way) took the server
        # ~1 s of CPU for this; reading each byte once takes a few ms plus the reads.
        a = await self.login("a")
        message = "m" * 150_000
        body = json.dumps({"uid": "a", "message": message}).encode()
        wire = (f"POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode() + chunked(body, [1])
        before = cpu_seconds(self.server.proc.pid)
        (status, _, resp), = raw_exchange(self.server.api_port, wire, chunked_writes=450, timeout=10 * SLOW)
        spent = cpu_seconds(self.server.proc.pid) - before
        self.assertEqual((status, json.loads(resp)), (200, {"delivered": 1}))
        self.assertEqual(await self.recv(a), message)
        self.assertLess(spent, 0.3 * SLOW, f"server CPU for the upload: {spent:.3f} s")

    async def test_a_head_sent_one_byte_at_a_time_is_scanned_once(self):
        # A 3 KB head, one byte per write: ~3000 reads. Only the new
        # bytes are searched for the blank line; the old way searched all held bytes each time.
        a = await self.login("a")
        wire = request_bytes("POST", "/v1/push", {"uid": "a", "message": "late"},
                             extra="".join(f"X-Filler-{i}: {'v' * 60}\r\n" for i in range(40)))
        self.assertLess(len(wire), 8192)
        (status, _, resp), = raw_exchange(self.server.api_port, wire, chunked_writes=1, timeout=30 * SLOW)
        self.assertEqual((status, json.loads(resp)), (200, {"delivered": 1}))
        self.assertEqual(await self.recv(a), "late")


if __name__ == "__main__":
    unittest.main(verbosity=1)

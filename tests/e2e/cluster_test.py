"""End-to-end tests of the cluster (--redis): several real build/wspush nodes over a real
redis-server that this file starts on a Unix socket in a temporary directory (never the
system's Redis) and stops. Clients are Debian's python3-websockets; the API is plain HTTP.
Run: /usr/bin/python3 tests/e2e/cluster_test.py  (tests/e2e/test_cluster.sh does).
"""
import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import websockets

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, os.environ.get("WSPUSH_BUILD", "build"), "wspush")
SLOW = 4.0 if os.environ.get("WSPUSH_SANITIZED") == "1" else 1.0
PROMPT = 3.0 * SLOW
QUIET = 0.3 * SLOW
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
SANITIZER_REPORT = re.compile(rb"ERROR: (Address|Leak|Thread)Sanitizer|runtime error:")


class Redis:
    """A redis-server of our own on a Unix socket (no TCP port), no persistence."""

    def __init__(self, tmp, name="redis", *extra):
        self.sock = os.path.join(tmp, name + ".sock")
        self.extra = list(extra)
        self.proc = None
        self.url = "unix://" + self.sock

    def start(self):
        self.proc = subprocess.Popen(
            ["setpriv", "--pdeathsig", "KILL", REDIS, "--port", "0", "--unixsocket", self.sock, "--save", "",
             "--appendonly", "no", *self.extra], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5 * SLOW
        while time.monotonic() < deadline:
            try:
                self.command("PING")
                return self
            except (OSError, RuntimeError):
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def command(self, *args):
        """One RESP command, the raw first reply line back (enough for PUBLISH/PING)."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        try:
            s.connect(self.sock)
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            reply = s.recv(4096)
        finally:
            s.close()
        if not reply:
            raise RuntimeError("no reply")
        return reply


class Node:
    WS = re.compile(rb"listening on \S+:(\d+) \(websocket\)")
    API = re.compile(rb"listening on \S+:(\d+) \(api")

    def __init__(self, name, redis_url, *extra):
        self.name = name
        self.argv = [BINARY, "--host", "127.0.0.1", "--port", "0", "--api-listen", "127.0.0.1:0",
                     "--shutdown-timeout", "1", "--node-id", name, *(["--redis", redis_url] if redis_url else []),
                     *extra]
        self.proc = None

    def start(self, wait_ready=True):
        fd, self.log_path = tempfile.mkstemp(prefix=f"wspush-cluster-{self.name}-", suffix=".log")
        self.log = os.fdopen(fd, "ab")
        self.proc = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", *self.argv], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 5 * SLOW
        while time.monotonic() < deadline:
            text = self.text()
            ws, api = self.WS.search(text), self.API.search(text)
            if ws and api:
                self.ws_port, self.api_port = int(ws.group(1)), int(api.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError(f"node {self.name} did not start:\n" + self.text().decode("utf-8", "replace"))

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.ws_port}/"

    def api(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=PROMPT * 3)
        try:
            conn.request(method, path, None if body is None else json.dumps(body),
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        return r.status, (json.loads(data) if data.startswith(b"{") else data.decode())

    def stats(self):
        return self.api("GET", "/v1/stats")[1]

    def metric(self, name, labels=""):
        text = self.api("GET", "/metrics")[1]
        m = re.search(r"^%s%s (\d+)$" % (re.escape(name), re.escape(labels)), text, re.M)
        return int(m.group(1)) if m else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM (a clean exit lets the sanitizers report), SIGKILL if it lingers; raises on a
        sanitizer report."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5 * SLOW)
            except subprocess.TimeoutExpired:
                self.kill()
        report = self.text()
        self.log.close()
        os.unlink(self.log_path)
        if SANITIZER_REPORT.search(report):
            raise AssertionError(f"sanitizer report from node {self.name}:\n" + report.decode("utf-8", "replace")[-6000:])


class ClusterCase(unittest.IsolatedAsyncioTestCase):
    NODES = ("A", "B", "C")
    TEST_LIMIT = 90 * SLOW

    def start_redis(self):
        """A temporary directory and our own redis-server on a Unix socket in it."""
        asyncio.get_running_loop().set_debug(False)
        self.tmp = tempfile.mkdtemp(prefix="wspush-cluster-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.redis = Redis(self.tmp).start()
        self.addCleanup(self.redis.kill)

    async def asyncSetUp(self):
        self.start_redis()
        self.nodes = {}
        for n in self.NODES:
            self.nodes[n] = self.start_node(n, self.redis.url)
        await self.wait_cluster(len(self.NODES))

    def start_node(self, name, url, *extra):
        node = Node(name, url, *extra).start()
        self.addCleanup(node.stop)
        return node

    async def wait_for(self, what, check, timeout=None):
        deadline = time.monotonic() + (timeout or PROMPT * 2)
        while True:
            got = check()
            if got:
                return got
            if time.monotonic() > deadline:
                self.fail(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    async def wait_cluster(self, count):
        for node in self.nodes.values():
            if node.proc.poll() is None:
                await self.wait_for(f"{node.name} to see {count} nodes",
                                    lambda n=node: (lambda c: c["available"] and c["nodes"] == count)(n.stats()["cluster"]))

    async def wait_presence(self, node, uid, connections):
        await self.wait_for(f"{node.name} to see {uid} with {connections} connections",
                            lambda: node.api("GET", f"/v1/users/{uid}")[1]["connections"] == connections)

    async def login(self, node, uid):
        ws = await websockets.connect(node.url, ping_interval=None, open_timeout=PROMPT, close_timeout=1)
        self.addAsyncCleanup(self._close, ws)
        await ws.send(uid)
        self.assertEqual(await self.recv(ws), f"login success, your uid is {uid}")
        return ws

    @staticmethod
    async def _close(ws):
        try:
            await asyncio.wait_for(ws.close(), 2)
        except Exception:
            ws.transport.abort()

    async def recv(self, ws, timeout=None):
        return await asyncio.wait_for(ws.recv(), timeout or PROMPT)

    async def assertNothing(self, ws, within=None):
        try:
            got = await asyncio.wait_for(ws.recv(), within or QUIET)
        except asyncio.TimeoutError:
            return
        self.fail(f"expected no message, got {got!r}")


class Routing(ClusterCase):
    async def test_uid_on_a_is_reached_from_b_client_and_c_api(self):
        A, B, C = (self.nodes[n] for n in "ABC")
        alice = await self.login(A, "alice")
        bob = await self.login(B, "bob")
        await self.wait_presence(B, "alice", 1)
        await self.wait_presence(C, "alice", 1)
        await bob.send("alice:hi from B: with a colon")
        self.assertEqual(await self.recv(alice), "hi from B: with a colon")
        self.assertEqual(C.api("POST", "/v1/push", {"uid": "alice", "message": "from C"}),
                         (200, {"delivered": 0, "remote": 1}))
        self.assertEqual(await self.recv(alice), "from C")
        await bob.send(b"alice:\x00\xffbin")
        self.assertEqual(await self.recv(alice), b"\x00\xffbin")
        await self.assertNothing(bob)

    async def test_broadcast_reaches_every_node_once(self):
        clients = [await self.login(self.nodes[n], f"u{n}") for n in "ABC"]
        await self.wait_presence(self.nodes["A"], "uC", 1)
        await clients[1].send("all:everyone")
        for ws in clients:
            self.assertEqual(await self.recv(ws), "everyone")
        self.assertEqual(self.nodes["C"].api("POST", "/v1/broadcast", {"message": "api"})[0], 200)
        for ws in clients:
            self.assertEqual(await self.recv(ws), "api")
            await self.assertNothing(ws)

    async def test_uid_on_two_nodes_gets_each_message_once_in_order(self):
        A, B, C = (self.nodes[n] for n in "ABC")
        on_a = await self.login(A, "multi")
        on_c = await self.login(C, "multi")
        sender = await self.login(B, "sender")
        await self.wait_presence(B, "multi", 2)
        self.assertEqual(B.api("GET", "/v1/users/multi")[1], {"uid": "multi", "online": True, "connections": 2, "nodes": 2})
        for i in range(200):
            await sender.send(f"multi:{i}")
        for ws in (on_a, on_c):
            self.assertEqual([await self.recv(ws) for _ in range(200)], [str(i) for i in range(200)])
            await self.assertNothing(ws)

    async def test_push_to_uids_list_spans_nodes(self):
        A, B, C = (self.nodes[n] for n in "ABC")
        a, c = await self.login(A, "x1"), await self.login(C, "x2")
        await self.wait_presence(B, "x2", 1)
        await self.wait_presence(B, "x1", 1)
        self.assertEqual(B.api("POST", "/v1/push", {"uids": ["x1", "x2", "nobody"], "message": "m"}),
                         (200, {"delivered": 0, "remote": 2}))
        self.assertEqual(await self.recv(a), "m")
        self.assertEqual(await self.recv(c), "m")

    async def test_offline_uid_is_dropped_not_refused(self):
        B = self.nodes["B"]
        self.assertEqual(B.api("POST", "/v1/push", {"uid": "ghost", "message": "m"}), (200, {"delivered": 0, "remote": 0}))


class SenderRules(ClusterCase):
    """--mark-sender and --client-send hold across nodes: the mark travels with the message
    over the bus, and a refused broadcast never reaches the bus."""
    def start_node(self, name, url, *extra):
        return super().start_node(name, url, "--mark-sender", "--client-send", "uid", *extra)

    async def test_a_marked_message_arrives_marked_on_another_node(self):
        A, B = self.nodes["A"], self.nodes["B"]
        alice = await self.login(A, "alice")
        bob = await self.login(B, "bob")
        await self.wait_presence(B, "alice", 1)
        await bob.send("alice:hi: there")
        self.assertEqual(await self.recv(alice), "bob:hi: there")
        await bob.send(b"alice:\x00bin")
        self.assertEqual(await self.recv(alice), b"bob:\x00bin")

    async def test_a_refused_broadcast_reaches_no_node(self):
        A, B = self.nodes["A"], self.nodes["B"]
        alice = await self.login(A, "alice")
        bob = await self.login(B, "bob")
        await self.wait_presence(B, "alice", 1)
        await bob.send("all:phish")
        self.assertEqual(await self.recv(bob), "error: this connection may not send to all")
        await self.assertNothing(alice)


class Groups(ClusterCase):
    async def test_group_push_reaches_members_on_every_node_and_after_a_reconnect(self):
        A, B, C = (self.nodes[n] for n in "ABC")
        m1 = await self.login(A, "m1")
        m2 = await self.login(C, "m2")
        outsider = await self.login(B, "outsider")
        await self.wait_presence(C, "m1", 1)
        await self.wait_presence(B, "m2", 1)
        self.assertEqual(C.api("POST", "/v1/groups/room/members", {"uid": "m1"})[1]["joined"], 1)
        # A join reaches the other nodes over the bus: B counts m1 once it has heard of it.
        await self.wait_for("B to see m1 join", lambda: B.api("GET", "/v1/groups/room")[1]["uid_count"] == 1)
        self.assertEqual(B.api("POST", "/v1/groups/room/members", {"uid": "m2"})[1], {"group": "room", "uid": "m2", "joined": 1, "members": 2})
        await self.wait_for("A to see both members", lambda: A.api("GET", "/v1/groups/room")[1]["uid_count"] == 2)
        self.assertEqual(B.api("POST", "/v1/groups/room/push", {"message": "g1"})[1], {"delivered": 0, "remote": 2})
        self.assertEqual(await self.recv(m1), "g1")
        self.assertEqual(await self.recv(m2), "g1")
        await self.assertNothing(outsider)
        # m1 reconnects on another node: still a member.
        await m1.close()
        m1b = await self.login(B, "m1")
        await self.wait_presence(A, "m1", 1)
        await self.wait_for("C to see m1 on B only", lambda: C.api("GET", "/v1/users/m1")[1]["connections"] == 1)
        self.assertEqual(A.api("POST", "/v1/groups/room/push", {"message": "g2"})[0], 200)
        self.assertEqual(await self.recv(m1b), "g2")
        self.assertEqual(await self.recv(m2), "g2")
        # Leaving on one node stops it everywhere.
        self.assertEqual(C.api("DELETE", "/v1/groups/room/members/m1")[1]["left"], 1)
        await self.wait_for("B to see m1 leave", lambda: B.api("GET", "/v1/groups/room")[1]["uids"] == ["m2"])
        A.api("POST", "/v1/groups/room/push", {"message": "g3"})
        self.assertEqual(await self.recv(m2), "g3")
        await self.assertNothing(m1b)
        self.assertEqual(B.api("DELETE", "/v1/groups/room")[1], {"group": "room", "removed": 1})
        await self.wait_for("A to see the group gone", lambda: A.api("GET", "/v1/groups/room")[1]["uid_count"] == 0)

    async def test_a_new_node_learns_existing_groups_and_presence(self):
        A = self.nodes["A"]
        await self.login(A, "early")
        A.api("POST", "/v1/groups/old/members", {"uid": "early"})
        D = self.start_node("D", self.redis.url)
        self.nodes["D"] = D
        await self.wait_for("D to learn the group", lambda: D.api("GET", "/v1/groups/old")[1]["uids"] == ["early"])
        await self.wait_presence(D, "early", 1)


class PresenceAndKick(ClusterCase):
    async def test_presence_and_kick_answer_for_every_node(self):
        A, B, C = (self.nodes[n] for n in "ABC")
        k1 = await self.login(A, "kicked")
        k2 = await self.login(C, "kicked")
        await self.wait_presence(B, "kicked", 2)
        self.assertEqual(B.api("POST", "/v1/presence", {"uids": ["kicked", "none"]})[1],
                         {"users": [{"uid": "kicked", "online": True, "connections": 2, "nodes": 2},
                                    {"uid": "none", "online": False, "connections": 0, "nodes": 0}], "online": 1})
        self.assertEqual(B.api("POST", "/v1/users/kicked/disconnect", {"code": 4001, "reason": "bye"})[1],
                         {"uid": "kicked", "disconnected": 2})
        for ws in (k1, k2):
            await asyncio.wait_for(ws.wait_closed(), PROMPT)
            self.assertEqual(ws.close_code, 4001)
        await self.wait_presence(B, "kicked", 0)

    async def test_stats_total_every_node(self):
        for n in "ABC":
            await self.login(self.nodes[n], "s" + n)
        await self.wait_for("heartbeats with the logins", lambda: self.nodes["A"].stats()["cluster"]["totals"]["online_connections"] == 3)
        c = self.nodes["A"].stats()["cluster"]
        self.assertEqual(sorted(p["node"] for p in c["per_node"]), ["A", "B", "C"])
        self.assertEqual(c["totals"]["logins"], 3)


class Targeted(ClusterCase):
    async def test_messages_to_uids_on_a_sent_through_b_cost_c_nothing(self):
        A, B, C = (self.nodes[n] for n in "ABC")
        receivers = [await self.login(A, f"t{i}") for i in range(10)]
        await self.wait_presence(B, "t9", 1)
        await asyncio.sleep(0.5)
        c_before = C.metric("wspush_cluster_bus_bytes_total", '{direction="in"}')
        a_before = A.metric("wspush_cluster_bus_messages_total", '{direction="in"}')
        started = time.monotonic()
        for batch in range(10):
            items = [{"uid": f"t{i % 10}", "message": f"{batch}-{i}"} for i in range(1000)]
            status, body = B.api("POST", "/v1/push/batch", items)
            self.assertEqual((status, body["remote"]), (200, 1000))
        got = 0
        for ws in receivers:
            for _ in range(1000):
                await self.recv(ws)
                got += 1
        self.assertEqual(got, 10000)
        elapsed = time.monotonic() - started
        c_after = C.metric("wspush_cluster_bus_bytes_total", '{direction="in"}')
        a_after = A.metric("wspush_cluster_bus_messages_total", '{direction="in"}')
        # C hears only heartbeats (~150 B a second per peer) while 10000 messages cross A<-B.
        self.assertLess(c_after - c_before, 600 * (elapsed + 2), f"C received {c_after - c_before} bus bytes")
        self.assertGreaterEqual(a_after - a_before, 10000)
        print(f"\n  targeted: 10000 messages B->A in {elapsed:.2f}s; bus bytes received by C: {c_after - c_before}",
              flush=True)


class RedisOutage(ClusterCase):
    async def test_redis_killed_then_restarted(self):
        A, B, C = (self.nodes[n] for n in "ABC")
        a = await self.login(A, "ra")
        b = await self.login(B, "rb")
        await self.wait_presence(B, "ra", 1)
        self.redis.kill()
        await self.wait_for("B to notice", lambda: not B.stats()["cluster"]["available"])
        # Local delivery goes on; anything needing another node is refused, not lost.
        self.assertEqual(B.api("POST", "/v1/push", {"uid": "rb", "message": "local"}), (200, {"delivered": 1, "remote": 0}))
        self.assertEqual(await self.recv(b), "local")
        self.assertEqual(B.api("POST", "/v1/push", {"uid": "ra", "message": "x"}),
                         (503, {"error": "cluster unavailable", "delivered": 0, "remote": 0}))
        st, body = B.api("POST", "/v1/broadcast", {"message": "bc"})
        self.assertEqual((st, body["delivered"]), (503, 1))
        self.assertEqual(await self.recv(b), "bc")
        await b.send("ra:hello?")
        self.assertTrue((await self.recv(b)).startswith("error: cluster unavailable"))
        self.assertEqual(B.api("POST", "/v1/groups/g/members", {"uid": "ra"})[0], 503)
        self.assertGreaterEqual(B.metric("wspush_cluster_api_unavailable_total"), 3)
        self.assertGreaterEqual(B.metric("wspush_cluster_client_refused_total"), 1)
        await self.assertNothing(a)
        # Redis returns: within 5 s cross-node delivery works again, no node restarted.
        self.redis.start()
        started = time.monotonic()
        while True:
            st, body = B.api("POST", "/v1/push", {"uid": "ra", "message": "back"})
            if st == 200:
                break
            self.assertLess(time.monotonic() - started, 5.0 * SLOW, f"still {st} {body}")
            await asyncio.sleep(0.05)
        self.assertEqual(body, {"delivered": 0, "remote": 1})
        self.assertEqual(await self.recv(a), "back")
        print(f"\n  cross-node delivery back {time.monotonic() - started:.2f}s after Redis restarted", flush=True)
        # Presence was rebuilt on the new Redis: C sees ra too, and a broadcast reaches all.
        await self.wait_presence(C, "ra", 1)
        await self.wait_cluster(3)
        self.assertGreaterEqual(B.metric("wspush_cluster_reconnects_total"), 1)


class SlowRedis(ClusterCase):
    NODES = ("A", "B")

    def start_node(self, name, url, *extra):
        return super().start_node(name, url, "--redis-max-pending", "65536", *extra)

    async def test_a_stalled_redis_stalls_neither_the_loop_nor_memory(self):
        A, B = self.nodes["A"], self.nodes["B"]
        a = await self.login(A, "far")
        b = await self.login(B, "near")
        await self.wait_presence(B, "far", 1)
        self.redis.proc.send_signal(signal.SIGSTOP)
        self.addCleanup(lambda: self.redis.proc.poll() is None and self.redis.proc.send_signal(signal.SIGCONT))
        big = "x" * 4000
        statuses = []
        started = time.monotonic()
        for _ in range(100):  # 400 KB toward a Redis that reads nothing: over the 64 KiB bound
            statuses.append(B.api("POST", "/v1/push", {"uid": "far", "message": big})[0])
        self.assertIn(503, statuses)  # refused once the bound is reached, not queued forever
        self.assertLess(time.monotonic() - started, 5 * SLOW)  # the loop kept answering
        self.assertLessEqual(B.metric("wspush_cluster_bus_pending_bytes"), 65536 + 8192)
        # Local delivery is untouched.
        self.assertEqual(B.api("POST", "/v1/push", {"uid": "near", "message": "local"})[0], 200)
        self.assertEqual(await self.recv(b), "local")
        # The stalled link is given up after 5 s; Redis comes back and so does the cluster.
        await self.wait_for("B to give up the stalled link", lambda: not B.stats()["cluster"]["available"],
                            timeout=12 * SLOW)
        self.redis.proc.send_signal(signal.SIGCONT)
        await self.wait_cluster(2)
        started = time.monotonic()
        while B.api("POST", "/v1/push", {"uid": "far", "message": "after"})[0] != 200:
            self.assertLess(time.monotonic() - started, 5 * SLOW)
            await asyncio.sleep(0.05)
        while (await self.recv(a)) != "after":
            pass


class NodeDeath(ClusterCase):
    async def test_sigkilled_node_goes_offline_within_15_seconds(self):
        A, B, C = (self.nodes[n] for n in "ABC")
        await self.login(A, "dies")
        await self.wait_presence(B, "dies", 1)
        A.proc.send_signal(signal.SIGKILL)
        started = time.monotonic()
        await self.wait_for("B to forget A's uids", lambda: B.api("GET", "/v1/users/dies")[1]["online"] is False,
                            timeout=15 * SLOW)
        took = time.monotonic() - started
        self.assertLess(took, 15)
        self.assertEqual(B.stats()["cluster"]["nodes"], 2)
        self.assertEqual(B.api("POST", "/v1/push", {"uid": "dies", "message": "x"}), (200, {"delivered": 0, "remote": 0}))
        print(f"\n  SIGKILLed node's uid offline on B after {took:.1f}s", flush=True)


class RedisProxy:
    """A pass-through in front of the test's Redis (a Unix socket of its own) that can hold one
    kind of connection, in one direction, for a while: the bytes wait (in the kernel and in
    Redis's output buffer), nothing is lost. A connection is recognised by what its client
    has sent (e.g. its SUBSCRIBE), which is how a node under a flood looks to its peers: its
    data link seconds behind, everything else on time."""

    def __init__(self, tmp, upstream):
        self.path = os.path.join(tmp, "proxy.sock")
        self.upstream = upstream
        self.url = "unix://" + self.path
        self.rules = []  # (pattern in the client's bytes, "down" = Redis->client | "up", released Event)
        self.server = None

    async def start(self):
        self.server = await asyncio.start_unix_server(self._serve, path=self.path)
        return self

    async def close(self):
        for _, _, released in self.rules:
            released.set()
        self.server.close()
        await self.server.wait_closed()

    def hold(self, pattern, direction):
        released = asyncio.Event()
        self.rules.append((pattern, direction, released))
        return released

    async def _serve(self, c_reader, c_writer):
        r_reader, r_writer = await asyncio.open_unix_connection(self.upstream)
        seen = bytearray()

        def gate(direction):
            for pattern, d, released in self.rules:
                if d == direction and not released.is_set() and pattern in seen:
                    return released
            return None

        async def pump(reader, writer, direction):
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    if direction == "up" and len(seen) < 65536:
                        seen.extend(data[:65536])
                    g = gate(direction)
                    if g is not None:
                        await g.wait()
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        await asyncio.gather(pump(c_reader, r_writer, "up"), pump(r_reader, c_writer, "down"))


class LivenessUnderLoad(ClusterCase):
    """A node's peers judge it alive by its heartbeats on the control lane (their own Redis
    links) and by any message it sends: a data backlog, however deep, does not make a live node
    look dead (which would refuse every send to it: `cluster unavailable`). B goes through a
    proxy that can hold one of its links; B heartbeats every 0.5 s, so it calls a peer stale
    after 2 s of silence, while a held link is given up only after 5 s."""
    NODES = ("A", "B")

    async def asyncSetUp(self):
        self.start_redis()
        self.proxy = await RedisProxy(self.tmp, self.redis.sock).start()
        self.addAsyncCleanup(self.proxy.close)
        self.nodes = {"A": self.start_node("A", self.redis.url, "--cluster-heartbeat", "1"),
                      "B": self.start_node("B", self.proxy.url, "--cluster-heartbeat", "0.5")}
        await self.wait_cluster(2)
        self.a = await self.login(self.nodes["A"], "on-a")
        self.b = await self.login(self.nodes["B"], "on-b")
        await self.wait_presence(self.nodes["A"], "on-b", 1)
        await self.wait_presence(self.nodes["B"], "on-a", 1)

    async def flood(self, ws, uid, until):
        sent = 0
        while time.monotonic() < until:
            await ws.send(f"{uid}:{sent}")
            sent += 1
            await asyncio.sleep(0.01)
        return sent

    async def test_a_node_whose_data_link_is_seconds_behind_still_sees_its_peers_alive(self):
        A, B = self.nodes["A"], self.nodes["B"]
        # B's data subscription (wspush:all + wspush:node.B) stops delivering: what A sends B
        # piles up in Redis, A's heartbeats on wspush:control do not.
        released = self.proxy.hold(b"SUBSCRIBE\r\n$13\r\nwspush:node.B\r\n", "down")
        held_at = time.monotonic()
        flood = asyncio.create_task(self.flood(self.a, "on-b", held_at + 3.0))
        await asyncio.sleep(2.5)  # B has heard no data for 2.5 s: past its 2 s stale bound
        self.assertEqual(B.api("GET", "/v1/users/on-a")[1]["connections"], 1)
        await self.b.send("on-a:while B is behind")
        self.assertEqual(await self.recv(self.a), "while B is behind")  # not "error: cluster unavailable"
        sent = await flood
        released.set()
        got = [await self.recv(self.b, PROMPT * 2) for _ in range(sent)]  # the backlog, once, in order
        self.assertEqual(got, [str(i) for i in range(sent)])
        await self.assertNothing(self.b)
        self.assertEqual(B.metric("wspush_cluster_unavailable_total"), 0)
        self.assertTrue(B.stats()["cluster"]["available"])  # the held link was never given up

    async def test_a_node_whose_heartbeats_are_late_is_alive_while_its_messages_arrive(self):
        A, B = self.nodes["A"], self.nodes["B"]
        # A's heartbeats to B stop (B's control subscription holds them); A's messages flow.
        released = self.proxy.hold(b"SUBSCRIBE\r\n$14\r\nwspush:control\r\n", "down")
        flood = asyncio.create_task(self.flood(self.a, "on-b", time.monotonic() + 3.0))
        received = []

        async def drain():
            while True:
                received.append(await self.b.recv())
        reader = asyncio.create_task(drain())
        await asyncio.sleep(2.5)  # no heartbeat from A for 2.5 s: stale by heartbeats alone
        await self.b.send("on-a:A is alive")
        self.assertEqual(await self.recv(self.a), "A is alive")
        sent = await flood
        released.set()
        await self.wait_for("the flood to arrive", lambda: len(received) >= sent)
        reader.cancel()
        self.assertEqual(received, [str(i) for i in range(sent)])
        self.assertEqual(B.metric("wspush_cluster_unavailable_total"), 0)


class TwoShards(ClusterCase):
    async def asyncSetUp(self):
        asyncio.get_running_loop().set_debug(False)
        self.tmp = tempfile.mkdtemp(prefix="wspush-cluster-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.r1, self.r2 = Redis(self.tmp, "r1").start(), Redis(self.tmp, "r2").start()
        self.addCleanup(self.r1.kill)
        self.addCleanup(self.r2.kill)
        url = self.r1.url + "," + self.r2.url
        self.nodes = {n: self.start_node(n, url) for n in ("A", "B", "C", "D")}
        await self.wait_cluster(4)

    async def test_routing_over_two_shards(self):
        clients = {n: await self.login(self.nodes[n], "sh" + n) for n in "ABCD"}
        for n in "ABCD":
            await self.wait_presence(self.nodes["A"], "sh" + n, 1)
        for src in "ABCD":
            for dst in "ABCD":
                await clients[src].send(f"sh{dst}:{src}->{dst}")
        for dst in "ABCD":
            got = sorted([await self.recv(clients[dst]) for _ in range(4)])
            self.assertEqual(got, sorted(f"{s}->{dst}" for s in "ABCD"))
        await clients["B"].send("all:b")
        for ws in clients.values():
            self.assertEqual(await self.recv(ws), "b")
        # Both shards carry traffic: each holds some channel.
        used = [int(r.command("PUBSUB", "NUMSUB", "wspush:all").split(b"\r\n")[-2].lstrip(b":")) for r in (self.r1, self.r2)]
        self.assertEqual(sorted(used), [0, 4])


class BadInput(unittest.IsolatedAsyncioTestCase):
    def run_exit(self, *args):
        p = subprocess.run([BINARY, "--port", "0", "--api-listen", "off", *args], capture_output=True, timeout=10)
        return p.returncode, (p.stdout + p.stderr).decode()

    def test_malformed_redis_urls_exit_2_with_the_reason(self):
        for url, why in [("http://x:1", "expected redis://"), ("redis://", "missing host"),
                         ("redis://h:99999", "port"), ("redis://h:1/x", "database"),
                         ("unix://relative", "absolute"), ("redis://:@h:1", "empty password"),
                         ("redis://a:1,redis://a:1", "listed twice"), ("redis://h%zz:1", "bad character"),
                         ("redis://h.invalid:1", "cannot resolve")]:
            code, out = self.run_exit("--redis", url)
            self.assertEqual(code, 2, f"{url}: {out}")
            self.assertIn(why, out, url)

    def test_bad_node_id_exits_2(self):
        code, out = self.run_exit("--redis", "redis://127.0.0.1:1", "--node-id", "a b")
        self.assertEqual(code, 2)
        self.assertIn("--node-id", out)

    async def test_unreachable_redis_at_start_serves_locally_and_joins_when_it_comes(self):
        tmp = tempfile.mkdtemp(prefix="wspush-cluster-")
        self.addCleanup(shutil.rmtree, tmp, True)
        redis = Redis(tmp)
        node = Node("lonely", redis.url).start()
        self.addCleanup(node.stop)
        self.addCleanup(redis.kill)
        self.assertFalse(node.stats()["cluster"]["available"])
        ws = await websockets.connect(node.url, ping_interval=None)
        await ws.send("me")
        await ws.recv()
        await ws.send("me:local works")
        self.assertEqual(await asyncio.wait_for(ws.recv(), PROMPT), "local works")
        self.assertEqual(node.api("POST", "/v1/push", {"uid": "elsewhere", "message": "x"})[0], 503)
        redis.start()
        deadline = time.monotonic() + 5 * SLOW
        while not node.stats()["cluster"]["available"]:
            self.assertLess(time.monotonic(), deadline)
            await asyncio.sleep(0.05)
        self.assertEqual(node.api("POST", "/v1/push", {"uid": "elsewhere", "message": "x"})[0], 200)
        await ws.close()

    async def test_redis_that_wants_a_password_or_has_no_such_db_is_reported(self):
        tmp = tempfile.mkdtemp(prefix="wspush-cluster-")
        self.addCleanup(shutil.rmtree, tmp, True)
        locked = Redis(tmp, "auth", "--requirepass", "s3cret").start()
        self.addCleanup(locked.kill)
        plain = Redis(tmp, "plain").start()
        self.addCleanup(plain.kill)
        sock = locked.sock
        cases = [(Node("nopw", locked.url), b"NOAUTH"),
                 (Node("wrongpw", f"unix://:nope@{sock}"), b"WRONGPASS"),
                 (Node("baddb", plain.url + "?db=99"), b"DB index is out of range"),
                 (Node("refused", "redis://127.0.0.1:1"), b"Connection refused")]
        for node, _ in cases:
            node.start()
            self.addCleanup(node.stop)
        good = Node("good", f"unix://:s3cret@{sock}").start()
        self.addCleanup(good.stop)
        await asyncio.sleep(1.0 * SLOW)
        for node, text in cases:
            self.assertFalse(node.stats()["cluster"]["available"], node.name)
            self.assertGreaterEqual(node.metric("wspush_cluster_bus_errors_total"), 1, node.name)
            self.assertIn(text, node.text(), node.name)
            self.assertEqual(node.api("POST", "/v1/broadcast", {"message": "x"})[0], 503, node.name)
        self.assertTrue(good.stats()["cluster"]["available"])
        self.assertNotIn(b"s3cret", good.text())  # the password is never logged


class GarbageOnTheBus(ClusterCase):
    NODES = ("A", "B")

    async def test_unparsable_messages_are_counted_and_dropped(self):
        A, B = self.nodes["A"], self.nodes["B"]
        for junk in [b"", b"garbage", b"WSP1U\x05\x00\x00\x00", b"WSP1Z\x01\x00\x00\x00x", b"\xff" * 1000,
                     b"WSP1P\x01\x00\x00\x00B\xff\xff\xff\xff"]:
            self.redis.command("PUBLISH", "wspush:all", junk)
            self.redis.command("PUBLISH", "wspush:node.A", junk)
        await self.wait_for("A to count them", lambda: A.metric("wspush_cluster_bus_unparsable_total") == 12)
        a = await self.login(A, "still")
        await self.wait_presence(B, "still", 1)
        B.api("POST", "/v1/push", {"uid": "still", "message": "fine"})
        self.assertEqual(await self.recv(a), "fine")


class SingleNodeUnchanged(unittest.IsolatedAsyncioTestCase):
    async def test_without_redis_there_is_no_cluster_section_or_remote_field(self):
        node = Node("solo", None).start()
        self.addCleanup(node.stop)
        self.assertNotIn("cluster", node.stats())
        self.assertEqual(node.api("POST", "/v1/push", {"uid": "x", "message": "m"}), (200, {"delivered": 0}))
        self.assertIsNone(node.metric("wspush_cluster_available"))


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""wspush out of file descriptors: it keeps serving the clients it has, refuses the excess
without spinning, counts the refusals, and warns at start when --max-conns is above the
fd ceiling. The server runs under `prlimit --nofile=64` so the limit is reached at once."""
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import websockets

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, os.environ.get("WSPUSH_BUILD", "build"), "wspush")
SLOW = 4.0 if os.environ.get("WSPUSH_SANITIZED") == "1" else 1.0
NOFILE = 64


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class FdLimit(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        # IsolatedAsyncioTestCase runs the loop in debug mode, which reports every step over
        # 0.1 s; on a loaded machine the server's start or a burst of handshakes is one.
        # Off in setUp, before the loop runs (and times) the first step of asyncSetUp.
        asyncio.get_event_loop().set_debug(False)

    async def asyncSetUp(self):
        self.log = tempfile.NamedTemporaryFile(prefix="wspush-fd-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            ["setpriv", "--pdeathsig", "KILL", "prlimit", f"--nofile={NOFILE}:{NOFILE}", BINARY,
             "--host", "127.0.0.1", "--port", "0", "--api-listen", "off", "--max-conns", "100000",
             "--stats-interval", "0.2", "--shutdown-timeout", "1"],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        self.addCleanup(self.stop)
        deadline = time.monotonic() + 5 * SLOW
        while time.monotonic() < deadline:
            m = re.search(rb"listening on \S+:(\d+) \(websocket\)", self.text())
            if m:
                self.port = int(m.group(1))
                return
            await asyncio.sleep(0.02)
        self.fail("server did not start:\n" + self.text().decode(errors="replace"))

    def text(self):
        with open(self.log.name, "rb") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.log.name)

    def server_pid(self):
        # setpriv and prlimit exec in place: the Popen pid is the server's.
        return self.proc.pid

    async def test_warns_when_max_conns_is_above_the_fd_ceiling(self):
        self.assertRegex(self.text().decode(), r"--max-conns 100000 is above what this host allows")

    async def test_keeps_serving_existing_clients_and_counts_refusals_without_spinning(self):
        clients = []
        for i in range(30):
            ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/", ping_interval=None)
            await ws.send(f"u{i}")
            self.assertEqual(await asyncio.wait_for(ws.recv(), 3 * SLOW), f"login success, your uid is u{i}")
            clients.append(ws)
        # Far more raw connections than fds remain: the kernel completes them (backlog), the
        # server must accept-and-close the excess instead of leaving them or spinning.
        # Blocking sockets, in a thread: a connect can wait a second on a full backlog, and the
        # event loop (in debug mode under IsolatedAsyncioTestCase) must not stall meanwhile.
        def open_raw():
            return [socket.create_connection(("127.0.0.1", self.port), timeout=2) for _ in range(80)]

        socks = await asyncio.to_thread(open_raw)
        cpu0 = cpu_seconds(self.server_pid())
        await asyncio.sleep(1.5 * SLOW)
        cpu = cpu_seconds(self.server_pid()) - cpu0
        self.assertLess(cpu, 0.5 * SLOW, "server spun on accept while out of fds")
        # The excess was closed by the server (EOF or reset), not left hanging.
        def count_closed():
            closed = 0
            for s in socks:
                s.settimeout(0.05)
                try:
                    if s.recv(1) == b"":
                        closed += 1
                except (ConnectionResetError, BrokenPipeError):
                    closed += 1
                except socket.timeout:
                    pass
                s.close()
            return closed

        self.assertGreater(await asyncio.to_thread(count_closed), 0)
        # Everyone logged in still gets a broadcast.
        await clients[0].send("all:still here")
        for ws in clients:
            self.assertEqual(await asyncio.wait_for(ws.recv(), 3 * SLOW), "still here")
        await asyncio.sleep(0.5)
        m = re.findall(rb"refused_fd=(\d+)", self.text())
        self.assertTrue(m and int(m[-1]) > 0, "refusals were not counted")
        # After the excess is gone, new clients get in again.
        for ws in clients[:5]:
            await ws.close()
        await asyncio.sleep(0.3)
        ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/", ping_interval=None)
        await ws.send("late")
        self.assertEqual(await asyncio.wait_for(ws.recv(), 3 * SLOW), "login success, your uid is late")
        await ws.close()
        for ws in clients[5:]:
            await ws.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Base class: each test gets its own wspush and its clients are closed before it stops."""
import asyncio
import functools
import unittest

import websockets

from rawws import RawClient
from wspush_server import SLOW, TLS, WspushServer, client_ssl_context


class WspushTestCase(unittest.IsolatedAsyncioTestCase):
    # Command-line options for this class's server, e.g. {"--max-message": 1024}.
    server_options = {}
    server_env = {}
    # None: TLS when the run says so (WSPUSH_E2E_TLS=1); True/False: always / never.
    server_tls = None

    # Generous bounds for things that should happen "at once" on loopback.
    PROMPT = 3.0 * SLOW
    # How long we listen to conclude that nothing arrives.
    QUIET = 0.4 * SLOW

    # No single test may take longer than this, whatever the server does.
    TEST_LIMIT = 60.0 * SLOW

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, method in list(vars(cls).items()):
            if name.startswith("test_") and asyncio.iscoroutinefunction(method):
                setattr(cls, name, cls._bounded(method))

    @classmethod
    def _bounded(cls, method):
        @functools.wraps(method)
        async def bounded(self):
            try:
                await asyncio.wait_for(method(self), self.TEST_LIMIT)
            except asyncio.TimeoutError:
                self.fail(f"a time bound expired (the whole test may take {self.TEST_LIMIT} s)")
        return bounded

    def setUp(self):
        # IsolatedAsyncioTestCase runs its loop in debug mode, which slows the flood tests and
        # prints "Executing <Task ...> took 0.2 seconds" for any step over 0.1 s on a loaded
        # machine. Off here, before the loop runs the first step (setUp runs with the test's
        # loop current; in asyncSetUp the first step would already be timed).
        asyncio.get_event_loop().set_debug(False)

    async def asyncSetUp(self):
        # In a thread: the first TLS server of a run makes the test certificates (openssl, ~0.4 s),
        # which would block the loop (asyncio's debug mode prints "Executing <Task ...> took").
        self.server = await asyncio.to_thread(WspushServer, self.server_options, self.server_env,
                                              TLS if self.server_tls is None else self.server_tls)
        self.addCleanup(self.server.stop)  # cleanups run LIFO: clients close first
        # start() polls the log with time.sleep: in a thread, so the loop never blocks (asyncio
        # would print "Executing <Task ...> took 0.8 seconds" on a loaded machine).
        await asyncio.to_thread(self.server.start)

    def tls_kwargs(self):
        """For a websockets.connect() of a test's own: the test CA when the server speaks TLS."""
        return {"ssl": client_ssl_context()} if self.server.tls else {}

    async def connect(self, **kwargs):
        kwargs.setdefault("ping_interval", None)
        kwargs.setdefault("open_timeout", self.PROMPT)
        kwargs.setdefault("close_timeout", 1.0 * SLOW)
        if self.server.tls:
            kwargs.setdefault("ssl", client_ssl_context())
        ws = await websockets.connect(self.server.url, **kwargs)
        self.addAsyncCleanup(self._close_quietly, ws)
        return ws

    async def login(self, uid, **kwargs):
        ws = await self.connect(**kwargs)
        await ws.send(uid)
        self.assertEqual(await self.recv(ws), f"login success, your uid is {uid}")
        return ws

    async def raw(self, rcvbuf=None):
        client = await RawClient.open(self.server.port, rcvbuf,
                                      client_ssl_context() if self.server.tls else None)
        self.addCleanup(client.abort)
        return client

    async def recv(self, ws, timeout=None):
        return await asyncio.wait_for(ws.recv(), timeout or self.PROMPT)

    async def assertReceivesNothing(self, ws, within=None):
        try:
            got = await asyncio.wait_for(ws.recv(), within or self.QUIET)
        except asyncio.TimeoutError:
            return
        self.fail(f"expected no message, got {got!r}")

    async def assertClosedWith(self, ws, code, timeout=None):
        await asyncio.wait_for(ws.wait_closed(), timeout or self.PROMPT)
        self.assertEqual(ws.close_code, code, f"close reason {ws.close_reason!r}")

    async def assertStillOpen(self, ws, uid):
        """Open in the only sense that matters: it can still route to itself."""
        await ws.send(f"{uid}:still open")
        self.assertEqual(await self.recv(ws), "still open")

    @staticmethod
    async def _close_quietly(ws):
        try:
            await asyncio.wait_for(ws.close(), 2.0 * SLOW)
        except Exception:
            ws.transport.abort()

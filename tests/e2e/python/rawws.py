"""Raw-socket probes: the bytes a real client would never send, and byte-exact reads.

Only for malformed or deliberately misbehaving peers (half requests, unmasked frames,
invalid UTF-8, a consumer that stops reading, a client that never answers pings).
Well-behaved traffic in the suite goes through python3-websockets, node ws or Chromium.
"""
import asyncio
import base64
import hashlib
import os
import socket
import struct

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame(opcode, payload=b"", fin=True, mask=True):
    """One RFC 6455 frame; mask=False makes the protocol violation of section 5.1."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class Frame:
    def __init__(self, fin, opcode, payload):
        self.fin, self.opcode, self.payload = fin, opcode, payload

    def close_code(self):
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    def close_reason(self):
        return self.payload[2:].decode("utf-8")

    def __repr__(self):
        return f"Frame(fin={self.fin}, opcode={self.opcode:#x}, payload={self.payload[:60]!r})"


class HttpResponse:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


class RawClient:
    """A TCP connection to wspush with byte-level helpers. Use `async with`."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port, rcvbuf=None, ssl_context=None):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Before connect, so the advertised window stays small: a stalled reader.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        if ssl_context is None:
            reader, writer = await asyncio.open_connection(sock=sock)
        else:
            reader, writer = await asyncio.open_connection(sock=sock, ssl=ssl_context, server_hostname="127.0.0.1")
        return cls(reader, writer)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.abort()

    def abort(self):
        self.writer.transport.abort()

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def send_frame(self, opcode, payload=b"", fin=True, mask=True):
        await self.send(frame(opcode, payload, fin, mask))

    async def read_http_response(self, timeout):
        return await asyncio.wait_for(self._read_http_response(), timeout)

    async def _read_http_response(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        assert version == "HTTP/1.1", f"status line {lines[0]!r}"
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        elif int(status) >= 200 and int(status) not in (204, 304) and int(status) != 101:
            body = await self.reader.read()  # delimited by close
        return HttpResponse(int(status), headers, body)

    async def upgrade(self, path="/", timeout=5.0):
        """Completes the opening handshake by hand; asserts 101 and the accept hash."""
        key = base64.b64encode(os.urandom(16))
        await self.send(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        resp = await self.read_http_response(timeout)
        assert resp.status == 101, f"upgrade answered {resp.status}"
        expected = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        assert resp.headers.get("sec-websocket-accept") == expected, resp.headers
        return resp

    async def login(self, uid, timeout=5.0):
        await self.send_frame(OP_TEXT, uid.encode())
        reply = await self.read_frame(timeout)
        expected = f"login success, your uid is {uid}".encode()
        assert (reply.opcode, reply.payload) == (OP_TEXT, expected), reply

    async def read_frame(self, timeout):
        return await asyncio.wait_for(self._read_frame(), timeout)

    async def _read_frame(self):
        b0, b1 = await self.reader.readexactly(2)
        assert not b1 & 0x80, "server frames must not be masked (RFC 6455 5.1)"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return Frame(bool(b0 & 0x80), b0 & 0x0F, await self.reader.readexactly(n))

    async def read_until_close(self, timeout):
        """Frames up to and including the server's close frame; replies to it like a
        real client. Returns (frames_before_close, close_frame)."""
        async def go():
            seen = []
            while True:
                f = await self._read_frame()
                if f.opcode == OP_CLOSE:
                    try:
                        await self.send_frame(OP_CLOSE, f.payload[:2])
                    except ConnectionError:
                        pass
                    return seen, f
                seen.append(f)
        return await asyncio.wait_for(go(), timeout)

    async def wait_closed_by_peer(self, timeout):
        """Reads and discards until EOF or reset. Returns all bytes read.
        Raises asyncio.TimeoutError if the server keeps the connection open."""
        async def go():
            data = bytearray()
            try:
                while True:
                    chunk = await self.reader.read(65536)
                    if not chunk:
                        return bytes(data)
                    data += chunk
            except ConnectionError:
                return bytes(data)
        return await asyncio.wait_for(go(), timeout)


def parse_frames(data):
    """Splits server bytes into frames; a truncated tail is ignored."""
    frames, i = [], 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        n, j = b1 & 0x7F, i + 2
        if n == 126:
            if j + 2 > len(data):
                break
            n, j = struct.unpack("!H", data[j:j + 2])[0], j + 2
        elif n == 127:
            if j + 8 > len(data):
                break
            n, j = struct.unpack("!Q", data[j:j + 8])[0], j + 8
        if j + n > len(data):
            break
        frames.append(Frame(bool(b0 & 0x80), b0 & 0x0F, bytes(data[j:j + n])))
        i = j + n
    return frames

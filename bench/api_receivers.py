"""WebSocket receivers for bench/api_bench.sh: N raw-socket clients log in as r0..r<N-1> and
count the bytes of the frames they receive (every bench message is a 32-byte text frame with a
2-byte header, so frames = bytes / 34). Raw sockets and one selector keep the receiving side
cheap: the 2 cores are for the server and wrk.

Protocol on stdin/stdout: prints "READY" once all are logged in; on each line "COUNT" read from
stdin prints the total frames received so far; exits on EOF.
"""
import base64
import os
import selectors
import socket
import sys

FRAME = 34


def connect(port, uid):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    assert buf.startswith(b"HTTP/1.1 101"), buf
    rest = buf[buf.index(b"\r\n\r\n") + 4:]
    payload = uid.encode()
    mask = os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    reply = f"login success, your uid is {uid}".encode()
    want = 2 + len(reply)
    while len(rest) < want:
        rest += s.recv(4096)
    assert rest[2:want] == reply, rest
    s.setblocking(False)
    return s, len(rest) - want


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    sel = selectors.DefaultSelector()
    total = 0
    for i in range(n):
        s, extra = connect(port, f"r{i}")
        total += extra
        sel.register(s, selectors.EVENT_READ, "ws")
    sel.register(sys.stdin, selectors.EVENT_READ, "cmd")
    print("READY", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "cmd":
                line = sys.stdin.readline()
                if not line:
                    return
                print(f"FRAMES {total // FRAME} BYTES {total}", flush=True)
                continue
            try:
                got = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            if not got:
                print("CLOSED", flush=True)
                return
            total += len(got)


if __name__ == "__main__":
    main()

// wspush as the `ws` client (Node) sees it. Each test starts its own server.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { WspushServer, SLOW } = require('./wspush_server');
const { open, login, withTimeout, PROMPT_MS } = require('./clients');

const LIMIT = { timeout: 30000 * SLOW };

async function server(t, options) {
  const s = await new WspushServer(options).start();
  t.after(() => s.stop());
  return s;
}

test('login reply names the uid exactly', LIMIT, async (t) => {
  const s = await server(t);
  const ws = open(s.url, t);
  await ws.opened;
  ws.send('alice');
  assert.equal(await ws.nextText(), 'login success, your uid is alice');
});

test('uid:message delivers message to that uid, split at the first colon', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t);
  const bob = await login(s.url, 'bob', t);
  alice.send('bob:a:b:c');
  assert.equal(await bob.nextText(), 'a:b:c');
  await alice.expectNothing();
});

test('all:message reaches every logged-in connection including the sender', LIMIT, async (t) => {
  const s = await server(t);
  const clients = [await login(s.url, 'alice', t), await login(s.url, 'bob', t), await login(s.url, 'carol', t)];
  clients[0].send('all:to everyone');
  for (const ws of clients) assert.equal(await ws.nextText(), 'to everyone');
});

test('every connection of a uid receives, and closing one leaves the rest receiving', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t);
  const bobs = [await login(s.url, 'bob', t), await login(s.url, 'bob', t), await login(s.url, 'bob', t)];
  alice.send('bob:one');
  for (const bob of bobs) assert.equal(await bob.nextText(), 'one');
  bobs[1].close(1000);
  assert.equal((await withTimeout(bobs[1].closed, PROMPT_MS, 'close handshake')).code, 1000);
  alice.send('bob:two');
  assert.equal(await bobs[0].nextText(), 'two');
  assert.equal(await bobs[2].nextText(), 'two');
});

test('binary uid: message is delivered as a binary frame with the exact bytes', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t);
  const bob = await login(s.url, 'bob', t);
  alice.send(Buffer.from([0x62, 0x6f, 0x62, 0x3a, 0x00, 0x01, 0xff]));  // "bob:" 00 01 ff
  const got = await bob.next();
  assert.equal(got.isBinary, true);
  assert.deepEqual(got.data, Buffer.from([0x00, 0x01, 0xff]));
});

test('a text message fragmented by the client is reassembled and routed', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t);
  const bob = await login(s.url, 'bob', t);
  alice.send('bob:hel', { fin: false });
  alice.send('lo wor', { fin: false });
  alice.send('ld', { fin: true });
  assert.equal(await bob.nextText(), 'hello world');
});

test('a binary message fragmented by the client is reassembled and delivered as binary', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t);
  const bob = await login(s.url, 'bob', t);
  alice.send(Buffer.from('bob:'), { binary: true, fin: false });
  alice.send(Buffer.from([0xde, 0xad]), { binary: true, fin: true });
  const got = await bob.next();
  assert.equal(got.isBinary, true);
  assert.deepEqual(got.data, Buffer.from([0xde, 0xad]));
});

test('client ping is answered with a pong carrying the same payload', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t);
  const pong = new Promise((resolve) => alice.once('pong', resolve));
  alice.ping(Buffer.from('node'));
  assert.deepEqual(await withTimeout(pong, PROMPT_MS, 'pong'), Buffer.from('node'));
});

test('client close 1000 is answered with close 1000', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t);
  alice.close(1000, 'bye');
  assert.equal((await withTimeout(alice.closed, PROMPT_MS, 'close')).code, 1000);
});

test('uid containing a colon gets error text and close 1008', LIMIT, async (t) => {
  const s = await server(t);
  const ws = open(s.url, t);
  await ws.opened;
  ws.send('a:b');
  assert.match(await ws.nextText(), /^error: /);
  assert.equal((await withTimeout(ws.closed, PROMPT_MS, 'close')).code, 1008);
});

test('message over --max-message is closed 1009', LIMIT, async (t) => {
  const s = await server(t, { '--max-message': 1024 });
  const alice = await login(s.url, 'alice', t);
  alice.send('alice:' + 'x'.repeat(1019));  // 1025 bytes
  assert.equal((await withTimeout(alice.closed, PROMPT_MS, 'close')).code, 1009);
});

test('fragments adding up past --max-message are closed 1009', LIMIT, async (t) => {
  const s = await server(t, { '--max-message': 1024 });
  const alice = await login(s.url, 'alice', t);
  alice.send('alice:' + 'x'.repeat(600), { fin: false });
  alice.send('y'.repeat(600), { fin: true });
  assert.equal((await withTimeout(alice.closed, PROMPT_MS, 'close')).code, 1009);
});

test('SIGTERM closes clients with 1001', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t);
  s.proc.kill('SIGTERM');
  assert.equal((await withTimeout(alice.closed, PROMPT_MS, 'close')).code, 1001);
});

test('handshake beyond --max-conns gets HTTP 503', LIMIT, async (t) => {
  const s = await server(t, { '--max-conns': 2 });
  await login(s.url, 'a', t);
  await login(s.url, 'b', t);
  const third = open(s.url, t);
  await assert.rejects(third.opened, (e) => e.status === 503);
});

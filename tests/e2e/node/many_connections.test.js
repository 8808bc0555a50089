// 15000 ws clients in this one process against one wspush with default limits:
// all log in (u0..u14999), one broadcast, every client gets exactly that message.
// Under WSPUSH_SANITIZED=1 the count is 3000 and the bounds are 4x.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { WspushServer, SLOW, SANITIZED } = require('./wspush_server');

const N = Number(process.env.WSPUSH_E2E_CONNS || (SANITIZED ? 3000 : 15000));
const IN_FLIGHT = 256;          // handshakes outstanding at once: stays under the listen backlog
const BOUND_MS = 60000 * SLOW;  // connect + login + broadcast + delivery
// Loopback sources 127.0.0.2..5 spread the 4-tuples so ephemeral ports never run short,
// even with other test runs' TIME_WAIT sockets around.
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];

function deadline(ms, what) {
  let timer;
  const p = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); });
  return { p, cancel: () => clearTimeout(timer) };
}

test(`${N} clients log in and each receives one broadcast exactly once`, { timeout: BOUND_MS + 60000 * SLOW }, async (t) => {
  const server = await new WspushServer().start();
  t.after(() => server.stop());
  const clients = new Array(N);
  const inbox = Array.from({ length: N }, () => []);
  const errors = [];
  t.after(() => { for (const ws of clients) if (ws) ws.terminate(); });

  const started = Date.now();
  const bound = deadline(BOUND_MS, 'connect, login, broadcast and delivery');
  let loggedIn = 0;
  let delivered = 0;
  let onLoggedIn;
  let onDelivered;
  const allLoggedIn = new Promise((resolve) => { onLoggedIn = resolve; });
  const allDelivered = new Promise((resolve) => { onDelivered = resolve; });
  const payload = `all:hello ${N} clients`;

  let next = 0;
  const connectOne = () => {
    if (next >= N) return;
    const i = next++;
    const ws = new WebSocket(server.url, { perMessageDeflate: false, localAddress: SOURCES[i % SOURCES.length] });
    clients[i] = ws;
    ws.on('open', () => ws.send(`u${i}`));
    ws.on('error', (e) => errors.push(`u${i}: ${e.message}`));
    ws.on('message', (data, isBinary) => {
      const box = inbox[i];
      box.push(isBinary ? `<binary ${data.toString('hex')}>` : data.toString());
      if (box.length === 1) {
        connectOne();  // this slot's handshake is done: start another
        if (++loggedIn === N) onLoggedIn();
      } else if (box.length === 2 && ++delivered === N) {
        onDelivered();
      }
    });
  };
  for (let k = 0; k < IN_FLIGHT; k++) connectOne();

  await Promise.race([allLoggedIn, bound.p]).catch((e) => {
    throw new Error(`${e.message}; ${loggedIn}/${N} logged in; errors: ${errors.slice(0, 5).join('; ')}`);
  });
  const loginMs = Date.now() - started;
  const sentAt = Date.now();
  clients[0].send(payload);
  await Promise.race([allDelivered, bound.p]).catch((e) => {
    throw new Error(`${e.message}; ${delivered}/${N} received the broadcast; errors: ${errors.slice(0, 5).join('; ')}`);
  });
  const deliverMs = Date.now() - sentAt;
  bound.cancel();

  await new Promise((resolve) => setTimeout(resolve, 500 * SLOW));  // anything extra would arrive now
  const wrong = [];
  for (let i = 0; i < N && wrong.length < 5; i++) {
    const want = [`login success, your uid is u${i}`, payload.slice(4)];
    if (inbox[i].length !== 2 || inbox[i][0] !== want[0] || inbox[i][1] !== want[1]) wrong.push(`u${i}: ${JSON.stringify(inbox[i])}`);
  }
  assert.deepEqual(wrong, []);
  assert.deepEqual(errors, []);

  const closing = deadline(30000 * SLOW, 'closing every client');
  const closes = clients.map((ws) => new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(); else ws.once('close', resolve);
  }));
  for (const ws of clients) ws.close(1000);
  await Promise.race([Promise.all(closes), closing.p]);
  closing.cancel();
  t.diagnostic(`${N} connected+logged in: ${loginMs} ms; broadcast delivered to all: ${deliverMs} ms`);
});

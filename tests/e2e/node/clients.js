// Thin helpers over the `ws` client: every wait is bounded, every socket is closed by t.after.
'use strict';
const WebSocket = require('ws');
const { SLOW } = require('./wspush_server');

const PROMPT_MS = 3000 * SLOW;  // things that should happen at once on loopback
const QUIET_MS = 400 * SLOW;    // how long we listen to conclude nothing arrives

// Opens a ws client and queues what it receives: inbox.next() resolves with
// { data, isBinary } in arrival order.
function open(url, t, options = {}) {
  const ws = new WebSocket(url, { handshakeTimeout: PROMPT_MS, ...options });
  const queue = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    const item = { data, isBinary };
    if (waiters.length) waiters.shift()(item); else queue.push(item);
  });
  ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});  // surfaced through `opened`/`closed`
  ws.next = (ms = PROMPT_MS) => {
    if (queue.length) return Promise.resolve(queue.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(done), 1);
        reject(new Error(`no message within ${ms} ms`));
      }, ms);
      const done = (item) => { clearTimeout(timer); resolve(item); };
      waiters.push(done);
    });
  };
  ws.nextText = async (ms) => {
    const { data, isBinary } = await ws.next(ms);
    if (isBinary) throw new Error(`expected a text message, got binary ${data.toString('hex')}`);
    return data.toString();
  };
  ws.expectNothing = async (ms = QUIET_MS) => {
    const got = await ws.next(ms).catch(() => null);
    if (got) throw new Error(`expected no message, got ${JSON.stringify(got.data.toString())}`);
  };
  ws.opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
  if (t) t.after(() => ws.terminate());
  return ws;
}

async function login(url, uid, t, options) {
  const ws = open(url, t, options);
  await ws.opened;
  ws.send(uid);
  const reply = await ws.nextText();
  if (reply !== `login success, your uid is ${uid}`) throw new Error(`login reply ${JSON.stringify(reply)}`);
  return ws;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

module.exports = { open, login, withTimeout, PROMPT_MS, QUIET_MS };

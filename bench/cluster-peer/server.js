// make bench-cluster's peer: the seed protocol on Node's `ws` (as bench/peer/server.js), nodes
// joined through Redis the way Socket.IO's classic @socket.io/redis-adapter routes: every
// message that may concern another node is published once on one channel that every node
// subscribes to (the adapter's `socket.io#/#`), and each node delivers it to its own sockets of
// the target, dropping it when it has none. (The adapter's own package needs Socket.IO clients,
// which tools/wsload does not speak; this is its routing, not its framing.)
// Usage: node server.js PORT REDIS_UNIX_SOCKET NODE_ID METRICS_PORT
// GET http://127.0.0.1:METRICS_PORT/ -> {"bus_bytes_in": n, "bus_messages_in": n}
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');
const { createClient } = require('redis');

const [port, socketPath, nodeId, metricsPort] = [Number(process.argv[2]), process.argv[3], process.argv[4],
                                                  Number(process.argv[5])];
const CHANNEL = 'socket.io#/#';
const byUid = new Map();
const loggedIn = new Set();
const origin = Buffer.from(nodeId);
let busBytesIn = 0, busMessagesIn = 0;

const pub = createClient({ socket: { path: socketPath } });
const sub = pub.duplicate();

function deliverLocal(to, payload, binary) {
  const opts = { binary };
  if (to === 'all') {
    for (const s of loggedIn) s.send(payload, opts);
  } else {
    const set = byUid.get(to);
    if (set) for (const s of set) s.send(payload, opts);
  }
}

// One bus message: origin length, origin, binary flag, target length, target, payload.
function publish(to, payload, binary) {
  const t = Buffer.from(to);
  const head = Buffer.alloc(3);
  head[0] = origin.length;
  head[1] = binary ? 1 : 0;
  head[2] = t.length > 255 ? 255 : t.length;
  pub.publish(Buffer.from(CHANNEL), Buffer.concat([head, origin, t.subarray(0, 255), payload]));
}

async function main() {
  await pub.connect();
  await sub.connect();
  await sub.subscribe(CHANNEL, (msg) => {
    busBytesIn += msg.length;
    busMessagesIn++;
    const ol = msg[0], binary = msg[1] === 1, tl = msg[2];
    if (msg.subarray(3, 3 + ol).equals(origin)) return;
    const to = msg.toString('utf8', 3 + ol, 3 + ol + tl);
    deliverLocal(to, msg.subarray(3 + ol + tl), binary);
  }, true);
  const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 1 << 20, backlog: 4096 });
  wss.on('connection', (ws) => {
    let uid = null;
    ws.on('message', (data, isBinary) => {
      if (uid === null) {
        uid = data.toString();
        let set = byUid.get(uid);
        if (!set) byUid.set(uid, (set = new Set()));
        set.add(ws);
        loggedIn.add(ws);
        ws.send('login success, your uid is ' + uid);
        return;
      }
      const colon = data.indexOf(0x3a);
      if (colon < 0) return ws.send('error: expected <uid>:<message>');
      const to = data.toString('utf8', 0, colon);
      const payload = data.subarray(colon + 1);
      deliverLocal(to, payload, isBinary);
      publish(to, payload, isBinary);
    });
    ws.on('close', () => {
      if (uid === null) return;
      loggedIn.delete(ws);
      const set = byUid.get(uid);
      if (set) {
        set.delete(ws);
        if (set.size === 0) byUid.delete(uid);
      }
    });
  });
  http.createServer((req, res) => {
    res.end(JSON.stringify({ bus_bytes_in: busBytesIn, bus_messages_in: busMessagesIn }));
  }).listen(metricsPort, '127.0.0.1');
  console.error(`listening on 127.0.0.1:${port} (websocket) node ${nodeId}`);
}
main().catch((e) => { console.error(e); process.exit(1); });

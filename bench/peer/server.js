// The peer for `make bench`: the wspush seed protocol (Workerman's uid push example) written
// the way a Node user would, on the `ws` library: one process, uid -> Set of sockets,
// ws.send() per recipient. Usage: node server.js PORT
//
// Protocol: the first message of a connection is its uid, answered with
// "login success, your uid is <uid>". Then "<uid>:<message>" (split at the first colon) sends
// <message> to every connection of that uid, "all:<message>" to every logged-in connection,
// anything without a colon gets "error: ...". Binary messages route the same way and stay
// binary.
//
// Usage: node server.js PORT [CERT KEY]. With CERT and KEY (PEM files) it serves wss:// the way a
// Node user would: the ws server on an https.Server (Node's defaults: TLS 1.2/1.3, tickets on).
'use strict';
const fs = require('fs');
const https = require('https');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 1234);
const [certFile, keyFile] = process.argv.slice(3);
const tls = Boolean(certFile && keyFile);
const connectionsByUid = new Map();   // uid -> Set<WebSocket>
const loggedIn = new Set();           // every logged-in socket, for broadcast

// perMessageDeflate off (the ws default for servers) and no payload limit beyond wspush's own.
let wss;
if (tls) {
  const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) });
  wss = new WebSocketServer({ server, maxPayload: 1 << 20 });
  server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
    console.error(`peer (ws ${require('ws/package.json').version}, https) listening on 127.0.0.1:${server.address().port} (websocket, tls)`);
  });
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 1 << 20, backlog: 4096 });
}

wss.on('connection', (ws) => {
  let uid = null;
  ws.on('message', (data, isBinary) => {
    if (uid === null) {
      uid = data.toString();
      let set = connectionsByUid.get(uid);
      if (!set) connectionsByUid.set(uid, (set = new Set()));
      set.add(ws);
      loggedIn.add(ws);
      ws.send('login success, your uid is ' + uid);
      return;
    }
    const colon = data.indexOf(0x3a);  // ':'
    if (colon < 0) {
      ws.send('error: expected <uid>:<message>');
      return;
    }
    const to = data.toString('utf8', 0, colon);
    const message = data.subarray(colon + 1);
    const options = { binary: isBinary };
    if (to === 'all') {
      for (const peer of loggedIn) peer.send(message, options);
      return;
    }
    const set = connectionsByUid.get(to);
    if (set) for (const peer of set) peer.send(message, options);
  });
  ws.on('close', () => {
    if (uid === null) return;
    loggedIn.delete(ws);
    const set = connectionsByUid.get(uid);
    if (set) {
      set.delete(ws);
      if (set.size === 0) connectionsByUid.delete(uid);
    }
  });
  ws.on('error', () => {});  // a reset connection: 'close' follows
});

if (!tls) wss.on('listening', () => {
  console.error(`peer (ws ${require('ws/package.json').version}) listening on 127.0.0.1:${wss.address().port} (websocket)`);
});

// Clients are dropped with the process; the benchmark is over when it sends the signal.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

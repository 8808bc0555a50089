// wspush over wss:// as Node's `ws` client sees it (certificates from tests/tls/make_test_certs.sh,
// trusted through the test CA): the client verifies the chain and the host name, as in production.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const https = require('node:https');
const { execFileSync } = require('node:child_process');
const { WspushServer, SLOW } = require('./wspush_server');
const { open, login } = require('./clients');

const LIMIT = { timeout: 30000 * SLOW };
const certs = fs.mkdtempSync(path.join(os.tmpdir(), 'wspush-node-certs-'));
execFileSync(path.resolve(__dirname, '..', '..', 'tls', 'make_test_certs.sh'), [certs]);
after(() => fs.rmSync(certs, { recursive: true, force: true }));
const ca = fs.readFileSync(path.join(certs, 'ca.pem'));

async function server(t, kind = 'ec') {
  const s = await new WspushServer({
    '--tls-cert': path.join(certs, `${kind}.pem`), '--tls-key': path.join(certs, `${kind}.key`),
  }).start();
  t.after(() => s.stop());
  return s;
}

for (const kind of ['ec', 'rsa']) {
  test(`wss with the ${kind} chain: login, uid route and broadcast`, LIMIT, async (t) => {
    const s = await server(t, kind);
    assert.match(s.url, /^wss:/);
    const alice = await login(s.url, 'alice', t, { ca });
    const bob = await login(s.url, 'bob', t, { ca });
    alice.send('bob:' + 'b'.repeat(70000));
    assert.equal(await bob.nextText(), 'b'.repeat(70000));
    bob.send('all:to everyone');
    assert.equal(await alice.nextText(), 'to everyone');
    assert.equal(await bob.nextText(), 'to everyone');
  });
}

test('a client that does not trust the certificate refuses the server', LIMIT, async (t) => {
  const s = await server(t);
  const ws = open(s.url, t);  // no ca: Node's default roots
  await assert.rejects(ws.opened, /self[- ]signed|unable to (get|verify)/);
});

test('many messages to one wss client arrive complete and in order', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await login(s.url, 'alice', t, { ca });
  const bob = await login(s.url, 'bob', t, { ca });
  for (let i = 0; i < 500; i++) alice.send(`bob:${i}:${'m'.repeat(i * 7)}`);
  for (let i = 0; i < 500; i++) assert.equal(await bob.nextText(), `${i}:${'m'.repeat(i * 7)}`);
});

test('the demo page is served over https', LIMIT, async (t) => {
  const s = await server(t);
  const body = await new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: s.port, path: '/', ca }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    }).on('error', reject);
  });
  assert.equal(body.status, 200);
  assert.match(body.text, /<html/i);
});

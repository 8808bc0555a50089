// The README's Node token example (jsonwebtoken), run exactly as printed, with the ws client
// logging in by URL and by first message against a --auth jwt server.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const { WspushServer, SLOW } = require('./wspush_server');

const LIMIT = { timeout: 20000 * SLOW };

function readmeExample(language) {
  const text = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const m = new RegExp(`<!-- token-example: ${language} .*?-->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(text);
  assert.ok(m, `README has no token example for ${language}`);
  return m[1];
}

// Evaluates the example as a module would, with require from tests/e2e/node_modules.
function mintWithReadmeExample() {
  const body = `${readmeExample('node')}\nreturn wspushToken;`;
  return new Function('require', 'process', body)(require, process);  // eslint-disable-line no-new-func
}

function firstMessage(ws) {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed ${code}`)));
  });
}

test('README Node example: its token logs in by URL and by first message', LIMIT, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wspush-node-jwt-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, crypto.randomBytes(32).toString('hex') + '\n');
  process.env.WSPUSH_JWT_SECRET_FILE = secretFile;
  const s = await new WspushServer({ '--auth': 'jwt', '--jwt-secret-file': secretFile }).start();
  t.after(() => s.stop());
  const wspushToken = mintWithReadmeExample();

  const byUrl = new WebSocket(`${s.url}?token=${wspushToken('alice')}`);
  t.after(() => byUrl.terminate());
  assert.equal(await firstMessage(byUrl), 'login success, your uid is alice');

  const byMessage = new WebSocket(s.url);
  t.after(() => byMessage.terminate());
  await new Promise((resolve) => byMessage.once('open', resolve));
  const reply = firstMessage(byMessage);
  byMessage.send(wspushToken('bob'));
  assert.equal(await reply, 'login success, your uid is bob');

  const refused = new WebSocket(`${s.url}?token=${wspushToken('mallory').slice(0, -4)}AAAA`);
  const status = await new Promise((resolve) => refused.once('unexpected-response', (req, res) => resolve(res.statusCode)));
  assert.equal(status, 401);
});

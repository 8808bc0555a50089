// The demo page (GET /) in headless Chromium: the browser's own WebSocket client, which
// offers permessage-deflate, talks to wspush. Selectors are the ids server/demo_page.cpp
// promises: uid, login, to, message, send, log (one <div> per line).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { WspushServer, SLOW } = require('../node/wspush_server');

const LIMIT = { timeout: 30000 * SLOW };
const WAIT_MS = 5000 * SLOW;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30000 });
});
after(async () => { if (browser) await browser.close(); });

async function server(t) {
  const s = await new WspushServer().start();
  t.after(() => s.stop());
  return s;
}

// Opens the demo page in a fresh context and logs in as uid; returns the page.
async function demoPageLoggedIn(t, s, uid) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const response = await page.goto(`http://127.0.0.1:${s.port}/`);
  assert.equal(response.status(), 200);
  await page.fill('#uid', uid);
  await page.click('#login');
  await logLine(page, `login success, your uid is ${uid}`);
  return page;
}

// Waits until the #log holds a line with exactly this text.
async function logLine(page, text) {
  await page.locator('#log > div').filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) })
    .first().waitFor({ state: 'attached' });
}

async function logLines(page) {
  return page.locator('#log > div').allTextContents();
}

test('demo page: a message sent to a uid appears in that uid\'s page', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await demoPageLoggedIn(t, s, 'alice');
  const bob = await demoPageLoggedIn(t, s, 'bob');
  await alice.fill('#to', 'bob');
  await alice.fill('#message', 'hello from alice: über 🚀');
  await alice.click('#send');
  await logLine(bob, 'hello from alice: über 🚀');
  assert.deepEqual(await logLines(bob), ['login success, your uid is bob', 'hello from alice: über 🚀']);
});

test('demo page: all: reaches every page including the sender\'s', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await demoPageLoggedIn(t, s, 'alice');
  const bob = await demoPageLoggedIn(t, s, 'bob');
  await bob.fill('#to', 'all');
  await bob.fill('#message', 'to every tab');
  await bob.click('#send');
  await logLine(alice, 'to every tab');
  await logLine(bob, 'to every tab');
});

test('demo page: the browser\'s WebSocket receives the exact frame text and stays open', LIMIT, async (t) => {
  const s = await server(t);
  const alice = await demoPageLoggedIn(t, s, 'alice');
  const context = await browser.newContext();
  t.after(() => context.close());
  const bob = await context.newPage();
  bob.setDefaultTimeout(WAIT_MS);
  const frames = [];
  let closed = false;
  bob.on('websocket', (ws) => {
    ws.on('framereceived', (f) => frames.push(f.payload));
    ws.on('close', () => { closed = true; });
  });
  await bob.goto(`http://127.0.0.1:${s.port}/`);
  await bob.fill('#uid', 'bob');
  await bob.click('#login');
  await logLine(bob, 'login success, your uid is bob');
  await alice.fill('#to', 'bob');
  await alice.fill('#message', 'a:b:c');
  await alice.click('#send');
  await logLine(bob, 'a:b:c');
  assert.deepEqual(frames, ['login success, your uid is bob', 'a:b:c']);
  assert.equal(closed, false);
});

test('demo page under --auth jwt: a token field replaces the uid, and a token logs in', LIMIT, async (t) => {
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const { execFileSync } = require('node:child_process');
  const { BINARY } = require('../node/wspush_server');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wspush-demo-jwt-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, require('node:crypto').randomBytes(32).toString('hex') + '\n');
  const s = await new WspushServer({ '--auth': 'jwt', '--jwt-secret-file': secretFile }).start();
  t.after(() => s.stop());
  const token = execFileSync(BINARY, ['token', '--uid', 'carol', '--ttl', '300', '--jwt-secret-file', secretFile])
    .toString().trim();
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(`http://127.0.0.1:${s.port}/`);
  assert.equal(await page.isVisible('#uid'), false);
  assert.equal(await page.isVisible('#token'), true);
  await page.fill('#token', 'not-a-token');
  await page.click('#login');
  await logLine(page, 'refused: check the token (expired or not signed with the server key)');
  await page.fill('#token', token);
  await page.click('#login');
  await logLine(page, 'login success, your uid is carol');
  assert.equal(await page.textContent('#state'), 'logged in as carol');
  await page.fill('#to', 'carol');
  await page.fill('#message', 'note to self');
  await page.click('#send');
  await logLine(page, 'note to self');
});

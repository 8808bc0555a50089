// The demo page (GET /) in headless Chromium: the browser's own WebSocket client, which
// offers permessage-deflate, talks to wspush. Selectors are the ids server/demo_page.cpp
// promises: uid, login, state, to, message, send, note, log (one <div> per line, class in /
// out / error / sys).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { WspushServer, SLOW } = require('../node/wspush_server');

const LIMIT = { timeout: 30000 * SLOW };
const WAIT_MS = 5000 * SLOW;
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30000 });
  // Which browser and runtime this run used: the group's first output line.
  console.log(`# browser: Chromium ${browser.version()} (${CHROMIUM}), Node ${process.version}, ` +
    `playwright-core ${require('playwright-core/package.json').version}`);
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

// Opens the demo page in a fresh context without logging in; collects the page's console
// errors and every HTTP response of 400 or more (a missing favicon would be one).
async function demoPage(t, s) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`${r.status()} ${r.url()}`); });
  page.sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => page.sent.push(f.payload)));
  await page.goto(`http://127.0.0.1:${s.port}/`);
  return page;
}

test('demo page: Enter in the uid field logs in', LIMIT, async (t) => {
  const s = await server(t);
  const page = await demoPage(t, s);
  await page.fill('#uid', 'carol');
  await page.press('#uid', 'Enter');
  await logLine(page, 'login success, your uid is carol');
  assert.equal(await page.textContent('#state'), 'logged in as carol');
});

test('demo page: Enter in the message field sends it', LIMIT, async (t) => {
  const s = await server(t);
  const page = await demoPageLoggedIn(t, s, 'alice');
  await page.fill('#to', 'alice');
  await page.fill('#message', 'sent with Enter');
  await page.press('#message', 'Enter');
  await logLine(page, 'sent with Enter');
});

test('demo page: a blank uid is refused in the page with a visible message, no connection opened', LIMIT, async (t) => {
  const s = await server(t);
  const page = await demoPage(t, s);
  let sockets = 0;
  page.on('websocket', () => { sockets += 1; });
  await page.press('#uid', 'Enter');
  assert.equal(await page.textContent('#note'), 'Enter a uid to log in as (any name; no ":").');
  assert.equal(await page.textContent('#state'), 'disconnected');
  assert.equal(sockets, 0);
});

test('demo page: an error reply is shown styled as an error, unlike a message', LIMIT, async (t) => {
  const s = await server(t);
  const page = await demoPage(t, s);
  await page.fill('#uid', 'a:b');
  await page.press('#uid', 'Enter');
  const error = page.locator('#log > div', { hasText: "error: uid must not contain ':'" });
  await error.waitFor();
  assert.equal(await error.getAttribute('class'), 'error');
  await page.locator('#log > div.error', { hasText: 'closed: 1008 login refused' }).waitFor();
  // A message, for comparison: another colour and background.
  const alice = await demoPageLoggedIn(t, s, 'alice');
  await alice.fill('#to', 'alice');
  await alice.fill('#message', 'plain');
  await alice.click('#send');
  await logLine(alice, 'plain');
  const style = (loc) => loc.evaluate((el) => { const c = getComputedStyle(el); return [c.color, c.backgroundColor]; });
  const [errColor, errBack] = await style(error);
  const [msgColor, msgBack] = await style(alice.locator('#log > div.in', { hasText: 'plain' }));
  assert.notEqual(errColor, msgColor);
  assert.notEqual(errBack, msgBack);
});

test('demo page: a blank "to" is refused in the page with a visible message, nothing sent', LIMIT, async (t) => {
  const s = await server(t);
  const page = await demoPage(t, s);
  await page.fill('#uid', 'alice');
  await page.press('#uid', 'Enter');
  await logLine(page, 'login success, your uid is alice');
  await page.fill('#to', '  ');
  await page.fill('#message', 'to nobody');
  await page.click('#send');
  assert.equal(await page.textContent('#note'), 'Enter who to send to: a uid, or all. Nothing was sent.');
  assert.ok(await page.isVisible('#note'));
  assert.equal(await page.inputValue('#message'), 'to nobody', 'the message is kept to send again');
  await page.fill('#to', 'alice');
  await page.click('#send');
  await logLine(page, 'to nobody');
  assert.deepEqual(page.sent, ['alice', 'alice:to nobody'], 'the refused send never reached the socket');
  assert.equal(await page.textContent('#note'), '');
});

test('demo page: each sent line says what became of the message', LIMIT, async (t) => {
  const s = await server(t);
  const page = await demoPageLoggedIn(t, s, 'alice');
  const send = async (to, message) => {
    await page.fill('#to', to);
    await page.fill('#message', message);
    await page.click('#send');
  };
  await send('nobody', 'anyone there?');
  await send('all', 'hi all');
  await logLine(page, 'hi all');
  const out = await page.locator('#log > div.out').allTextContents();
  assert.deepEqual(out, [
    'nobody: anyone there?  sent; delivered only if nobody is logged in now',
    'all: hi all  sent to everyone logged in, you too',
  ]);
});

test('demo page: loading it produces no failed request or console error (favicon included)', LIMIT, async (t) => {
  const s = await server(t);
  const page = await demoPage(t, s);
  await page.fill('#uid', 'alice');
  await page.press('#uid', 'Enter');
  await logLine(page, 'login success, your uid is alice');
  const favicon = await page.request.get(`http://127.0.0.1:${s.port}/favicon.ico`);
  assert.equal(favicon.status(), 204);
  assert.deepEqual(page.problems, []);
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

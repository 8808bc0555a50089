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

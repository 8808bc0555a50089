// The demo page over https:// in headless Chromium: the page opens wss:// to the same port (the
// browser's own TLS and WebSocket clients against wspush --tls-cert). The certificate comes from
// tests/tls/make_test_certs.sh; the browser context accepts it (ignoreHTTPSErrors), as a tester
// would with a throwaway certificate.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { WspushServer, SLOW } = require('../node/wspush_server');

const LIMIT = { timeout: 30000 * SLOW };
const WAIT_MS = 5000 * SLOW;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const certs = fs.mkdtempSync(path.join(os.tmpdir(), 'wspush-browser-certs-'));
execFileSync(path.resolve(__dirname, '..', '..', 'tls', 'make_test_certs.sh'), [certs]);

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30000 });
});
after(async () => {
  if (browser) await browser.close();
  fs.rmSync(certs, { recursive: true, force: true });
});

async function pageLoggedIn(t, s, uid) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const response = await page.goto(`https://localhost:${s.port}/`);
  assert.equal(response.status(), 200);
  assert.equal((await response.securityDetails()).protocol, 'TLS 1.3');
  await page.fill('#uid', uid);
  await page.click('#login');
  await page.locator('#log > div', { hasText: `login success, your uid is ${uid}` }).first().waitFor({ state: 'attached' });
  return page;
}

test('demo page over https: wss:// login and a message between two pages', LIMIT, async (t) => {
  const s = await new WspushServer({
    '--tls-cert': path.join(certs, 'ec.pem'), '--tls-key': path.join(certs, 'ec.key'),
  }).start();
  t.after(() => s.stop());
  const alice = await pageLoggedIn(t, s, 'alice');
  const bob = await pageLoggedIn(t, s, 'bob');
  await alice.fill('#to', 'bob');
  await alice.fill('#message', 'over wss: über 🚀');
  await alice.click('#send');
  await bob.locator('#log > div', { hasText: 'over wss: über 🚀' }).first().waitFor({ state: 'attached' });
  const lines = await bob.locator('#log > div').allTextContents();
  assert.equal(lines.filter((l) => l.includes('über')).length, 1, lines.join(' | '));
});

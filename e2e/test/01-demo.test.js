// 1. The demo page, as a person would open it: /demo/?appliance=ID served by the flock. It links,
// shows the verified appliance ID, and runs its fetch, XHR and WebSocket checks against `hello`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, screenshot } from '../lib/harness.js';

const fx = fixture();
before(() => fx.setup());
after(() => fx.teardown());

test('the demo page links, shows the verified ID and all three echoes', async () => {
  const page = await fx.browser.newPage();
  const t0 = Date.now();
  await page.goto(`${fx.flock.http}/demo/?appliance=${encodeURIComponent(fx.appliance.id)}`);
  try {
    await page.waitForFunction(() => document.body.dataset.ready === 'true' || document.body.dataset.error, null, { timeout: 30000 });
  } finally {
    await screenshot(page, 'demo');
  }
  const error = await page.evaluate(() => document.body.dataset.error || null);
  assert.equal(error, null, `the demo page failed: ${error}\n${fx.diagnostics()}`);
  assert.equal(await page.getAttribute('body', 'data-ready'), 'true');
  const readyMs = Date.now() - t0;

  assert.equal((await page.textContent('#appliance-id')).trim(), fx.appliance.id);
  const status = (await page.textContent('#link-status')).trim();
  assert.match(status, /verified/i);
  assert.doesNotMatch(status, /NOT verified|FAILED/i);
  assert.match(await page.getAttribute('#link-status', 'class'), /\bok\b/);
  assert.equal(await page.getAttribute('#link-path', 'data-path'), 'direct-lan', 'inside the namespace the link is a LAN link');
  assert.match(await page.textContent('#link-setup'), /^\d+ ms$/);

  const fetchResult = await page.textContent('#fetch-result');
  assert.match(fetchResult, /^200 .*→ "hi"$/);
  const xhrResult = await page.textContent('#xhr-result');
  assert.equal(xhrResult, '200 → "hello from XHR"');
  const wsResult = await page.textContent('#ws-result');
  assert.match(wsResult, /^sent "ping \d+" → echoed "ping \d+"$/);
  const [sent, echoed] = wsResult.match(/"ping \d+"/g);
  assert.equal(sent, echoed);
  for (const id of ['#fetch-result', '#xhr-result', '#ws-result']) {
    assert.match(await page.getAttribute(id, 'class'), /\bok\b/, `${id} is not marked ok`);
  }
  console.log(`demo ready in ${readyMs} ms; set-up ${await page.textContent('#link-setup')}`);
});

test('the demo page with a wrong ID says so and does not link', async () => {
  const page = await fx.browser.newPage();
  await page.goto(`${fx.flock.http}/demo/?appliance=not-an-id`);
  await page.waitForFunction(() => document.body.dataset.error, null, { timeout: 10000 });
  assert.match(await page.textContent('#link-status'), /invalid appliance ID/);
  assert.equal(await page.getAttribute('body', 'data-ready'), null);
});

// 11. Logins, device-bound sessions, share links and revocation in real Chromium
// (docs/spec/access.md): the hello app is private here; the flock in front of the page
// records everything it relays, and must never see a password or a secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fixture, LAUNCHER, startBrowser, screenshot, sleep } from '../lib/harness.js';
import { startHostileProxy } from '../lib/hostile-proxy.js';

const OWNER_PASSWORD = 'a long owner password';
const fx = fixture({ applianceOptions: { name: 'access', publicApps: [] } });
let recorder;
const recording = [];
const browsers = [];

function cli(args, input) {
  return execFileSync(LAUNCHER, args, { env: { ...process.env, INTRUSTD_NO_BUILD: '1' }, encoding: 'utf8', input });
}

/** One call to the appliance's control socket (as the CLI makes), timed precisely. */
function control(method, target, body) {
  return new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : '';
    const req = http.request({ socketPath: path.join(fx.appliance.stateDir, 'control.sock'), method, path: target,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text || '{}') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

before(async () => {
  await fx.setup();
  cli(['persona', 'add', 'owner', '--role', 'owner', '--password-stdin', '--state', fx.appliance.stateDir], `${OWNER_PASSWORD}\n`);
  recorder = await startHostileProxy({
    upstream: fx.flock.url,
    toFlock: (msg) => { recording.push(JSON.stringify(msg)); },
    toClient: (msg) => { recording.push(JSON.stringify(msg)); },
  });
});
after(async () => {
  for (const b of browsers) await b.close();
  if (recorder) await recorder.close();
  await fx.teardown();
});

async function page(browser = fx.browser, url = null) {
  const p = url ? await browser.newPage() : await browser.openTestPage(fx.flock);
  if (url) {
    await p.goto(url);
    await p.waitForFunction(() => window.e2eReady === true, null, { timeout: 15000 });
  }
  await p.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: recorder.url, appliance: fx.appliance.id });
  return p;
}

const whoami = (p) => p.evaluate(() => e2e.attempt(async () => {
  const r = await fetch('intrustd+app://hello/whoami');
  return { status: r.status, body: r.status === 200 ? await r.json() : await r.text() };
}));

test('a visitor is refused, logs in inside the link, and stays logged in after a reload', async () => {
  const p = await page();
  const before = await whoami(p);
  assert.equal(before.value.status, 403, JSON.stringify(before));
  const wrong = await p.evaluate(() => e2e.attempt(() => window.handle.login('owner', 'not the password')));
  assert.equal(wrong.ok, false);
  assert.equal(wrong.error.name, 'IntrustdAccessError');
  const info = await p.evaluate((pw) => window.handle.login('owner', pw), OWNER_PASSWORD);
  assert.equal(info.persona.role, 'owner');
  const after = await whoami(p);
  assert.equal(after.value.status, 200);
  assert.equal(after.value.body.persona, 'owner');
  assert.deepEqual(after.value.body.permissions, ['intrustd+perm://intrustd/admin']);
  // A reload is a new link: the shim resumes the session with its device key, no password.
  await p.reload();
  await p.waitForFunction(() => window.e2eReady === true);
  await p.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: recorder.url, appliance: fx.appliance.id });
  const resumed = await whoami(p);
  assert.equal(resumed.value.status, 200, JSON.stringify(resumed));
  assert.equal(resumed.value.body.persona, 'owner');
  // What IndexedDB keeps is sealed: no secret in clear text.
  const raw = await p.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('intrustd-shim');
    open.onsuccess = () => {
      const req = open.result.transaction('records').objectStore('records').getAll();
      req.onsuccess = () => resolve(JSON.stringify(req.result, (k, v) => (v instanceof Uint8Array ? [...v] : v)));
    };
  }));
  assert.doesNotMatch(raw, /is1_/);
  await p.close();
});

test('the recording flock never saw the password, a session secret or a token', async () => {
  const all = recording.join('\n');
  assert.ok(recording.length > 10, 'the recorder relayed the signalling');
  assert.ok(!all.includes(OWNER_PASSWORD), 'the password crossed the flock');
  assert.ok(!all.includes('not the password'), 'a wrong password crossed the flock');
  assert.doesNotMatch(all, /is1_|it1_/);
});

test('a session secret stolen by script and replayed from another browser is refused', async () => {
  const a = await page();
  await a.evaluate((pw) => window.handle.login('owner', pw), OWNER_PASSWORD);
  // Script on the page can use the sealing key (never export it): the worst case, a stolen secret.
  const stolen = await a.evaluate(async (id) => {
    const access = window.handle._access;
    const rec = await access.store.get(`session:${id}`);
    return { id: rec.id, secret: await access._unseal(rec.secret) };
  }, fx.appliance.id);
  assert.match(stolen.secret, /^is1_/);
  const other = await startBrowser();
  browsers.push(other);
  const b = await other.openTestPage(fx.flock);
  await b.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: recorder.url, appliance: fx.appliance.id });
  const replay = await b.evaluate(async ({ id, stolen }) => {
    const access = window.handle._access;
    await access.store.put(`session:${id}`, { id: stolen.id, secret: await access._seal(stolen.secret) });
    const r = await fetch('intrustd+app://hello/whoami'); // the new link tries to resume with this browser's key
    return { status: r.status, remembered: Boolean(await access.store.get(`session:${id}`)) };
  }, { id: fx.appliance.id, stolen });
  assert.equal(replay.status, 403);
  assert.equal(replay.remembered, false, 'the refused session is forgotten');
  await a.close();
  await b.close();
});

test('a share link from the URL fragment grants its permission, and revoking it closes an open WebSocket within 1 s', async () => {
  const mint = await control('POST', '/v1/tokens', { permissions: ['intrustd+perm://hello/view?album=a'], label: 'e2e' });
  assert.equal(mint.status, 200);
  const other = await startBrowser();
  browsers.push(other);
  const url = `${fx.flock.http}/e2e/index.html#${mint.body.fragment}&keep=1`;
  const p = await page(other, url);
  const who = await whoami(p);
  assert.equal(who.value.status, 200, JSON.stringify(who));
  assert.deepEqual(who.value.body.tokens, [mint.body.id]);
  assert.deepEqual(who.value.body.permissions, ['intrustd+perm://hello/view?album=a']);
  assert.equal(await p.evaluate(() => location.hash), '#keep=1', 'the token is taken out of the address bar');

  await p.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket('intrustd+app://hello/ws');
    window.revokedWs = { closedAt: null, code: null };
    // A link that stalls fails here in seconds, not at the file's 300 s timeout.
    const stalled = setTimeout(() => reject(new Error(`ws not open after 15 s (readyState ${ws.readyState})`)), 15000);
    ws.onopen = () => { clearTimeout(stalled); resolve(); };
    ws.onerror = () => { clearTimeout(stalled); reject(new Error('ws error before open')); };
    ws.onclose = (ev) => { window.revokedWs = { closedAt: Date.now(), code: ev.code }; };
  }));
  const revokedAt = Date.now();
  const r = await control('DELETE', `/v1/tokens/${mint.body.id}`);
  assert.equal(r.status, 200);
  await p.waitForFunction(() => window.revokedWs.closedAt !== null, null, { timeout: 5000 });
  const closed = await p.evaluate(() => window.revokedWs);
  assert.ok(closed.closedAt - revokedAt < 1000, `closed ${closed.closedAt - revokedAt} ms after the revocation`);
  assert.equal((await whoami(p)).value.status, 403);
  const log = await control('GET', `/v1/access-log?token=${mint.body.id}&app=hello`);
  assert.ok(log.body.entries.some((e) => e.result === 'revoked' && e.target === '/ws'), JSON.stringify(log.body.entries));
  await p.close();
});

test('the login dialog logs in, shows errors and is keyboard-usable', async () => {
  const other = await startBrowser();
  browsers.push(other);
  const p = await page(other);
  const result = p.evaluate(() => window.handle.showLogin({ title: 'Log in to the test appliance' }));
  const dialog = p.locator('dialog.intrustd-login');
  await dialog.waitFor();
  assert.equal(await dialog.getByRole('heading').textContent(), 'Log in to the test appliance');
  await p.keyboard.type('owner');
  await p.keyboard.press('Tab');
  await p.keyboard.type('wrong password');
  await p.keyboard.press('Enter');
  await p.getByRole('alert').filter({ hasText: /wrong/ }).waitFor();
  await screenshot(p, 'login-dialog-error');
  await dialog.getByLabel('Password').fill(OWNER_PASSWORD);
  await dialog.getByRole('button', { name: 'Log in' }).click();
  const info = await result;
  assert.equal(info.persona.name, 'owner');
  assert.equal(await p.locator('dialog.intrustd-login').count(), 0, 'the dialog is gone');
  await p.close();
});

test('brute force is rate-limited with a clear retry time', async () => {
  const other = await startBrowser();
  browsers.push(other);
  const p = await page(other);
  const results = await p.evaluate(async () => {
    const out = [];
    for (let i = 0; i < 7; i++) {
      try {
        await window.handle.login('owner', `guess ${i}`);
        out.push('logged in');
      } catch (e) {
        out.push({ status: e.status, retry: e.retryAfterSeconds, message: e.message });
      }
    }
    return out;
  });
  assert.ok(results.slice(0, 5).every((r) => r.status === 401), JSON.stringify(results));
  const limited = results.slice(5);
  assert.ok(limited.every((r) => r.status === 429 && r.retry >= 1 && /try again in/.test(r.message)), JSON.stringify(limited));
  await sleep(0);
  await p.close();
});

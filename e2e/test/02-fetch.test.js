// 2, 3, 6. fetch over the link: GET with the trusted headers, a 404 problem for an unknown app,
// a 10 MiB upload checked by SHA-256, and an abort of a 1 GiB download.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../lib/harness.js';

const fx = fixture();
let page;
before(async () => {
  await fx.setup();
  page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: fx.flock.url, appliance: fx.appliance.id });
});
after(() => fx.teardown());

test('link() comes up verified for the asked ID', async () => {
  const r = await page.evaluate(() => e2e.link());
  assert.ok(r.ok, `link failed: ${JSON.stringify(r.error)}\n${fx.diagnostics()}`);
  const info = r.value;
  assert.equal(info.applianceId, fx.appliance.id);
  assert.equal(info.verified, true);
  assert.equal(info.path, 'direct-lan');
  assert.match(info.publicKey, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(info.setupMs > 0 && info.setupMs < 10000, `setupMs ${info.setupMs}`);
  console.log(`link set-up ${info.setupMs} ms`);
});

test('GET intrustd+app://hello/echo?msg= returns the message and the trusted headers', async () => {
  const msg = `héllo ${Date.now()} & more`;
  const r = await page.evaluate((m) => e2e.attempt(() => e2e.fetchText(`intrustd+app://hello/echo?msg=${encodeURIComponent(m)}`, {
    headers: { 'X-Intrustd-Appliance': 'SPOOFED', 'X-Intrustd-Link': 'spoofed-link' },
  })), msg);
  assert.ok(r.ok, JSON.stringify(r.error));
  const res = r.value;
  assert.equal(res.status, 200);
  assert.equal(res.body, msg);
  assert.equal(res.headers['x-echo-method'], 'GET');
  // The appliance strips X-Intrustd-* from the request and adds its own trusted ones.
  assert.equal(res.headers['x-seen-appliance'], fx.appliance.id);
  assert.ok(res.headers['x-seen-link'], 'no X-Seen-Link');
  assert.notEqual(res.headers['x-seen-link'], 'spoofed-link');
  assert.ok(!res.headers['x-seen-link'].includes('spoofed'));

  // Same link → same link id; the response is a real Response for the app URL.
  const again = await page.evaluate(() => e2e.fetchText('intrustd+app://hello/echo?msg=2'));
  assert.equal(again.headers['x-seen-link'], res.headers['x-seen-link']);
  assert.equal(again.body, '2');
});

test('POST echo, an app the visitor may not open (403 problem+json) and a missing path (404)', async () => {
  const post = await page.evaluate(() => e2e.fetchText('intrustd+app://hello/echo', { method: 'POST', body: 'posted body' }));
  assert.equal(post.status, 200);
  assert.equal(post.body, 'posted body');
  assert.equal(post.headers['x-echo-method'], 'POST');

  const r = await page.evaluate(() => e2e.attempt(() => e2e.fetchText('intrustd+app://no-such-app/echo')));
  // A visitor who has not logged in learns nothing about which apps exist: 403 either way.
  assert.ok(r.ok, `an app the visitor may not open should be an HTTP 403, not a network error: ${JSON.stringify(r.error)}`);
  assert.equal(r.value.status, 403);
  assert.match(r.value.headers['content-type'], /^application\/problem\+json/);
  const problem = JSON.parse(r.value.body);
  assert.equal(problem.status, 403);
  assert.equal(typeof problem.title, 'string');
  assert.match(problem.detail || '', /no-such-app/);
  assert.equal(r.value.headers['x-seen-appliance'], undefined, 'the 403 must come from the appliance, not from an app');
});

test('POST 10 MiB of random bytes to /upload: size and SHA-256 match', async () => {
  const r = await page.evaluate(async () => {
    const data = e2e.randomBytes(10 * 1024 * 1024);
    const expected = await e2e.sha256Hex(data);
    const t0 = performance.now();
    const res = await fetch('intrustd+app://hello/upload', { method: 'POST', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    const body = await res.json();
    return { status: res.status, body, expected, ms: performance.now() - t0 };
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.size, 10 * 1024 * 1024);
  assert.match(r.body.sha256, /^[0-9a-f]{64}$/);
  assert.equal(r.body.sha256, r.expected);
  console.log(`10 MiB upload in ${Math.round(r.ms)} ms (${(10.49 / (r.ms / 1000)).toFixed(1)} MB/s)`);
});

test('a streamed ReadableStream upload (chunked) arrives whole', async () => {
  const r = await page.evaluate(async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => e2e.randomBytes(50000 + i));
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) { all.set(c, off); off += c.length; }
    const body = new ReadableStream({ pull(ctl) { const c = chunks.shift(); if (c) ctl.enqueue(c); else ctl.close(); } });
    const res = await fetch('intrustd+app://hello/upload', { method: 'POST', body, duplex: 'half' });
    return { status: res.status, body: await res.json(), expected: await e2e.sha256Hex(all), size: all.length };
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.size, r.size);
  assert.equal(r.body.sha256, r.expected);
});

test('AbortController aborts a 1 GiB download mid-way quickly, and the link still works', async () => {
  const r = await page.evaluate(async () => {
    const controller = new AbortController();
    const res = await fetch('intrustd+app://hello/stream?bytes=1073741824', { signal: controller.signal });
    const len = res.headers.get('content-length');
    const seen = await e2e.readPattern(res, { controller, abortAfter: 16 * 1024 * 1024 });
    return { status: res.status, len, seen };
  });
  assert.equal(r.status, 200);
  assert.equal(r.len, '1073741824');
  const s = r.seen;
  assert.equal(s.ok, false, `the download was not aborted: ${JSON.stringify(s)}`);
  assert.equal(s.error.name, 'AbortError', JSON.stringify(s.error));
  assert.equal(s.firstMismatch, -1, `pattern broken at byte ${s.firstMismatch}`);
  assert.ok(s.total >= 16 * 1024 * 1024 && s.total < 64 * 1024 * 1024, `read ${s.total} bytes`);
  assert.ok(s.abortToErrorMs < 1000, `AbortError ${s.abortToErrorMs} ms after abort()`);
  console.log(`aborted after ${s.total} bytes, AbortError ${s.abortToErrorMs.toFixed(1)} ms after abort()`);

  // An abort before the response arrives rejects fetch itself with AbortError.
  const early = await page.evaluate(() => e2e.attempt(() => fetch('intrustd+app://hello/stream?bytes=1073741824', { signal: AbortSignal.abort() })));
  assert.equal(early.ok, false);
  assert.equal(early.error.name, 'AbortError');

  const t0 = Date.now();
  const next = await page.evaluate(() => e2e.attempt(() => e2e.fetchText('intrustd+app://hello/echo?msg=after-abort')));
  assert.ok(next.ok, `fetch after the abort failed: ${JSON.stringify(next.error)}\n${fx.diagnostics()}`);
  assert.equal(next.value.body, 'after-abort');
  assert.ok(Date.now() - t0 < 3000, `the next fetch took ${Date.now() - t0} ms`);
  // Still the same link (the abort reset one exchange, not the peer connection).
  const status = await page.evaluate(() => window.statusLog.map((s) => s.state));
  assert.deepEqual(status, ['connecting', 'up'], `the link went down and up again: ${JSON.stringify(status)}`);
});

test('parallel fetches share the link and all complete', async () => {
  const r = await page.evaluate(async () => {
    const n = 20;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => e2e.fetchText(`intrustd+app://hello/echo?msg=p${i}`)));
    return results.map((x) => [x.status, x.body, x.headers['x-seen-link']]);
  });
  assert.equal(r.length, 20);
  r.forEach(([status, body], i) => { assert.equal(status, 200); assert.equal(body, `p${i}`); });
  assert.equal(new Set(r.map((x) => x[2])).size, 1, 'parallel fetches used more than one link');
});

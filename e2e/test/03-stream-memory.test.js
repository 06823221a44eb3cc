// 4. A 256 MiB streamed download read with a reader, while the appliance daemon runs with a
// 64 MB heap (-Xmx64m): if it buffered the response it would die with OutOfMemoryError. The
// daemon's RSS is sampled from /proc during the transfer and must stay bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, cmdline } from '../lib/harness.js';

const BYTES = 256 * 1024 * 1024;
const RSS_LIMIT = 400 * 1024 * 1024;

const fx = fixture({ applianceOptions: { javaOpts: '-Xmx64m', name: 'small-heap' } });
let page;
before(async () => {
  await fx.setup();
  page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: fx.flock.url, appliance: fx.appliance.id });
});
after(() => fx.teardown());

test('the daemon runs with the -Xmx64m from INTRUSTD_JAVA_OPTS', () => {
  const pids = fx.appliance.daemonPids();
  assert.ok(pids.length >= 1, `no daemon JVM under the launcher (pid ${fx.appliance.proc.pid})`);
  const withHeap = pids.filter((p) => cmdline(p).includes('-Xmx64m'));
  assert.ok(withHeap.length >= 1, `no daemon JVM has -Xmx64m: ${pids.map((p) => cmdline(p).join(' ')).join('\n')}`);
});

test('256 MiB download: every byte right, daemon alive, RSS bounded', async () => {
  const link = await page.evaluate(() => e2e.link());
  assert.ok(link.ok, `link failed: ${JSON.stringify(link.error)}\n${fx.diagnostics()}`);

  const samples = [];
  const sampler = setInterval(() => {
    const rss = fx.appliance.daemonRss();
    if (rss !== null) samples.push(rss);
  }, 200);
  let r;
  try {
    r = await page.evaluate(async (n) => {
      const res = await fetch(`intrustd+app://hello/stream?bytes=${n}`);
      const seen = await e2e.readPattern(res);
      return { status: res.status, len: res.headers.get('content-length'), seen };
    }, BYTES);
  } finally {
    clearInterval(sampler);
  }
  assert.equal(fx.appliance.alive, true, `the appliance died during the transfer:\n${fx.diagnostics()}`);
  assert.equal(r.status, 200);
  assert.equal(r.len, String(BYTES));
  assert.ok(r.seen.ok, `the download failed after ${r.seen.total} bytes: ${JSON.stringify(r.seen.error)}\n${fx.diagnostics()}`);
  assert.equal(r.seen.total, BYTES);
  assert.equal(r.seen.firstMismatch, -1, `pattern broken at byte ${r.seen.firstMismatch}`);
  assert.doesNotMatch(fx.appliance.proc.output, /OutOfMemoryError/);

  assert.ok(samples.length >= 5, `only ${samples.length} RSS samples`);
  const max = Math.max(...samples);
  const mb = (x) => (x / 1048576).toFixed(0);
  const rate = (BYTES / 1e6 / (r.seen.ms / 1000)).toFixed(1);
  console.log(`256 MiB in ${(r.seen.ms / 1000).toFixed(1)} s (${rate} MB/s), ${r.seen.chunks} chunks (largest ${r.seen.largestChunk}); daemon RSS max ${mb(max)} MB over ${samples.length} samples (first ${mb(samples[0])} MB)`);
  assert.ok(max < RSS_LIMIT, `daemon RSS reached ${mb(max)} MB (limit ${mb(RSS_LIMIT)} MB)`);

  // And the link still works afterwards.
  const after = await page.evaluate(() => e2e.attempt(() => e2e.fetchText('intrustd+app://hello/echo?msg=ok')));
  assert.ok(after.ok, JSON.stringify(after.error));
  assert.equal(after.value.body, 'ok');
});

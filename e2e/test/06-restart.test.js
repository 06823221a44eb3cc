// 8. The appliance is stopped (SIGTERM) while a page is linked: in-flight and new requests fail
// fast with TypeError; restarted with the same state directory it has the same ID, and the
// same page reaches it again within seconds, without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, startAppliance, sleep, cleanExit } from '../lib/harness.js';

const fx = fixture({ applianceOptions: { name: 'restart' } });
let page;
before(async () => {
  await fx.setup();
  page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: fx.flock.url, appliance: fx.appliance.id });
});
after(() => fx.teardown());

test('stop with SIGTERM: requests fail within 5 s; restart: same ID, the page works again', async () => {
  const first = await page.evaluate(() => e2e.attempt(() => e2e.fetchText('intrustd+app://hello/echo?msg=before')));
  assert.ok(first.ok, `${JSON.stringify(first.error)}\n${fx.diagnostics()}`);
  const linkBefore = first.value.headers['x-seen-link'];

  // A long download in flight when the appliance goes away.
  await page.evaluate(() => {
    window.inflight = (async () => {
      const res = await fetch('intrustd+app://hello/stream?bytes=1073741824');
      const reader = res.body.getReader();
      window.inflightStarted = true;
      let total = 0;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return { ok: true, total, at: Date.now() };
          total += value.length;
          await new Promise((r) => setTimeout(r, 5)); // a slow reader
        }
      } catch (e) {
        return { ok: false, total, at: Date.now(), error: e2e.describeError(e) };
      }
    })();
  });
  await page.waitForFunction(() => window.inflightStarted === true, null, { timeout: 10000 });

  const old = fx.appliance;
  const tStop = Date.now();
  const stopped = await old.stop({ signal: 'SIGTERM', graceMs: 10000 });
  const stopMs = Date.now() - tStop;
  assert.equal(stopped.killed, false, `the appliance ignored SIGTERM for 10 s:\n${old.proc.tail()}`);
  const crashed = old.proc.crashed || !cleanExit(stopped);

  const inflight = await page.evaluate(() => window.inflight);
  assert.equal(inflight.ok, false, 'the in-flight 1 GiB download completed although the appliance stopped');
  const inflightFailMs = inflight.at - tStop;
  assert.ok(inflightFailMs < 5000, `the in-flight download failed only ${inflightFailMs} ms after SIGTERM`);
  assert.equal(inflight.error.name, 'TypeError', JSON.stringify(inflight.error));

  const t0 = Date.now();
  const during = await page.evaluate(() => e2e.attempt(() => e2e.fetchText('intrustd+app://hello/echo?msg=during')));
  const failMs = Date.now() - t0;
  assert.equal(during.ok, false, 'fetch succeeded with the appliance stopped');
  assert.equal(during.error.name, 'TypeError', JSON.stringify(during.error));
  assert.equal(during.error.message, 'Failed to fetch');
  assert.ok(failMs < 5000, `fetch with the appliance stopped took ${failMs} ms to fail`);
  console.log(`SIGTERM → exit ${stopMs} ms (code ${stopped.code}, signal ${stopped.signal}); in-flight failed ${inflightFailMs} ms after SIGTERM; next fetch failed in ${failMs} ms: ${JSON.stringify(during.error.causes[0] || {})}`);

  // Restart with the same state directory.
  const tStart = Date.now();
  fx.appliance = await startAppliance({ flock: fx.flock.url, stateDir: old.stateDir, name: 'restart' });
  const startMs = Date.now() - tStart;
  assert.equal(fx.appliance.id, old.id, 'the restarted appliance has another ID');

  const t1 = Date.now();
  const again = await page.evaluate(async () => {
    const deadline = Date.now() + 15000;
    let attempts = 0;
    let last = null;
    while (Date.now() < deadline) {
      attempts++;
      const r = await e2e.attempt(() => e2e.fetchText('intrustd+app://hello/echo?msg=again'));
      if (r.ok) return { ok: true, attempts, value: r.value };
      last = r.error;
      await e2e.sleep(250);
    }
    return { ok: false, attempts, last };
  });
  const backMs = Date.now() - t1;
  assert.ok(again.ok, `no successful fetch within 15 s of the restart (${again.attempts} attempts, last ${JSON.stringify(again.last)})\n${fx.diagnostics()}`);
  assert.equal(again.value.body, 'again');
  assert.equal(again.value.headers['x-seen-appliance'], old.id);
  assert.notEqual(again.value.headers['x-seen-link'], linkBefore, 'a new link should have been made');
  console.log(`restart ready in ${startMs} ms; page fetch OK ${backMs} ms later after ${again.attempts} attempt(s)`);
  assert.ok(backMs < 10000, `the page needed ${backMs} ms to reach the restarted appliance`);
  // Checked last so that the rest is measured even when this fails.
  assert.equal(crashed, false, `the appliance did not exit cleanly on SIGTERM with an exchange in flight (${JSON.stringify(stopped)}):\n${old.proc.tail(25)}`);

  const states = await page.evaluate(() => window.statusLog.map((s) => s.state));
  assert.equal(states[0], 'connecting');
  assert.equal(states[1], 'up');
  assert.ok(states.includes('down'), `no down state seen: ${states}`);
  assert.equal(states.at(-1), 'up');
});

test('the restarted appliance keeps serving: WebSocket and upload', async () => {
  const r = await page.evaluate(async () => {
    const ws = new WebSocket('intrustd+app://hello/ws');
    const echoed = await new Promise((resolve, reject) => {
      ws.onopen = () => ws.send('after restart');
      ws.onmessage = (ev) => { resolve(ev.data); ws.close(1000, 'done'); };
      ws.onclose = (ev) => reject(new Error(`closed ${ev.code}`));
      setTimeout(() => reject(new Error('timeout')), 10000);
    });
    const data = e2e.randomBytes(1 << 20);
    const res = await fetch('intrustd+app://hello/upload', { method: 'POST', body: data });
    return { echoed, up: await res.json(), sha: await e2e.sha256Hex(data) };
  });
  assert.equal(r.echoed, 'after restart');
  assert.equal(r.up.sha256, r.sha);
});

test('the flock does not keep a stale registration: a SIGKILLed appliance is offline at once for new links', async () => {
  const id = fx.appliance.id;
  const state = fx.appliance.stateDir;
  await fx.appliance.stop({ signal: 'SIGKILL' });
  await sleep(500);
  const p2 = await fx.browser.openTestPage(fx.flock);
  await p2.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance, connectTimeoutMs: 8000 }), { flock: fx.flock.url, appliance: id });
  const t0 = Date.now();
  const r = await p2.evaluate(() => e2e.link());
  const ms = Date.now() - t0;
  assert.equal(r.ok, false);
  assert.equal(r.error.name, 'IntrustdLinkError');
  assert.equal(r.error.code, 'appliance-offline', JSON.stringify(r.error));
  assert.ok(ms < 3000, `link() took ${ms} ms to report the appliance offline`);
  fx.appliance = await startAppliance({ flock: fx.flock.url, stateDir: state, name: 'restart' });
  const back = await p2.evaluate(async () => {
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      const r = await e2e.attempt(() => e2e.fetchText('intrustd+app://hello/echo?msg=k'));
      if (r.ok) return r;
      await e2e.sleep(250);
    }
    return { ok: false };
  });
  assert.ok(back.ok, fx.diagnostics());
});

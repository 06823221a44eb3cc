// 5. WebSocket over the link: text and binary echo, a server close with code and reason, and a
// clean client close.
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

/** In the page: open ws, run `script` steps, collect events. */
function wsSession(steps) {
  return page.evaluate(async (steps) => {
    const events = [];
    const ws = new WebSocket('intrustd+app://hello/ws');
    ws.binaryType = 'arraybuffer';
    const closed = new Promise((resolve) => {
      ws.onclose = (ev) => { events.push({ type: 'close', code: ev.code, reason: ev.reason, wasClean: ev.wasClean }); resolve(); };
    });
    ws.onerror = () => events.push({ type: 'error' });
    const queue = [];
    let wake = null;
    ws.onmessage = (ev) => {
      const m = typeof ev.data === 'string' ? { text: ev.data } : { binary: Array.from(new Uint8Array(ev.data)) , size: ev.data.byteLength, sha: null, raw: ev.data };
      queue.push(m);
      if (wake) wake();
    };
    const next = async (ms = 10000) => {
      const t0 = Date.now();
      while (!queue.length) {
        if (Date.now() - t0 > ms) throw new Error('no message within ' + ms + ' ms');
        await new Promise((r) => { wake = r; setTimeout(r, 100); });
      }
      return queue.shift();
    };
    try {
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        setTimeout(() => reject(new Error('no open within 10 s')), 10000);
      });
      events.push({ type: 'open', protocol: ws.protocol, url: ws.url, readyState: ws.readyState });
      for (const step of steps) {
        if (step.sendText !== undefined) ws.send(step.sendText);
        if (step.sendBinary !== undefined) ws.send(new Uint8Array(step.sendBinary));
        if (step.sendRandom !== undefined) {
          const data = e2e.randomBytes(step.sendRandom);
          ws.send(data);
          const m = await next();
          events.push({ type: 'message', size: m.size, same: m.raw && (await e2e.sha256Hex(m.raw)) === (await e2e.sha256Hex(data)) });
          continue;
        }
        if (step.expect) {
          const m = await next();
          delete m.raw;
          events.push({ type: 'message', ...m });
        }
        if (step.close) ws.close(...step.close);
        if (step.waitClose) {
          await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('no close within 10 s')), 10000))]);
        }
      }
    } catch (e) {
      events.push({ type: 'failure', error: e2e.describeError(e) });
      try { ws.close(); } catch { /* ignore */ }
    }
    events.push({ type: 'final', readyState: ws.readyState, bufferedAmount: ws.bufferedAmount });
    return events;
  }, steps);
}

test('text and binary messages echo', async () => {
  const ev = await wsSession([
    { sendText: 'hello ✓', expect: true },
    { sendBinary: [0, 1, 2, 255, 128], expect: true },
    { sendText: '', expect: true },
    { sendRandom: 200000 },
    { close: [1000, 'done'], waitClose: true },
  ]);
  const fail = ev.find((e) => e.type === 'failure');
  assert.equal(fail, undefined, `${JSON.stringify(fail)}\n${fx.diagnostics()}`);
  const msgs = ev.filter((e) => e.type === 'message');
  assert.equal(ev[0].type, 'open');
  assert.equal(ev[0].readyState, 1);
  assert.equal(msgs[0].text, 'hello ✓');
  assert.deepEqual(msgs[1].binary, [0, 1, 2, 255, 128]);
  assert.equal(msgs[2].text, '');
  assert.equal(msgs[3].size, 200000);
  assert.equal(msgs[3].same, true, '200 KB binary echo differs');
});

test('server close: close:4001:bye gives CloseEvent 4001 "bye"', async () => {
  const ev = await wsSession([{ sendText: 'close:4001:bye', waitClose: true }]);
  const fail = ev.find((e) => e.type === 'failure');
  assert.equal(fail, undefined, JSON.stringify(fail));
  const close = ev.find((e) => e.type === 'close');
  assert.ok(close, JSON.stringify(ev));
  assert.equal(close.code, 4001);
  assert.equal(close.reason, 'bye');
  assert.equal(close.wasClean, true);
  assert.equal(ev.at(-1).readyState, 3);
});

test('client close(1000, "done") is clean', async () => {
  const ev = await wsSession([{ sendText: 'x', expect: true }, { close: [1000, 'done'], waitClose: true }]);
  const fail = ev.find((e) => e.type === 'failure');
  assert.equal(fail, undefined, JSON.stringify(fail));
  const close = ev.find((e) => e.type === 'close');
  assert.equal(close.wasClean, true, JSON.stringify(close));
  assert.equal(close.code, 1000);
  assert.equal(close.reason, 'done');
  assert.equal(ev.filter((e) => e.type === 'error').length, 0);
});

test('a WebSocket to an unknown app fails with error + close 1006', async () => {
  const r = await page.evaluate(() => new Promise((resolve) => {
    const ws = new WebSocket('intrustd+app://no-such-app/ws');
    const events = [];
    ws.onopen = () => events.push('open');
    ws.onerror = () => events.push('error');
    ws.onclose = (ev) => { events.push(`close ${ev.code} ${ev.wasClean}`); resolve(events); };
    setTimeout(() => resolve([...events, 'timeout']), 15000);
  }));
  assert.deepEqual(r, ['error', 'close 1006 false']);
});

test('the link is still the first one', async () => {
  const states = await page.evaluate(() => window.statusLog.map((s) => s.state));
  assert.deepEqual(states, ['connecting', 'up']);
});

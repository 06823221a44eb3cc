import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createFetch } from '../src/fetch.js';
import { normaliseApps } from '../src/routes.js';
import { IntrustdLinkError, StreamError } from '../src/errors.js';
import { FakeLink, echoApp } from './fakes.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function setup(apps, { prefixes = {}, originalFetch } = {}) {
  const link = new FakeLink(apps);
  const fetch = createFetch({ getLink: async () => link, apps: normaliseApps(prefixes), originalFetch });
  return { link, fetch };
}

const seen = [];
const recordingEcho = (req, res) => { seen.push(req); echoApp(req, res); };

test('GET and POST with every kind of known-length body', async () => {
  const { fetch } = setup({ hello: recordingEcho });
  seen.length = 0;
  let r = await fetch('intrustd+app://hello/echo?msg=hi%20there');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/plain');
  assert.equal(await r.text(), 'hi there');
  assert.equal(r.url, 'intrustd+app://hello/echo?msg=hi%20there');
  assert.equal(seen[0].method, 'GET');
  assert.equal(seen[0].target, '/echo?msg=hi%20there');
  assert.equal(seen[0].headers.host, 'hello');
  assert.equal(seen[0].headers.accept, '*/*');
  assert.equal(seen[0].headers['content-length'], undefined);

  const bodies = [
    ['héllo ✓', 'text/plain;charset=UTF-8', Buffer.from('héllo ✓')],
    [new Uint8Array([1, 2, 3]).buffer, undefined, Buffer.from([1, 2, 3])],
    [new Uint16Array([0x0201]), undefined, Buffer.from([1, 2])],
    [new Blob(['blob', 'part'], { type: 'application/x-test' }), 'application/x-test', Buffer.from('blobpart')],
    [new URLSearchParams({ a: '1', b: 'é' }), 'application/x-www-form-urlencoded;charset=UTF-8', Buffer.from('a=1&b=%C3%A9')],
  ];
  for (const [body, type, bytes] of bodies) {
    seen.length = 0;
    r = await fetch('intrustd+app://hello/echo', { method: 'post', body });
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), bytes);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].headers['content-length'], String(bytes.length));
    assert.equal(seen[0].headers['content-type'], type);
    assert.equal(seen[0].headers['transfer-encoding'], undefined);
  }
});

test('FormData is sent as multipart/form-data with text fields and files', async () => {
  const { fetch } = setup({ hello: recordingEcho });
  seen.length = 0;
  const form = new FormData();
  form.append('name', 'line1\nline2');
  form.append('file', new Blob(['FILE'], { type: 'text/x-demo' }), 'a"b.txt');
  const r = await fetch('intrustd+app://hello/echo', { method: 'POST', body: form });
  const text = await r.text();
  const type = seen[0].headers['content-type'];
  const boundary = /boundary=(.+)$/.exec(type)[1];
  assert.match(type, /^multipart\/form-data; boundary=/);
  assert.equal(Number(seen[0].headers['content-length']), Buffer.byteLength(text));
  assert.equal(text,
    `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nline1\r\nline2\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a%22b.txt"\r\nContent-Type: text/x-demo\r\n\r\nFILE\r\n` +
    `--${boundary}--\r\n`);
});

test('ReadableStream bodies go chunked', async () => {
  const { fetch } = setup({ hello: recordingEcho });
  seen.length = 0;
  const big = new Uint8Array(200000).map((_, i) => i % 251);
  const body = new ReadableStream({
    start(c) { c.enqueue(new TextEncoder().encode('first,')); c.enqueue(big); c.close(); },
  });
  const r = await fetch('intrustd+app://hello/upload', { method: 'POST', body, duplex: 'half' });
  const got = Buffer.from(await r.arrayBuffer());
  assert.equal(seen[0].headers['transfer-encoding'], 'chunked');
  assert.equal(seen[0].headers['content-length'], undefined);
  assert.deepEqual(got, Buffer.concat([Buffer.from('first,'), Buffer.from(big)]));
});

/** Sizes of the messages the client sent on an exchange, from the app's side. */
function sizeRecordingApp(sizes) {
  return (req, res) => {
    sizes.push(...res.channel.peer.sent.map((m) => m.byteLength));
    echoApp(req, res);
  };
}

test('known-length bodies fill every DATA frame, whatever the sizes of their parts', async () => {
  for (const size of [1_000_000, 3 * 1024 * 1024 + 17]) {
    const data = new Uint8Array(size).map((_, i) => (i * 13) % 256);
    for (const body of [data, new Blob([data.subarray(0, 5), data.subarray(5)])]) {
      const sizes = [];
      const { fetch } = setup({ hello: sizeRecordingApp(sizes) });
      const r = await fetch('intrustd+app://hello/upload', { method: 'POST', body });
      assert.equal(Buffer.compare(Buffer.from(await r.arrayBuffer()), Buffer.from(data)), 0);
      const end = sizes.pop();
      const last = sizes.pop();
      assert.equal(end, 1, 'END');
      assert.ok(sizes.every((n) => n === 65536), `full frames: ${sizes.filter((n) => n !== 65536)}`);
      assert.ok(last >= 2 && last <= 65536);
    }
  }
});

test('a stream\'s queued chunks share frames', async () => {
  const sizes = [];
  const { fetch } = setup({ hello: sizeRecordingApp(sizes) });
  const part = new Uint8Array(65536).fill(7);
  let n = 0;
  const body = new ReadableStream({
    pull(c) { if (n++ < 40) c.enqueue(part.slice()); else c.close(); },
  }, { highWaterMark: 8 });
  const r = await fetch('intrustd+app://hello/upload', { method: 'POST', body, duplex: 'half' });
  assert.equal((await r.arrayBuffer()).byteLength, 40 * 65536);
  sizes.pop(); // END
  const short = sizes.filter((s) => s !== 65536);
  // 40 chunks but almost every frame full; without coalescing every other frame was ~14 bytes
  assert.ok(short.length <= 4, `short frames: ${short}`);
});

test('a stream\'s chunk is sent at once, not held back for the next one', async () => {
  const { link, fetch } = setup({ hello: recordingEcho });
  let release;
  const gate = new Promise((r) => { release = r; });
  let step = 0;
  const body = new ReadableStream({
    async pull(c) {
      if (step === 0) c.enqueue(new TextEncoder().encode('early'));
      else if (step === 1) { await gate; c.enqueue(new TextEncoder().encode('late')); } else c.close();
      step++;
    },
  }, { highWaterMark: 0 });
  const pending = fetch('intrustd+app://hello/upload', { method: 'POST', body, duplex: 'half' });
  const sentText = () => [...link.streams].flatMap((s) => s.channel.sent).map((m) => Buffer.from(m).toString('latin1')).join('');
  for (let i = 0; i < 200 && !sentText().includes('5\r\nearly\r\n'); i++) await tick(5);
  assert.ok(sentText().includes('5\r\nearly\r\n'), 'the first chunk went out while the stream waited');
  release();
  const r = await pending;
  assert.equal(await r.text(), 'earlylate');
});

test('large bodies are split into DATA frames of at most 64 KiB', async () => {
  let maxFrame = 0;
  const { fetch } = setup({
    hello: (req, res) => {
      maxFrame = Math.max(...res.channel.peer.sent.map((m) => m.byteLength));
      const hash = createHash('sha256').update(req.body).digest('hex');
      const json = JSON.stringify({ size: req.body.length, sha256: hash });
      res.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`);
      res.end();
    },
  });
  const data = new Uint8Array(1_000_000).map((_, i) => (i * 7) % 256);
  const r = await fetch('intrustd+app://hello/upload', { method: 'POST', body: data });
  assert.deepEqual(await r.json(), { size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  assert.ok(maxFrame <= 65536 && maxFrame > 60000, `max frame ${maxFrame}`);
});

test('the response streams: fetch resolves at the head, body chunks arrive as sent', async () => {
  let server;
  const { fetch } = setup({ hello: (req, res) => { server = res; res.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n'); } });
  const r = await fetch('intrustd+app://hello/stream');
  const reader = r.body.getReader();
  const first = await reader.read();
  assert.equal(Buffer.from(first.value).toString(), 'first');
  server.write('6\r\nsecond\r\n0\r\n\r\n');
  server.end();
  const second = await reader.read();
  assert.equal(Buffer.from(second.value).toString(), 'second');
  assert.equal((await reader.read()).done, true);
});

test('abort before the head rejects with AbortError and resets the stream', async () => {
  let server;
  const { fetch } = setup({ hello: (req, res) => { server = res; } });
  const ac = new AbortController();
  const p = fetch('intrustd+app://hello/slow', { signal: ac.signal });
  await tick(20);
  ac.abort();
  await assert.rejects(p, (e) => e.name === 'AbortError');
  await tick(20);
  assert.ok(server.frames.includes('RESET'));
});

test('abort in the middle of the body errors the body with AbortError', async () => {
  let server;
  const { fetch } = setup({ hello: (req, res) => { server = res; res.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc'); } });
  const ac = new AbortController();
  const r = await fetch('intrustd+app://hello/slow', { signal: ac.signal });
  const reader = r.body.getReader();
  await reader.read();
  ac.abort();
  await assert.rejects(reader.read(), (e) => e.name === 'AbortError');
  await tick(20);
  assert.ok(server.frames.includes('RESET'));
  // an already aborted signal never opens a stream
  await assert.rejects(fetch('intrustd+app://hello/x', { signal: ac.signal }), (e) => e.name === 'AbortError');
});

test('network errors are TypeError("Failed to fetch") with a cause', async () => {
  const { fetch, link } = setup({
    reset: (req, res) => { res.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab'); res.reset('app crashed'); },
    short: (req, res) => { res.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab'); res.end(); },
    garbage: (req, res) => { res.write('SMTP ready\r\n\r\n'); res.end(); },
    hang: () => {},
  });
  for (const app of ['reset', 'short']) {
    const r = await fetch(`intrustd+app://${app}/`);
    await assert.rejects(r.text(), (e) => e instanceof TypeError && e.message === 'Failed to fetch' && e.cause !== undefined, app);
  }
  await assert.rejects(fetch('intrustd+app://garbage/'), (e) => e instanceof TypeError && e.cause && e.cause.name === 'HttpParseError');
  await assert.rejects(fetch('intrustd+app://missing/'), (e) => e instanceof TypeError && e.cause instanceof StreamError);
  const p = fetch('intrustd+app://hang/');
  await tick(20);
  link.drop();
  await assert.rejects(p, (e) => e instanceof TypeError && e.cause instanceof IntrustdLinkError);
  await assert.rejects(fetch('intrustd+app://hang/'), (e) => e instanceof TypeError && e.cause instanceof IntrustdLinkError);
});

test('redirects: follow (with method rules), manual, error, and never out of the app', async () => {
  const { fetch } = setup({
    hello: (req, res) => {
      seen.push(req);
      const go = (status, loc) => { res.write(`HTTP/1.1 ${status} Moved\r\nLocation: ${loc}\r\nContent-Length: 0\r\n\r\n`); res.end(); };
      const url = new URL(req.target, 'http://x');
      if (url.pathname === '/302') return go(302, '/echo');
      if (url.pathname === '/307') return go(307, 'echo?x=1');
      if (url.pathname === '/abs') return go(301, 'http://hello/echo?msg=abs');
      if (url.pathname === '/away') return go(302, 'https://example.org/');
      if (url.pathname === '/other-app') return go(302, 'intrustd+app://other/');
      if (url.pathname === '/loop') return go(302, '/loop');
      echoApp(req, res);
    },
  });
  seen.length = 0;
  let r = await fetch('intrustd+app://hello/302', { method: 'POST', body: 'data' });
  assert.equal(r.status, 200);
  assert.equal(r.redirected, true);
  assert.equal(r.url, 'intrustd+app://hello/echo');
  assert.equal(seen[1].method, 'GET');
  assert.equal(seen[1].body.length, 0);

  seen.length = 0;
  r = await fetch('intrustd+app://hello/307', { method: 'PUT', body: 'kept' });
  assert.equal(await r.text(), 'kept');
  assert.equal(seen[1].method, 'PUT');
  assert.equal(seen[1].target, '/echo?x=1');

  r = await fetch('intrustd+app://hello/abs');
  assert.equal(await r.text(), 'abs');

  r = await fetch('intrustd+app://hello/302', { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/echo');

  await assert.rejects(fetch('intrustd+app://hello/302', { redirect: 'error' }), TypeError);
  await assert.rejects(fetch('intrustd+app://hello/away'), TypeError);
  await assert.rejects(fetch('intrustd+app://hello/other-app'), TypeError);
  await assert.rejects(fetch('intrustd+app://hello/loop'), (e) => e instanceof TypeError && /too many/.test(e.cause.message));
  const stream = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1])); c.close(); } });
  await assert.rejects(fetch('intrustd+app://hello/307', { method: 'POST', body: stream, duplex: 'half' }), TypeError);
});

test('null-body statuses, HEAD, and bad input', async () => {
  const { fetch } = setup({
    hello: (req, res) => {
      if (req.target === '/204') res.write('HTTP/1.1 204 No Content\r\n\r\n');
      else res.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n' + (req.method === 'HEAD' ? '' : 'hello'));
      res.end();
    },
  });
  let r = await fetch('intrustd+app://hello/204');
  assert.equal(r.status, 204);
  assert.equal(r.body, null);
  r = await fetch('intrustd+app://hello/', { method: 'HEAD' });
  assert.equal(r.body, null);
  assert.equal(r.headers.get('content-length'), '5');
  await assert.rejects(fetch('intrustd+app://hello/', { method: 'GET', body: 'x' }), TypeError);
  await assert.rejects(fetch('intrustd+app://hello/', { method: 'CONNECT' }), TypeError);
  await assert.rejects(fetch('intrustd+app://Bad_App/'), TypeError);
  await assert.rejects(fetch('intrustd+app://hello:8080/'), TypeError);
  await assert.rejects(fetch('intrustd+app://hello/', { headers: { 'X-A': 'b\r\nHost: evil' } }), TypeError);
});

test('Request objects, prefix routes, and everything else goes to the original fetch', async () => {
  const calls = [];
  const original = async (input) => { calls.push(String(input)); return new Response('original'); };
  globalThis.location = new URL('http://page.test/demo/index.html');
  try {
    const { fetch } = setup({ hello: recordingEcho }, { prefixes: { '/hello/': 'hello' }, originalFetch: original });
    seen.length = 0;
    let r = await fetch('/hello/echo?msg=prefixed');
    assert.equal(await r.text(), 'prefixed');
    assert.equal(seen[0].target, '/echo?msg=prefixed');
    assert.equal(seen[0].headers.origin, 'http://page.test');
    assert.equal(r.url, 'http://page.test/hello/echo?msg=prefixed');
    r = await fetch(new Request('intrustd+app://hello/echo', { method: 'POST', body: 'from a Request', headers: { 'X-Test': '1' } }));
    assert.equal(await r.text(), 'from a Request');
    assert.equal(seen[1].headers['x-test'], '1');
    for (const url of ['/other/x', 'http://elsewhere.test/hello/x', 'https://page.test/hello/x', '/hellox']) {
      assert.equal(await (await fetch(url)).text(), 'original', url);
    }
    assert.equal(calls.length, 4);
  } finally {
    delete globalThis.location;
  }
});

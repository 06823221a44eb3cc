// 7. XMLHttpRequest over the link: GET, POST with upload progress events, response headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../lib/harness.js';

const fx = fixture();
let page;
before(async () => {
  await fx.setup();
  page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance, apps: { '/hello/': 'hello' } }), { flock: fx.flock.url, appliance: fx.appliance.id });
});
after(() => fx.teardown());

function xhr(opts) {
  return page.evaluate((o) => new Promise((resolve) => {
    const x = new XMLHttpRequest();
    const events = [];
    const upload = [];
    x.open(o.method, o.url);
    if (o.responseType) x.responseType = o.responseType;
    x.timeout = 20000;
    for (const t of ['loadstart', 'progress', 'load', 'loadend']) {
      x.upload.addEventListener(t, (e) => upload.push({ type: t, loaded: e.loaded, total: e.total, computable: e.lengthComputable }));
    }
    x.onreadystatechange = () => events.push(`rs${x.readyState}`);
    let body = null;
    if (o.bodySize) body = e2e.randomBytes(o.bodySize);
    else if (o.body !== undefined) body = o.body;
    const done = (kind) => () => {
      const resp = x.responseType === 'arraybuffer' ? (x.response ? x.response.byteLength : null) : x.responseText;
      resolve({ kind, status: x.status, statusText: x.statusText, response: resp, headers: x.getAllResponseHeaders(),
        echoMethod: x.getResponseHeader('X-Echo-Method'), contentType: x.getResponseHeader('content-type'), events, upload, responseURL: x.responseURL });
    };
    x.onload = done('load');
    x.onerror = done('error');
    x.ontimeout = done('timeout');
    x.send(body);
  }), opts);
}

test('GET intrustd+app://hello/echo and via the /hello/ prefix', async () => {
  const r = await xhr({ method: 'GET', url: 'intrustd+app://hello/echo?msg=xhr%20get' });
  assert.equal(r.kind, 'load', `${JSON.stringify(r)}\n${fx.diagnostics()}`);
  assert.equal(r.status, 200);
  assert.equal(r.response, 'xhr get');
  assert.equal(r.echoMethod, 'GET');
  assert.ok(r.events.includes('rs4'));

  const p = await xhr({ method: 'GET', url: '/hello/echo?msg=prefixed' });
  assert.equal(p.kind, 'load');
  assert.equal(p.status, 200);
  assert.equal(p.response, 'prefixed');
});

test('getAllResponseHeaders lists the headers, lower-case, CRLF-separated', async () => {
  const r = await xhr({ method: 'GET', url: 'intrustd+app://hello/echo?msg=h' });
  assert.ok(r.headers.endsWith('\r\n'), JSON.stringify(r.headers));
  const lines = r.headers.trim().split('\r\n');
  const map = Object.fromEntries(lines.map((l) => { const i = l.indexOf(': '); return [l.slice(0, i), l.slice(i + 2)]; }));
  for (const name of Object.keys(map)) assert.equal(name, name.toLowerCase());
  assert.equal(map['x-echo-method'], 'GET');
  assert.equal(map['x-seen-appliance'], fx.appliance.id);
  assert.ok(map['x-seen-link']);
  assert.equal(map['content-length'], '1');
});

test('POST 4 MiB with upload progress events; the response reports its size', async () => {
  const size = 4 * 1024 * 1024;
  const r = await xhr({ method: 'POST', url: 'intrustd+app://hello/upload', bodySize: size });
  assert.equal(r.kind, 'load', JSON.stringify(r));
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.response).size, size);
  const types = r.upload.map((e) => e.type);
  assert.equal(types[0], 'loadstart');
  assert.deepEqual(types.slice(-2), ['load', 'loadend']);
  const progress = r.upload.filter((e) => e.type === 'progress');
  assert.ok(progress.length >= 2, `only ${progress.length} upload progress events: ${JSON.stringify(r.upload)}`);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].loaded >= progress[i - 1].loaded, 'upload progress went backwards');
  const last = progress.at(-1);
  assert.equal(last.loaded, size);
  assert.equal(last.total, size);
  assert.equal(last.computable, true);
  assert.ok(progress.some((e) => e.loaded > 0 && e.loaded < size), 'no intermediate upload progress');
});

test('POST text echo and a 404 from an unknown app', async () => {
  const r = await xhr({ method: 'POST', url: 'intrustd+app://hello/echo', body: 'xhr body' });
  assert.equal(r.status, 200);
  assert.equal(r.response, 'xhr body');
  assert.equal(r.echoMethod, 'POST');
  const nf = await xhr({ method: 'GET', url: 'intrustd+app://no-such-app/x' });
  assert.equal(nf.kind, 'load');
  assert.equal(nf.status, 403); // not logged in: the appliance does not say whether the app exists
  assert.match(nf.contentType, /problem\+json/);
});

test('arraybuffer download of 3 MB', async () => {
  const r = await xhr({ method: 'GET', url: 'intrustd+app://hello/stream?bytes=3000000', responseType: 'arraybuffer' });
  assert.equal(r.kind, 'load');
  assert.equal(r.status, 200);
  assert.equal(r.response, 3000000);
});

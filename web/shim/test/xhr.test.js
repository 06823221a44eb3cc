import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createXHRClass } from '../src/xhr.js';
import { FakeLink, echoApp } from './fakes.js';

// Enough of a native XMLHttpRequest for the subclass: an EventTarget with `upload` and
// on<event> handler attributes, that records native calls.
class NativeXHR extends EventTarget {
  static UNSENT = 0; static OPENED = 1; static HEADERS_RECEIVED = 2; static LOADING = 3; static DONE = 4;
  constructor() {
    super();
    this.upload = new EventTarget();
    this.nativeCalls = [];
    for (const t of ['readystatechange', 'load', 'error', 'abort', 'timeout', 'loadend', 'progress', 'loadstart']) {
      this.addEventListener(t, (ev) => this['on' + t] && this['on' + t](ev));
    }
  }
  open(...a) { this.nativeCalls.push(['open', ...a]); }
  send() { this.nativeCalls.push(['send']); }
  get readyState() { return 0; }
  get status() { return 0; }
  get responseType() { return this._rt || ''; }
  set responseType(v) { this._rt = v; }
  get timeout() { return 0; }
  set timeout(v) {}
}

function make(apps) {
  const link = new FakeLink(apps);
  return { link, XHR: createXHRClass({ getLink: async () => link, apps: [], NativeXHR }) };
}

function run(xhr, body) {
  const log = [];
  for (const t of ['readystatechange', 'loadstart', 'progress', 'load', 'error', 'abort', 'timeout', 'loadend']) {
    xhr.addEventListener(t, (ev) => log.push(t === 'readystatechange' ? `rsc${xhr.readyState}` : t));
  }
  for (const t of ['loadstart', 'progress', 'load', 'loadend', 'error', 'abort']) xhr.upload.addEventListener(t, () => log.push('upload.' + t));
  const done = new Promise((resolve) => xhr.addEventListener('loadend', resolve));
  xhr.send(body);
  return { log, done };
}

const squash = (log) => log.filter((e, i) => !(e === log[i - 1] && (e === 'rsc3' || e === 'progress' || e === 'upload.progress')));

test('GET: readyState transitions, headers, responseText, events in order', async () => {
  const { XHR } = make({ hello: echoApp });
  const xhr = new XHR();
  assert.equal(XHR.DONE, 4);
  let rsc = 0;
  xhr.onreadystatechange = () => rsc++;
  xhr.open('GET', 'intrustd+app://hello/echo?msg=' + encodeURIComponent('héllo'));
  assert.equal(xhr.readyState, 1);
  xhr.setRequestHeader('X-One', 'a');
  xhr.setRequestHeader('X-One', 'b');
  const { log, done } = run(xhr);
  await done;
  assert.deepEqual(squash(log), ['loadstart', 'rsc2', 'rsc3', 'progress', 'rsc4', 'progress', 'load', 'loadend']);
  assert.ok(rsc >= 4);
  assert.equal(xhr.status, 200);
  assert.equal(xhr.statusText, 'OK');
  assert.equal(xhr.responseText, 'héllo');
  assert.equal(xhr.response, 'héllo');
  assert.equal(xhr.getResponseHeader('content-type'), 'text/plain');
  assert.equal(xhr.getResponseHeader('Content-Length'), '6');
  assert.equal(xhr.getAllResponseHeaders(), 'content-length: 6\r\ncontent-type: text/plain\r\n');
  assert.equal(xhr.responseURL, 'intrustd+app://hello/echo?msg=h%C3%A9llo');
  assert.equal(xhr.nativeCalls.length, 0);
});

test('POST with upload progress on xhr.upload, response types', async () => {
  let seenReq;
  const { XHR } = make({ hello: (req, res) => { seenReq = req; echoApp(req, res); } });
  const body = new Uint8Array(300000).fill(65);
  const xhr = new XHR();
  xhr.open('POST', 'intrustd+app://hello/echo');
  xhr.responseType = 'arraybuffer';
  const { log, done } = run(xhr, body);
  await done;
  assert.equal(seenReq.headers['x-one'], undefined);
  assert.equal(seenReq.body.length, 300000);
  assert.ok(xhr.response instanceof ArrayBuffer);
  assert.equal(xhr.response.byteLength, 300000);
  assert.throws(() => xhr.responseText, (e) => e.name === 'InvalidStateError');
  const u = log.filter((e) => e.startsWith('upload.'));
  assert.equal(u[0], 'upload.loadstart');
  assert.deepEqual(u.slice(-2), ['upload.load', 'upload.loadend']);
  assert.ok(u.includes('upload.progress'));
  assert.ok(log.indexOf('upload.loadend') < log.indexOf('rsc2'));

  for (const [type, check] of [
    ['json', (r) => assert.deepEqual(r, { a: [1, 'é'] })],
    ['blob', async (r) => { assert.ok(r instanceof Blob); assert.equal(r.type, 'text/plain'); assert.equal(await r.text(), '{"a":[1,"é"]}'); }],
    ['text', (r) => assert.equal(r, '{"a":[1,"é"]}')],
  ]) {
    const x = new XHR();
    x.open('POST', 'intrustd+app://hello/echo');
    x.responseType = type;
    const { done: d } = run(x, JSON.stringify({ a: [1, 'é'] }));
    await d;
    await check(x.response);
  }
});

test('abort, timeout and network error', async () => {
  const { XHR, link } = make({ hang: () => {} });
  let x = new XHR();
  x.open('GET', 'intrustd+app://hang/');
  let r = run(x);
  await new Promise((res) => setTimeout(res, 20));
  x.abort();
  await r.done;
  assert.deepEqual(r.log, ['loadstart', 'rsc4', 'abort', 'loadend']);
  assert.equal(x.readyState, 0);
  assert.equal(x.status, 0);

  x = new XHR();
  x.open('GET', 'intrustd+app://hang/');
  x.timeout = 50;
  r = run(x);
  await r.done;
  assert.deepEqual(r.log, ['loadstart', 'rsc4', 'timeout', 'loadend']);
  assert.equal(x.readyState, 4);

  x = new XHR();
  x.open('GET', 'intrustd+app://hang/');
  r = run(x);
  await new Promise((res) => setTimeout(res, 20));
  link.drop();
  await r.done;
  assert.deepEqual(r.log, ['loadstart', 'rsc4', 'error', 'loadend']);
  assert.equal(x.response, '');
});

test('non-app URLs and sync requests', () => {
  const { XHR } = make({});
  const x = new XHR();
  x.open('GET', 'http://elsewhere.test/');
  x.send();
  assert.deepEqual(x.nativeCalls.map((c) => c[0]), ['open', 'send']);
  const y = new XHR();
  assert.throws(() => y.open('GET', 'intrustd+app://hello/', false), (e) => e.name === 'InvalidAccessError');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWebSocketClass } from '../src/websocket.js';
import { WsReader, encodeFrame, closePayload, parseClosePayload, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG } from '../src/ws-frames.js';
import { FakeLink } from './fakes.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const accept = (key) => createHash('sha1').update(key + GUID).digest('base64');

/** A WebSocket echo server; `opts` bends the handshake or behaviour. */
function wsApp(opts = {}) {
  const log = { requests: [], pongs: [], closes: [] };
  const app = (req, res) => {
    log.requests.push(req);
    const key = req.headers['sec-websocket-key'];
    const protoHeader = opts.protocol ? `Sec-WebSocket-Protocol: ${opts.protocol}\r\n` : '';
    res.write(`HTTP/1.1 ${opts.status || 101} Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Accept: ${opts.badAccept ? 'AAAA' : accept(key)}\r\n${protoHeader}\r\n`);
    const send = (opcode, payload, fin = true) => res.write(encodeFrame({ opcode, payload, fin, mask: null }));
    if (opts.greet) opts.greet(send, res);
    const reader = new WsReader({
      message: (isText, data) => {
        if (isText && data === 'close-me') return send(OP_CLOSE, closePayload(4000, 'server says bye'));
        if (isText && data === 'ping-me') return send(OP_PING, Buffer.from('p'));
        if (isText && data === 'drop') return res.reset('gone');
        if (isText && data === 'bad-utf8') return res.write(Uint8Array.of(0x81, 0x01, 0xff));
        send(isText ? OP_TEXT : OP_BINARY, isText ? Buffer.from(data) : data);
      },
      ping: (p) => send(OP_PONG, p),
      pong: (p) => log.pongs.push(Buffer.from(p).toString()),
      close: (p) => {
        log.closes.push(parseClosePayload(p));
        send(OP_CLOSE, p);
        res.end();
      },
    }, { expectMasked: true });
    req.onData((bytes) => reader.push(new Uint8Array(bytes)));
    req.onEnd(() => { if (!log.closes.length) res.end(); });
  };
  return { app, log };
}

function wsClass(apps) {
  const link = new FakeLink(apps);
  return { link, WebSocket: createWebSocketClass({ getLink: async () => link, apps: [] }) };
}

function events(ws) {
  const seen = [];
  const waiters = [];
  for (const type of ['open', 'message', 'error', 'close']) {
    ws.addEventListener(type, (ev) => {
      seen.push(ev);
      for (const w of waiters.splice(0)) w();
    });
  }
  const next = async (type) => {
    for (;;) {
      const hit = seen.find((e) => e.type === type && !e.used);
      if (hit) { hit.used = true; return hit; }
      await new Promise((r) => waiters.push(r));
    }
  };
  return { seen, next };
}

test('handshake, text and binary echo, clean close with code and reason', async () => {
  const { app, log } = wsApp({ protocol: 'chat' });
  const { WebSocket } = wsClass({ hello: app });
  const ws = new WebSocket('intrustd+app://hello/ws?room=1', ['chat', 'superchat']);
  assert.equal(ws.readyState, WebSocket.CONNECTING);
  assert.equal(ws.CLOSED, 3);
  assert.equal(WebSocket.OPEN, 1);
  assert.throws(() => ws.send('too early'), (e) => e.name === 'InvalidStateError');
  const ev = events(ws);
  let opened = 0;
  ws.onopen = () => opened++;
  await ev.next('open');
  assert.equal(opened, 1);
  assert.equal(ws.readyState, WebSocket.OPEN);
  assert.equal(ws.protocol, 'chat');
  const req = log.requests[0];
  assert.equal(req.target, '/ws?room=1');
  assert.equal(req.headers.host, 'hello');
  assert.equal(req.headers['sec-websocket-version'], '13');
  assert.equal(req.headers['sec-websocket-protocol'], 'chat, superchat');
  assert.equal(Buffer.from(req.headers['sec-websocket-key'], 'base64').length, 16);

  ws.send('hello ✓');
  assert.equal((await ev.next('message')).data, 'hello ✓');
  ws.binaryType = 'arraybuffer';
  ws.send(new Uint8Array([1, 2, 3]));
  const bin = await ev.next('message');
  assert.ok(bin.data instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(bin.data)], [1, 2, 3]);
  ws.binaryType = 'blob';
  ws.send(new Blob(['blob!']));
  const blob = await ev.next('message');
  assert.ok(blob.data instanceof Blob);
  assert.equal(await blob.data.text(), 'blob!');
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 253);
  ws.binaryType = 'arraybuffer';
  ws.send(big.buffer);
  assert.ok(ws.bufferedAmount > 0);
  const echoed = await ev.next('message');
  assert.deepEqual(new Uint8Array(echoed.data), big);

  assert.throws(() => ws.close(1001), (e) => e.name === 'InvalidAccessError');
  assert.throws(() => ws.close(1000, 'x'.repeat(124)), (e) => e.name === 'SyntaxError');
  ws.close(4321, 'done here');
  assert.equal(ws.readyState, WebSocket.CLOSING);
  const close = await ev.next('close');
  assert.equal(close.code, 4321);
  assert.equal(close.reason, 'done here');
  assert.equal(close.wasClean, true);
  assert.equal(ws.readyState, WebSocket.CLOSED);
  assert.deepEqual(log.closes, [{ code: 4321, reason: 'done here' }]);
  assert.ok(!ev.seen.some((e) => e.type === 'error'));
});

test('server ping gets a pong; server-initiated close is echoed', async () => {
  const { app, log } = wsApp();
  const { WebSocket } = wsClass({ hello: app });
  const ws = new WebSocket('intrustd+app://hello/ws');
  const ev = events(ws);
  await ev.next('open');
  assert.equal(ws.protocol, '');
  ws.send('ping-me');
  for (let i = 0; i < 200 && log.pongs.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(log.pongs, ['p']);
  ws.send('close-me');
  const close = await ev.next('close');
  assert.equal(close.code, 4000);
  assert.equal(close.reason, 'server says bye');
  assert.equal(close.wasClean, true);
});

test('fragmented messages from the server are reassembled', async () => {
  const { app } = wsApp({
    greet: (send) => {
      send(OP_TEXT, Buffer.from('frag'), false);
      send(OP_PING, Buffer.from('x'));
      send(0, Buffer.from('mented'), true);
    },
  });
  const { WebSocket } = wsClass({ hello: app });
  const ws = new WebSocket('intrustd+app://hello/ws');
  const ev = events(ws);
  assert.equal((await ev.next('message')).data, 'fragmented');
  ws.close();
  assert.equal((await ev.next('close')).code, 1005);
});

test('failures: bad handshake, wrong accept, invalid UTF-8, link drop → error then close 1006', async () => {
  for (const [name, opts, after] of [
    ['status 200', { status: 200 }],
    ['bad accept', { badAccept: true }],
    ['unrequested protocol', { protocol: 'other' }],
    ['invalid UTF-8', {}, 'bad-utf8'],
    ['reset', {}, 'drop'],
    ['link drop', {}, 'link'],
  ]) {
    const { app } = wsApp(opts);
    const { WebSocket, link } = wsClass({ hello: app });
    const ws = new WebSocket('intrustd+app://hello/ws');
    const ev = events(ws);
    if (after) {
      await ev.next('open');
      if (after === 'link') link.drop();
      else ws.send(after);
    }
    const close = await ev.next('close');
    const codeOk = after === 'bad-utf8' ? [1006, 1007] : [1006];
    assert.ok(codeOk.includes(close.code), `${name}: ${close.code}`);
    assert.equal(close.wasClean, false, name);
    assert.ok(ev.seen.some((e) => e.type === 'error'), name);
    assert.ok(ev.seen.findIndex((e) => e.type === 'error') < ev.seen.findIndex((e) => e.type === 'close'), name);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  }
});

test('constructor checks and non-app URLs', async () => {
  const { WebSocket } = wsClass({});
  assert.throws(() => new WebSocket('intrustd+app://hello/ws#frag'), (e) => e.name === 'SyntaxError');
  assert.throws(() => new WebSocket('intrustd+app://hello/ws', ['a', 'a']), (e) => e.name === 'SyntaxError');
  assert.throws(() => new WebSocket('intrustd+app://hello/ws', ['bad proto']), (e) => e.name === 'SyntaxError');
  class Native { constructor(url) { this.url = url; } }
  const W2 = createWebSocketClass({ getLink: async () => { throw new Error('no'); }, apps: [], NativeWebSocket: Native });
  const n = new W2('ws://elsewhere.test/');
  assert.ok(n instanceof Native);
  assert.ok(n instanceof W2);
  const closed = new W2('intrustd+app://hello/ws');
  const ev = events(closed);
  closed.close();
  assert.equal(closed.readyState, 2);
  const c = await ev.next('close');
  assert.equal(c.code, 1006);
  assert.equal(closed.readyState, 3);
});

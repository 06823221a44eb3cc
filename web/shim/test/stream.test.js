// Flow control of stream.js (channels.md "Flow control"), against a raw fake channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stream, INITIAL_WINDOW } from '../src/stream.js';
import { decodeFrame, encodeData, encodeEnd, encodeWindow } from '../src/frames.js';
import { createFetch } from '../src/fetch.js';
import { normaliseApps } from '../src/routes.js';
import { channelPair, FakeLink } from './fakes.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** A client Stream and the raw server channel, which records decoded frames. */
async function rawPair() {
  const [client, server] = channelPair('http/hello', 'intrustd/1');
  const got = [];
  server.onmessage = ({ data }) => got.push(decodeFrame(data));
  const errors = [];
  const data = [];
  const stream = new Stream(client);
  stream.setSink({ data: (b) => data.push(b.length), end: () => data.push('END'), error: (e) => errors.push(e) });
  await stream.opened;
  return { stream, server, got, errors, data };
}

const dataBytes = (frames) => frames.filter((f) => f.type === 'DATA').reduce((n, f) => n + f.payload.length, 0);

test('a writer sends one window, then waits for the appliance to grant more', async () => {
  const { stream, server, got } = await rawPair();
  const body = new Uint8Array(INITIAL_WINDOW + 1024 * 1024).fill(1);
  let done = false;
  const writing = stream.write(body).then(() => { done = true; });
  await tick(50);
  const first = dataBytes(got);
  assert.ok(first <= INITIAL_WINDOW && first > INITIAL_WINDOW - 65536, `sent ${first} before any grant`);
  assert.equal(done, false);
  server.send(encodeWindow(body.length - first));
  await writing;
  await tick(20);
  assert.equal(dataBytes(got), body.length);
});

test('a paused reader grants nothing; resuming grants what arrived', async () => {
  const { stream, server, got } = await rawPair();
  stream.pause();
  const piece = new Uint8Array(65535).fill(2);
  for (let i = 0; i < 17; i++) server.send(encodeData(piece)); // just over the 1 MiB grant step
  await tick(30);
  assert.equal(got.filter((f) => f.type === 'WINDOW').length, 0, 'no credit while paused');
  stream.resume();
  await tick(10);
  const windows = got.filter((f) => f.type === 'WINDOW');
  assert.equal(windows.length, 1);
  assert.equal(windows[0].increment, 17 * 65535);
});

test('an appliance that sends past its window is reset', async () => {
  const { stream, server, got, errors } = await rawPair();
  stream.pause();
  const piece = new Uint8Array(65535).fill(3);
  const frames = Math.ceil(INITIAL_WINDOW / 65535) + 1;
  for (let i = 0; i < frames; i++) server.send(encodeData(piece));
  await tick(50);
  const reset = got.find((f) => f.type === 'RESET');
  assert.ok(reset, 'RESET sent');
  assert.match(reset.reason, /flow-control window/);
  assert.equal(errors.length, 1);
});

test('WINDOW credit over 2^31-1 is a protocol error, and WINDOW after END is fine', async () => {
  const a = await rawPair();
  a.server.send(encodeEnd());
  a.server.send(encodeWindow(1000));
  await tick(20);
  assert.equal(a.errors.length, 0);
  assert.deepEqual(a.data, ['END']);

  const b = await rawPair();
  b.server.send(encodeWindow(0x7fffffff));
  await tick(20);
  assert.match(b.got.find((f) => f.type === 'RESET').reason, /2\^31-1/);
});

test('a page that stops reading a response holds a bounded amount; reading again gets it all', async () => {
  const total = 24 * 1024 * 1024;
  let server;
  const link = new FakeLink({
    hello: (req, res) => {
      server = res;
      res.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
      const chunk = Buffer.alloc(1024 * 1024, 9);
      for (let i = 0; i < total / chunk.length; i++) res.write(chunk);
      res.end();
    },
  });
  const fetch = createFetch({ getLink: async () => link, apps: normaliseApps({}) });
  const r = await fetch('intrustd+app://hello/big');
  await tick(200); // the page reads nothing meanwhile
  const held = total - server.pending;
  // one window in flight plus the response stream's 1 MiB queue, and a frame of slack
  assert.ok(held <= INITIAL_WINDOW + 1024 * 1024 + 65536, `${held} bytes reached the page unread`);
  assert.equal((await r.arrayBuffer()).byteLength, total);
  assert.equal(server.pending, 0);
});

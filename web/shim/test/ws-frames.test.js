import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFrame, WsReader, parseClosePayload, closePayload, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_CONT } from '../src/ws-frames.js';
import { WsProtocolError } from '../src/errors.js';

function reader(opts) {
  const events = [];
  const r = new WsReader({
    message: (isText, data) => events.push(['message', isText, isText ? data : Buffer.from(data).toString('hex')]),
    ping: (p) => events.push(['ping', Buffer.from(p).toString('hex')]),
    pong: (p) => events.push(['pong', Buffer.from(p).toString('hex')]),
    close: (p) => events.push(['close', Buffer.from(p).toString('hex')]),
  }, opts);
  return { r, events };
}

test('RFC 6455 §5.7 examples', () => {
  const hex = (s) => Uint8Array.from(Buffer.from(s.replace(/ /g, ''), 'hex'));
  // unmasked "Hello"
  assert.deepEqual(encodeFrame({ opcode: OP_TEXT, payload: new TextEncoder().encode('Hello'), mask: null }), hex('81 05 48 65 6c 6c 6f'));
  // masked "Hello"
  assert.deepEqual(encodeFrame({ opcode: OP_TEXT, payload: new TextEncoder().encode('Hello'), mask: hex('37fa213d') }), hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
  const { r, events } = reader();
  r.push(hex('01 03 48 65 6c')); // fragmented "Hel"
  r.push(hex('89 05 48 65 6c 6c 6f')); // ping in the middle
  r.push(hex('80 02 6c 6f')); // "lo"
  assert.deepEqual(events, [['ping', '48656c6c6f'], ['message', true, 'Hello']]);
  // 256 bytes binary, 16-bit length; 65536 bytes, 64-bit length
  for (const n of [256, 65536]) {
    const f = encodeFrame({ opcode: OP_BINARY, payload: new Uint8Array(n).fill(1), mask: null });
    assert.equal(f[1], n === 256 ? 126 : 127);
    const { r: r2, events: e2 } = reader();
    r2.push(f);
    assert.equal(e2[0][2].length, n * 2);
  }
});

test('client frames are masked with a fresh key and decode back', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 70000 }), fc.constantFrom(OP_TEXT, OP_BINARY), (payload, opcode) => {
    if (opcode === OP_TEXT) payload = new TextEncoder().encode(Buffer.from(payload).toString('base64'));
    const f = encodeFrame({ opcode, payload });
    assert.ok(f[1] & 0x80);
    const { r, events } = reader({ expectMasked: true });
    // split in three pieces
    const a = Math.floor(f.length / 3), b = Math.floor((2 * f.length) / 3);
    r.push(f.subarray(0, a)); r.push(f.subarray(a, b)); r.push(f.subarray(b));
    assert.equal(events.length, 1);
    assert.equal(events[0][2], opcode === OP_TEXT ? new TextDecoder().decode(payload) : Buffer.from(payload).toString('hex'));
  }), { numRuns: 100 });
});

test('protocol violations carry the right close code', () => {
  const cases = [
    ['masked server frame', encodeFrame({ opcode: OP_TEXT, payload: new Uint8Array(1) }), 1002],
    ['reserved bit', Uint8Array.of(0xc1, 0x00), 1002],
    ['unknown opcode', Uint8Array.of(0x83, 0x00), 1002],
    ['fragmented ping', Uint8Array.of(0x09, 0x00), 1002],
    ['ping over 125 bytes', Uint8Array.of(0x89, 126, 0, 126, ...new Uint8Array(126)), 1002],
    ['continuation without start', Uint8Array.of(0x80, 0x00), 1002],
    ['new message inside fragments', Uint8Array.of(0x01, 0x01, 0x41, 0x81, 0x00), 1002],
    ['invalid UTF-8', Uint8Array.of(0x81, 0x02, 0xc3, 0x28), 1007],
    ['non-minimal length', Uint8Array.of(0x82, 126, 0, 5, 1, 2, 3, 4, 5), 1002],
    ['top bit in 64-bit length', Uint8Array.of(0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0), 1002],
    ['too big', Uint8Array.of(0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0), 1009],
  ];
  for (const [why, bytes, code] of cases) {
    const { r } = reader();
    assert.throws(() => r.push(bytes), (e) => e instanceof WsProtocolError && e.closeCode === code, why);
    assert.throws(() => r.push(Uint8Array.of(0x81, 0x00)), WsProtocolError, 'stays failed');
  }
});

test('UTF-8 split across fragments is accepted', () => {
  const { r, events } = reader();
  r.push(Uint8Array.of(0x01, 0x01, 0xc3));
  r.push(Uint8Array.of(0x80, 0x01, 0xa9));
  assert.deepEqual(events, [['message', true, 'é']]);
});

test('close payloads', () => {
  assert.deepEqual(parseClosePayload(new Uint8Array(0)), { code: 1005, reason: '' });
  assert.deepEqual(parseClosePayload(closePayload(1000, 'bye')), { code: 1000, reason: 'bye' });
  assert.deepEqual(parseClosePayload(closePayload(4001, 'é')), { code: 4001, reason: 'é' });
  for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000]) {
    assert.throws(() => parseClosePayload(closePayload(code)), WsProtocolError, String(code));
  }
  assert.throws(() => parseClosePayload(Uint8Array.of(3)), WsProtocolError);
  assert.throws(() => parseClosePayload(Uint8Array.of(3, 0xe8, 0xff)), (e) => e.closeCode === 1007);
  const { r, events } = reader();
  r.push(encodeFrame({ opcode: OP_CLOSE, payload: closePayload(1000, ''), mask: null }));
  r.push(encodeFrame({ opcode: OP_PONG, payload: new Uint8Array(0), mask: null })); // after close: ignored
  assert.deepEqual(events, [['close', '03e8']]);
  assert.equal(OP_CONT, 0);
  assert.equal(OP_PING, 9);
});

test('random bytes never throw anything but WsProtocolError', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 6 }), (chunks) => {
    const { r } = reader();
    try {
      for (const c of chunks) r.push(c);
    } catch (e) {
      assert.ok(e instanceof WsProtocolError, String(e));
    }
  }), { numRuns: 3000 });
});

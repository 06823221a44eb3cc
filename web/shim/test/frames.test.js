import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFrame, encodeData, encodeEnd, encodeReset, encodeWindow, MAX_PAYLOAD } from '../src/frames.js';
import { FrameError } from '../src/errors.js';
import { loadVectors, hex } from './vectors.js';

const vectors = loadVectors('stream-frames.json');

test('stream-frames.json: valid frames decode', { skip: !vectors && 'vectors missing' }, () => {
  assert.ok(vectors.valid.length > 0);
  for (const v of vectors.valid) {
    const f = decodeFrame(hex(v.frame));
    assert.equal(f.type, v.type);
    assert.deepEqual(Buffer.from(f.payload).toString('hex'), v.payload);
    if (v.type === 'WINDOW') assert.equal(f.increment, v.increment);
  }
});

test('stream-frames.json: valid frames re-encode byte for byte', { skip: !vectors && 'vectors missing' }, () => {
  for (const v of vectors.valid) {
    const payload = hex(v.payload);
    const enc = v.type === 'DATA' ? encodeData(payload)
      : v.type === 'END' ? encodeEnd()
        : v.type === 'WINDOW' ? encodeWindow(v.increment)
          : encodeReset(Buffer.from(payload).toString('utf8'));
    assert.equal(Buffer.from(enc).toString('hex'), v.frame);
  }
});

test('stream-frames.json: invalid frames are rejected', { skip: !vectors && 'vectors missing' }, () => {
  assert.ok(vectors.invalid.length > 0);
  for (const v of vectors.invalid) assert.throws(() => decodeFrame(hex(v.frame)), FrameError, v.why);
});

test('encoder limits', () => {
  assert.throws(() => encodeData(new Uint8Array(0)), RangeError);
  assert.throws(() => encodeData(new Uint8Array(MAX_PAYLOAD + 1)), RangeError);
  assert.equal(encodeData(new Uint8Array(MAX_PAYLOAD)).length, 65536);
  for (const bad of [0, -1, 2 ** 31, 1.5]) assert.throws(() => encodeWindow(bad), RangeError);
  // reasons are cut to 1,024 bytes without splitting a UTF-8 sequence
  const r = encodeReset('é'.repeat(600));
  assert.ok(r.length <= 1025);
  assert.equal(decodeFrame(r).reason, 'é'.repeat(512));
});

test('random messages decode or throw FrameError, nothing else', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    try {
      const f = decodeFrame(bytes);
      assert.ok(['DATA', 'END', 'RESET', 'WINDOW'].includes(f.type));
    } catch (e) {
      assert.ok(e instanceof FrameError, String(e));
    }
  }), { numRuns: 2000 });
});

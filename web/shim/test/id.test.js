import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseApplianceId, applianceIdFromPublicKey, applianceIdFromDigest, luhnMod32, base32, isApplianceId } from '../src/id.js';
import { InvalidApplianceIdError } from '../src/errors.js';
import { fromB64url } from '../src/bytes.js';
import { loadVectors } from './vectors.js';

const vectors = loadVectors('appliance-ids.json');

test('appliance-ids.json: public keys hash to their IDs', { skip: !vectors && 'vectors missing' }, async () => {
  assert.ok(vectors.valid.length > 0);
  for (const v of vectors.valid) {
    assert.equal(await applianceIdFromPublicKey(v.publicKey), v.id);
    assert.equal(await applianceIdFromPublicKey(fromB64url(v.publicKey)), v.id);
  }
});

test('appliance-ids.json: canonical and typed forms parse to the ID', { skip: !vectors && 'vectors missing' }, () => {
  for (const v of vectors.valid) {
    assert.equal(parseApplianceId(v.id), v.id);
    for (const t of v.typed) assert.equal(parseApplianceId(t), v.id, `typed form ${JSON.stringify(t)}`);
  }
});

test('appliance-ids.json: invalid texts are rejected', { skip: !vectors && 'vectors missing' }, () => {
  assert.ok(vectors.invalid.length > 0);
  for (const v of vectors.invalid) {
    assert.throws(() => parseApplianceId(v.text), InvalidApplianceIdError, v.why);
  }
});

test('Unicode case folding does not sneak in (dotless i, long s)', () => {
  const id = applianceIdFromDigest(new Uint8Array(32).fill(7));
  assert.equal(parseApplianceId(id.toLowerCase()), id);
  const withI = id.indexOf('I');
  const withS = id.indexOf('S');
  if (withI >= 0) assert.throws(() => parseApplianceId(id.slice(0, withI) + 'ı' + id.slice(withI + 1)), InvalidApplianceIdError);
  if (withS >= 0) assert.throws(() => parseApplianceId(id.slice(0, withS) + 'ſ' + id.slice(withS + 1)), InvalidApplianceIdError);
  assert.throws(() => parseApplianceId(id.replace(/-/g, '_')), InvalidApplianceIdError);
  assert.throws(() => parseApplianceId(null), InvalidApplianceIdError);
});

test('format: 8 groups of 7, check characters, round trip for random digests', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
    const id = applianceIdFromDigest(digest);
    assert.match(id, /^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/);
    const flat = id.replace(/-/g, '');
    assert.equal(flat.slice(0, 13) + flat.slice(14, 27) + flat.slice(28, 41) + flat.slice(42, 55), base32(digest));
    for (let g = 0; g < 4; g++) assert.equal(luhnMod32(flat.slice(g * 14, g * 14 + 13)), flat[g * 14 + 13]);
    assert.equal(parseApplianceId(flat.toLowerCase()), id);
  }));
});

test('any single-character substitution is detected', () => {
  const id = applianceIdFromDigest(new Uint8Array(32).map((_, i) => i * 37));
  const flat = id.replace(/-/g, '');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  for (let i = 0; i < flat.length; i++) {
    for (const c of alphabet) {
      if (c === flat[i]) continue;
      assert.equal(isApplianceId(flat.slice(0, i) + c + flat.slice(i + 1)), false, `substitution at ${i}`);
    }
  }
});

test('random text never throws anything but InvalidApplianceIdError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => {
    try {
      parseApplianceId(s);
    } catch (e) {
      assert.ok(e instanceof InvalidApplianceIdError, String(e));
    }
  }));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { signingInput, verifyAnswer, ANSWER_CONTEXT } from '../src/signing.js';
import { verifyEd25519 } from '../src/crypto.js';
import { applianceIdFromPublicKey } from '../src/id.js';
import { fromB64url, toB64url } from '../src/bytes.js';
import { IntrustdVerificationError } from '../src/errors.js';
import { loadVectors } from './vectors.js';

const vectors = loadVectors('signing.json');

function fields(v) {
  return v.fields.map((f) => ('utf8' in f ? f.utf8 : fromB64url(f.b64url)));
}

for (const fallback of [false, true]) {
  const impl = fallback ? 'pure-JS fallback' : 'WebCrypto';
  test(`signing.json: inputs and signatures verify (${impl})`, { skip: !vectors && 'vectors missing' }, async () => {
    verifyEd25519.forceFallback = fallback;
    try {
      assert.ok(vectors.vectors.length > 0);
      for (const v of vectors.vectors) {
        const input = signingInput(v.context, fields(v));
        assert.equal(toB64url(input), v.input);
        const pk = fromB64url(v.publicKey);
        const sig = fromB64url(v.signature);
        assert.equal(await verifyEd25519(pk, input, sig), true);
        const bad = sig.slice();
        bad[5] ^= 1;
        assert.equal(await verifyEd25519(pk, input, bad), false);
        const other = input.slice();
        other[other.length - 1] ^= 0x80;
        assert.equal(await verifyEd25519(pk, other, sig), false);
      }
    } finally {
      verifyEd25519.forceFallback = false;
    }
  });
}

test('signing.json: signatures made from the seed match (Ed25519 is deterministic)', { skip: !vectors && 'vectors missing' }, async () => {
  for (const v of vectors.vectors) {
    // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410)
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(fromB64url(v.privateKeySeed))]);
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    const sig = new Uint8Array(await webcrypto.subtle.sign('Ed25519', key, fromB64url(v.input)));
    assert.equal(toB64url(sig), v.signature);
  }
});

test('signing input layout: u32 big-endian lengths, UTF-8 strings', () => {
  const input = signingInput('ab', ['é', Uint8Array.of(1, 2, 3)]);
  assert.deepEqual([...input], [0, 0, 0, 2, 97, 98, 0, 0, 0, 2, 0xc3, 0xa9, 0, 0, 0, 3, 1, 2, 3]);
});

async function makeAppliance() {
  const kp = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const raw = new Uint8Array(await webcrypto.subtle.exportKey('raw', kp.publicKey));
  const id = await applianceIdFromPublicKey(raw);
  const sign = async (offer, answer) =>
    toB64url(new Uint8Array(await webcrypto.subtle.sign('Ed25519', kp.privateKey, signingInput(ANSWER_CONTEXT, [offer, answer]))));
  return { raw, id, publicKey: toB64url(raw), sign };
}

test('verifyAnswer accepts a good answer and refuses every kind of tampering', async () => {
  const a = await makeAppliance();
  const b = await makeAppliance();
  const offer = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n';
  const answer = 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 AA\r\n';
  const signature = await a.sign(offer, answer);
  const good = { expectedId: a.id, publicKey: a.publicKey, signature, offerSdp: offer, answerSdp: answer };
  assert.deepEqual(await verifyAnswer(good), a.raw);
  const refused = [
    { ...good, answerSdp: answer.replace('AA', 'BB') },      // swapped DTLS fingerprint
    { ...good, offerSdp: offer + 'a=x\r\n' },                // not our offer
    { ...good, publicKey: b.publicKey },                      // someone else's key
    { ...good, publicKey: b.publicKey, signature: await b.sign(offer, answer) }, // valid signature, wrong appliance
    { ...good, signature: signature.slice(0, -2) },           // truncated
    { ...good, publicKey: 'not base64!' },
    { ...good, signature: await a.sign(answer, offer) },      // fields swapped
  ];
  for (const r of refused) await assert.rejects(verifyAnswer(r), IntrustdVerificationError);
});

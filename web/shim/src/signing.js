// Signing inputs (identity.md) and verification of the appliance's signed answer.
import { asBytes, concat, utf8, fromB64url } from './bytes.js';
import { verifyEd25519 } from './crypto.js';
import { applianceIdFromPublicKey } from './id.js';
import { IntrustdVerificationError } from './errors.js';

export const ANSWER_CONTEXT = 'intrustd/answer/v1';
export const REGISTER_CONTEXT = 'intrustd/register/v1';

/**
 * The signing input: for the context and each field, a u32 big-endian length then the bytes.
 * Strings are UTF-8.
 * @param {string} context
 * @param {Array<string|Uint8Array|ArrayBuffer>} fields
 * @returns {Uint8Array}
 */
export function signingInput(context, fields) {
  const parts = [];
  for (const item of [context, ...fields]) {
    const bytes = typeof item === 'string' ? utf8(item) : asBytes(item);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, bytes.length, false);
    parts.push(len, bytes);
  }
  return concat(parts);
}

/**
 * Check a flock `answer` against the appliance ID the client asked for, before the answer is
 * used: the public key must hash to `expectedId` and the signature must verify over
 * `intrustd/answer/v1`(offerSdp, answerSdp).
 * @param {{expectedId: string, publicKey: string, signature: string, offerSdp: string, answerSdp: string}} a
 * @returns {Promise<Uint8Array>} the verified public key
 * @throws {IntrustdVerificationError}
 */
export async function verifyAnswer({ expectedId, publicKey, signature, offerSdp, answerSdp }) {
  let pk, sig;
  try {
    pk = fromB64url(publicKey);
    sig = fromB64url(signature);
  } catch (e) {
    throw new IntrustdVerificationError('answer carries a malformed public key or signature', { cause: e });
  }
  if (pk.length !== 32) throw new IntrustdVerificationError('answer public key is not 32 bytes');
  if (sig.length !== 64) throw new IntrustdVerificationError('answer signature is not 64 bytes');
  const id = await applianceIdFromPublicKey(pk);
  if (id !== expectedId) {
    throw new IntrustdVerificationError(`answer public key belongs to ${id}, not to ${expectedId}`);
  }
  const ok = await verifyEd25519(pk, signingInput(ANSWER_CONTEXT, [offerSdp, answerSdp]), sig);
  if (!ok) throw new IntrustdVerificationError('answer signature does not verify for this offer and answer');
  return pk;
}

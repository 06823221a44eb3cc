// Hashes and Ed25519 verification. WebCrypto is used where the page has it; a page served
// over plain http from a LAN address is not a secure context and has no `crypto.subtle`, so
// the audited pure-JS @noble implementations are the fallback there.
import { sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import * as ed from '@noble/ed25519';
import { asBytes } from './bytes.js';

ed.hashes.sha512 = nobleSha512;

function webSubtle() {
  const c = globalThis.crypto;
  return c && c.subtle ? c.subtle : null;
}

async function digest(name, noble, data) {
  const bytes = asBytes(data);
  const s = webSubtle();
  if (s) {
    try {
      return new Uint8Array(await s.digest(name, bytes));
    } catch {
      // fall through to the pure-JS implementation
    }
  }
  return noble(bytes);
}

/** SHA-256 digest (32 bytes). */
export function sha256(data) {
  return digest('SHA-256', nobleSha256, data);
}

/** SHA-1 digest (20 bytes), only for the WebSocket handshake (RFC 6455). */
export function sha1(data) {
  return digest('SHA-1', nobleSha1, data);
}

/**
 * Ed25519 verification (RFC 8032). Uses WebCrypto `{name: 'Ed25519'}` when the runtime has it,
 * otherwise @noble/ed25519 in its strict (RFC 8032, non-ZIP-215) mode.
 * @param {Uint8Array} publicKey 32 bytes
 * @param {Uint8Array} message
 * @param {Uint8Array} signature 64 bytes
 * @returns {Promise<boolean>}
 */
export async function verifyEd25519(publicKey, message, signature) {
  publicKey = asBytes(publicKey);
  signature = asBytes(signature);
  message = asBytes(message);
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const s = webSubtle();
  if (s && !verifyEd25519.forceFallback) {
    let key = null;
    try {
      key = await s.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    } catch (e) {
      // NotSupportedError: no Ed25519 in this WebCrypto. A DataError means a malformed key.
      if (e && e.name === 'DataError') return false;
      key = null;
    }
    if (key) return s.verify({ name: 'Ed25519' }, key, signature, message);
  }
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
/** Tests set this to exercise the pure-JS path. */
verifyEd25519.forceFallback = false;

// Appliance IDs (identity.md): SHA-256 of the Ed25519 public key, base32, four Luhn mod 32
// check characters, displayed as 8 groups of 7.
import { InvalidApplianceIdError } from './errors.js';
import { asBytes, fromB64url } from './bytes.js';
import { sha256 } from './crypto.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function codepoint(c) {
  return ALPHABET.indexOf(c);
}

/** base32 (RFC 4648 alphabet), no padding. */
export function base32(bytes) {
  let out = '';
  let acc = 0, bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/** The Luhn mod 32 check character of a group of base32 characters. */
export function luhnMod32(group) {
  let factor = 2, sum = 0;
  for (let i = group.length - 1; i >= 0; i--) {
    const addend = factor * codepoint(group[i]);
    factor = factor === 2 ? 1 : 2;
    sum += Math.floor(addend / 32) + (addend % 32);
  }
  return ALPHABET[(32 - (sum % 32)) % 32];
}

/** Canonical display form of the ID for a 32-byte SHA-256 digest. */
export function applianceIdFromDigest(digest) {
  digest = asBytes(digest);
  if (digest.length !== 32) throw new TypeError('digest must be 32 bytes');
  const b32 = base32(digest); // 52 characters
  let checked = '';
  for (let g = 0; g < 4; g++) {
    const group = b32.slice(g * 13, g * 13 + 13);
    checked += group + luhnMod32(group);
  }
  return checked.match(/.{7}/g).join('-');
}

/**
 * The appliance ID of an Ed25519 public key.
 * @param {Uint8Array|ArrayBuffer|string} publicKey 32 raw bytes, or their base64url text
 * @returns {Promise<string>} canonical ID
 */
export async function applianceIdFromPublicKey(publicKey) {
  const bytes = typeof publicKey === 'string' ? fromB64url(publicKey) : asBytes(publicKey);
  if (bytes.length !== 32) throw new TypeError('an Ed25519 public key is 32 bytes');
  return applianceIdFromDigest(await sha256(bytes));
}

/**
 * Parse an appliance ID as people type it: ASCII case-insensitive, `-`, space and tab ignored,
 * `0`/`1`/`8` read as `O`/`I`/`B`. The result must be 56 base32 characters with correct check
 * characters (and zero unused bits in the last digest character).
 * @param {string} text
 * @returns {string} the canonical form
 * @throws {InvalidApplianceIdError}
 */
export function parseApplianceId(text) {
  if (typeof text !== 'string') throw new InvalidApplianceIdError('an appliance ID must be a string');
  let s = '';
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c === 0x2d || c === 0x20 || c === 0x09) continue;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20; // ASCII only: no Unicode case folding
    let ch = String.fromCharCode(c);
    if (ch === '0') ch = 'O';
    else if (ch === '1') ch = 'I';
    else if (ch === '8') ch = 'B';
    if (codepoint(ch) < 0) {
      throw new InvalidApplianceIdError(`not an appliance ID: unexpected character ${JSON.stringify(text[i])}`);
    }
    s += ch;
    if (s.length > 56) break;
  }
  if (s.length !== 56) throw new InvalidApplianceIdError(`not an appliance ID: ${s.length} characters instead of 56`);
  for (let g = 0; g < 4; g++) {
    const group = s.slice(g * 14, g * 14 + 13);
    if (luhnMod32(group) !== s[g * 14 + 13]) {
      throw new InvalidApplianceIdError(`not an appliance ID: wrong check character in group ${g + 1}`);
    }
  }
  // 52 characters carry 260 bits for a 256-bit digest: the last 4 bits are always zero.
  if ((codepoint(s[54]) & 0xf) !== 0) throw new InvalidApplianceIdError('not an appliance ID: not a SHA-256 digest');
  return s.match(/.{7}/g).join('-');
}

/** True if `text` parses as an appliance ID. */
export function isApplianceId(text) {
  try {
    parseApplianceId(text);
    return true;
  } catch {
    return false;
  }
}

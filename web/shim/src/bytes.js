// Small byte helpers shared by the modules.

const encoder = new TextEncoder();

/** UTF-8 encode a string. */
export function utf8(text) {
  return encoder.encode(text);
}

/** Decode UTF-8; invalid sequences throw a TypeError when `fatal`. */
export function fromUtf8(bytes, fatal = false) {
  return new TextDecoder('utf-8', { fatal, ignoreBOM: true }).decode(bytes);
}

/** Decode bytes as ISO-8859-1 (one char per byte), as HTTP header bytes are exposed. */
export function latin1(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  }
  return s;
}

/** View any BufferSource as a Uint8Array (no copy). */
export function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data);
  }
  throw new TypeError('not a BufferSource');
}

/** Concatenate byte arrays. */
export function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_REV = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64URL_REV[B64URL.charCodeAt(i)] = i;

/** base64url without padding (RFC 4648 §5). */
export function toB64url(bytes) {
  bytes = asBytes(bytes);
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63] + B64URL[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += B64URL[n >> 18] + B64URL[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63];
  }
  return out;
}

/**
 * Strict base64url decoding: alphabet `A-Za-z0-9-_`, no padding, no whitespace, unused bits zero.
 * @throws {TypeError} on anything else
 */
export function fromB64url(text) {
  if (typeof text !== 'string') throw new TypeError('base64url value must be a string');
  const len = text.length;
  if (len % 4 === 1) throw new TypeError('invalid base64url length');
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let bits = 0, acc = 0, o = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64URL_REV[c] : -1;
    if (v < 0) throw new TypeError('invalid base64url character');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) throw new TypeError('non-zero trailing bits in base64url');
  return out;
}

/** Standard base64 (with padding), used by the WebSocket handshake. */
export function toB64(bytes) {
  const s = toB64url(bytes).replace(/-/g, '+').replace(/_/g, '/');
  return s + '='.repeat((4 - (s.length % 4)) % 4);
}

/** Lower-case hex. */
export function toHex(bytes) {
  let s = '';
  for (const b of asBytes(bytes)) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The WebCrypto implementation of this runtime (browser or Node ≥ 20). */
export function subtle() {
  const c = globalThis.crypto;
  if (!c || !c.subtle) throw new Error('WebCrypto (crypto.subtle) is not available; a secure context is required');
  return c.subtle;
}

/** n random bytes. */
export function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

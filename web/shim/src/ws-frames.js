// RFC 6455 framing: frame encoder, incremental frame parser and message assembler.
import { WsProtocolError } from './errors.js';
import { concat, utf8, fromUtf8, randomBytes } from './bytes.js';

export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;
export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const MAX_MESSAGE = 64 * 1024 * 1024;

/**
 * Encode one frame.
 * @param {{fin?: boolean, opcode: number, payload?: Uint8Array, mask?: Uint8Array|null|true}} f
 *   mask: 4 bytes, `true` for a random key (client frames), null/undefined for none
 */
export function encodeFrame({ fin = true, opcode, payload = new Uint8Array(0), mask = true }) {
  const len = payload.length;
  const key = mask === true ? randomBytes(4) : mask;
  const headLen = 2 + (len > 65535 ? 8 : len > 125 ? 2 : 0) + (key ? 4 : 0);
  const out = new Uint8Array(headLen + len);
  out[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
  let o = 2;
  if (len > 65535) {
    out[1] = 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len), false);
    o = 10;
  } else if (len > 125) {
    out[1] = 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
    o = 4;
  } else {
    out[1] = len;
  }
  if (key) {
    out[1] |= 0x80;
    out.set(key, o);
    o += 4;
    for (let i = 0; i < len; i++) out[o + i] = payload[i] ^ key[i & 3];
  } else {
    out.set(payload, o);
  }
  return out;
}

/** Close frame payload: 2-byte code and UTF-8 reason (or empty for no code). */
export function closePayload(code, reason = '') {
  if (code === undefined || code === null) return new Uint8Array(0);
  const r = utf8(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

/** True for a close code that may appear on the wire (RFC 6455 §7.4). */
export function isValidWireCloseCode(code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * Parse a received close frame's payload.
 * @returns {{code: number, reason: string}} code 1005 when absent
 * @throws {WsProtocolError}
 */
export function parseClosePayload(payload) {
  if (payload.length === 0) return { code: 1005, reason: '' };
  if (payload.length === 1) throw new WsProtocolError('close frame with a 1-byte payload', 1002);
  const code = (payload[0] << 8) | payload[1];
  if (!isValidWireCloseCode(code)) throw new WsProtocolError(`invalid close code ${code}`, 1002);
  let reason;
  try {
    reason = fromUtf8(payload.subarray(2), true);
  } catch {
    throw new WsProtocolError('close reason is not UTF-8', 1007);
  }
  return { code, reason };
}

/**
 * Incremental reader of frames from the server: validates them and assembles messages.
 * Callbacks: message(isText, dataBytesOrString), ping(payload), pong(payload), close(payload).
 * The first violation throws a WsProtocolError (with the close code to send); the reader is
 * then failed and ignores further input.
 */
export class WsReader {
  /**
   * @param {{message(isText: boolean, data: string|Uint8Array): void, ping(p: Uint8Array): void, pong(p: Uint8Array): void, close(p: Uint8Array): void}} sink
   * @param {{maxMessage?: number, expectMasked?: boolean}} [options]
   */
  constructor(sink, options = {}) {
    this.sink = sink;
    this.maxMessage = options.maxMessage || MAX_MESSAGE;
    this.expectMasked = !!options.expectMasked;
    this.failed = null;
    this.closed = false;
    this._buf = new Uint8Array(0);
    this._fragments = null; // {isText, parts, size} while a fragmented message is open
  }

  /** @throws {WsProtocolError} */
  push(bytes) {
    if (this.failed) throw this.failed;
    if (this.closed) return; // nothing after a close frame is processed
    this._buf = this._buf.length ? concat([this._buf, bytes]) : bytes;
    try {
      while (!this.closed && this._parseOne());
    } catch (e) {
      this.failed = e instanceof WsProtocolError ? e : new WsProtocolError(String(e && e.message), 1002);
      this._buf = new Uint8Array(0);
      throw this.failed;
    }
  }

  _parseOne() {
    const b = this._buf;
    if (b.length < 2) return false;
    const fin = (b[0] & 0x80) !== 0;
    if (b[0] & 0x70) throw new WsProtocolError('reserved bits set without an extension', 1002);
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    if (masked !== this.expectMasked) throw new WsProtocolError(masked ? 'masked frame from the server' : 'unmasked frame from the client', 1002);
    let len = b[1] & 0x7f;
    let o = 2;
    if (len === 126) {
      if (b.length < 4) return false;
      len = (b[2] << 8) | b[3];
      if (len < 126) throw new WsProtocolError('length not minimally encoded', 1002);
      o = 4;
    } else if (len === 127) {
      if (b.length < 10) return false;
      const big = new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0, false);
      if (big >> 63n) throw new WsProtocolError('64-bit length with the top bit set', 1002);
      if (big < 65536n) throw new WsProtocolError('length not minimally encoded', 1002);
      if (big > BigInt(this.maxMessage)) throw new WsProtocolError('message too big', 1009);
      len = Number(big);
      o = 10;
    }
    const isControl = opcode >= 0x8;
    if (![OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG].includes(opcode)) {
      throw new WsProtocolError(`unknown opcode ${opcode}`, 1002);
    }
    if (isControl && (!fin || len > 125)) throw new WsProtocolError('fragmented or oversized control frame', 1002);
    if (!isControl) {
      const size = (this._fragments ? this._fragments.size : 0) + len;
      if (size > this.maxMessage) throw new WsProtocolError('message too big', 1009);
      if (opcode === OP_CONT && !this._fragments) throw new WsProtocolError('continuation frame without a message', 1002);
      if (opcode !== OP_CONT && this._fragments) throw new WsProtocolError('new message inside a fragmented message', 1002);
    }
    let key = null;
    if (masked) {
      if (b.length < o + 4) return false;
      key = b.subarray(o, o + 4);
      o += 4;
    }
    if (b.length < o + len) return false;
    let payload = b.slice(o, o + len);
    if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    this._buf = b.subarray(o + len);
    if (this._buf.length === 0) this._buf = new Uint8Array(0);
    this._frame(fin, opcode, payload);
    return true;
  }

  _frame(fin, opcode, payload) {
    if (opcode === OP_PING) return this.sink.ping(payload);
    if (opcode === OP_PONG) return this.sink.pong(payload);
    if (opcode === OP_CLOSE) {
      this.closed = true;
      return this.sink.close(payload);
    }
    if (opcode !== OP_CONT) this._fragments = { isText: opcode === OP_TEXT, parts: [], size: 0 };
    const f = this._fragments;
    if (!f.isText) f.parts.push(payload);
    f.size += payload.length;
    if (f.isText) {
      // validate as we go so that an invalid message fails early
      if (!f.decoder) f.decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      try {
        f.text = (f.text || '') + f.decoder.decode(payload, { stream: !fin });
      } catch {
        throw new WsProtocolError('text message is not valid UTF-8', 1007);
      }
    }
    if (!fin) return;
    this._fragments = null;
    if (f.isText) this.sink.message(true, f.text || '');
    else this.sink.message(false, f.parts.length === 1 ? f.parts[0] : concat(f.parts));
  }
}

/** Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)). */
export async function acceptFor(key, sha1, toB64) {
  return toB64(await sha1(utf8(key + GUID)));
}

// Stream framing on a data channel (channels.md): byte 0 is the frame type.
import { FrameError } from './errors.js';
import { asBytes, utf8, fromUtf8 } from './bytes.js';

export const DATA = 0x00;
export const END = 0x01;
export const RESET = 0x02;
export const WINDOW = 0x03;
export const MAX_MESSAGE = 65536;
export const MAX_PAYLOAD = 65535;
export const MAX_RESET_REASON = 1024;
export const MAX_WINDOW_INCREMENT = 0x7fffffff;

/** A DATA frame; payload 1..65,535 bytes. */
export function encodeData(payload) {
  payload = asBytes(payload);
  if (payload.length < 1 || payload.length > MAX_PAYLOAD) throw new RangeError('DATA payload must be 1..65535 bytes');
  const out = new Uint8Array(payload.length + 1);
  out[0] = DATA;
  out.set(payload, 1);
  return out;
}

/** The END frame. */
export function encodeEnd() {
  return Uint8Array.of(END);
}

/** A RESET frame with an optional reason, cut to 1,024 UTF-8 bytes. */
export function encodeReset(reason = '') {
  let bytes = utf8(String(reason));
  if (bytes.length > MAX_RESET_REASON) {
    bytes = bytes.subarray(0, MAX_RESET_REASON);
    // do not leave a cut multi-byte sequence at the end
    let start = bytes.length - 1;
    while (start > 0 && (bytes[start] & 0xc0) === 0x80) start--;
    const lead = bytes[start];
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (start + need > bytes.length) bytes = bytes.subarray(0, start);
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = RESET;
  out.set(bytes, 1);
  return out;
}

/** A WINDOW frame: the peer may send `increment` (1..2^31-1) more DATA payload bytes. */
export function encodeWindow(increment) {
  if (!Number.isInteger(increment) || increment < 1 || increment > MAX_WINDOW_INCREMENT) {
    throw new RangeError('WINDOW increment must be 1..2^31-1');
  }
  const out = new Uint8Array(5);
  out[0] = WINDOW;
  new DataView(out.buffer).setUint32(1, increment);
  return out;
}

/**
 * Decode one data-channel message.
 * @param {ArrayBuffer|Uint8Array} message
 * @returns {{type: 'DATA'|'END'|'RESET'|'WINDOW', payload: Uint8Array, reason?: string, increment?: number}}
 * @throws {FrameError}
 */
export function decodeFrame(message) {
  let bytes;
  try {
    bytes = asBytes(message);
  } catch {
    throw new FrameError('frame is not binary');
  }
  if (bytes.length === 0) throw new FrameError('empty message');
  if (bytes.length > MAX_MESSAGE) throw new FrameError('message longer than 65,536 bytes');
  const payload = bytes.subarray(1);
  switch (bytes[0]) {
    case DATA:
      if (payload.length === 0) throw new FrameError('DATA without payload');
      return { type: 'DATA', payload };
    case END:
      if (payload.length !== 0) throw new FrameError('END with a payload');
      return { type: 'END', payload };
    case RESET:
      if (payload.length > MAX_RESET_REASON) throw new FrameError('RESET reason over 1,024 bytes');
      return { type: 'RESET', payload, reason: fromUtf8(payload) };
    case WINDOW: {
      if (payload.length !== 4) throw new FrameError(`WINDOW with ${payload.length} payload bytes, not 4`);
      const increment = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
      if (increment < 1 || increment > MAX_WINDOW_INCREMENT) throw new FrameError(`WINDOW increment ${increment} is not 1..2^31-1`);
      return { type: 'WINDOW', payload, increment };
    }
    default:
      throw new FrameError(`unknown frame type 0x${bytes[0].toString(16).padStart(2, '0')}`);
  }
}

// Request bytes into DATA frames with a single copy. Every data-channel send costs the renderer
// about the same whatever its size, so frames are filled to the 65,535-byte maximum whatever
// the sizes of the pieces the body arrives in (64 KiB views, 1 MiB Blob slices, a stream's
// chunks): cutting each 64 KiB chunk on its own made every other message a 1- to 10-byte frame.
import { DATA, MAX_PAYLOAD } from './frames.js';

export class FramePacker {
  /** @param {(frame: Uint8Array) => Promise<void>} send takes a complete DATA frame */
  constructor(send) {
    this._send = send;
    this._frame = null;
    this._used = 0; // payload bytes in _frame
  }

  /** Payload bytes in the frame being filled. */
  get pending() {
    return this._used;
  }

  /** Append bytes; each frame is sent as soon as it is full. */
  async push(bytes) {
    for (let off = 0; off < bytes.length;) {
      if (!this._frame) {
        this._frame = new Uint8Array(1 + MAX_PAYLOAD);
        this._frame[0] = DATA;
        this._used = 0;
      }
      const n = Math.min(bytes.length - off, MAX_PAYLOAD - this._used);
      this._frame.set(off === 0 && n === bytes.length ? bytes : bytes.subarray(off, off + n), 1 + this._used);
      this._used += n;
      off += n;
      if (this._used === MAX_PAYLOAD) await this.flush();
    }
  }

  /** Send the partly filled frame, if any. */
  async flush() {
    if (!this._frame || this._used === 0) return;
    const frame = this._used === MAX_PAYLOAD ? this._frame : this._frame.subarray(0, 1 + this._used);
    this._frame = null;
    this._used = 0;
    await this._send(frame);
  }
}

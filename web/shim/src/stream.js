// One exchange's byte stream over one data channel, with the DATA/END/RESET framing of
// channels.md, half-close, and send back-pressure.
import { decodeFrame, encodeData, encodeEnd, encodeReset, MAX_PAYLOAD } from './frames.js';
import { FrameError, StreamError } from './errors.js';
import { asBytes } from './bytes.js';

export const HIGH_WATER = 1024 * 1024; // keep at most ~1 MiB queued in the channel
export const LOW_WATER = 256 * 1024;

/**
 * @typedef {{data(bytes: Uint8Array): void, end(): void, error(err: Error): void}} StreamSink
 */

export class Stream {
  /**
   * @param {RTCDataChannel} channel a fresh reliable ordered channel
   * @param {{openTimeoutMs?: number, onClose?: (s: Stream) => void}} [options]
   */
  constructor(channel, options = {}) {
    this.channel = channel;
    this.label = channel.label;
    this._onClose = options.onClose || null;
    this._sink = null;
    this._pending = []; // events before a sink is attached
    this._sentEnd = false;
    this._receivedEnd = false;
    this._error = null;
    this._closed = false;
    this._writeChain = Promise.resolve();
    this._drainWaiters = [];
    this.bytesWritten = 0;

    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    this.opened = new Promise((resolve, reject) => {
      this._openResolve = resolve;
      this._openReject = reject;
    });
    this.opened.catch(() => {});
    if (channel.readyState === 'open') this._openResolve();
    let timer = null;
    if (options.openTimeoutMs && channel.readyState !== 'open') {
      timer = setTimeout(() => this.fail(new StreamError('data channel did not open in time')), options.openTimeoutMs);
    }
    channel.onopen = () => {
      if (timer) clearTimeout(timer);
      this._openResolve();
    };
    channel.onmessage = (ev) => this._onMessage(ev.data);
    channel.onbufferedamountlow = () => this._wakeWriters();
    channel.onclose = () => {
      if (timer) clearTimeout(timer);
      this._onChannelClose();
    };
    channel.onerror = (ev) => {
      const err = ev && ev.error;
      this.fail(new StreamError(`data channel error${err && err.message ? ': ' + err.message : ''}`));
    };
  }

  /** Where received bytes go. Events that arrived earlier are delivered at once. */
  setSink(sink) {
    this._sink = sink;
    const pending = this._pending;
    this._pending = [];
    for (const [kind, arg] of pending) this._deliver(kind, arg);
  }

  get failed() {
    return this._error;
  }

  get receivedEnd() {
    return this._receivedEnd;
  }

  /** Bytes queued in the channel and not yet sent. */
  get bufferedAmount() {
    return this._closed ? 0 : this.channel.bufferedAmount;
  }

  _deliver(kind, arg) {
    if (!this._sink) {
      this._pending.push([kind, arg]);
      return;
    }
    try {
      if (kind === 'data') this._sink.data(arg);
      else if (kind === 'end') this._sink.end();
      else this._sink.error(arg);
    } catch (e) {
      // A consumer bug must not break the stream machinery.
      queueMicrotask(() => { throw e; });
    }
  }

  _onMessage(data) {
    if (this._error || this._closed) return;
    if (typeof data === 'string') {
      this._protocolError('text message on an intrustd/1 channel');
      return;
    }
    let frame;
    try {
      frame = decodeFrame(data);
    } catch (e) {
      this._protocolError(e.message);
      return;
    }
    if (this._receivedEnd && frame.type !== 'RESET') {
      this._protocolError('frame after END');
      return;
    }
    if (frame.type === 'DATA') {
      // No copy: each message arrives in an ArrayBuffer of its own, so a view of it stays valid.
      this._deliver('data', frame.payload);
    } else if (frame.type === 'END') {
      this._receivedEnd = true;
      this._deliver('end');
      if (this._sentEnd) this.close();
    } else {
      this.fail(new StreamError(`stream reset by the appliance${frame.reason ? ': ' + frame.reason : ''}`), false);
    }
  }

  _protocolError(reason) {
    this.fail(new FrameError(reason), true, reason);
  }

  _onChannelClose() {
    if (this._closed) return;
    if (!this._error && !(this._receivedEnd && this._sentEnd)) {
      this.fail(new StreamError('data channel closed before the exchange was complete'), false);
    }
    this._finish();
  }

  _finish() {
    if (this._closed) return;
    this._closed = true;
    this._wakeWriters();
    if (this._onClose) this._onClose(this);
  }

  _wakeWriters() {
    const w = this._drainWaiters;
    this._drainWaiters = [];
    for (const fn of w) fn();
  }

  async _waitForRoom() {
    while (!this._error && !this._closed && this.channel.bufferedAmount > HIGH_WATER) {
      await new Promise((resolve) => this._drainWaiters.push(resolve));
    }
  }

  _check() {
    if (this._error) throw this._error;
    if (this._closed) throw new StreamError('stream is closed');
    if (this._sentEnd) throw new StreamError('stream already ended');
  }

  _send(frame) {
    try {
      this.channel.send(frame);
    } catch (e) {
      const err = new StreamError('data channel send failed', { cause: e });
      this.fail(err, false);
      throw err;
    }
  }

  /**
   * Write bytes as DATA frames of at most 65,535 bytes, waiting while more than ~1 MiB is queued.
   * Writes are performed in call order.
   * @param {Uint8Array|ArrayBuffer|ArrayBufferView} bytes
   */
  write(bytes) {
    const data = asBytes(bytes);
    const p = this._writeChain.then(async () => {
      await this.opened;
      for (let off = 0; off < data.length; off += MAX_PAYLOAD) {
        this._check();
        await this._waitForRoom();
        this._check();
        const piece = data.subarray(off, Math.min(off + MAX_PAYLOAD, data.length));
        this._send(encodeData(piece));
        this.bytesWritten += piece.length;
      }
    });
    this._writeChain = p.catch(() => {});
    return p;
  }

  /** Half-close: no more bytes from this side. */
  end() {
    const p = this._writeChain.then(async () => {
      await this.opened;
      this._check();
      this._send(encodeEnd());
      this._sentEnd = true;
      if (this._receivedEnd) this.close();
    });
    this._writeChain = p.catch(() => {});
    return p;
  }

  /** Wait until everything written so far has left the channel's send queue (or it closed). */
  async drained() {
    await this._writeChain;
    while (!this._error && !this._closed && this.channel.bufferedAmount > 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Abort both directions: fail local readers/writers with `err`, optionally send RESET, close.
   * @param {Error} err
   * @param {boolean} [sendReset]
   * @param {string} [reason]
   */
  fail(err, sendReset = true, reason) {
    if (this._error || this._closed) {
      if (!this._closed) this.close();
      return;
    }
    this._error = err;
    this._openReject(err);
    if (sendReset && this.channel.readyState === 'open') {
      try {
        this.channel.send(encodeReset(reason ?? err.message));
      } catch {
        // channel already going away
      }
    }
    if (!this._receivedEnd) this._deliver('error', err);
    this.close();
  }

  /** Abort with a RESET (e.g. the caller aborted). */
  reset(reason = 'aborted', err = new StreamError(reason)) {
    this.fail(err, true, reason);
  }

  /** Close the channel (after END both ways, or after a failure). */
  close() {
    try {
      this.channel.close();
    } catch {
      // ignore
    }
    this._finish();
  }
}

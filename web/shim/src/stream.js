// One exchange's byte stream over one data channel, with the DATA/END/RESET framing of
// channels.md, half-close, send back-pressure and WINDOW flow control both ways.
import { DATA, decodeFrame, encodeData, encodeEnd, encodeReset, encodeWindow, MAX_PAYLOAD, MAX_WINDOW_INCREMENT } from './frames.js';
import { FrameError, StreamError } from './errors.js';
import { asBytes } from './bytes.js';

export const HIGH_WATER = 1024 * 1024; // keep at most ~1 MiB queued in the channel
export const LOW_WATER = 256 * 1024;
/** What each side may send before the other grants more (channels.md "Flow control"). */
export const INITIAL_WINDOW = 4 * 1024 * 1024;
/** Consumed bytes are granted back in steps of at least this, not after every frame. */
const GRANT_STEP = INITIAL_WINDOW / 4;

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
    this._sendCredit = INITIAL_WINDOW; // DATA bytes the appliance lets us send
    this._receiveAllowance = INITIAL_WINDOW; // DATA bytes we let the appliance send
    this._ungranted = 0; // received, not yet granted back (held back while paused)
    this._paused = false;

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
    if (frame.type === 'WINDOW') {
      // credit for our direction, so it may follow the appliance's END
      if (this._sendCredit + frame.increment > MAX_WINDOW_INCREMENT) {
        this._protocolError('WINDOW credit over 2^31-1');
        return;
      }
      this._sendCredit += frame.increment;
      this._wakeWriters();
      return;
    }
    if (this._receivedEnd && frame.type !== 'RESET') {
      this._protocolError('frame after END');
      return;
    }
    if (frame.type === 'DATA') {
      const n = frame.payload.length;
      if (n > this._receiveAllowance) {
        this._protocolError('more DATA than the flow-control window allows');
        return;
      }
      this._receiveAllowance -= n;
      // No copy: each message arrives in an ArrayBuffer of its own, so a view of it stays valid.
      this._deliver('data', frame.payload);
      this._ungranted += n;
      if (!this._paused) this._grant();
    } else if (frame.type === 'END') {
      this._receivedEnd = true;
      this._deliver('end');
      if (this._sentEnd) this.close();
    } else {
      this.fail(new StreamError(`stream reset by the appliance${frame.reason ? ': ' + frame.reason : ''}`), false);
    }
  }

  /**
   * Stop granting credit: the consumer has enough buffered. The appliance can then send at most
   * what it already has credit for, so a reader that stops reading holds at most one window.
   */
  pause() {
    this._paused = true;
  }

  /** Grant credit again for what was received meanwhile. */
  resume() {
    if (!this._paused) return;
    this._paused = false;
    this._grant();
  }

  _grant() {
    if (this._ungranted < GRANT_STEP || this._closed || this._error || this._receivedEnd) return;
    const increment = this._ungranted;
    this._ungranted = 0;
    this._receiveAllowance += increment;
    try {
      // straight to the channel, not behind writes that may themselves wait for credit
      this.channel.send(encodeWindow(increment));
    } catch {
      // the channel is going away; its close event ends the stream
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

  /** Until the channel's send queue has room and the appliance's credit covers `n` bytes. */
  async _waitForRoom(n) {
    while (!this._error && !this._closed && (this.channel.bufferedAmount > HIGH_WATER || this._sendCredit < n)) {
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
    return this._chain(async () => {
      for (let off = 0; off < data.length; off += MAX_PAYLOAD) {
        await this._sendData(encodeData(data.subarray(off, Math.min(off + MAX_PAYLOAD, data.length))));
      }
    });
  }

  /**
   * Write one complete DATA frame built by the caller (see frame-packer.js), which then no
   * longer touches it. Same ordering and back-pressure as `write`.
   * @param {Uint8Array} frame
   */
  writeFrame(frame) {
    if (frame.length < 2 || frame.length > MAX_PAYLOAD + 1 || frame[0] !== DATA) {
      return Promise.reject(new RangeError('not a DATA frame of 1..65,535 payload bytes'));
    }
    return this._chain(() => this._sendData(frame));
  }

  _chain(task) {
    const p = this._writeChain.then(async () => {
      await this.opened;
      await task();
    });
    this._writeChain = p.catch(() => {});
    return p;
  }

  async _sendData(frame) {
    const n = frame.length - 1;
    this._check();
    await this._waitForRoom(n);
    this._check();
    this._send(frame);
    this._sendCredit -= n;
    this.bytesWritten += n;
  }

  /** Half-close: no more bytes from this side. */
  end() {
    return this._chain(() => {
      this._check();
      this._send(encodeEnd());
      this._sentEnd = true;
      if (this._receivedEnd) this.close();
    });
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

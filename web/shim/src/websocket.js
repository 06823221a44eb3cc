// WebSocket for app URLs: the client side of RFC 6455 over a stream (channels.md).
import { route as routeUrl } from './routes.js';
import { writeRequestHead, ResponseParser, isToken } from './http1.js';
import { requestHeaders } from './fetch.js';
import { WsReader, encodeFrame, closePayload, parseClosePayload, GUID, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG } from './ws-frames.js';
import { WsProtocolError } from './errors.js';
import { asBytes, utf8, toB64, randomBytes } from './bytes.js';
import { sha1 } from './crypto.js';

const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;
const CLOSE_TIMEOUT_MS = 5000;
const MAX_FRAME_PAYLOAD = 1024 * 1024; // fragment larger messages so pongs can interleave

function makeCloseEvent(code, reason, wasClean) {
  if (typeof CloseEvent === 'function') return new CloseEvent('close', { code, reason, wasClean });
  const ev = new Event('close');
  Object.defineProperties(ev, { code: { value: code }, reason: { value: reason }, wasClean: { value: wasClean } });
  return ev;
}

function makeMessageEvent(data, origin) {
  if (typeof MessageEvent === 'function') return new MessageEvent('message', { data, origin });
  const ev = new Event('message');
  Object.defineProperties(ev, { data: { value: data }, origin: { value: origin } });
  return ev;
}

function defineHandler(proto, name) {
  const key = Symbol(name);
  Object.defineProperty(proto, 'on' + name, {
    configurable: true,
    enumerable: true,
    get() { return this[key] ? this[key].fn : null; },
    set(fn) {
      if (this[key]) this.removeEventListener(name, this[key].listener);
      this[key] = null;
      if (typeof fn === 'function') {
        const listener = (ev) => fn.call(this, ev);
        this[key] = { fn, listener };
        this.addEventListener(name, listener);
      }
    },
  });
}

/**
 * Make the WebSocket class: app URLs go over the link, other URLs to `NativeWebSocket`.
 * @param {{getLink: () => Promise<any>, apps: Array<{prefix: string, appId: string}>, NativeWebSocket?: typeof WebSocket}} cfg
 */
export function createWebSocketClass({ getLink, apps, NativeWebSocket }) {
  class WebSocket extends EventTarget {
    /**
     * @param {string|URL} url
     * @param {string|string[]} [protocols]
     */
    constructor(url, protocols = []) {
      let r = null;
      let routeError = null;
      try {
        r = routeUrl(url, apps, 'ws');
      } catch (e) {
        routeError = e;
      }
      if (!r && !routeError) {
        if (!NativeWebSocket) throw new DOMException(`not an app URL: ${url}`, 'SyntaxError');
        // eslint-disable-next-line no-constructor-return
        return arguments.length > 1 ? new NativeWebSocket(url, protocols) : new NativeWebSocket(url);
      }
      super();
      if (routeError) throw new DOMException(routeError.message, 'SyntaxError');
      if (/#/.test(String(url))) throw new DOMException('a WebSocket URL must not have a fragment', 'SyntaxError');
      if (typeof protocols === 'string') protocols = [protocols];
      protocols = Array.from(protocols, String);
      const seen = new Set();
      for (const p of protocols) {
        if (!isToken(p) || seen.has(p.toLowerCase())) throw new DOMException(`invalid or duplicate subprotocol ${JSON.stringify(p)}`, 'SyntaxError');
        seen.add(p.toLowerCase());
      }
      this._route = r;
      this._url = r.url;
      this._origin = (() => { try { return new URL(r.url).origin; } catch { return 'null'; } })();
      this._protocols = protocols;
      this._readyState = CONNECTING;
      this._protocol = '';
      this._binaryType = 'blob';
      this._queued = 0; // bytes accepted by send() and not yet handed to the stream
      this._sendChain = Promise.resolve();
      this._stream = null;
      this._closeSent = false;
      this._closeReceived = null;
      this._closeTimer = null;
      this._finished = false;
      this._connect();
    }

    get url() { return this._url; }
    get readyState() { return this._readyState; }
    get protocol() { return this._protocol; }
    get extensions() { return ''; }
    get bufferedAmount() { return this._queued + (this._stream ? this._stream.bufferedAmount : 0); }
    get binaryType() { return this._binaryType; }
    set binaryType(v) { if (v === 'blob' || v === 'arraybuffer') this._binaryType = v; }

    async _connect() {
      let stream;
      for (let attempt = 1; ; attempt++) {
        try {
          const link = await getLink();
          if (this._readyState !== CONNECTING) return;
          stream = await link.openStream(this._route.appId);
          break;
        } catch (e) {
          // Nothing was sent: the link retired (link.js, MAX_STREAM_ID), and the next one takes over.
          if (attempt === 1 && e && e.code === 'stream-ids-exhausted') continue;
          this._fail(1006, 'link failed', e);
          return;
        }
      }
      if (this._readyState !== CONNECTING) {
        stream.reset('closed before open');
        return;
      }
      this._stream = stream;
      const key = toB64(randomBytes(16));
      const expectedAccept = sha1(utf8(key + GUID)).then(toB64);
      expectedAccept.catch(() => {});
      const extra = [
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Key', key],
        ['Sec-WebSocket-Version', '13'],
      ];
      if (this._protocols.length) extra.push(['Sec-WebSocket-Protocol', this._protocols.join(', ')]);
      const head = writeRequestHead('GET', this._route.target, requestHeaders(this._route.appId, new Headers(), null, extra));

      // Bytes after the head are frames; hold them until the handshake is checked.
      let held = [];
      let handshakeDone = false;
      const reader = new WsReader({
        message: (isText, data) => this._onMessage(isText, data),
        ping: (p) => this._sendFrame(OP_PONG, p),
        pong: () => {},
        close: (p) => this._onCloseFrame(p),
      });
      const feed = (bytes) => {
        if (this._finished) return;
        try {
          reader.push(bytes);
        } catch (e) {
          this._protocolFailure(e);
        }
      };
      const parser = new ResponseParser({
        head: (h) => {
          expectedAccept.then((accept) => {
            const problem = this._checkHandshake(h, accept);
            if (problem) {
              this._fail(1006, problem, new WsProtocolError(problem));
              return;
            }
            if (this._readyState !== CONNECTING) return;
            const proto = h.headers.find(([n]) => n.toLowerCase() === 'sec-websocket-protocol');
            this._protocol = proto ? proto[1] : '';
            this._readyState = OPEN;
            this.dispatchEvent(new Event('open'));
            handshakeDone = true;
            const pending = held;
            held = null;
            for (const b of pending) {
              if (b === 'END') this._onStreamEnd();
              else feed(b);
            }
          }, (e) => this._fail(1006, 'handshake failed', e));
        },
        data: (bytes) => {
          if (handshakeDone) feed(bytes);
          else if (held) held.push(bytes);
        },
        end: () => {
          if (handshakeDone) this._onStreamEnd();
          else if (held) held.push('END');
        },
      }, { method: 'GET', upgrade: true });

      stream.setSink({
        data: (bytes) => {
          try { parser.push(bytes); } catch (e) { this._fail(1006, 'invalid handshake response', e); }
        },
        end: () => {
          try { parser.finish(); } catch (e) { this._fail(1006, 'connection ended during the handshake', e); }
        },
        error: (err) => this._fail(1006, 'connection lost', err),
      });
      stream.write(head).catch((e) => this._fail(1006, 'connection lost', e));
    }

    _checkHandshake(h, accept) {
      const get = (name) => {
        const hit = h.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
        return hit.length ? hit.join(', ') : null;
      };
      if (h.status !== 101) return `WebSocket handshake failed: status ${h.status}`;
      if ((get('upgrade') || '').toLowerCase() !== 'websocket') return 'WebSocket handshake failed: no Upgrade: websocket';
      if (!(get('connection') || '').toLowerCase().split(',').map((s) => s.trim()).includes('upgrade')) {
        return 'WebSocket handshake failed: no Connection: Upgrade';
      }
      if (get('sec-websocket-accept') !== accept) return 'WebSocket handshake failed: wrong Sec-WebSocket-Accept';
      if (get('sec-websocket-extensions')) return 'WebSocket handshake failed: the server chose an extension';
      const proto = get('sec-websocket-protocol');
      if (proto !== null && !this._protocols.includes(proto)) return 'WebSocket handshake failed: the server chose a subprotocol that was not offered';
      return null;
    }

    _onMessage(isText, data) {
      if (this._readyState !== OPEN) return; // messages after a close are dropped
      let value = data;
      if (!isText) {
        const copy = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data.buffer : data.slice().buffer;
        value = this._binaryType === 'arraybuffer' ? copy : new Blob([copy]);
      }
      this.dispatchEvent(makeMessageEvent(value, this._origin));
    }

    _onCloseFrame(payload) {
      let code, reason;
      try {
        ({ code, reason } = parseClosePayload(payload));
      } catch (e) {
        this._protocolFailure(e);
        return;
      }
      this._closeReceived = { code, reason };
      if (!this._closeSent) {
        this._readyState = CLOSING;
        // echo the code (RFC 6455 §5.5.1)
        this._sendClose(code === 1005 ? undefined : code, '');
      }
      this._endStream();
    }

    _onStreamEnd() {
      if (this._finished) return;
      if (this._closeReceived && this._closeSent) this._finish(this._closeReceived.code, this._closeReceived.reason, true);
      else this._finish(1006, '', false);
    }

    _protocolFailure(e) {
      const code = e instanceof WsProtocolError ? e.closeCode : 1002;
      if (!this._closeSent) this._sendClose(code, '');
      this._endStream();
      // the connection is failed: close unclean once the server answers or the timer fires
      this._closeReceived = null;
      this._scheduleForcedClose(1006);
    }

    _endStream() {
      if (this._stream) this._sendChain = this._sendChain.then(() => this._stream.end()).catch(() => {});
    }

    _sendClose(code, reason) {
      this._closeSent = true;
      this._sendFrame(OP_CLOSE, closePayload(code, reason));
      this._scheduleForcedClose(1006);
    }

    _scheduleForcedClose(code) {
      if (this._closeTimer) return;
      this._closeTimer = setTimeout(() => {
        if (this._stream) this._stream.reset('close timeout');
        this._finish(code, '', false);
      }, CLOSE_TIMEOUT_MS);
    }

    _sendFrame(opcode, payload) {
      const frame = encodeFrame({ opcode, payload, mask: true });
      this._sendChain = this._sendChain
        .then(() => this._stream.write(frame))
        .catch((e) => this._fail(1006, 'connection lost', e));
    }

    _fail(code, reason, cause) {
      if (this._finished) return;
      if (this._stream && !this._stream.failed) this._stream.reset(reason || 'failed');
      this.failure = cause || null; // not standard: why the connection failed, for debugging
      this._finish(code, '', false);
    }

    _finish(code, reason, wasClean) {
      if (this._finished) return;
      this._finished = true;
      if (this._closeTimer) clearTimeout(this._closeTimer);
      this._readyState = CLOSED;
      this._queued = 0;
      if (this._stream && !this._stream.failed) this._stream.close();
      if (!wasClean) this.dispatchEvent(new Event('error'));
      this.dispatchEvent(makeCloseEvent(code, reason, wasClean));
    }

    /** @param {string|ArrayBuffer|ArrayBufferView|Blob} data */
    send(data) {
      if (this._readyState === CONNECTING) throw new DOMException('Still in CONNECTING state.', 'InvalidStateError');
      let opcode, bytes = null, blob = null;
      if (typeof data === 'string') {
        opcode = OP_TEXT;
        bytes = utf8(data);
      } else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
        opcode = OP_BINARY;
        bytes = asBytes(data).slice();
      } else if (typeof Blob !== 'undefined' && data instanceof Blob) {
        opcode = OP_BINARY;
        blob = data;
      } else {
        opcode = OP_TEXT;
        bytes = utf8(String(data));
      }
      const size = bytes ? bytes.length : blob.size;
      this._queued += size;
      if (this._readyState !== OPEN || this._closeSent) return; // CLOSING/CLOSED: discarded, counted
      this._sendChain = this._sendChain.then(async () => {
        if (this._finished) return;
        const payload = bytes || new Uint8Array(await blob.arrayBuffer());
        let off = 0;
        let first = true;
        do {
          const end = Math.min(off + MAX_FRAME_PAYLOAD, payload.length);
          const frame = encodeFrame({ fin: end === payload.length, opcode: first ? opcode : 0, payload: payload.subarray(off, end), mask: true });
          this._queued -= end - off;
          await this._stream.write(frame);
          off = end;
          first = false;
        } while (off < payload.length);
      }).catch((e) => this._fail(1006, 'connection lost', e));
    }

    /**
     * @param {number} [code] 1000 or 3000–4999
     * @param {string} [reason] at most 123 UTF-8 bytes
     */
    close(code, reason) {
      if (code !== undefined) {
        code = Number(code) & 0xffff;
        if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
          throw new DOMException(`The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
        }
      }
      reason = reason === undefined ? '' : String(reason);
      if (utf8(reason).length > 123) throw new DOMException('The close reason must not be greater than 123 UTF-8 bytes.', 'SyntaxError');
      if (this._readyState === CLOSING || this._readyState === CLOSED) return;
      if (this._readyState === CONNECTING) {
        // fail the connection; error and close events are fired from a task, as browsers do
        this._readyState = CLOSING;
        setTimeout(() => this._fail(1006, 'closed before the connection was established'), 0);
        return;
      }
      this._readyState = CLOSING;
      this._sendClose(code, code === undefined ? '' : reason);
    }
  }

  for (const [name, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSING', CLOSING], ['CLOSED', CLOSED]]) {
    Object.defineProperty(WebSocket, name, { value, enumerable: true });
    Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
  }
  for (const name of ['open', 'message', 'error', 'close']) defineHandler(WebSocket.prototype, name);
  Object.defineProperty(WebSocket, Symbol.hasInstance, {
    value: (obj) => (NativeWebSocket && obj instanceof NativeWebSocket) || Object.prototype.isPrototypeOf.call(WebSocket.prototype, Object(obj)),
  });
  return WebSocket;
}

// The client side of the flock signalling WebSocket (flock.md, endpoint `/client`).
import { IntrustdLinkError } from './errors.js';

export const MAX_MESSAGE = 65536;
const PING_EVERY_MS = 15000;
const SILENCE_LIMIT_MS = 45000;

/** `${flock}/client` for a flock base URL such as `ws://host:port` or `wss://host/base/`. */
export function clientUrl(flock) {
  let base = String(flock);
  if (/^https?:/i.test(base)) base = base.replace(/^http/i, 'ws');
  const u = new URL(base);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`flock URL must be ws: or wss:, not ${u.protocol}`);
  u.pathname = u.pathname.replace(/\/+$/, '') + '/client';
  u.hash = '';
  return u.href;
}

/**
 * One connection to a flock's `/client` endpoint. Messages for a session go to the handler
 * registered with `sessions.set(id, handler)`: `{answer(m), candidate(m), bye(m), error(m)}`.
 * `onclose(err)` is called once when the connection is gone.
 */
export class FlockClient {
  /**
   * @param {string} flock base URL
   * @param {{WebSocket?: typeof WebSocket}} [options] the WebSocket class to use (the original one)
   */
  constructor(flock, options = {}) {
    this.url = clientUrl(flock);
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.sessions = new Map();
    this.onclose = null;
    this.iceServers = null;
    this.closed = false;
    this._ws = null;
    this._timer = null;
    this._lastHeard = 0;
  }

  /**
   * Connect and wait for `hello`.
   * @returns {Promise<RTCIceServer[]>} the flock's ICE servers
   */
  connect() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new this.WebSocket(this.url);
      } catch (e) {
        reject(new IntrustdLinkError(`cannot open the flock WebSocket ${this.url}`, 'flock-unreachable', { cause: e }));
        return;
      }
      this._ws = ws;
      let helloSeen = false;
      this._rejectHello = (err) => { if (!helloSeen) { helloSeen = true; reject(err); } };
      ws.onmessage = (ev) => {
        this._lastHeard = Date.now();
        if (typeof ev.data !== 'string') return this._shutdown(new IntrustdLinkError('binary message from the flock', 'bad-message'));
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return this._shutdown(new IntrustdLinkError('unparseable message from the flock', 'bad-message'));
        }
        if (!msg || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.type !== 'string') {
          return this._shutdown(new IntrustdLinkError('invalid message from the flock', 'bad-message'));
        }
        if (!helloSeen) {
          if (msg.type === 'hello' && Array.isArray(msg.iceServers)) {
            helloSeen = true;
            this.iceServers = msg.iceServers.filter((s) => s && typeof s === 'object' && (typeof s.urls === 'string' || Array.isArray(s.urls)));
            this._startHeartbeat();
            resolve(this.iceServers);
          } else if (msg.type === 'error') {
            this._shutdown(new IntrustdLinkError(`flock error ${msg.code}: ${msg.message}`, String(msg.code || 'flock-error')));
          } else {
            this._shutdown(new IntrustdLinkError(`expected hello from the flock, got ${msg.type}`, 'bad-message'));
          }
          return;
        }
        this._dispatch(msg);
      };
      ws.onclose = (ev) => {
        this._shutdown(new IntrustdLinkError(`flock connection closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`, 'flock-closed'));
      };
      ws.onerror = () => {
        // a close event follows; for a connection that never opened, report now
        if (!helloSeen) this._shutdown(new IntrustdLinkError(`cannot reach the flock at ${this.url}`, 'flock-unreachable'));
      };
    });
  }

  _dispatch(msg) {
    switch (msg.type) {
      case 'pong':
        return;
      case 'answer':
      case 'candidate':
      case 'bye':
      case 'error': {
        if (msg.type === 'error' && typeof msg.session !== 'string') {
          // a connection-level error: the flock closes the connection
          this._shutdown(new IntrustdLinkError(`flock error ${msg.code}: ${msg.message}`, String(msg.code || 'flock-error')));
          return;
        }
        const handler = this.sessions.get(msg.session);
        if (handler && typeof handler[msg.type] === 'function') handler[msg.type](msg);
        return;
      }
      default:
        // unknown types are ignored: later versions may add messages
    }
  }

  _startHeartbeat() {
    this._timer = setInterval(() => {
      if (Date.now() - this._lastHeard > SILENCE_LIMIT_MS) {
        this._shutdown(new IntrustdLinkError('the flock stopped answering', 'flock-timeout'));
        return;
      }
      this.send({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  /** Send one message; false if the connection is not open. @throws {RangeError} if too large */
  send(msg) {
    if (this.closed || !this._ws || this._ws.readyState !== 1) return false;
    const text = JSON.stringify(msg);
    if (new TextEncoder().encode(text).length > MAX_MESSAGE) throw new RangeError('flock message over 65,536 bytes');
    this._ws.send(text);
    return true;
  }

  _shutdown(err) {
    if (this.closed) return;
    this.closed = true;
    if (this._timer) clearInterval(this._timer);
    if (this._rejectHello) this._rejectHello(err);
    try {
      if (this._ws && this._ws.readyState <= 1) this._ws.close(1000);
    } catch { /* ignore */ }
    if (this._ws) {
      this._ws.onmessage = this._ws.onclose = this._ws.onerror = null;
    }
    const handlers = [...this.sessions.values()];
    this.sessions.clear();
    for (const h of handlers) if (h.closed) h.closed(err);
    if (this.onclose) this.onclose(err);
  }

  /** Close the connection. */
  close(reason = 'client closed') {
    this._shutdown(new IntrustdLinkError(reason, 'closed'));
  }
}

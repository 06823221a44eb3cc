// Node-side WebSocket helpers (npm `ws`): a raw client that queues messages, Ed25519 keys and
// SDP tampering for the hostile-flock tests.
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { signingInput, applianceIdFromPublicKey } from '../../web/shim/src/index.js';

export { signingInput, applianceIdFromPublicKey };

/**
 * A raw WebSocket client: `next()` returns the next message ({text} parsed as `json` when it is
 * JSON, or {binary}); `closed` resolves with {code, reason}.
 */
export class RawClient {
  static async open(url, { timeoutMs = 5000 } = {}) {
    const c = new RawClient(url);
    await c.opened(timeoutMs);
    return c;
  }

  constructor(url) {
    this.url = url;
    this.ws = new WebSocket(url, { maxPayload: 16 * 1024 * 1024 });
    this.queue = [];
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) w(null);
      });
    });
    this.ws.on('error', (e) => { this.lastError = e; });
    this.ws.on('message', (data, isBinary) => {
      let m;
      if (isBinary) m = { binary: data };
      else {
        const text = data.toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        m = { text, json };
      }
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
  }

  opened(timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no WebSocket open to ${this.url} within ${timeoutMs} ms`)), timeoutMs);
      this.ws.once('open', () => { clearTimeout(timer); resolve(); });
      this.ws.once('error', (e) => { clearTimeout(timer); reject(e); });
      this.ws.once('unexpected-response', (req, res) => {
        clearTimeout(timer);
        reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { statusCode: res.statusCode }));
      });
    });
  }

  /** The next message, or null when the connection closed first. Rejects after timeoutMs. */
  next(timeoutMs = 5000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closeInfo) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no message from ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = (m) => { clearTimeout(timer); resolve(m); };
      this.waiters.push(w);
    });
  }

  /** The next JSON message (skipping pongs when `skipPong`). */
  async nextJson(timeoutMs = 5000, { skipPong = false } = {}) {
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m === null) return null;
      if (!m.json) throw new Error(`expected a JSON message, got ${m.text !== undefined ? JSON.stringify(m.text.slice(0, 200)) : 'binary'}`);
      if (skipPong && m.json.type === 'pong') continue;
      return m.json;
    }
  }

  send(data, options) {
    this.ws.send(typeof data === 'object' && !Buffer.isBuffer(data) && !(data instanceof Uint8Array) ? JSON.stringify(data) : data, options);
  }

  /** Wait for the close, at most timeoutMs; rejects if it stays open. */
  async waitClosed(timeoutMs = 5000) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.url} still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  terminate() {
    this.ws.terminate();
  }
}

export const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A fresh Ed25519 key: raw 32-byte public key, its appliance ID, and sign(bytes). */
export async function ed25519Key() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return {
    publicKey: raw,
    publicKeyB64: b64url(raw),
    id: await applianceIdFromPublicKey(new Uint8Array(raw)),
    sign: (bytes) => crypto.sign(null, Buffer.from(bytes), privateKey),
  };
}

const FINGERPRINT = /^(a=fingerprint:\S+ )([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)(\r?)$/gm;

/** The SDP with every DTLS fingerprint replaced by another (each byte XOR 0x5a). */
export function flipFingerprints(sdp) {
  let n = 0;
  const out = sdp.replace(FINGERPRINT, (_, head, hex, cr) => {
    n++;
    const flipped = hex.split(':').map((h) => (parseInt(h, 16) ^ 0x5a).toString(16).toUpperCase().padStart(2, '0')).join(':');
    return head + flipped + cr;
  });
  if (n === 0) throw new Error(`no a=fingerprint line in the SDP:\n${sdp}`);
  return out;
}

export function fingerprints(sdp) {
  return [...sdp.matchAll(FINGERPRINT)].map((m) => m[2]);
}

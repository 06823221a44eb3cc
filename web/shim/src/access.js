// Logins, device-bound sessions and tokens (spec/access.md), spoken over the appliance's
// `intrustd/session` channel, so passwords and secrets travel only inside the verified link.
import { subtle, utf8, fromUtf8, toB64url, randomBytes, concat } from './bytes.js';
import { exchange } from './fetch.js';
import { toRequestBody } from './body.js';
import { IntrustdAccessError } from './errors.js';
import { defaultStore } from './keystore.js';
import { SESSION_LABEL, ADMIN_LABEL } from './link.js';

const DEVICE = 'device';
const PROOF_CONTEXT = 'intrustd/session-proof/v1';
const TOKEN = /^it1_[A-Za-z0-9_-]{43}$/;

/**
 * @typedef {{
 *   appliance: string, link: string,
 *   persona: {name: string, displayName: string, role: string}|null,
 *   session: {id: string, expires: string}|null,
 *   tokens: Array<{id: string, label: string, expires?: string, permissions: string[]}>,
 *   permissions: string[],
 * }} SessionInfo
 */

/**
 * The visitor's standing with one appliance: keeps the device key and the remembered session
 * and tokens, and brings every new link up to date before it carries a request. Dispatches
 * `session` events (detail: SessionInfo) when that standing changes.
 */
export class Access extends EventTarget {
  /**
   * @param {{appliance: string, store?: {get, put, delete}}} options
   */
  constructor({ appliance, store }) {
    super();
    this.appliance = appliance;
    this.store = store || defaultStore();
    /** @type {SessionInfo|null} */
    this.current = null;
    this._pendingTokens = [];
  }

  /**
   * One request to the appliance itself on `link` (its session API, or with `channel` its
   * control API); resolves with the parsed JSON or throws IntrustdAccessError. `body` is sent
   * as JSON, or as it is when it is a Blob or bytes (a bundle file), with upload progress.
   */
  async call(link, method, path, body, channel = SESSION_LABEL, { onUploadProgress } = {}) {
    const binary = body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body);
    const type = binary ? 'application/octet-stream' : 'application/json';
    const res = await exchange(() => Promise.resolve(link), {
      appId: 'intrustd', method, target: path, daemonChannel: channel,
      headers: new Headers(body ? { 'Content-Type': type } : {}),
      body: body ? toRequestBody(binary ? body : JSON.stringify(body)) : null,
      onUploadProgress,
    });
    const chunks = [];
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    const text = fromUtf8(concat(chunks));
    let json;
    try { json = JSON.parse(text); } catch { json = {}; }
    if (res.status !== 200) {
      const retry = res.headers.find(([n]) => n.toLowerCase() === 'retry-after');
      throw new IntrustdAccessError(json.detail || `the appliance answered ${res.status}`, res.status,
        retry ? Number(retry[1]) : null);
    }
    return json;
  }

  _update(info) {
    this.current = info;
    const ev = typeof CustomEvent === 'function' ? new CustomEvent('session', { detail: info })
      : Object.assign(new Event('session'), { detail: info });
    this.dispatchEvent(ev);
    return info;
  }

  /** The device key pair and the key that seals remembered secrets; made once per origin. */
  async _device() {
    let d = await this.store.get(DEVICE);
    if (!d) {
      const s = subtle();
      d = {
        keyPair: await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']),
        sealKey: await s.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']),
      };
      await this.store.put(DEVICE, d);
    }
    return d;
  }

  async _seal(text) {
    const { sealKey } = await this._device();
    const iv = randomBytes(12);
    const data = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv }, sealKey, utf8(text)));
    return { iv, data };
  }

  async _unseal(sealed) {
    const { sealKey } = await this._device();
    return fromUtf8(new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: sealed.iv }, sealKey, sealed.data)));
  }

  get _sessionKey() { return `session:${this.appliance}`; }

  get _tokensKey() { return `tokens:${this.appliance}`; }

  /**
   * Brings a new link up to date: resumes the remembered session (proving the device key for
   * this link) and presents remembered tokens. Failures only forget what was refused.
   */
  async prepare(link) {
    const remembered = await this.store.get(this._sessionKey);
    const stored = (await this.store.get(this._tokensKey)) || [];
    if (!remembered && !stored.length && !this._pendingTokens.length) return; // nothing to bring: no round trip
    let info = null;
    if (remembered) {
      try {
        const secret = await this._unseal(remembered.secret);
        info = await this.call(link, 'POST', '/v1/resume', { session: secret, proof: await this._proof(link, remembered.id) });
      } catch (e) {
        // Refused: the session ended (or this device never had it): forget it. A link failure
        // keeps it for the next link.
        if (e instanceof IntrustdAccessError && e.status < 500) await this.store.delete(this._sessionKey);
      }
    }
    const tokens = [...stored];
    const pending = this._pendingTokens.splice(0);
    for (const t of pending) tokens.push(await this._seal(t));
    const kept = [];
    for (const sealed of tokens) {
      try {
        info = await this.call(link, 'POST', '/v1/tokens', { token: await this._unseal(sealed) });
        kept.push(sealed);
      } catch (e) {
        if (!(e instanceof IntrustdAccessError) || e.status >= 500) kept.push(sealed);
      }
    }
    if (tokens.length) await this.store.put(this._tokensKey, kept);
    this._update(info || await this.call(link, 'GET', '/v1/session'));
  }

  async _proof(link, sessionId) {
    const fingerprint = link.localFingerprint;
    if (!fingerprint) throw new IntrustdAccessError('the link has no certificate fingerprint', 400);
    const { keyPair } = await this._device();
    const sig = await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, keyPair.privateKey,
      utf8(proofMessage(this.appliance, fingerprint, sessionId)));
    return toB64url(new Uint8Array(sig));
  }

  /** Logs in on `link`; remembers the session (sealed) for later links and page loads. */
  async login(link, persona, password, label = 'browser') {
    return this._startSession(link, '/v1/login', { persona, password, label });
  }

  /** Claims a new appliance with the code it printed: `persona` becomes its owner, logged in. */
  async claim(link, code, persona, password, displayName = persona, label = 'browser') {
    return this._startSession(link, '/v1/claim', { code, persona, password, displayName, label });
  }

  async _startSession(link, path, body) {
    const { keyPair } = await this._device();
    const spki = new Uint8Array(await subtle().exportKey('spki', keyPair.publicKey));
    const info = await this.call(link, 'POST', path, { ...body, deviceKey: toB64url(spki) });
    const { newSession, ...rest } = info;
    await this.store.put(this._sessionKey, { id: newSession.id, secret: await this._seal(newSession.secret) });
    return this._update(rest);
  }

  /** Ends the session on the appliance (everywhere) and forgets it here. */
  async logout(link) {
    await this.store.delete(this._sessionKey);
    return this._update(await this.call(link, 'POST', '/v1/logout'));
  }

  /** Presents a token on `link` and remembers it (sealed) for later links. */
  async presentToken(link, token) {
    if (!TOKEN.test(token)) throw new IntrustdAccessError('this is not an Intrustd token', 400);
    const info = await this.call(link, 'POST', '/v1/tokens', { token });
    const tokens = (await this.store.get(this._tokensKey)) || [];
    tokens.push(await this._seal(token));
    await this.store.put(this._tokensKey, tokens);
    return this._update(info);
  }

  /** Queues a token for the next link (a share link picked up before any link is up). */
  queueToken(token) {
    if (TOKEN.test(token)) this._pendingTokens.push(token);
  }

  /** The logged-in persona's sessions (its browsers), the current one marked. */
  async sessions(link) {
    return (await this.call(link, 'GET', '/v1/sessions')).sessions;
  }

  /** Ends another of the persona's sessions (a lost phone, say). */
  async endSession(link, id) {
    return (await this.call(link, 'DELETE', `/v1/sessions/${encodeURIComponent(id)}`)).sessions;
  }

  /** The logged-in persona's picture as a data: URL, or null. */
  async avatar(link) {
    return (await this.call(link, 'GET', '/v1/avatar')).avatar;
  }

  /** A request to the appliance's control API (owners and admins; spec/access.md, docs/apps.md). */
  async admin(link, method, path, body, options) {
    return this.call(link, method, path, body, ADMIN_LABEL, options);
  }

  async refresh(link) {
    return this._update(await this.call(link, 'GET', '/v1/session'));
  }
}

/** What a device signs to resume session `sessionId` on the link whose certificate has `fingerprint`. */
export function proofMessage(appliance, fingerprint, sessionId) {
  return `${PROOF_CONTEXT}\n${appliance}\n${fingerprint}\n${sessionId}`;
}

/**
 * Takes a share link's `intrustd-token` (and `intrustd-appliance`) out of a URL fragment.
 * Returns the token (null if none, or if it names another appliance) and the fragment without them.
 */
export function takeTokenFromFragment(hash, appliance) {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!text.includes('intrustd-token=')) return { token: null, rest: hash };
  const params = new URLSearchParams(text);
  const token = params.get('intrustd-token');
  const named = params.get('intrustd-appliance');
  params.delete('intrustd-token');
  params.delete('intrustd-appliance');
  const restText = params.toString();
  const rest = restText ? `#${restText}` : '';
  if (!token || (named && named.replace(/-/g, '').toUpperCase() !== appliance.replace(/-/g, ''))) return { token: null, rest };
  return { token, rest };
}


// install(): one shared link per page, and the patched fetch, XMLHttpRequest and WebSocket.
import { Link, DEFAULT_CONNECT_TIMEOUT_MS } from './link.js';
import { parseApplianceId } from './id.js';
import { normaliseApps } from './routes.js';
import { createFetch } from './fetch.js';
import { createXHRClass } from './xhr.js';
import { createWebSocketClass } from './websocket.js';
import { Access, takeTokenFromFragment } from './access.js';
import { showLogin } from './login-ui.js';

const BACKOFF_START_MS = 250;
const BACKOFF_MAX_MS = 2000;
/**
 * A link that failed with `node-lost` (docs/spec/flock.md) lost the flock cluster node that
 * served its appliance, and the appliance registers again on another node within 10 s: `get()`
 * retries (with the back-off above) for that long, through `appliance-offline` answers too.
 */
const FAILOVER_MS = 10000;

/**
 * Keeps one link up on demand: `get()` returns the current link once it is up, or starts a
 * new one (after a short back-off when set-ups keep failing). Dispatches `status` events
 * with `detail = {state: 'connecting'|'up'|'down', info, error}`.
 */
export class LinkManager extends EventTarget {
  constructor(options) {
    super();
    this.options = options;
    this.link = null;
    this.failures = 0;
    this.lastFailure = 0;
    this.closed = false;
  }

  /** @returns {import('./link.js').LinkInfo|null} */
  get status() {
    return this.link && this.link.state === 'up' ? this.link.info : null;
  }

  /** @returns {Promise<Link>} a link that is up, and prepared (session resumed, tokens presented) */
  async get() {
    let movingSince = null;
    for (;;) {
      try {
        return await this._getOnce();
      } catch (e) {
        const code = e && e.code;
        if (code === 'node-lost' && movingSince === null) movingSince = Date.now();
        const moving = movingSince !== null && Date.now() - movingSince < FAILOVER_MS;
        if (this.closed || !moving || (code !== 'node-lost' && code !== 'appliance-offline')) throw e;
      }
    }
  }

  async _getOnce() {
    if (this.closed) throw new TypeError('the shim was uninstalled');
    const current = this.link;
    if (current && current.state !== 'down' && !current.retired) return this._prepared(current);
    if (!this._starting) {
      this._starting = this._start().finally(() => { this._starting = null; });
    }
    return this._prepared(await this._starting);
  }

  /** Waits for the link, then for `options.prepare(link)` once per link; a failed preparation does not fail the link. */
  async _prepared(link) {
    await link.ready;
    if (!link._prepared) {
      link._prepared = this.options.prepare ? this.options.prepare(link).catch(() => {}) : Promise.resolve();
    }
    await link._prepared;
    return link;
  }

  async _start() {
    if (this.failures > 0) {
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** (this.failures - 1));
      const wait = this.lastFailure + delay - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (this.closed) throw new TypeError('the shim was uninstalled');
    const link = new Link(this.options);
    this.link = link;
    let wasUp = false;
    link.addEventListener('statechange', () => {
      if (link.state === 'up') {
        wasUp = true;
        this.failures = 0;
      } else if (link.state === 'down') {
        if (!wasUp) {
          this.failures++;
          this.lastFailure = Date.now();
        }
      }
      this._emit(link);
    });
    // A new path (relay → direct, say) is news for whoever shows the link: the same status event.
    link.addEventListener('pathchange', () => this._emit(link));
    this._emit(link);
    return link;
  }

  _emit(link) {
    if (link !== this.link) return;
    const detail = { state: link.state, info: link.state === 'up' ? link.info : null, error: link.error };
    const ev = typeof CustomEvent === 'function' ? new CustomEvent('status', { detail }) : Object.assign(new Event('status'), { detail });
    this.dispatchEvent(ev);
  }

  close() {
    this.closed = true;
    if (this.link) this.link.close('uninstalled');
  }
}

/**
 * @typedef {{
 *   flock: string,
 *   appliance: string,
 *   apps?: Record<string, string>,
 *   iceServers?: RTCIceServer[],
 *   iceTransportPolicy?: 'all'|'relay',
 *   connectTimeoutMs?: number,
 *   tokenFromUrl?: boolean,
 *   store?: {get(key: string): Promise<any>, put(key: string, value: any): Promise<void>, delete(key: string): Promise<void>},
 * }} InstallOptions
 */

/**
 * Route app URLs (`intrustd+app://<app>/...` and configured same-origin prefixes) through a
 * verified link to an appliance, by replacing `fetch`, `XMLHttpRequest` and `WebSocket` on
 * `globalThis`. Other URLs go to the original implementations.
 * @param {InstallOptions} options
 * @returns {IntrustdHandle}
 */
export function install(options) {
  if (!options || typeof options.flock !== 'string') throw new TypeError('install: options.flock (the flock URL) is required');
  const appliance = parseApplianceId(options.appliance);
  const apps = normaliseApps(options.apps);
  const g = globalThis;
  const originals = { fetch: g.fetch, XMLHttpRequest: g.XMLHttpRequest, WebSocket: g.WebSocket };
  const access = new Access({ appliance, store: options.store });
  if (options.tokenFromUrl !== false && g.location && typeof g.location.hash === 'string') {
    // A share link's token rides in the fragment (never sent to a server); take it out of the
    // address bar so it is not shared further by copying the URL or on a screen.
    const { token, rest } = takeTokenFromFragment(g.location.hash, appliance);
    if (token) {
      access.queueToken(token);
      if (g.history && typeof g.history.replaceState === 'function') {
        g.history.replaceState(g.history.state, '', g.location.pathname + g.location.search + rest);
      }
    }
  }
  const manager = new LinkManager({
    prepare: (link) => access.prepare(link),
    flock: options.flock,
    appliance,
    iceServers: options.iceServers,
    iceTransportPolicy: options.iceTransportPolicy,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    WebSocket: originals.WebSocket,
    RTCPeerConnection: g.RTCPeerConnection,
  });
  const getLink = () => manager.get();
  const patched = {};
  if (originals.fetch) {
    patched.fetch = createFetch({ getLink, apps, originalFetch: originals.fetch.bind(g) });
  }
  if (originals.XMLHttpRequest) patched.XMLHttpRequest = createXHRClass({ getLink, apps, NativeXHR: originals.XMLHttpRequest });
  patched.WebSocket = createWebSocketClass({ getLink, apps, NativeWebSocket: originals.WebSocket });
  Object.assign(g, patched);

  return new IntrustdHandle(manager, access, () => {
    for (const [name, value] of Object.entries(patched)) {
      if (g[name] === value) g[name] = originals[name];
    }
    manager.close();
  });
}

/** What install() returns. Events: `status` (CustomEvent, detail {state, info, error}). */
export class IntrustdHandle extends EventTarget {
  constructor(manager, access, uninstall) {
    super();
    this._manager = manager;
    this._access = access;
    this._uninstall = uninstall;
    for (const [source, type] of [[manager, 'status'], [access, 'session']]) {
      source.addEventListener(type, (ev) => {
        const copy = typeof CustomEvent === 'function' ? new CustomEvent(type, { detail: ev.detail }) : Object.assign(new Event(type), { detail: ev.detail });
        this.dispatchEvent(copy);
      });
    }
  }

  /**
   * Log in as `persona`. The password goes only through the verified link; the session is
   * bound to this browser's device key and remembered (sealed) for later page loads.
   * Rejects with IntrustdAccessError (status 401, or 429 with retryAfterSeconds).
   * @returns {Promise<import('./access.js').SessionInfo>}
   */
  async login(persona, password, { label } = {}) {
    return this._access.login(await this._manager.get(), persona, password, label);
  }

  /**
   * Claim a new appliance (one that has no owner yet) with the one-time code it printed:
   * `persona` becomes its owner, logged in. Rejects with IntrustdAccessError (401 wrong code,
   * 409 claimed already, 429 too many attempts).
   */
  async claim(code, persona, password, { displayName, label } = {}) {
    return this._access.claim(await this._manager.get(), code, persona, password, displayName ?? persona, label);
  }

  /** End the session on the appliance and forget it here. */
  async logout() {
    return this._access.logout(await this._manager.get());
  }

  /**
   * Who this page is to the appliance now: persona, tokens, permissions.
   * @returns {Promise<import('./access.js').SessionInfo>}
   */
  async session() {
    return this._access.refresh(await this._manager.get());
  }

  /** The logged-in persona's sessions: [{id, label, created, lastUsed, expires, current}]. */
  async sessions() {
    return this._access.sessions(await this._manager.get());
  }

  /** End one of the persona's sessions (e.g. a lost phone); resolves with the remaining ones. */
  async endSession(id) {
    return this._access.endSession(await this._manager.get(), id);
  }

  /** The logged-in persona's picture (a data: URL), or null if it has none. */
  async avatar() {
    return this._access.avatar(await this._manager.get());
  }

  /**
   * Call the appliance's control API (what `intrustd` commands use) through the link, as its
   * owner or an admin: e.g. `admin('GET', '/v1/status')`, or with a File to upload
   * `admin('POST', '/v1/apps/bundle', file, {onUploadProgress: (sent, total, done) => …})`.
   * Resolves with the JSON answer; rejects with IntrustdAccessError (403 for anyone else).
   */
  async admin(method, path, body, options) {
    return this._access.admin(await this._manager.get(), method, path, body, options);
  }

  /** The last known SessionInfo (null until a session, token or `session()` call said). */
  get currentSession() {
    return this._access.current;
  }

  /** Present a token (the secret of a share link) and remember it for later links. */
  async presentToken(token) {
    return this._access.presentToken(await this._manager.get(), token);
  }

  /**
   * Show the login dialog (restylable: it is a <dialog class="intrustd-login">); resolves with
   * the SessionInfo, or null if the visitor cancels.
   */
  showLogin(options = {}) {
    return showLogin(this, options);
  }

  /** The current LinkInfo, or null while no link is up. */
  get status() {
    return this._manager.status;
  }

  /**
   * Bring the link up (or use the one that is up).
   * @returns {Promise<import('./link.js').LinkInfo>}
   */
  async link() {
    const link = await this._manager.get();
    return link.info;
  }

  /**
   * The link's info with `path` read again from the current stats now (ICE may have moved the
   * link since; a `status` event says so on its own within seconds).
   */
  async refreshPath() {
    const link = await this._manager.get();
    return link.refreshPath();
  }

  /** Restore the original globals and close the link. */
  uninstall() {
    this._uninstall();
  }
}

// A link: one verified WebRTC peer connection to an appliance, set up through a flock.
import { FlockClient } from './flock-client.js';
import { verifyAnswer } from './signing.js';
import { parseApplianceId } from './id.js';
import { Stream } from './stream.js';
import { IntrustdLinkError, IntrustdVerificationError } from './errors.js';
import { toB64url, randomBytes } from './bytes.js';
import { APP_ID } from './routes.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10000;
export const SESSION_LABEL = 'intrustd/session';
export const ADMIN_LABEL = 'intrustd/admin';
const DISCONNECTED_GRACE_MS = 5000;
/** How long the appliance has to echo a keepalive probe before a link the flock gave up on is dropped. */
const PROBE_TIMEOUT_MS = 2000;
const KEEPALIVE_LABEL = 'intrustd/keepalive';
/** How often an up link reads its stats to see whether ICE moved it to another path. */
const PATH_POLL_MS = 5000;
/**
 * The highest data-channel (SCTP stream) id the appliance accepts: its WebRTC engine takes
 * 0..1023 and drops the open of any higher id without a word, while the browser's channel opens
 * regardless (an in-band channel opens without the peer's ack), so a request on it would wait
 * forever with nothing in the appliance's access log. Chromium allocates ids up to 65,534 and
 * frees one only once the stream's reset has completed both ways; when resets stall (seen
 * under load: the appliance answers a deferred reset "in progress" for ever, and every later
 * reset queues behind it), each new channel takes a higher id until they pass this.
 */
export const MAX_STREAM_ID = 1023;

/**
 * @typedef {{
 *   applianceId: string,
 *   publicKey: string,
 *   verified: true,
 *   path: 'direct-lan'|'direct-nat'|'relay'|'unknown',
 *   connectedAt: number,
 *   setupMs: number,
 * }} LinkInfo
 */

function isLocalAddress(addr) {
  if (!addr) return false;
  addr = String(addr).toLowerCase();
  if (addr.endsWith('.local')) return true; // mDNS host name
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) ||
      (a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128) || (a === 198 && (b === 18 || b === 19));
  }
  return addr === '::1' || /^f[cd]/.test(addr) || /^fe[89ab]/.test(addr);
}

/** The /24 of an IPv4 address or the /64 of an IPv6 one; null when `addr` is no IP literal. */
function subnetOf(addr) {
  if (!addr) return null;
  addr = String(addr).toLowerCase();
  const m = /^(\d+)\.(\d+)\.(\d+)\.\d+$/.exec(addr);
  if (m) return `${m[1]}.${m[2]}.${m[3]}`;
  if (!addr.includes(':') || !/^[0-9a-f:.]+$/.test(addr)) return null;
  const [head, tail = ''] = addr.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return groups.slice(0, 4).map((g) => parseInt(g || '0', 16)).join(':');
}

/**
 * Classify the selected candidate pair (the same rules as the appliance's LinkPath, docs/relay.md):
 * - relay if either end is a TURN relay candidate;
 * - direct-nat if either is server-reflexive (an address a STUN server saw);
 * - when both addresses are known: direct-lan if they share a subnet (/24, /64), else direct-nat
 *   (direct, across routers: through NAT or not);
 * - otherwise by types: direct-lan for two host candidates, or for the browser (which often
 *   gathers no host candidate of its own and is seen as peer-reflexive) reaching a host
 *   candidate on a private address; direct-nat for any other peer-reflexive one; else unknown.
 */
export function classifyPath(localType, remoteType, remoteAddress, localAddress) {
  if (!localType || !remoteType) return 'unknown';
  if (localType === 'relay' || remoteType === 'relay') return 'relay';
  if (localType === 'srflx' || remoteType === 'srflx') return 'direct-nat';
  const [here, there] = [subnetOf(localAddress), subnetOf(remoteAddress)];
  if (here && there) return here === there ? 'direct-lan' : 'direct-nat';
  if (localType === 'host' && remoteType === 'host') return 'direct-lan';
  if (remoteType === 'host' && localType === 'prflx' && isLocalAddress(remoteAddress)) return 'direct-lan';
  if (localType === 'prflx' || remoteType === 'prflx') return 'direct-nat';
  return 'unknown';
}

/** Path of a peer connection from its stats. */
export async function selectedPath(pc) {
  let stats;
  try {
    stats = await pc.getStats();
  } catch {
    return 'unknown';
  }
  let pair = null;
  stats.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId && !pair) pair = stats.get(r.selectedCandidatePairId) || null;
  });
  if (!pair) {
    stats.forEach((r) => {
      if (r.type === 'candidate-pair' && (r.selected || (r.nominated && r.state === 'succeeded')) && !pair) pair = r;
    });
  }
  if (!pair) return 'unknown';
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  return classifyPath(local && local.candidateType, remote && remote.candidateType, remote && (remote.address || remote.ip),
    local && (local.address || local.ip));
}

/**
 * @typedef {{
 *   flock: string,
 *   appliance: string,
 *   iceServers?: RTCIceServer[],
 *   iceTransportPolicy?: 'all'|'relay',
 *   connectTimeoutMs?: number,
 *   pathPollMs?: number,
 *   WebSocket?: typeof WebSocket,
 *   RTCPeerConnection?: typeof RTCPeerConnection,
 * }} ConnectOptions
 */

/**
 * A link to one appliance. Created by `connect()`; `ready` resolves with the LinkInfo once the
 * answer is verified and the peer connection's SCTP transport is up.
 * Events: `statechange` (state: connecting → up → down); `pathchange` when the path in use
 * changes while up (`path`, and `info.path`, hold the new one; the event's `detail` is
 * {path, previous}).
 */
export class Link extends EventTarget {
  /** @param {ConnectOptions} options */
  constructor(options) {
    super();
    if (!options || !options.flock) throw new TypeError('connect: the flock option is required');
    this.applianceId = parseApplianceId(options.appliance);
    this.options = options;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.probeTimeoutMs = options.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
    /** @type {'connecting'|'up'|'down'} */
    this.state = 'connecting';
    /** @type {LinkInfo|null} */
    this.info = null;
    /** @type {Error|null} why the link is down */
    this.error = null;
    this.session = toB64url(randomBytes(12));
    this._streams = new Set();
    /** @type {Error|null} set once the link takes no new streams (it goes down after its last one) */
    this.retired = null;
    this._flock = null;
    this._pc = null;
    this._disconnectTimer = null;
    this.ready = this._setup();
    this.ready.catch(() => {});
  }

  async _setup() {
    const started = performance.now();
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new IntrustdLinkError(`no link to ${this.applianceId} within ${this.connectTimeoutMs} ms`, 'timeout')), this.connectTimeoutMs);
    });
    try {
      const info = await Promise.race([this._negotiate(started), timeout, this._downPromise()]);
      clearTimeout(timer);
      if (this.state !== 'connecting') throw this.error || new IntrustdLinkError('link closed', 'closed');
      this.info = info;
      this._setState('up');
      this._watchPath();
      return info;
    } catch (e) {
      clearTimeout(timer);
      this._down(e);
      throw this.error;
    }
  }

  _downPromise() {
    return new Promise((_, reject) => { this._rejectSetup = reject; });
  }

  async _negotiate(started) {
    const WS = this.options.WebSocket || globalThis.WebSocket;
    const PC = this.options.RTCPeerConnection || globalThis.RTCPeerConnection;
    if (!PC) throw new IntrustdLinkError('this browser has no WebRTC (RTCPeerConnection)', 'unsupported');

    const flock = new FlockClient(this.options.flock, { WebSocket: WS });
    this._flock = flock;
    // Once the link is up it no longer needs the flock: losing it (or a bye, below) only makes
    // the link prove that the appliance still answers.
    flock.onclose = (err) => this._lostFlock(err);
    const flockIce = await flock.connect();
    if (this.state !== 'connecting') throw this.error;

    // iceTransportPolicy 'relay' forces the TURN relay (tests; a page that must not reveal its
    // addresses to the appliance); the default tries host, then server-reflexive, then relay.
    const pc = new PC({ iceServers: this.options.iceServers ?? flockIce, iceTransportPolicy: this.options.iceTransportPolicy ?? 'all' });
    this._pc = pc;
    // A negotiated channel puts an m=application section in the offer without a DCEP open the
    // appliance would have to refuse; its `open` event tells that SCTP is up.
    const keepalive = pc.createDataChannel(KEEPALIVE_LABEL, { negotiated: true, id: 0, ordered: true });
    const sctpUp = new Promise((resolve, reject) => {
      keepalive.onopen = resolve;
      keepalive.onclose = () => reject(new IntrustdLinkError('peer connection closed during set-up', 'peer-closed'));
    });
    sctpUp.catch(() => {});

    let introduced = false;
    const localCandidates = [];
    const sendCandidate = (c) => {
      flock.send({
        type: 'candidate', session: this.session,
        candidate: c ? c.candidate : '',
        sdpMid: c ? (c.sdpMid ?? null) : null,
        sdpMLineIndex: c && typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : 0,
      });
    };
    pc.onicecandidate = (ev) => {
      if (this.state === 'down') return;
      if (introduced) sendCandidate(ev.candidate);
      else localCandidates.push(ev.candidate);
    };

    let remoteSet = false;
    const remoteCandidates = [];
    const addRemote = (m) => {
      const init = m.candidate
        ? { candidate: m.candidate, sdpMid: m.sdpMid ?? null, sdpMLineIndex: m.sdpMLineIndex ?? 0 }
        : undefined; // end of candidates
      Promise.resolve(init ? pc.addIceCandidate(init) : pc.addIceCandidate()).catch(() => {});
    };

    const answered = new Promise((resolve, reject) => {
      flock.sessions.set(this.session, {
        answer: (m) => resolve(m),
        candidate: (m) => {
          if (typeof m.candidate !== 'string') return;
          if (remoteSet) addRemote(m);
          else remoteCandidates.push(m);
        },
        bye: (m) => {
          const err = new IntrustdLinkError(`appliance ${this.applianceId} ended the session: ${m.reason}`, String(m.reason || 'bye'));
          reject(err);
          this._lostFlock(err);
        },
        error: (m) => {
          const err = new IntrustdLinkError(`flock error ${m.code}: ${m.message}`, String(m.code || 'flock-error'));
          reject(err);
          // node-lost: a flock cluster node that carried this session died; like a lost flock, it
          // ends a link still connecting but not one that is up (it needs no flock).
          if (m.code === 'node-lost') this._lostFlock(err);
          else this._down(err);
        },
      });
    });
    answered.catch(() => {});

    const offer = await pc.createOffer();
    const offerSdp = offer.sdp;
    await pc.setLocalDescription({ type: 'offer', sdp: offerSdp });
    if (this.state !== 'connecting') throw this.error;
    flock.send({ type: 'introduce', session: this.session, appliance: this.applianceId, sdp: offerSdp });
    introduced = true;
    for (const c of localCandidates.splice(0)) sendCandidate(c);

    const answer = await answered;
    if (this.state !== 'connecting') throw this.error;
    // Verify before the answer is used at all.
    if (typeof answer.sdp !== 'string' || typeof answer.publicKey !== 'string' || typeof answer.signature !== 'string') {
      throw new IntrustdVerificationError('answer without sdp, publicKey or signature');
    }
    let answeredId = null;
    try { answeredId = parseApplianceId(answer.appliance); } catch { /* below */ }
    if (answeredId !== this.applianceId) {
      throw new IntrustdVerificationError(`the flock answered for ${answer.appliance}, not ${this.applianceId}`);
    }
    const publicKey = await verifyAnswer({
      expectedId: this.applianceId,
      publicKey: answer.publicKey,
      signature: answer.signature,
      offerSdp,
      answerSdp: answer.sdp,
    });
    if (this.state !== 'connecting') throw this.error;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    remoteSet = true;
    for (const m of remoteCandidates.splice(0)) addRemote(m);

    pc.onconnectionstatechange = () => this._onConnectionState();
    await sctpUp;
    keepalive.onclose = () => this._down(new IntrustdLinkError('peer connection closed', 'peer-closed'));
    keepalive.binaryType = 'arraybuffer';
    keepalive.onmessage = (ev) => this._onProbeEcho(ev.data);
    this._keepalive = keepalive;
    const path = await selectedPath(pc);
    return {
      applianceId: this.applianceId,
      publicKey: toB64url(publicKey),
      verified: true,
      path,
      connectedAt: Date.now(),
      setupMs: Math.round(performance.now() - started),
    };
  }

  _onConnectionState() {
    const s = this._pc && this._pc.connectionState;
    if (s === 'failed' || s === 'closed') {
      this._down(new IntrustdLinkError(`peer connection ${s}`, 'peer-' + s));
    } else if (s === 'disconnected') {
      if (!this._disconnectTimer) {
        this._disconnectTimer = setTimeout(() => {
          this._disconnectTimer = null;
          if (this._pc && this._pc.connectionState === 'disconnected') {
            this._down(new IntrustdLinkError('peer connection disconnected', 'peer-disconnected'));
          }
        }, DISCONNECTED_GRACE_MS);
      }
    } else if (this._disconnectTimer) {
      clearTimeout(this._disconnectTimer);
      this._disconnectTimer = null;
    }
  }

  /**
   * The flock said bye for this session (the appliance re-registered, or went away) or the flock
   * connection closed. Before the link is up that ends it; after, the link lives on if the
   * appliance echoes a probe on the keepalive channel in time (channels.md), since a peer link
   * does not need the flock: an appliance that moved flocks or reconnected keeps its browsers.
   */
  _lostFlock(err) {
    if (this.state !== 'up' || !this._keepalive) {
      this._down(err);
      return;
    }
    if (this._probe) return;
    const nonce = toB64url(randomBytes(8));
    this._probe = {
      nonce,
      timer: setTimeout(() => { this._probe = null; this._down(err); }, this.probeTimeoutMs),
    };
    try {
      this._keepalive.send(new TextEncoder().encode(nonce));
    } catch {
      clearTimeout(this._probe.timer);
      this._probe = null;
      this._down(err);
    }
  }

  _onProbeEcho(data) {
    if (!this._probe || typeof data === 'string') return;
    if (new TextDecoder().decode(data) === this._probe.nonce) {
      clearTimeout(this._probe.timer);
      this._probe = null;
    }
  }

  _setState(state) {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }

  _down(err) {
    if (this.state === 'down') return;
    this.error = err || new IntrustdLinkError('link closed', 'closed');
    this.state = 'down';
    if (this._rejectSetup) this._rejectSetup(this.error);
    if (this._disconnectTimer) clearTimeout(this._disconnectTimer);
    if (this._probe) clearTimeout(this._probe.timer);
    this._probe = null;
    if (this._pathTimer) clearInterval(this._pathTimer);
    if (this._iceTransport) this._iceTransport.removeEventListener('selectedcandidatepairchange', this._onPairChange);
    const lost = this.error instanceof IntrustdLinkError || this.error instanceof IntrustdVerificationError
      ? this.error
      : new IntrustdLinkError(String(this.error && this.error.message), 'link-failed', { cause: this.error });
    for (const s of [...this._streams]) s.fail(new IntrustdLinkError(`link lost: ${lost.message}`, lost.code || 'link-lost', { cause: lost }), false);
    this._streams.clear();
    if (this._pc) {
      this._pc.onconnectionstatechange = null;
      this._pc.onicecandidate = null;
      try { this._pc.close(); } catch { /* ignore */ }
    }
    if (this._flock) {
      this._flock.onclose = null;
      this._flock.send({ type: 'bye', session: this.session, reason: 'client-closed' });
      this._flock.close();
    }
    this.dispatchEvent(new Event('statechange'));
  }

  /**
   * Open a fresh stream (data channel `http/<app-id>`, protocol `intrustd/1`).
   * @param {string} appId
   * @returns {Promise<Stream>} once the channel is open
   */
  async openStream(appId) {
    if (!APP_ID.test(appId)) throw new TypeError(`invalid app id ${JSON.stringify(appId)}`);
    return this._openChannel(`http/${appId}`);
  }

  /**
   * Open a stream to the appliance itself (spec/access.md): its session API (`intrustd/session`)
   * or, for its owner and admins, its control API (`intrustd/admin`).
   * @param {string} label
   */
  async openDaemonStream(label) {
    if (label !== SESSION_LABEL && label !== ADMIN_LABEL) throw new TypeError(`not a daemon channel: ${JSON.stringify(label)}`);
    return this._openChannel(label);
  }

  /**
   * This end's DTLS certificate fingerprint as the appliance canonicalises it
   * (`sha-256 AB:CD:…`): what a session proof names (spec/access.md).
   */
  get localFingerprint() {
    const sdp = this._pc && this._pc.localDescription ? this._pc.localDescription.sdp : '';
    const m = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp);
    return m ? `${m[1].toLowerCase()} ${m[2].toUpperCase()}` : null;
  }

  async _openChannel(label) {
    if (this.state === 'connecting') await this.ready;
    if (this.state !== 'up') throw this.error || new IntrustdLinkError('link is down', 'down');
    if (this.retired) throw this.retired;
    let channel;
    try {
      channel = this._pc.createDataChannel(label, { ordered: true, protocol: 'intrustd/1' });
    } catch (e) {
      const err = new IntrustdLinkError('cannot open a data channel', 'channel-failed', { cause: e });
      this._down(err);
      throw err;
    }
    this._checkStreamId(channel);
    const stream = new Stream(channel, {
      openTimeoutMs: this.connectTimeoutMs,
      onClose: (s) => {
        this._streams.delete(s);
        if (this.retired && this._streams.size === 0) this._down(this.retired);
      },
    });
    this._streams.add(stream);
    await stream.opened;
    this._checkStreamId(channel, stream); // the id may only be assigned once the channel opens
    return stream;
  }

  /**
   * A channel whose id the appliance would never see (MAX_STREAM_ID) is closed before anything
   * is sent on it, and the link retires: it takes no new streams, the ones it has finish, and
   * the next request gets a fresh link (fresh ids). Throws the retirement error.
   */
  _checkStreamId(channel, stream = null) {
    if (typeof channel.id !== 'number' || channel.id <= MAX_STREAM_ID) return;
    const err = new IntrustdLinkError(`data channel id ${channel.id} is above the appliance's ${MAX_STREAM_ID}: `
      + 'this link\'s channels are not being released, a new link takes over', 'stream-ids-exhausted');
    if (stream) stream.fail(err, false);
    else {
      try { channel.close(); } catch { /* ignore */ }
    }
    if (!this.retired) {
      this.retired = err;
      if (this._streams.size === 0) this._down(err);
    }
    throw err;
  }

  /** The path in use: 'direct-lan', 'direct-nat', 'relay', or 'unknown' (also while not up). */
  get path() {
    return this.info ? this.info.path : 'unknown';
  }

  /** Refresh `info.path` from the current stats; dispatches `pathchange` when it changed. */
  async refreshPath() {
    if (this.state !== 'up' || !this.info) return this.info;
    const path = await selectedPath(this._pc);
    const previous = this.info.path;
    if (this.state === 'up' && path !== previous && path !== 'unknown') {
      this.info = { ...this.info, path };
      const detail = { path, previous };
      this.dispatchEvent(typeof CustomEvent === 'function' ? new CustomEvent('pathchange', { detail }) : Object.assign(new Event('pathchange'), { detail }));
    }
    return this.info;
  }

  /**
   * Follows the selected candidate pair: ICE may move a link from the relay to a direct pair
   * (or back) after set-up. Chromium says so on the ICE transport; elsewhere, and as a backstop,
   * the stats are read every `pathPollMs` (5 s).
   */
  _watchPath() {
    const ice = this._pc && this._pc.sctp && this._pc.sctp.transport && this._pc.sctp.transport.iceTransport;
    if (ice && typeof ice.addEventListener === 'function') {
      this._onPairChange = () => { this.refreshPath().catch(() => {}); };
      ice.addEventListener('selectedcandidatepairchange', this._onPairChange);
      this._iceTransport = ice;
    }
    const every = this.options.pathPollMs ?? PATH_POLL_MS;
    if (every > 0) this._pathTimer = setInterval(() => { this.refreshPath().catch(() => {}); }, every);
  }

  /** Close the link; open streams fail. */
  close(reason = 'closed by the page') {
    this._down(new IntrustdLinkError(reason, 'closed'));
  }
}

/**
 * Start a link to an appliance. Await `link.ready` for its LinkInfo.
 * @param {ConnectOptions} options
 * @returns {Link}
 */
export function connect(options) {
  return new Link(options);
}

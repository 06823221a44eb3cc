// In-memory stand-ins for RTCDataChannel, RTCPeerConnection, the flock WebSocket and an
// appliance with HTTP apps, so that the shim's upper layers run under node --test.
import { webcrypto } from 'node:crypto';
import { Stream } from '../src/stream.js';
import { decodeFrame, encodeData, encodeEnd, encodeReset, encodeWindow } from '../src/frames.js';
import { INITIAL_WINDOW } from '../src/stream.js';
import { IntrustdLinkError } from '../src/errors.js';
import { signingInput, ANSWER_CONTEXT } from '../src/signing.js';
import { applianceIdFromPublicKey } from '../src/id.js';
import { toB64url, asBytes, concat } from '../src/bytes.js';

const later = (fn) => setImmediate(fn);

export class FakeChannel {
  constructor(label, protocol = '', options = {}) {
    this.label = label;
    this.protocol = protocol;
    this.negotiated = !!options.negotiated;
    this.readyState = 'connecting';
    this.bufferedAmount = 0;
    this.bufferedAmountLowThreshold = 0;
    this.binaryType = 'blob';
    this.peer = null;
    this.onopen = this.onmessage = this.onclose = this.onerror = this.onbufferedamountlow = null;
    this.sent = [];
  }
  _open() {
    if (this.readyState !== 'connecting') return;
    this.readyState = 'open';
    later(() => this.onopen && this.onopen({}));
  }
  send(data) {
    if (this.readyState !== 'open') throw new DOMException('not open', 'InvalidStateError');
    const copy = typeof data === 'string' ? data : asBytes(data).slice().buffer;
    this.sent.push(copy);
    if (this.echo) { // the appliance's side of the keepalive channel echoes probes
      later(() => { if (this.readyState === 'open' && this.echo && this.onmessage) this.onmessage({ data: copy }); });
      return;
    }
    const peer = this.peer;
    later(() => {
      if (peer && peer.readyState === 'open' && peer.onmessage) peer.onmessage({ data: copy });
    });
  }
  close() {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    later(() => this.onclose && this.onclose({}));
    if (this.onReleased) this.onReleased();
    const peer = this.peer;
    if (peer && peer.readyState !== 'closed') {
      later(() => {
        if (peer.readyState === 'closed') return;
        peer.readyState = 'closed';
        if (peer.onReleased) peer.onReleased();
        if (peer.onclose) peer.onclose({});
      });
    }
  }
}

export function channelPair(label, protocol) {
  const a = new FakeChannel(label, protocol);
  const b = new FakeChannel(label, protocol);
  a.peer = b;
  b.peer = a;
  later(() => { a._open(); b._open(); });
  return [a, b];
}

/**
 * Server end of a stream, with the appliance's flow control: it credits the client for every
 * DATA frame at once (or never, with `res.withholdCredit = true`), and queues what it writes
 * until the client's WINDOW frames allow it. handler(req, res): req = {method, target, headers
 * (lower-case object), body: Buffer, upgrade: boolean, onData(fn), onEnd(fn)}, res = {write,
 * end, reset, channel, received()}. For normal requests the handler runs once the client's END
 * arrived; for upgrade requests as soon as the head is complete.
 */
export function serve(channel, handler) {
  let buf = Buffer.alloc(0);
  let head = null;
  let ended = false;
  const dataFns = [];
  const endFns = [];
  const frames = [];
  let credit = INITIAL_WINDOW;
  const outbox = []; // frames waiting for credit; END and RESET wait behind DATA
  const flush = () => {
    while (outbox.length && channel.readyState === 'open') {
      const frame = outbox[0];
      const n = frame[0] === 0x00 ? frame.length - 1 : 0;
      if (n > credit) return;
      credit -= n;
      outbox.shift();
      channel.send(frame);
      if (frame[0] === 0x02) channel.close();
    }
  };
  const res = {
    channel,
    frames,
    withholdCredit: false,
    write(bytes) {
      bytes = Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
      for (let i = 0; i < bytes.length; i += 65535) outbox.push(encodeData(bytes.subarray(i, i + 65535)));
      flush();
    },
    end() { outbox.push(encodeEnd()); flush(); },
    reset(reason = 'server reset') { outbox.length = 0; outbox.push(encodeReset(reason)); flush(); },
    /** DATA bytes written but held back for want of credit. */
    get pending() { return outbox.reduce((n, f) => n + (f[0] === 0x00 ? f.length - 1 : 0), 0); },
  };
  channel.onmessage = ({ data }) => {
    const f = decodeFrame(data);
    frames.push(f.type);
    if (f.type === 'WINDOW') { credit += f.increment; flush(); return; }
    if (f.type === 'RESET') { res.gotReset = f.reason; return; }
    if (f.type === 'DATA' && !res.withholdCredit) channel.send(encodeWindow(f.payload.length));
    if (f.type === 'END') {
      ended = true;
      if (head && head.upgrade) { endFns.forEach((fn) => fn()); return; }
      const text = buf.toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      const h = parseHead(text.slice(0, at));
      let body = buf.subarray(at + 4);
      if (h.headers['transfer-encoding'] === 'chunked') body = dechunk(body);
      else if (h.headers['content-length'] !== undefined) body = body.subarray(0, Number(h.headers['content-length']));
      handler({ ...h, body, rawBody: buf.subarray(at + 4) }, res);
      return;
    }
    if (head && head.upgrade) { dataFns.forEach((fn) => fn(Buffer.from(f.payload))); return; }
    buf = Buffer.concat([buf, Buffer.from(f.payload)]);
    if (!head) {
      const at = buf.toString('latin1').indexOf('\r\n\r\n');
      if (at >= 0) {
        const h = parseHead(buf.subarray(0, at).toString('latin1'));
        if (h.upgrade) {
          head = h;
          const rest = buf.subarray(at + 4);
          handler({ ...h, body: Buffer.alloc(0), onData: (fn) => dataFns.push(fn), onEnd: (fn) => endFns.push(fn) }, res);
          if (rest.length) dataFns.forEach((fn) => fn(rest));
        }
      }
    }
  };
  return res;
}

function parseHead(text) {
  const [line, ...rest] = text.split('\r\n');
  const [method, target, version] = line.split(' ');
  const headers = {};
  const list = [];
  for (const l of rest) {
    const i = l.indexOf(':');
    const name = l.slice(0, i).toLowerCase();
    const value = l.slice(i + 1).trim();
    list.push([l.slice(0, i), value]);
    headers[name] = headers[name] === undefined ? value : headers[name] + ', ' + value;
  }
  return { method, target, version, headers, list, upgrade: (headers.upgrade || '').toLowerCase() === 'websocket' };
}

function dechunk(buf) {
  const out = [];
  let off = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', off);
    const size = parseInt(buf.subarray(off, nl).toString(), 16);
    off = nl + 2;
    if (size === 0) break;
    out.push(buf.subarray(off, off + size));
    off += size + 2;
  }
  return Buffer.concat(out);
}

/** A link whose streams are served in memory by `apps[appId](req, res)`. */
export class FakeLink {
  constructor(apps) {
    this.apps = apps;
    this.streams = new Set();
    this.state = 'up';
    this.opened = 0;
  }
  async openStream(appId) {
    if (this.state !== 'up') throw new IntrustdLinkError('link is down', 'down');
    this.opened++;
    const [client, server] = channelPair(`http/${appId}`, 'intrustd/1');
    const app = this.apps[appId];
    if (app) serve(server, app);
    else later(() => server.close());
    const s = new Stream(client, { onClose: (st) => this.streams.delete(st) });
    this.streams.add(s);
    await s.opened;
    return s;
  }
  drop(reason = 'peer connection failed') {
    this.state = 'down';
    for (const s of this.streams) s.fail(new IntrustdLinkError(`link lost: ${reason}`, 'peer-failed'), false);
  }
}

/** An appliance identity that signs answers. */
export async function makeIdentity() {
  const kp = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const raw = new Uint8Array(await webcrypto.subtle.exportKey('raw', kp.publicKey));
  return {
    raw,
    id: await applianceIdFromPublicKey(raw),
    publicKey: toB64url(raw),
    async sign(offer, answer) {
      return toB64url(new Uint8Array(await webcrypto.subtle.sign('Ed25519', kp.privateKey, signingInput(ANSWER_CONTEXT, [offer, answer]))));
    },
  };
}

/**
 * A fake flock + appliance + WebRTC world. `world.WebSocket` and `world.RTCPeerConnection`
 * are classes to inject. `behaviour` decides how the appliance answers:
 * 'ok' | 'bad-signature' | 'wrong-key' | 'offline' | 'silent'.
 *
 * Channels get stream ids as Chromium gives them: the lowest free odd id, freed when the
 * channel has closed, or never with `world.resetsStall = true` (stream resets that never
 * complete). Like the real appliance, the fake one never sees a channel above
 * `world.maxStreamId` (1023): the channel opens and nothing ever answers on it.
 */
export function makeWorld(identity, apps, options = {}) {
  const world = {
    /** The selected candidate pair getStats reports: [type, address] of each end (tests change it). */
    selectedPair: { local: ['prflx', '198.18.0.1'], remote: ['host', '198.18.0.2'] },
    behaviour: 'ok',
    flockSockets: [],
    peers: [],
    introduces: [],
    candidatesFromClient: [],
    remoteDescriptionsSet: 0,
    otherIdentity: options.otherIdentity,
    resetsStall: false,
    maxStreamId: 1023,
  };

  class FakeFlockSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      world.flockSockets.push(this);
      later(() => {
        if (world.flockDown) {
          this.readyState = 3;
          this.onerror && this.onerror({});
          this.onclose && this.onclose({ code: 1006, reason: '' });
          return;
        }
        this.readyState = 1;
        this.onopen && this.onopen({});
        this._deliver({ type: 'hello', iceServers: [] });
      });
    }
    _deliver(msg) {
      later(() => { if (this.readyState === 1 && this.onmessage) this.onmessage({ data: JSON.stringify(msg) }); });
    }
    send(text) {
      const msg = JSON.parse(text);
      if (msg.type === 'introduce') {
        world.introduces.push(msg);
        this._introduce(msg);
      } else if (msg.type === 'candidate') {
        world.candidatesFromClient.push(msg);
      } else if (msg.type === 'ping') {
        this._deliver({ type: 'pong' });
      }
    }
    async _introduce(msg) {
      // world.script: behaviours for the next introductions, one each, before world.behaviour
      const b = world.script && world.script.length ? world.script.shift() : world.behaviour;
      if (b === 'offline') return this._deliver({ type: 'error', code: 'appliance-offline', message: 'not registered', session: msg.session });
      if (b === 'node-lost') return this._deliver({ type: 'error', code: 'node-lost', message: 'the node went away', session: msg.session });
      if (b === 'silent') return;
      const answerSdp = 'v=0\r\no=- 99 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 AB:CD\r\n';
      const signer = b === 'wrong-key' ? world.otherIdentity : identity;
      let signature = await signer.sign(msg.sdp, answerSdp);
      if (b === 'bad-signature') signature = await identity.sign(msg.sdp + 'x', answerSdp);
      // a candidate overtakes nothing: answer first, then candidates
      this._deliver({ type: 'answer', session: msg.session, appliance: identity.id, publicKey: signer.publicKey, sdp: answerSdp, signature });
      this._deliver({ type: 'candidate', session: msg.session, candidate: 'candidate:1 1 udp 1 198.18.0.2 40000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
      this._deliver({ type: 'candidate', session: msg.session, candidate: '', sdpMid: null, sdpMLineIndex: 0 });
    }
    /** The flock tells the client the appliance went away. */
    bye(reason = 'appliance-offline') {
      for (const m of world.introduces) this._deliver({ type: 'bye', session: m.session, reason });
    }
    /** The flock ends every introduced session with an error (node-lost: a cluster node died). */
    sessionError(code) {
      for (const m of world.introduces) this._deliver({ type: 'error', code, message: code, session: m.session });
    }
    close(code = 1000) {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      later(() => this.onclose && this.onclose({ code, reason: '' }));
    }
  }

  class FakePeerConnection {
    constructor(config) {
      this.config = config;
      this.connectionState = 'new';
      this.channels = [];
      this.onicecandidate = this.onconnectionstatechange = null;
      this.keepalive = null;
      this.streamIds = new Set();
      world.peers.push(this);
    }
    createDataChannel(label, opts = {}) {
      if (this.connectionState === 'closed') throw new DOMException('closed', 'InvalidStateError');
      if (opts.negotiated) {
        const ch = new FakeChannel(label, opts.protocol || '', { negotiated: true });
        ch.id = opts.id;
        ch.echo = !world.applianceSilent;
        this.keepalive = ch;
        return ch;
      }
      let id = 1;
      while (this.streamIds.has(id)) id += 2;
      if (id > 65534) throw new DOMException('no free stream id', 'OperationError');
      this.streamIds.add(id);
      const [client, server] = channelPair(label, opts.protocol || '');
      client.id = server.id = id;
      let closed = 0;
      const release = () => { if (++closed === 2 && !world.resetsStall) this.streamIds.delete(id); };
      client.onReleased = server.onReleased = release;
      this.channels.push(client);
      if (id > world.maxStreamId) return client; // the appliance drops the open: silence
      const appId = label.replace(/^http\//, '');
      if (apps[appId]) serve(server, apps[appId]);
      else later(() => server.close());
      return client;
    }
    async createOffer() {
      return { type: 'offer', sdp: `v=0\r\no=- ${Math.floor(Math.random() * 1e9)} 2 IN IP4 127.0.0.1\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n` };
    }
    async setLocalDescription(d) {
      this.localDescription = d;
      later(() => {
        this.onicecandidate && this.onicecandidate({ candidate: { candidate: 'candidate:2 1 udp 2 198.18.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
        this.onicecandidate && this.onicecandidate({ candidate: null });
      });
    }
    async setRemoteDescription(d) {
      world.remoteDescriptionsSet++;
      this.remoteDescription = d;
      later(() => {
        this.connectionState = 'connected';
        this.onconnectionstatechange && this.onconnectionstatechange();
        if (this.keepalive) this.keepalive._open();
      });
    }
    async addIceCandidate() {}
    async getStats() {
      return new Map([
        ['T', { type: 'transport', selectedCandidatePairId: 'P' }],
        ['P', { type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' }],
        ['L', { type: 'local-candidate', candidateType: world.selectedPair.local[0], address: world.selectedPair.local[1] }],
        ['R', { type: 'remote-candidate', candidateType: world.selectedPair.remote[0], address: world.selectedPair.remote[1] }],
      ]);
    }
    /** The network fails. */
    fail() {
      this.connectionState = 'failed';
      this.onconnectionstatechange && this.onconnectionstatechange();
    }
    close() {
      if (this.connectionState === 'closed') return;
      this.connectionState = 'closed';
      for (const c of this.channels) c.close();
      if (this.keepalive) this.keepalive.close();
    }
  }

  world.WebSocket = FakeFlockSocket;
  world.RTCPeerConnection = FakePeerConnection;
  return world;
}

export const echoApp = (req, res) => {
  const body = req.body.length ? req.body : Buffer.from(new URL(req.target, 'http://x').searchParams.get('msg') || '');
  res.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`);
  if (body.length) res.write(body);
  res.end();
};

export { concat };

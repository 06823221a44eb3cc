// In-page side of bench/e2e/run.mjs; the Node script drives it with page.evaluate(). Every
// function returns plain, structured-cloneable values. Back-pressure settings are the shim's
// own (stream.js: HIGH_WATER 1 MiB, LOW_WATER 256 KiB), so that raw channels and the shim are
// compared under the same sending discipline.
import * as shim from '/__bench/shim/intrustd-shim.js';

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
export const MESSAGE = 64 * 1024;

let handle = null;

function mbps(bytes, ms) {
  return bytes / 1e6 / (ms / 1000);
}

// ------------------------------------------------------------------ shim

/** install() → first response (a 1-byte /stream) through the shim; a fresh link every time. */
export async function shimSetup({ flock, appliance }) {
  if (handle) handle.uninstall();
  const t0 = performance.now();
  handle = shim.install({ flock, appliance });
  const res = await fetch('intrustd+app://hello/stream?bytes=1');
  const body = new Uint8Array(await res.arrayBuffer());
  const ms = performance.now() - t0;
  if (res.status !== 200 || body.length !== 1) throw new Error(`unexpected first response ${res.status}, ${body.length} bytes`);
  const info = await handle.link();
  return { ms, linkSetupMs: info.setupMs, path: info.path };
}

/** Reads a response body, counting bytes and the sizes of the chunks the stream delivers. */
async function drain(res) {
  const reader = res.body.getReader();
  let total = 0;
  let chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    chunks++;
  }
  return { total, chunks };
}

/** GET `${base}/stream?bytes=N`: through the shim (base intrustd+app://hello) or plain HTTP (base ''). */
export async function download({ base, bytes }) {
  const t0 = performance.now();
  const res = await fetch(`${base}/stream?bytes=${bytes}`);
  if (res.status !== 200) throw new Error(`download: status ${res.status}`);
  const { total, chunks } = await drain(res);
  const ms = performance.now() - t0;
  if (total !== bytes) throw new Error(`download: ${total} of ${bytes} bytes`);
  return { ms, mbps: mbps(bytes, ms), chunks, avgChunk: Math.round(total / chunks) };
}

let uploadBlob = null;

function makeBlob(bytes) {
  if (uploadBlob && uploadBlob.size === bytes) return uploadBlob;
  const part = new Uint8Array(MESSAGE);
  crypto.getRandomValues(part);
  const parts = [];
  for (let off = 0; off < bytes; off += part.length) parts.push(part.subarray(0, Math.min(part.length, bytes - off)));
  uploadBlob = new Blob(parts, { type: 'application/octet-stream' });
  return uploadBlob;
}

/** POST `${base}/upload` with a Blob (Content-Length) or a ReadableStream (chunked; shim only). */
export async function upload({ base, bytes, kind = 'blob' }) {
  let body;
  let extra = {};
  if (kind === 'blob') {
    body = makeBlob(bytes);
  } else {
    const part = new Uint8Array(MESSAGE);
    crypto.getRandomValues(part);
    let sent = 0;
    body = new ReadableStream({
      pull(controller) {
        if (sent >= bytes) { controller.close(); return; }
        const n = Math.min(part.length, bytes - sent);
        controller.enqueue(part.slice(0, n));
        sent += n;
      },
    }, { highWaterMark: 4 });
    extra = { duplex: 'half' };
  }
  const t0 = performance.now();
  const res = await fetch(`${base}/upload`, { method: 'POST', body, ...extra });
  const json = await res.json();
  const ms = performance.now() - t0;
  if (res.status !== 200 || json.size !== bytes) throw new Error(`upload: status ${res.status}, ${JSON.stringify(json)}`);
  return { ms, mbps: mbps(bytes, ms) };
}

// ------------------------------------------------------------------ raw data channels

function opened(channel, timeoutMs = 15000) {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`channel ${channel.label} did not open`)), timeoutMs);
    channel.addEventListener('open', () => { clearTimeout(t); resolve(); }, { once: true });
    channel.addEventListener('close', () => { clearTimeout(t); reject(new Error(`channel ${channel.label} closed`)); }, { once: true });
  });
}

function nextMessage(channel) {
  return new Promise((resolve) => channel.addEventListener('message', (ev) => resolve(ev.data), { once: true }));
}

/** Sends `bytes` in `size`-byte messages with bufferedAmount back-pressure, then "end"; resolves with the peer's count. */
async function sendAndConfirm(channel, bytes, size) {
  channel.binaryType = 'arraybuffer';
  channel.bufferedAmountLowThreshold = LOW_WATER;
  const buf = new Uint8Array(size);
  for (let i = 0; i < size; i++) buf[i] = i % 251;
  const t0 = performance.now();
  for (let sent = 0; sent < bytes;) {
    if (channel.bufferedAmount > HIGH_WATER) {
      await new Promise((r) => channel.addEventListener('bufferedamountlow', r, { once: true }));
    }
    const n = Math.min(size, bytes - sent);
    channel.send(n === size ? buf : buf.subarray(0, n));
    sent += n;
  }
  const reply = nextMessage(channel);
  channel.send('end');
  const count = Number(new DataView(await reply).getBigUint64(0));
  const ms = performance.now() - t0;
  if (count !== bytes) throw new Error(`peer counted ${count} of ${bytes} bytes`);
  return { ms, mbps: mbps(bytes, ms) };
}

/** Asks the peer's source channel for `bytes` in `size`-byte messages and counts them. */
async function requestAndCount(channel, bytes, size) {
  channel.binaryType = 'arraybuffer';
  let got = 0;
  let messages = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    channel.onmessage = (ev) => {
      got += ev.data.byteLength;
      messages++;
      if (got >= bytes) resolve();
    };
    channel.send(`${bytes}:${size}`);
  });
  channel.onmessage = null;
  const ms = performance.now() - t0;
  return { ms, mbps: mbps(bytes, ms), messages };
}

// The peer side of the same protocol, in a browser (Chromium ↔ Chromium); RawChannelPeer is the Java one.
function serve(channel) {
  channel.binaryType = 'arraybuffer';
  channel.bufferedAmountLowThreshold = LOW_WATER;
  if (channel.label === 'sink') {
    let count = 0;
    channel.onmessage = (ev) => {
      if (typeof ev.data !== 'string') { count += ev.data.byteLength; return; }
      if (ev.data === 'end') {
        const reply = new DataView(new ArrayBuffer(8));
        reply.setBigUint64(0, BigInt(count));
        count = 0;
        channel.send(reply.buffer);
      }
    };
  } else if (channel.label === 'source') {
    channel.onmessage = async (ev) => {
      const [total, size] = String(ev.data).split(':').map(Number);
      const buf = new Uint8Array(size);
      for (let i = 0; i < size; i++) buf[i] = i % 251;
      for (let sent = 0; sent < total;) {
        if (channel.bufferedAmount > HIGH_WATER) {
          await new Promise((r) => channel.addEventListener('bufferedamountlow', r, { once: true }));
        }
        const n = Math.min(size, total - sent);
        channel.send(n === size ? buf : buf.subarray(0, n));
        sent += n;
      }
    };
  }
}

const peers = {}; // name → {pc, channels: {sink, source}, signalling}

async function openSecondChannel(p) {
  const source = p.pc.createDataChannel('source', { ordered: true });
  await opened(source);
  p.channels.source = source;
}

/**
 * A plain RTCPeerConnection to RawChannelPeer (registered with the flock like an appliance), with
 * the flock's client signalling but no verification and no shim: offer (with channel "sink") →
 * introduce → answer → trickle → channel open. Returns the set-up time offer → open.
 */
export async function rawConnect({ name, flock, appliance }) {
  const ws = new WebSocket(`${flock}/client`);
  await new Promise((resolve, reject) => {
    ws.onmessage = (ev) => { if (JSON.parse(ev.data).type === 'hello') resolve(); };
    ws.onerror = () => reject(new Error('flock unreachable'));
  });
  const session = `bench${Math.random().toString(36).slice(2, 12)}`;
  const t0 = performance.now();
  const pc = new RTCPeerConnection({ iceServers: [] });
  const sink = pc.createDataChannel('sink', { ordered: true });
  let introduced = false;
  const early = [];
  const sendCandidate = (c) => ws.send(JSON.stringify({
    type: 'candidate', session, candidate: c ? c.candidate : '', sdpMid: c ? c.sdpMid : null, sdpMLineIndex: c ? (c.sdpMLineIndex ?? 0) : 0,
  }));
  pc.onicecandidate = (ev) => { if (introduced) sendCandidate(ev.candidate); else early.push(ev.candidate); };
  let remoteSet = false;
  const pending = [];
  const answered = new Promise((resolve, reject) => {
    ws.onmessage = async (ev) => {
      const m = JSON.parse(ev.data);
      if (m.session !== session) return;
      if (m.type === 'answer') resolve(m);
      else if (m.type === 'candidate' && m.candidate) {
        const c = { candidate: m.candidate, sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex };
        if (remoteSet) pc.addIceCandidate(c).catch(() => {}); else pending.push(c);
      } else if (m.type === 'bye' || m.type === 'error') reject(new Error(`flock: ${ev.data}`));
    };
  });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  ws.send(JSON.stringify({ type: 'introduce', session, appliance, sdp: offer.sdp }));
  introduced = true;
  for (const c of early.splice(0)) sendCandidate(c);
  const answer = await answered;
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  remoteSet = true;
  for (const c of pending.splice(0)) await pc.addIceCandidate(c).catch(() => {});
  await opened(sink);
  const setupMs = performance.now() - t0;
  const p = { pc, channels: { sink }, ws };
  peers[name] = p;
  await openSecondChannel(p);
  return { setupMs };
}

// Chromium ↔ Chromium in ONE browser: two pages of the same origin signal through a
// BroadcastChannel. Both ends then share that browser's single network-service process (it
// owns every UDP socket), which paces the sender: information only, no deployment looks like
// this. The goal's baseline is the two-browser pair below.
let answerer = null;

/** Page B: answer offers that arrive on the BroadcastChannel `room`, serving sink/source. */
export function ccListen({ room }) {
  const bc = new BroadcastChannel(room);
  const runs = new Map(); // run id → {pc, early: candidates before the remote description}
  const get = (id) => {
    if (!runs.has(id)) runs.set(id, { pc: null, early: [] });
    return runs.get(id);
  };
  answerer = { bc, runs };
  bc.onmessage = async (ev) => {
    const m = ev.data;
    const r = get(m.run);
    if (m.type === 'offer') {
      const pc = new RTCPeerConnection({ iceServers: [] });
      r.pc = pc;
      pc.onicecandidate = (e) => bc.postMessage({ type: 'candidate', run: m.run, from: 'b', candidate: e.candidate ? e.candidate.toJSON() : null });
      pc.ondatachannel = (e) => serve(e.channel);
      await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      const answer = await pc.createAnswer();
      bc.postMessage({ type: 'answer', run: m.run, sdp: answer.sdp });
      await pc.setLocalDescription(answer);
      for (const c of r.early.splice(0)) await pc.addIceCandidate(c).catch(() => {});
    } else if (m.type === 'candidate' && m.from === 'a' && m.candidate) {
      if (r.pc && r.pc.remoteDescription) await r.pc.addIceCandidate(m.candidate).catch(() => {});
      else r.early.push(m.candidate);
    }
  };
  return true;
}

/** Page A: offer (channel "sink") → open through the BroadcastChannel; returns offer → open ms. */
export async function ccConnect({ name, room }) {
  const bc = new BroadcastChannel(room);
  const run = `${name}-${Math.random().toString(36).slice(2, 10)}`;
  const t0 = performance.now();
  const pc = new RTCPeerConnection({ iceServers: [] });
  const sink = pc.createDataChannel('sink', { ordered: true });
  pc.onicecandidate = (e) => bc.postMessage({ type: 'candidate', run, from: 'a', candidate: e.candidate ? e.candidate.toJSON() : null });
  let remoteSet = false;
  const pending = [];
  const answered = new Promise((resolve) => {
    bc.onmessage = async (ev) => {
      const m = ev.data;
      if (m.run !== run) return;
      if (m.type === 'answer') resolve(m);
      else if (m.type === 'candidate' && m.from === 'b' && m.candidate) {
        if (remoteSet) pc.addIceCandidate(m.candidate).catch(() => {}); else pending.push(m.candidate);
      }
    };
  });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  bc.postMessage({ type: 'offer', run, sdp: offer.sdp });
  const answer = await answered;
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  remoteSet = true;
  for (const c of pending.splice(0)) await pc.addIceCandidate(c).catch(() => {});
  await opened(sink);
  const setupMs = performance.now() - t0;
  const p = { pc, channels: { sink }, bc };
  peers[name] = p;
  await openSecondChannel(p);
  return { setupMs };
}

// Chromium ↔ Chromium across two browser processes (two profiles, as two real peers always
// are): the pages cannot reach each other, so Node relays the signalling with page.evaluate —
// crossOffer on page A, crossAnswer on the other browser's page, crossAccept on page A. No
// trickle: each side waits for ICE gathering to complete (host candidates only, no ICE
// servers) so that one offer and one answer carry everything, which keeps the relay to two
// hops. The set-up time therefore includes gathering and the relay and is not comparable
// with the trickled set-ups above.

function gathered(pc, timeoutMs = 15000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('ICE gathering did not complete')), timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    });
  });
}

let crossPending = null; // page A: the connection waiting for its answer
const crossAnswerers = []; // the other browser's page: connections it answered

/** Page A: offer (channel "sink") with all candidates; returns the SDP for crossAnswer. */
export async function crossOffer({ name }) {
  const t0 = performance.now();
  const pc = new RTCPeerConnection({ iceServers: [] });
  const sink = pc.createDataChannel('sink', { ordered: true });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  crossPending = { name, pc, sink, t0 };
  return pc.localDescription.sdp;
}

/** The other browser's page: answer an offer, serving sink/source; returns the answer SDP. */
export async function crossAnswer({ sdp }) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  crossAnswerers.push(pc);
  pc.ondatachannel = (e) => serve(e.channel);
  await pc.setRemoteDescription({ type: 'offer', sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  return pc.localDescription.sdp;
}

/** Page A: apply the answer, wait for both channels; returns offer → "sink" open in ms. */
export async function crossAccept({ sdp }) {
  const { name, pc, sink, t0 } = crossPending;
  crossPending = null;
  await pc.setRemoteDescription({ type: 'answer', sdp });
  await opened(sink);
  const setupMs = performance.now() - t0;
  const p = { pc, channels: { sink } };
  peers[name] = p;
  await openSecondChannel(p);
  return { setupMs };
}

/** The other browser's page: close every connection it answered (page A uses rawClose). */
export function crossClose() {
  for (const pc of crossAnswerers.splice(0)) pc.close();
}

/** Browser → peer: `bytes` on the peer's sink channel. */
export function rawUpload({ name, bytes, size = MESSAGE }) {
  return sendAndConfirm(peers[name].channels.sink, bytes, size);
}

/** Peer → browser: `bytes` from the peer's source channel. */
export function rawDownload({ name, bytes, size = MESSAGE }) {
  return requestAndCount(peers[name].channels.source, bytes, size);
}

export function rawClose({ name }) {
  const p = peers[name];
  if (!p) return;
  p.pc.close();
  if (p.ws) p.ws.close();
  if (p.bc) p.bc.close();
  delete peers[name];
}

export function ccClose() {
  if (!answerer) return;
  for (const r of answerer.runs.values()) if (r.pc) r.pc.close();
  answerer.bc.close();
  answerer = null;
}

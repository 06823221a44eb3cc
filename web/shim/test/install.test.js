import { test } from 'node:test';
import assert from 'node:assert/strict';
import { install, IntrustdVerificationError, IntrustdLinkError } from '../src/index.js';
import { makeIdentity, makeWorld, echoApp } from './fakes.js';

const identity = await makeIdentity();
const other = await makeIdentity();

function withWorld(world, fn) {
  return async () => {
    const saved = { fetch: globalThis.fetch, WebSocket: globalThis.WebSocket, RTCPeerConnection: globalThis.RTCPeerConnection };
    globalThis.WebSocket = world.WebSocket;
    globalThis.RTCPeerConnection = world.RTCPeerConnection;
    try {
      await fn();
    } finally {
      Object.assign(globalThis, saved);
    }
  };
}

const world1 = makeWorld(identity, { hello: echoApp, hang: () => {} });
test('install: app URLs over one shared link, status events, reconnect after the link drops, uninstall', withWorld(world1, async () => {
  const originalFetch = globalThis.fetch;
  const handle = install({ flock: 'ws://flock.test', appliance: identity.id, connectTimeoutMs: 2000 });
  assert.notEqual(globalThis.fetch, originalFetch);
  const states = [];
  handle.addEventListener('status', (ev) => states.push(ev.detail.state));
  assert.equal(handle.status, null);

  const info = await handle.link();
  assert.equal(info.applianceId, identity.id);
  assert.equal(info.verified, true);
  assert.deepEqual(handle.status, info);
  const r = await fetch('intrustd+app://hello/echo', { method: 'POST', body: 'hi' });
  assert.equal(await r.text(), 'hi');
  const r2 = await fetch('intrustd+app://hello/echo?msg=again');
  assert.equal(await r2.text(), 'again');
  assert.equal(world1.peers.length, 1, 'one shared link');
  assert.deepEqual(states, ['connecting', 'up']);

  // the appliance goes away: the in-flight request fails once the probe goes unanswered
  const inflight = fetch('intrustd+app://hang/');
  await new Promise((r) => setTimeout(r, 20));
  world1.peers[0].keepalive.echo = false; // gone: the keepalive probe after the bye gets no echo
  world1.flockSockets[0].bye('appliance-offline');
  await assert.rejects(inflight, (e) => e instanceof TypeError && e.cause instanceof IntrustdLinkError && e.cause.code === 'appliance-offline');
  assert.equal(handle.status, null);
  assert.equal(states.at(-1), 'down');

  // the next request reconnects (flock and peer connection)
  const r3 = await fetch('intrustd+app://hello/echo?msg=back');
  assert.equal(await r3.text(), 'back');
  assert.equal(world1.peers.length, 2);
  assert.equal(world1.flockSockets.length, 2);
  assert.deepEqual(states.slice(-2), ['connecting', 'up']);

  handle.uninstall();
  assert.equal(globalThis.fetch, originalFetch);
  assert.equal(globalThis.WebSocket, world1.WebSocket);
}));

const world2 = makeWorld(identity, { hello: echoApp }, { otherIdentity: other });
test('install: a forged answer makes fetch fail with the verification error as cause', withWorld(world2, async () => {
  world2.behaviour = 'wrong-key';
  const handle = install({ flock: 'ws://flock.test', appliance: identity.id });
  try {
    await assert.rejects(fetch('intrustd+app://hello/echo'), (e) => e instanceof TypeError && e.message === 'Failed to fetch' && e.cause instanceof IntrustdVerificationError);
    await assert.rejects(handle.link(), IntrustdVerificationError);
    assert.equal(world2.remoteDescriptionsSet, 0);
    // once the appliance answers honestly, the next request works (after a short back-off)
    world2.behaviour = 'ok';
    const t0 = Date.now();
    const r = await fetch('intrustd+app://hello/echo?msg=ok');
    assert.equal(await r.text(), 'ok');
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    handle.uninstall();
  }
}));

test('install: options are checked', () => {
  assert.throws(() => install({ appliance: identity.id }), TypeError);
  assert.throws(() => install({ flock: 'ws://x', appliance: 'nope' }), /appliance ID/);
  assert.throws(() => install({ flock: 'ws://x', appliance: identity.id, apps: { 'hello/': 'hello' } }), TypeError);
  assert.throws(() => install({ flock: 'ws://x', appliance: identity.id, apps: { '/hello/': 'Hello!' } }), TypeError);
});

const world3 = makeWorld(identity, { hello: echoApp });
test('install: when channels are never released, a request is never sent on an id the appliance cannot see; a new link takes over', withWorld(world3, async () => {
  // Stream resets that never complete (seen under load) keep every id taken, so each request's
  // channel gets a higher id; the appliance silently drops channels above 1023.
  world3.resetsStall = true;
  const handle = install({ flock: 'ws://flock.test', appliance: identity.id, connectTimeoutMs: 2000 });
  try {
    await handle.link();
    const within = (p, ms, what) => Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))]);
    for (let i = 0; i < 600; i++) {
      const r = await within(fetch(`intrustd+app://hello/echo?msg=n${i}`), 2000, `request ${i}`);
      assert.equal(await r.text(), `n${i}`);
    }
    assert.equal(world3.peers.length, 2, 'a second link took over');
    const first = world3.peers[0];
    assert.ok(first.channels.every((c) => c.id <= world3.maxStreamId || c.sent.length === 0), 'nothing sent above the limit');
    assert.equal(first.connectionState, 'closed', 'the retired link closed once its streams were done');
    assert.ok(world3.peers[1].channels.length > 0 && world3.peers[1].channels.every((c) => c.id <= world3.maxStreamId));
  } finally {
    handle.uninstall();
  }
}));

const world20 = makeWorld(identity, { hello: echoApp });
test('install: an introduction whose flock cluster node died is retried until the appliance is back', withWorld(world20, async () => {
  // node-lost, then the appliance is still re-registering elsewhere, then it is back
  world20.script = ['node-lost', 'offline', 'offline'];
  const handle = install({ flock: 'ws://flock.test', appliance: identity.id, connectTimeoutMs: 2000 });
  try {
    const r = await fetch('intrustd+app://hello/echo?msg=moved');
    assert.equal(await r.text(), 'moved');
    assert.equal(world20.introduces.length, 4);
  } finally {
    handle.uninstall();
  }
}));

const world21 = makeWorld(identity, { hello: echoApp });
test('install: appliance-offline with no node lost before is not retried', withWorld(world21, async () => {
  world21.script = ['offline'];
  const handle = install({ flock: 'ws://flock.test', appliance: identity.id, connectTimeoutMs: 2000 });
  try {
    await assert.rejects(fetch('intrustd+app://hello/echo?msg=x'),
      (e) => e instanceof TypeError && e.cause instanceof IntrustdLinkError && e.cause.code === 'appliance-offline');
    assert.equal(world21.introduces.length, 1);
  } finally {
    handle.uninstall();
  }
}));

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, classifyPath } from '../src/link.js';
import { IntrustdVerificationError, IntrustdLinkError } from '../src/errors.js';
import { clientUrl } from '../src/flock-client.js';
import { makeIdentity, makeWorld, echoApp } from './fakes.js';

const identity = await makeIdentity();
const other = await makeIdentity();

function linkIn(world, extra = {}) {
  return connect({ flock: 'ws://flock.test:8080', appliance: identity.id.toLowerCase(), WebSocket: world.WebSocket, RTCPeerConnection: world.RTCPeerConnection, ...extra });
}

test('flock URL: /client is appended', () => {
  assert.equal(clientUrl('ws://h:1'), 'ws://h:1/client');
  assert.equal(clientUrl('wss://h/base/'), 'wss://h/base/client');
  assert.equal(clientUrl('http://h:2'), 'ws://h:2/client');
  assert.throws(() => clientUrl('ftp://h'), TypeError);
});

test('a verified answer brings the link up; candidates are trickled both ways', async () => {
  const world = makeWorld(identity, { hello: echoApp });
  const link = linkIn(world);
  const info = await link.ready;
  assert.equal(info.applianceId, identity.id);
  assert.equal(info.publicKey, identity.publicKey);
  assert.equal(info.verified, true);
  assert.equal(info.path, 'direct-lan');
  assert.ok(info.setupMs >= 0 && info.connectedAt > 0);
  assert.equal(world.flockSockets[0].url, 'ws://flock.test:8080/client');
  const intro = world.introduces[0];
  assert.equal(intro.appliance, identity.id);
  assert.equal(intro.sdp, world.peers[0].localDescription.sdp, 'the exact local offer is sent');
  assert.match(intro.session, /^[A-Za-z0-9_-]{1,64}$/);
  assert.ok(world.candidatesFromClient.some((c) => c.candidate.includes('typ host')));
  assert.ok(world.candidatesFromClient.some((c) => c.candidate === ''), 'end of candidates');
  // a stream works
  const stream = await link.openStream('hello');
  assert.equal(stream.label, 'http/hello');
  assert.equal(stream.channel.protocol, 'intrustd/1');
  link.close();
  assert.equal(link.state, 'down');
});

for (const [behaviour, why] of [['bad-signature', 'signature over another offer'], ['wrong-key', 'key of another appliance']]) {
  test(`verification failure (${why}) refuses the link before the answer is used`, async () => {
    const world = makeWorld(identity, {}, { otherIdentity: other });
    world.behaviour = behaviour;
    const link = linkIn(world);
    await assert.rejects(link.ready, IntrustdVerificationError);
    assert.equal(world.remoteDescriptionsSet, 0, 'setRemoteDescription never called');
    assert.equal(link.state, 'down');
    assert.equal(world.peers[0].connectionState, 'closed');
    await assert.rejects(link.openStream('hello'), IntrustdVerificationError);
  });
}

test('flock errors and timeouts', async () => {
  let world = makeWorld(identity, {});
  world.behaviour = 'offline';
  await assert.rejects(linkIn(world).ready, (e) => e instanceof IntrustdLinkError && e.code === 'appliance-offline');

  world = makeWorld(identity, {});
  world.behaviour = 'silent';
  const t0 = Date.now();
  await assert.rejects(linkIn(world, { connectTimeoutMs: 100 }).ready, (e) => e instanceof IntrustdLinkError && e.code === 'timeout');
  assert.ok(Date.now() - t0 < 1000);

  world = makeWorld(identity, {});
  world.flockDown = true;
  await assert.rejects(linkIn(world).ready, (e) => e instanceof IntrustdLinkError && e.code === 'flock-unreachable');

  assert.throws(() => connect({ flock: 'ws://x', appliance: 'nonsense' }), /appliance ID/);
});

test('bye, a failed peer connection or a lost flock connection take the link down and fail streams', async () => {
  for (const how of ['bye', 'pc-failed', 'flock-closed', 'node-lost']) {
    const world = makeWorld(identity, { hang: () => {} });
    world.applianceSilent = true; // gone for good: it does not echo the keepalive probe
    const link = linkIn(world, { probeTimeoutMs: 100 });
    await link.ready;
    const stream = await link.openStream('hang');
    const failed = new Promise((resolve) => stream.setSink({ data() {}, end() {}, error: resolve }));
    if (how === 'bye') world.flockSockets[0].bye('appliance-offline');
    if (how === 'pc-failed') world.peers[0].fail();
    if (how === 'flock-closed') world.flockSockets[0].close(1006);
    if (how === 'node-lost') world.flockSockets[0].sessionError('node-lost');
    const err = await failed;
    assert.ok(err instanceof IntrustdLinkError, how);
    assert.equal(link.state, 'down', how);
    if (how === 'bye') assert.equal(link.error.code, 'appliance-offline');
    if (how === 'node-lost') assert.equal(link.error.code, 'node-lost');
  }
});

test('a link whose appliance still answers outlives a bye, a lost flock or a lost cluster node (the appliance re-registered)', async () => {
  for (const how of ['bye', 'flock-closed', 'node-lost']) {
    const world = makeWorld(identity, { hello: echoApp });
    const link = linkIn(world, { probeTimeoutMs: 300 });
    await link.ready;
    if (how === 'bye') world.flockSockets[0].bye('appliance-offline');
    else if (how === 'node-lost') world.flockSockets[0].sessionError('node-lost');
    else world.flockSockets[0].close(1006);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(link.state, 'up', how);
    const stream = await link.openStream('hello');
    assert.ok(stream, how);
    stream.reset('done');
    link.close();
  }
});

test('path classification', () => {
  assert.equal(classifyPath('host', 'host', '192.168.1.2'), 'direct-lan');
  assert.equal(classifyPath('prflx', 'host', '198.18.0.2'), 'direct-lan');
  assert.equal(classifyPath('prflx', 'host', '203.0.113.9'), 'direct-nat');
  assert.equal(classifyPath('srflx', 'srflx', '203.0.113.9'), 'direct-nat');
  assert.equal(classifyPath('host', 'prflx', '203.0.113.9'), 'direct-nat');
  assert.equal(classifyPath('relay', 'host', '10.0.0.1'), 'relay');
  assert.equal(classifyPath('host', 'relay', '203.0.113.9'), 'relay');
  assert.equal(classifyPath(undefined, 'host'), 'unknown');
  // With both addresses known, the subnet decides between LAN and across routers.
  assert.equal(classifyPath('host', 'prflx', '198.18.0.2', '198.18.0.1'), 'direct-lan', 'the appliance sees a LAN browser as prflx');
  assert.equal(classifyPath('host', 'prflx', '198.18.10.2', '10.2.0.2'), 'direct-nat');
  assert.equal(classifyPath('host', 'host', '10.2.0.2', '10.1.0.2'), 'direct-nat', 'routed, not one LAN');
  assert.equal(classifyPath('host', 'host', 'fd00:1:2:3::9', 'fd00:1:2:3::1'), 'direct-lan');
  assert.equal(classifyPath('host', 'host', 'fd00:1:2:4::9', 'fd00:1:2:3::1'), 'direct-nat');
  assert.equal(classifyPath('host', 'srflx', '192.168.1.9', '192.168.1.2'), 'direct-nat', 'a STUN-seen address is NAT');
  assert.equal(classifyPath('relay', 'relay', '198.18.0.1', '198.18.0.1'), 'relay');
  assert.equal(classifyPath('host', 'host', 'x.local', '10.0.0.1'), 'direct-lan', 'an mDNS name falls back to the types');
});

test('the link follows ICE to another path: pathchange, info.path and path', async () => {
  const world = makeWorld(identity, { hello: echoApp });
  world.selectedPair = { local: ['relay', '198.18.0.1'], remote: ['relay', '198.18.0.1'] };
  const link = linkIn(world, { pathPollMs: 20 });
  const info = await link.ready;
  assert.equal(info.path, 'relay');
  assert.equal(link.path, 'relay');
  const changed = new Promise((resolve) => link.addEventListener('pathchange', (ev) => resolve(ev.detail)));
  world.selectedPair = { local: ['host', '10.1.0.2'], remote: ['srflx', '198.18.20.2'] };
  assert.deepEqual(await changed, { path: 'direct-nat', previous: 'relay' });
  assert.equal(link.path, 'direct-nat');
  assert.equal(link.info.path, 'direct-nat');
  link.close();
  assert.equal(world.peers[0].config.iceTransportPolicy, 'all');
});

test('iceTransportPolicy relay reaches the peer connection', async () => {
  const world = makeWorld(identity, { hello: echoApp });
  const link = linkIn(world, { iceTransportPolicy: 'relay', pathPollMs: 0 });
  await link.ready;
  assert.equal(world.peers[0].config.iceTransportPolicy, 'relay');
  link.close();
});

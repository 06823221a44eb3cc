// 9. A hostile flock: a WebSocket proxy between the page and the real flock rewrites the
// signalling. The shim must refuse every tampered link with IntrustdVerificationError before it
// uses the answer, so no app request ever reaches the appliance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../lib/harness.js';
import { startHostileProxy } from '../lib/hostile-proxy.js';
import { ed25519Key, flipFingerprints, fingerprints, signingInput, b64url } from '../lib/ws-util.js';
import { verifyAnswer } from '../../web/shim/src/index.js';

const fx = fixture({ applianceOptions: { name: 'hostile' } });
const proxies = [];
before(() => fx.setup());
after(async () => {
  for (const p of proxies) await p.close();
  await fx.teardown();
});

async function proxy(hooks) {
  const p = await startHostileProxy({ upstream: fx.flock.url, ...hooks });
  proxies.push(p);
  return p;
}

/** A fresh page installed against `flockUrl`; tries link() and then a fetch. */
async function tryThrough(flockUrl) {
  const connectedBefore = linksConnected();
  const page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: flockUrl, appliance: fx.appliance.id });
  const link = await page.evaluate(() => e2e.link());
  const fetched = await page.evaluate(() => e2e.attempt(() => e2e.fetchText('intrustd+app://hello/echo?msg=should-not-arrive')));
  const states = await page.evaluate(() => window.statusLog.map((s) => s.state));
  await page.close();
  return { link, fetched, states, newLinksAtAppliance: linksConnected() - connectedBefore };
}

/** Links the appliance logged as connected so far (its log line "link connected"). */
function linksConnected() {
  return (fx.appliance.proc.output.match(/link connected/g) || []).length;
}

function assertRefused(r, what, messagePattern) {
  assert.equal(r.link.ok, false, `${what}: the link came up through a tampering flock! ${JSON.stringify(r.link.value)}`);
  assert.equal(r.link.error.name, 'IntrustdVerificationError', `${what}: link() failed otherwise: ${JSON.stringify(r.link.error)}\n${fx.diagnostics()}`);
  if (messagePattern) assert.match(r.link.error.message, messagePattern);
  assert.equal(r.fetched.ok, false, `${what}: the fetch succeeded`);
  assert.equal(r.fetched.error.name, 'TypeError');
  assert.equal(r.fetched.error.message, 'Failed to fetch');
  assert.equal(r.fetched.error.causes[0] && r.fetched.error.causes[0].name, 'IntrustdVerificationError',
    `${what}: fetch's cause is ${JSON.stringify(r.fetched.error.causes)}`);
  assert.ok(!r.states.includes('up'), `${what}: the link was up at some point: ${r.states}`);
  // Nor did the appliance ever get a connected peer: no data channel, so no app request.
  assert.equal(r.newLinksAtAppliance, 0, `${what}: the appliance logged a connected link`);
}

test('control: the proxy relaying without changes lets the link up', async () => {
  const p = await proxy({});
  const r = await tryThrough(p.url);
  assert.ok(r.link.ok, `through an honest proxy: ${JSON.stringify(r.link.error)}\n${fx.diagnostics()}`);
  assert.equal(r.fetched.ok, true, JSON.stringify(r.fetched.error));
  assert.equal(r.fetched.value.body, 'should-not-arrive');
  assert.ok(r.newLinksAtAppliance >= 1, 'the appliance logged no "link connected" for an honest link: the log check below proves nothing');
  assert.ok(p.log.some((m) => m.dir === 'toClient' && m.type === 'answer'), 'no answer went through the proxy');
  assert.ok(p.log.some((m) => m.dir === 'toFlock' && m.type === 'introduce'));
});

test('A: the DTLS fingerprint in the answer is replaced', async () => {
  let before = null;
  let afterFp = null;
  const p = await proxy({
    toClient: (m) => {
      if (m.type !== 'answer') return undefined;
      before = fingerprints(m.sdp);
      m.sdp = flipFingerprints(m.sdp);
      afterFp = fingerprints(m.sdp);
      return m;
    },
  });
  const r = await tryThrough(p.url);
  assert.ok(before && before.length > 0, 'the proxy saw no answer to tamper with');
  assert.notDeepEqual(afterFp, before);
  assert.ok(p.log.some((m) => m.type === 'answer' && m.tampered));
  assertRefused(r, 'A', /signature does not verify/);
});

test('B: publicKey and signature swapped for another key that signs the tampered answer', async () => {
  const attacker = await ed25519Key();
  const forged = [];
  const p = await proxy({
    toClient: (m, ctx) => {
      if (m.type !== 'answer') return undefined;
      const offer = ctx.offers.get(m.session);
      if (!offer) return undefined; // then `forged` stays empty and the test fails below
      const sdp = flipFingerprints(m.sdp); // a man in the middle would put its own certificate here
      const sig = attacker.sign(signingInput('intrustd/answer/v1', [offer, sdp]));
      forged.push({ offer, sdp, signature: b64url(sig) });
      return { ...m, sdp, publicKey: attacker.publicKeyB64, signature: b64url(sig) };
    },
  });
  const r = await tryThrough(p.url);
  assert.ok(forged.length >= 1, 'the proxy forged no answer');
  // The forged signature is a valid one — for the attacker's own ID, so only the ID check stops it.
  const f = forged[0];
  await verifyAnswer({ expectedId: attacker.id, publicKey: attacker.publicKeyB64, signature: f.signature, offerSdp: f.offer, answerSdp: f.sdp });
  await assert.rejects(verifyAnswer({ expectedId: fx.appliance.id, publicKey: attacker.publicKeyB64, signature: f.signature, offerSdp: f.offer, answerSdp: f.sdp }),
    { name: 'IntrustdVerificationError' });
  assertRefused(r, 'B', new RegExp(`belongs to ${attacker.id}`));
});

test('B2: the answer claims another appliance ID', async () => {
  const attacker = await ed25519Key();
  const p = await proxy({
    toClient: (m, ctx) => {
      if (m.type !== 'answer') return undefined;
      const sdp = flipFingerprints(m.sdp);
      const sig = attacker.sign(signingInput('intrustd/answer/v1', [ctx.offers.get(m.session), sdp]));
      return { ...m, appliance: attacker.id, sdp, publicKey: attacker.publicKeyB64, signature: b64url(sig) };
    },
  });
  assertRefused(await tryThrough(p.url), 'B2');
});

test('C: the offer is changed on its way to the appliance, which then signs a different offer', async () => {
  let tampered = 0;
  const p = await proxy({
    toFlock: (m) => {
      if (m.type !== 'introduce') return undefined;
      tampered++;
      return { ...m, sdp: flipFingerprints(m.sdp) };
    },
  });
  const r = await tryThrough(p.url);
  assert.ok(tampered >= 1, 'the proxy changed no offer');
  assert.ok(p.log.some((m) => m.dir === 'toClient' && m.type === 'answer'),
    `the appliance sent no answer to the changed offer, so this variant proves nothing: ${JSON.stringify(p.log)}`);
  assertRefused(r, 'C', /signature does not verify/);
});

test('D: the answer without a signature, or with a truncated one', async () => {
  const p = await proxy({
    toClient: (m) => {
      if (m.type !== 'answer') return undefined;
      const { signature, ...rest } = m;
      return rest;
    },
  });
  assertRefused(await tryThrough(p.url), 'D (no signature)');
  const p2 = await proxy({
    toClient: (m) => (m.type === 'answer' ? { ...m, signature: m.signature.slice(0, 40) } : undefined),
  });
  assertRefused(await tryThrough(p2.url), 'D (truncated signature)');
});

test('after all that, the real flock still links the same appliance', async () => {
  const r = await tryThrough(fx.flock.url);
  assert.ok(r.link.ok, JSON.stringify(r.link.error));
  assert.equal(r.fetched.ok, true);
  assert.equal(r.fetched.value.headers['x-seen-appliance'], fx.appliance.id);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { Access, takeTokenFromFragment, proofMessage } from '../src/access.js';
import { MemoryStore } from '../src/keystore.js';
import { IntrustdAccessError } from '../src/errors.js';
import { FakeLink, channelPair, serve } from './fakes.js';
import { Stream } from '../src/stream.js';
import { fromB64url } from '../src/bytes.js';

const APPLIANCE = 'AAAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-HHHHHHH';
const TOKEN = `it1_${'t'.repeat(43)}`;

/**
 * A fake appliance session API (spec/access.md) that checks device proofs the way the daemon
 * does: ECDSA P-256 over the context, appliance, this link's fingerprint and the session id.
 */
function fakeAppliance() {
  const state = { sessions: new Map(), calls: [], tokensSeen: [] };
  const json = (res, status, body) => {
    const text = JSON.stringify(body);
    res.write(`HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${status === 429 ? 'Retry-After: 7\r\n' : ''}\r\n${text}`);
    res.end();
  };
  const describe = (link, persona) => ({ appliance: APPLIANCE, link: link.id, persona: persona ? { name: persona, displayName: persona, role: 'owner' } : null, session: null, tokens: [], permissions: [] });
  state.handler = (link) => async (req, res) => {
    state.calls.push(req.target);
    const body = req.body.length ? JSON.parse(req.body.toString()) : {};
    if (req.target === '/v1/login') {
      if (body.password !== 'right') return json(res, body.password === 'slow' ? 429 : 401, { detail: 'wrong persona name or password' });
      const secret = `is1_${'s'.repeat(40)}${state.sessions.size}`.slice(0, 47);
      const id = `id${state.sessions.size}`;
      state.sessions.set(secret, { id, key: body.deviceKey, persona: body.persona });
      link.persona = body.persona;
      return json(res, 200, { ...describe(link, body.persona), newSession: { id, secret, expires: 'later' } });
    }
    if (req.target === '/v1/resume') {
      const s = state.sessions.get(body.session);
      if (!s) return json(res, 401, { detail: 'the session has ended' });
      const key = await webcrypto.subtle.importKey('spki', fromB64url(s.key), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
      const message = `intrustd/session-proof/v1\n${APPLIANCE}\n${link.localFingerprint}\n${s.id}`;
      const ok = await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, fromB64url(body.proof), new TextEncoder().encode(message));
      if (!ok) return json(res, 401, { detail: 'the device proof does not verify' });
      return json(res, 200, describe(link, s.persona));
    }
    if (req.target === '/v1/tokens') {
      state.tokensSeen.push(body.token);
      return body.token === TOKEN ? json(res, 200, describe(link, null)) : json(res, 401, { detail: 'unknown token' });
    }
    if (req.target === '/v1/logout') return json(res, 200, describe(link, null));
    return json(res, 200, describe(link, link.persona));
  };
  return state;
}

let linkCounter = 0;
function sessionLink(appliance) {
  const link = new FakeLink({});
  link.id = `l${++linkCounter}`;
  link.localFingerprint = `sha-256 ${String(linkCounter).padStart(2, '0')}:AB`;
  link.openDaemonStream = async () => {
    const [client, server] = channelPair('intrustd/session', 'intrustd/1');
    serve(server, appliance.handler(link));
    const s = new Stream(client, {});
    await s.opened;
    return s;
  };
  return link;
}

test('login remembers a sealed session that a later link resumes with a proof for that link', async () => {
  const appliance = fakeAppliance();
  const store = new MemoryStore();
  const access = new Access({ appliance: APPLIANCE, store });
  const events = [];
  access.addEventListener('session', (ev) => events.push(ev.detail.persona && ev.detail.persona.name));
  await assert.rejects(access.login(sessionLink(appliance), 'alice', 'wrong'), (e) => e instanceof IntrustdAccessError && e.status === 401);
  const info = await access.login(sessionLink(appliance), 'alice', 'right');
  assert.equal(info.persona.name, 'alice');
  assert.equal(info.newSession, undefined, 'the secret is not handed to the page');
  const kept = await store.get(`session:${APPLIANCE}`);
  assert.equal(kept.id, 'id0');
  assert.ok(!JSON.stringify([...kept.secret.data]).includes('is1_'), 'sealed');
  assert.ok(!Object.values(kept).some((v) => typeof v === 'string' && v.startsWith('is1_')));

  // A new page with the same store: the next link is logged in again without a password.
  const again = new Access({ appliance: APPLIANCE, store });
  await again.prepare(sessionLink(appliance));
  assert.equal(again.current.persona.name, 'alice');
  assert.deepEqual(events, ['alice']);

  // The device key cannot be exported.
  const device = await store.get('device');
  await assert.rejects(webcrypto.subtle.exportKey('pkcs8', device.keyPair.privateKey));
  await assert.rejects(webcrypto.subtle.exportKey('raw', device.sealKey));
});

test('a refused resume forgets the session; a failed link keeps it', async () => {
  const appliance = fakeAppliance();
  const store = new MemoryStore();
  const access = new Access({ appliance: APPLIANCE, store });
  await access.login(sessionLink(appliance), 'alice', 'right');
  const down = sessionLink(appliance);
  down.openDaemonStream = async () => { throw new Error('link lost'); };
  await assert.rejects(access.prepare(down), /Failed to fetch/); // the link manager carries on regardless
  assert.ok(await store.get(`session:${APPLIANCE}`), 'kept after a link failure');
  appliance.sessions.clear(); // revoked on the appliance
  await access.prepare(sessionLink(appliance));
  assert.equal(await store.get(`session:${APPLIANCE}`), undefined);
  assert.equal(access.current.persona, null);
});

test('with nothing to resume or present, preparing a link costs no round trip', async () => {
  const appliance = fakeAppliance();
  const access = new Access({ appliance: APPLIANCE, store: new MemoryStore() });
  await access.prepare(sessionLink(appliance));
  assert.deepEqual(appliance.calls, []);
});

test('queued and remembered tokens are presented on each new link; refused ones are dropped', async () => {
  const appliance = fakeAppliance();
  const store = new MemoryStore();
  const access = new Access({ appliance: APPLIANCE, store });
  access.queueToken(TOKEN);
  access.queueToken(`it1_${'x'.repeat(43)}`); // unknown to the appliance
  access.queueToken('not a token');
  await access.prepare(sessionLink(appliance));
  assert.deepEqual(appliance.tokensSeen, [TOKEN, `it1_${'x'.repeat(43)}`]);
  await access.prepare(sessionLink(appliance));
  assert.deepEqual(appliance.tokensSeen.slice(2), [TOKEN]);
  await assert.rejects(access.presentToken(sessionLink(appliance), 'it1_short'), /not an Intrustd token/);
});

test('a 429 carries its retry time', async () => {
  const access = new Access({ appliance: APPLIANCE, store: new MemoryStore() });
  await assert.rejects(access.login(sessionLink(fakeAppliance()), 'alice', 'slow'),
    (e) => e.status === 429 && e.retryAfterSeconds === 7);
});

test('takeTokenFromFragment: takes only our parameters, only for this appliance', () => {
  const compact = APPLIANCE.replace(/-/g, '');
  assert.deepEqual(takeTokenFromFragment(`#intrustd-appliance=${APPLIANCE}&intrustd-token=${TOKEN}`, APPLIANCE), { token: TOKEN, rest: '' });
  assert.deepEqual(takeTokenFromFragment(`#a=1&intrustd-token=${TOKEN}&b=2`, APPLIANCE), { token: TOKEN, rest: '#a=1&b=2' });
  assert.deepEqual(takeTokenFromFragment(`#intrustd-appliance=${compact.toLowerCase()}&intrustd-token=${TOKEN}`, APPLIANCE).token, TOKEN);
  assert.deepEqual(takeTokenFromFragment(`#intrustd-appliance=OTHER&intrustd-token=${TOKEN}`, APPLIANCE), { token: null, rest: '' });
  assert.deepEqual(takeTokenFromFragment('#section-2', APPLIANCE), { token: null, rest: '#section-2' });
  assert.deepEqual(takeTokenFromFragment('', APPLIANCE), { token: null, rest: '' });
});

test('takeTokenFromFragment never throws on any fragment', () => {
  const alphabet = 'intrusd-tokenapplc=&#%2F0aZ_ ?é';
  let seed = 42;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 5000; i++) {
    let s = rnd(2) ? '#' : '';
    const len = rnd(60);
    for (let j = 0; j < len; j++) s += alphabet[rnd(alphabet.length)];
    if (rnd(3) === 0) s += `&intrustd-token=${TOKEN}`;
    const r = takeTokenFromFragment(s, APPLIANCE);
    assert.ok(r.token === null || typeof r.token === 'string');
    assert.ok(!r.rest.includes('intrustd-token='), s);
  }
});

test('session-proof vectors: the valid proof verifies under WebCrypto, the invalid ones do not', async () => {
  const { loadVectors } = await import('./vectors.js');
  const v = loadVectors('session-proof.json');
  const verify = async (x) => {
    const key = await webcrypto.subtle.importKey('spki', fromB64url(x.deviceKey), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const message = proofMessage(x.appliance, x.fingerprint, x.sessionId);
    return webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, fromB64url(x.proof), new TextEncoder().encode(message));
  };
  assert.equal(proofMessage(v.valid.appliance, v.valid.fingerprint, v.valid.sessionId), v.valid.message);
  assert.equal(await verify(v.valid), true);
  for (const bad of v.invalid) assert.equal(await verify(bad), false, bad.why);
});

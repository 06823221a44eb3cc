// 25. Connections that always get through: the flock runs its own relay (`intrustd flock
// --relay`: coturn with a fresh secret, supervised, stopped with the flock). A browser and an
// appliance behind symmetric NATs, where no direct path can work, link through it and the page
// fetches through the shim, both ends saying the path is the relay and coturn's log showing the
// allocations; a browser whose network passes no UDP at all gets through over TURN/TCP; and a
// page that asks for iceTransportPolicy 'relay' is relayed even where a direct path exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requireNetwork, sleep } from '../lib/harness.js';
import { natLabAvailable, PUBLIC_IP } from '../lib/natlab.js';
import { startRelayFlock, runPair, relayLog, RELAY_PORT } from '../lib/natpair.js';

let flock;
const ALLOCATED = /incoming packet ALLOCATE processed, success/g;

before(async () => {
  requireNetwork();
  if (!natLabAvailable()) throw new Error('this test needs root, nft and the private namespace of scripts/netns-run');
  flock = await startRelayFlock();
});
after(async () => {
  if (flock) await flock.stop();
});

const listening = (proto) => execFileSync('ss', [proto === 'udp' ? '-uln' : '-tln']).toString().includes(`${PUBLIC_IP}:${RELAY_PORT}`);

test('the flock starts its relay: UDP and TCP on its own port, the secret in a private file, never on a command line', () => {
  assert.match(flock.proc.output, new RegExp(`relay \\(coturn\\) at ${PUBLIC_IP.replace(/\./g, '\\.')}:${RELAY_PORT}`));
  assert.ok(listening('udp') && listening('tcp'), 'coturn listens on UDP and TCP');
  const conf = path.join(path.dirname(flock.relayLog), 'turnserver.conf');
  assert.equal(fs.statSync(conf).mode & 0o777, 0o600);
  const secret = /^static-auth-secret=(.+)$/m.exec(fs.readFileSync(conf, 'utf8'))[1];
  const pids = execFileSync('pgrep', ['-x', 'turnserver']).toString().trim().split('\n');
  for (const pid of pids) {
    let cmdline = '';
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    assert.ok(!cmdline.includes(secret), 'the secret is not on a command line');
  }
  assert.match(fs.readFileSync(conf, 'utf8'), /^no-cli$/m);
});

test('behind symmetric NATs on both sides the link goes through the relay, and the page fetches through it', async () => {
  const before = (relayLog(flock).match(ALLOCATED) || []).length;
  const r = await runPair(flock, 'symmetric', 'symmetric', { fetchBytes: 4 << 20 });
  assert.ok(r.linked, `no link: ${r.error}\n${r.diagnostics}`);
  assert.ok(r.fetched, `fetch through the shim failed: ${r.error}\n${r.diagnostics}`);
  assert.equal(r.browserPath, 'relay', r.diagnostics);
  assert.equal(r.appliancePath, 'relay', r.diagnostics);
  const log = relayLog(flock);
  const allocations = (log.match(ALLOCATED) || []).length - before;
  assert.ok(allocations >= 2, `coturn allocated for both ends (saw ${allocations}):\n${log.slice(-3000)}`);
  console.log(`symmetric x symmetric: relayed, link up in ${r.setupMs} ms, 4 MiB in ${Math.round(r.fetchMs)} ms`);
});

test('a browser whose network passes no UDP at all gets through over TURN/TCP', async () => {
  const before = relayLog(flock).length;
  const r = await runPair(flock, 'udp-blocked', 'port-restricted');
  assert.ok(r.linked, `no link: ${r.error}\n${r.diagnostics}`);
  assert.ok(r.fetched, `fetch failed: ${r.error}\n${r.diagnostics}`);
  assert.equal(r.browserPath, 'relay', r.diagnostics);
  assert.equal(r.appliancePath, 'relay', r.diagnostics);
  // The browser's router is site b's (198.18.10.2): every allocation it made is TCP, and coturn
  // says so when the page goes and the allocation closes.
  let sessions = [];
  for (let i = 0; i < 50 && sessions.length === 0; i++) {
    sessions = relayLog(flock).slice(before).split('\n').filter((l) => /closed .*remote 198\.18\.10\.2:\d+/.test(l));
    if (sessions.length === 0) await sleep(100);
  }
  assert.ok(sessions.length > 0, `coturn logged the browser's allocation:\n${relayLog(flock).slice(before).slice(-3000)}`);
  for (const l of sessions) assert.match(l, /TCP connection closed/, l);
  console.log(`udp-blocked x port-restricted: relayed over TCP, link up in ${r.setupMs} ms`);
});

test("a page that asks for iceTransportPolicy 'relay' is relayed even where a direct path exists", async () => {
  const r = await runPair(flock, 'port-restricted', 'full-cone', { browserOptions: { iceTransportPolicy: 'relay' } });
  assert.ok(r.linked && r.fetched, `${r.error}\n${r.diagnostics}`);
  assert.equal(r.browserPath, 'relay', r.diagnostics);
  assert.equal(r.appliancePath, 'relay', r.diagnostics);
});

test('the relay stops with the flock', async () => {
  const r = await flock.stop();
  flock = null;
  assert.ok(r.code === 0 || r.code === 143 || r.signal === 'SIGTERM', JSON.stringify(r));
  for (let i = 0; i < 50 && listening('udp'); i++) await sleep(100);
  assert.ok(!listening('udp') && !listening('tcp'), 'nothing listens on the relay port any more');
});

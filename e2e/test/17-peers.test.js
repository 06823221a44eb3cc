// 17. Two appliances, each behind its own NAT (natlab.js), pair with a one-time link through the
// flock and then call each other's apps: the link is Java to Java and end to end, each side
// proves its identity key, and the callee's app learns which appliance called. Unpaired or
// unpairing appliances are refused at once, a restarted peer is linked again, and an offline
// peer is a quick, clear error. A laptop outside enrols with one of them and forwards 1 GiB.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { startFlock, startAppliance, removeTempDir, requireNetwork, runCli, Proc, sleep, tempDir, LAUNCHER, descendants, rssBytes } from '../lib/harness.js';
import { natLab, natLabAvailable, PUBLIC_IP } from '../lib/natlab.js';

const STUN_PORT = 3478;
const GIB = 1024 * 1024 * 1024;
let lab;
let stun;
let flock;
const boxes = {}; // a, b: the appliances

/** The app `hello` on appliance `from` calls `target` through its daemon socket, as an app does. */
function callFromHello(from, target, requestPath = '/whoami') {
  const socket = path.join(boxes[from].stateDir, 'run', 'apps', 'hello', 'socket', 'daemon.sock');
  return new Promise((resolve) => {
    const t0 = Date.now();
    execFile('curl', ['-sS', '--max-time', '40', '--unix-socket', socket, '-w', '\n%{http_code}', `http://${target}${requestPath}`], { maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const nl = stdout.lastIndexOf('\n');
        resolve({ status: Number(stdout.slice(nl + 1)), body: stdout.slice(0, nl), stderr, ms: Date.now() - t0 });
      });
  });
}

const on = (box, args, o) => runCli([...args, '--state', boxes[box].stateDir], o);

before(async () => {
  requireNetwork();
  if (!natLabAvailable()) throw new Error('this test needs root, nft and the private namespace of scripts/netns-run');
  lab = natLab(['a', 'b']);
  stun = new Proc('stun', 'turnserver', ['-n', '--stun-only', '--no-cli', `--listening-ip=${PUBLIC_IP}`,
    `--listening-port=${STUN_PORT}`, '--log-file=stdout', '--no-tls', '--no-dtls', '--simple-log']);
  for (let i = 0; i < 50 && !execFileSync('ss', ['-uln']).toString().includes(`${PUBLIC_IP}:${STUN_PORT}`); i++) await sleep(100);
  flock = await startFlock({ host: '0.0.0.0', args: ['--stun', `${PUBLIC_IP}:${STUN_PORT}`] });
  const url = `ws://${PUBLIC_IP}:${flock.port}`;
  for (const [box, name] of [['a', "Alice's box"], ['b', "Bob's box"]]) {
    boxes[box] = await startAppliance({ flock: url, name, publicApps: [], wrap: lab.sites[box].exec });
    const owner = await on(box, ['persona', 'add', 'owner', '--role', 'owner', '--password-stdin'], { input: 'a long password\n' });
    assert.equal(owner.code, 0, owner.stderr);
  }
});
after(async () => {
  for (const b of Object.values(boxes)) await b.stop();
  if (flock) await flock.stop();
  if (stun) await stun.stop();
  for (const b of Object.values(boxes)) removeTempDir(b.stateDir);
  if (lab) lab.close();
});

test('the two appliances sit behind separate NATs and cannot reach each other directly', () => {
  const fromA = (url) => execFileSync('ip', ['netns', 'exec', lab.sites.a.lan, 'curl', '-sS', '--max-time', '2', '-o', '/dev/null', url]);
  assert.throws(() => fromA(`http://${lab.sites.b.lanIp}:${boxes.b.ready.lanPort}/`), 'B\'s LAN is not reachable from A');
  assert.throws(() => fromA(`http://${lab.sites.b.wanIp}:${boxes.b.ready.lanPort}/`), 'nor is anything behind B\'s router');
  fromA(`http://${PUBLIC_IP}:${flock.port}/shim/`); // the flock is
});

test('pairing with a one-time link: a wrong code is refused, the right one pairs both ways, and works once', async () => {
  const invite = await on('a', ['peer', 'invite', '--allow', 'hello', '--json']);
  assert.equal(invite.code, 0, invite.stderr);
  const { link, code } = JSON.parse(invite.stdout);
  assert.equal(link, `intrustd+pair://${boxes.a.id}/${code}`);

  const wrong = await on('b', ['peer', 'pair', `intrustd+pair://${boxes.a.id}/AAAAA-AAAAA`, '--allow', 'hello']);
  assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stderr, /wrong or lapsed pairing code/);

  const pair = await on('b', ['peer', 'pair', link.toLowerCase().replace('intrustd+pair', 'INTRUSTD+PAIR'), '--allow', 'hello', '--json']);
  assert.equal(pair.code, 0, pair.stderr + boxes.b.proc.tail());
  const paired = JSON.parse(pair.stdout);
  assert.equal(paired.id, boxes.a.id);
  assert.equal(paired.name, "Alice's box");
  assert.deepEqual(paired.allowedThere, ['hello']);

  const listA = JSON.parse((await on('a', ['peer', 'list', '--json'])).stdout);
  assert.deepEqual(listA.peers.map((p) => [p.id, p.name, p.allow]), [[boxes.b.id, "Bob's box", ['hello']]]);
  const again = await on('b', ['peer', 'pair', link, '--allow', 'hello']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /wrong or lapsed pairing code/, 'a pairing link works once');
});

test('an app granted peer calls an app on the paired appliance, both ways; the callee learns which appliance called', async () => {
  const before = await callFromHello('b', `hello.${boxes.a.id}`);
  assert.equal(before.status, 403, before.body);
  assert.match(before.body, /intrustd app grant hello peer/);

  for (const box of ['a', 'b']) {
    const grant = await on(box, ['app', 'grant', 'hello', 'peer']);
    assert.equal(grant.code, 0, grant.stderr);
  }
  const toA = await callFromHello('b', `hello.${boxes.a.id}`);
  assert.equal(toA.status, 200, toA.body + toA.stderr + boxes.b.proc.tail());
  assert.equal(JSON.parse(toA.body).peer, boxes.b.id);
  assert.equal(JSON.parse(toA.body).persona, null, 'a peer is not a persona');
  const toB = await callFromHello('a', `hello.${boxes.b.id.toLowerCase()}`);
  assert.equal(toB.status, 200, toB.body + boxes.a.proc.tail());
  assert.equal(JSON.parse(toB.body).peer, boxes.a.id);

  const big = await callFromHello('b', `hello.${boxes.a.id}`, '/stream?bytes=3000000');
  assert.equal(big.status, 200);
  assert.equal(big.body.length, 3000000);

  const notAllowed = await callFromHello('b', `pyserve.${boxes.a.id}`);
  assert.equal(notAllowed.status, 403, 'A allowed B hello only');
  const malformed = await callFromHello('b', `hello.${'A'.repeat(7)}-${'B'.repeat(7)}`);
  assert.equal(malformed.status, 400, malformed.body);
  const stranger = await callFromHello('b', 'hello.F2EGSN4-XYLCSCW-JBQVRVG-G3YQMK5-AMML3ZD-Z36DH4H-NKAEDJ3-KZPXHQP');
  assert.equal(stranger.status, 403, stranger.body);
  assert.match(stranger.body, /not paired/);
  const access = JSON.parse((await on('a', ['access-log', '--json', '--app', 'hello'])).stdout);
  assert.ok(access.entries.some((e) => e.grant === `peer:${boxes.b.id}`), JSON.stringify(access.entries.slice(0, 3)));
});

test('unpairing cuts the peer at once, and the other side forgets too', async () => {
  const unpair = await on('a', ['peer', 'unpair', boxes.b.id]);
  assert.equal(unpair.code, 0, unpair.stderr);
  let listB;
  for (let i = 0; i < 50; i++) {
    listB = JSON.parse((await on('b', ['peer', 'list', '--json'])).stdout);
    if (listB.peers.length === 0) break;
    await sleep(200);
  }
  assert.deepEqual(listB.peers, [], 'B heard of it');
  const refused = await callFromHello('b', `hello.${boxes.a.id}`);
  assert.equal(refused.status, 403);
  assert.match(refused.body, /not paired/);
});

test('a laptop outside enrols with an appliance behind NAT, forwards 1 GiB with a 64 MiB heap, and is cut when revoked', async () => {
  const config = tempDir('intrustd-e2e-laptop-');
  let forward;
  try {
    const laptop = { env: { XDG_CONFIG_HOME: config } };
    const url = `ws://${PUBLIC_IP}:${flock.port}`;
    const enrol = await runCli(['device', 'enroll', '--appliance', boxes.a.id, '--flock', url, '--wait', '0'], laptop);
    assert.equal(enrol.code, 0, enrol.stderr);
    const code = /Its code: (\S+)/.exec(enrol.stdout)[1];
    assert.equal((await on('a', ['device', 'approve', code, '--persona', 'owner'])).code, 0);
    const who = await runCli(['request', 'hello', '/whoami', '--appliance', boxes.a.id], laptop);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).persona, 'owner');

    forward = new Proc('forward-nat', LAUNCHER, ['forward', 'hello', '0', '--appliance', boxes.a.id],
      { env: { XDG_CONFIG_HOME: config, INTRUSTD_JAVA_OPTS: '-Xmx64m' } });
    const [, port] = await forward.waitForLine((l) => /forwarding http:\/\/127\.0\.0\.1:(\d+)\//.exec(l), 30000, 'the port');
    const pids = [forward.pid, ...descendants(forward.pid)];
    let peak = 0;
    const sampler = setInterval(() => { for (const p of pids) peak = Math.max(peak, rssBytes(p) || 0); }, 200);
    const t0 = Date.now();
    const big = await new Promise((resolve) => execFile('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}',
      `http://127.0.0.1:${port}/stream?bytes=${GIB}`], (e, stdout, stderr) => resolve({ stdout, stderr })));
    clearInterval(sampler);
    assert.equal(big.stdout, `200 ${GIB}`, big.stderr + forward.tail());
    console.log(`forward behind NAT: 1 GiB in ${((Date.now() - t0) / 1000).toFixed(1)} s, peak RSS ${(peak / 1048576).toFixed(0)} MiB`);
    assert.ok(peak < 400 * 1048576, `the forward's memory stays bounded: peak RSS ${peak} bytes`);
    const id = JSON.parse((await on('a', ['device', 'list', '--json'])).stdout).devices[0].id;
    assert.equal((await on('a', ['device', 'revoke', id])).code, 0);
    const after = await runCli(['request', 'hello', '/whoami', '--appliance', boxes.a.id], laptop);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /enrolment has ended/);
  } finally {
    if (forward) await forward.stop();
    removeTempDir(config);
  }
});

test('the peer link recovers when the other appliance restarts', async () => {
  const invite = JSON.parse((await on('a', ['peer', 'invite', '--allow', 'hello', '--json'])).stdout);
  const pair = await on('b', ['peer', 'pair', invite.link, '--allow', 'hello']);
  assert.equal(pair.code, 0, pair.stderr);
  assert.equal((await callFromHello('b', `hello.${boxes.a.id}`)).status, 200);
  await boxes.a.stop();
  boxes.a = await startAppliance({ flock: `ws://${PUBLIC_IP}:${flock.port}`, name: "Alice's box", publicApps: [],
    wrap: lab.sites.a.exec, stateDir: boxes.a.stateDir });
  const again = await callFromHello('b', `hello.${boxes.a.id}`);
  assert.equal(again.status, 200, again.body + boxes.b.proc.tail());
  assert.equal(JSON.parse(again.body).peer, boxes.b.id);
  console.log(`the first call after the restart took ${again.ms} ms`);
});

test('a paired appliance that is offline is a quick, clear error', async () => {
  await boxes.a.stop();
  const offline = await callFromHello('b', `hello.${boxes.a.id}`);
  assert.equal(offline.status, 504, offline.body);
  assert.match(offline.body, /cannot be reached/);
  assert.ok(offline.ms < 15000, `answered in ${offline.ms} ms`);
});

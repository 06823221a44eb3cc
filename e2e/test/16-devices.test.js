// 16. A laptop enrolled as a trusted device reaches the appliance's apps from the command line
// with no password: `intrustd request` like curl, `intrustd forward` for any local program (curl
// here, through a CLI with a small heap), across a restart of the appliance, until the
// owner revokes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startFlock, startAppliance, removeTempDir, requireNetwork, tempDir, runCli, Proc, LAUNCHER, rssBytes, descendants } from '../lib/harness.js';

const PASSWORD = 'the owner password for devices';
const BIG = 256 * 1024 * 1024; // 17-peers.test.js sends 1 GiB through a forward behind NAT
let flock;
let app;
let config; // the laptop's $XDG_CONFIG_HOME: where its device key lives
let forward;
let forwardPort;

const onLaptop = (args, o = {}) => runCli(args, { ...o, env: { XDG_CONFIG_HOME: config, ...(o.env || {}) } });
const onAppliance = (args, o = {}) => runCli([...args, '--state', app.stateDir], o);

/** curl, with its exit code, body and the figures -w prints. */
function curl(args) {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

before(async () => {
  requireNetwork();
  flock = await startFlock();
  app = await startAppliance({ flock: flock.url, publicApps: [] });
  const owner = await onAppliance(['persona', 'add', 'alice', '--role', 'owner', '--password-stdin'], { input: `${PASSWORD}\n` });
  assert.equal(owner.code, 0, owner.stderr);
  config = tempDir('intrustd-e2e-laptop-');
});
after(async () => {
  if (forward) await forward.stop();
  if (app) await app.stop();
  if (flock) await flock.stop();
  if (app) removeTempDir(app.stateDir);
  if (config) removeTempDir(config);
});

test('a device asks to be enrolled, waits with its code, and the owner approves that code', async () => {
  const enroll = new Proc('enroll', LAUNCHER, ['device', 'enroll', '--appliance', app.id, '--flock', flock.url,
    '--label', 'test laptop', '--wait', '90'], { env: { XDG_CONFIG_HOME: config } });
  try {
    const [, code] = await enroll.waitForLine((l) => /Its code: ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(l), 30000, 'the enrolment code');
    const key = path.join(config, 'intrustd', 'devices', `${app.id}.json`);
    assert.equal(fs.statSync(key).mode & 0o777, 0o600, 'the device key is readable by its user only');

    const listed = await onAppliance(['device', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const waiting = JSON.parse(listed.stdout).requests;
    assert.deepEqual(waiting.map((r) => [r.code, r.label]), [[code, 'test laptop']]);

    // Before the approval the device is refused, and says why.
    const early = await onLaptop(['status', '--appliance', app.id, '--flock', flock.url]);
    assert.equal(early.code, 1, early.stdout + early.stderr);
    assert.match(early.stderr, /waits for the owner's approval/);

    const wrong = await onAppliance(['device', 'approve', 'AAAA-AAAA', '--persona', 'alice']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /no device waits for approval/);
    const nobody = await onAppliance(['device', 'approve', code, '--persona', 'nobody']);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no persona named 'nobody'/);

    const approve = await onAppliance(['device', 'approve', code.toLowerCase().replace('-', ' '), '--persona', 'alice']);
    assert.equal(approve.code, 0, approve.stderr);
    await enroll.waitForLine((l) => /approved: this machine acts as 'alice'/.test(l), 30000, 'the approval');
    const done = await enroll.exitedPromise;
    assert.equal(done.code, 0, enroll.tail());
  } finally {
    await enroll.stop();
  }

  // From now on: no password, no --flock (remembered), and the admin API as the owner.
  const status = await onLaptop(['status', '--appliance', app.id, '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).appliance, app.id);
  const again = await onLaptop(['device', 'enroll', '--appliance', app.id]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /enrolled with .* already, as 'alice'/);
});

test('intrustd request streams a response, sends a file as the body, and fails on a 4xx with the body printed', async () => {
  const who = await onLaptop(['request', 'hello', '/whoami']);
  assert.equal(who.code, 0, who.stderr);
  assert.match(who.stdout, /alice/);

  const dir = tempDir('intrustd-e2e-upload-');
  try {
    const file = path.join(dir, 'body.bin');
    const bytes = crypto.randomBytes(3 * 1024 * 1024 + 17);
    fs.writeFileSync(file, bytes);
    const up = await onLaptop(['request', 'hello', '/upload', '-X', 'POST', '--data-file', file]);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(JSON.parse(up.stdout), { size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });

    const out = path.join(dir, 'stream.bin');
    const down = await onLaptop(['request', 'hello', '/stream?bytes=5000000', '-o', out]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(fs.statSync(out).size, 5000000);
  } finally {
    removeTempDir(dir);
  }

  const bad = await onLaptop(['request', 'hello', '/stream?bytes=-1', '-i']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^HTTP\/1\.1 400/);
  assert.match(bad.stdout, /decimal integer/);
  const usage = await onLaptop(['request', 'hello', 'no-slash']);
  assert.equal(usage.code, 2);
});

test('intrustd forward serves the app on a local port: curl, keep-alive, concurrent requests, 256 MiB with a 64 MiB heap', async () => {
  forward = new Proc('forward', LAUNCHER, ['forward', 'hello', '0'], {
    env: { XDG_CONFIG_HOME: config, INTRUSTD_JAVA_OPTS: '-Xmx64m' },
  });
  const [, port] = await forward.waitForLine((l) => /forwarding http:\/\/127\.0\.0\.1:(\d+)\//.exec(l), 30000, 'the port');
  forwardPort = Number(port);
  const base = `http://127.0.0.1:${forwardPort}`;

  const two = await curl(['-w', '\\n%{num_connects}', `${base}/whoami`, `${base}/whoami`]);
  assert.equal(two.code, 0, two.stderr + forward.tail());
  assert.equal((two.stdout.match(/alice/g) || []).length, 2, two.stdout);
  assert.match(two.stdout, /\n0$/, 'the second request reused the connection');

  // Concurrent requests share the forward's one link, each on a channel of its own.
  const sizes = [1, 2_000_000, 5_000_000, 300_000, 7_000_000];
  const parallel = await Promise.all(sizes.map((n) => curl(['-o', '/dev/null', '-w', '%{http_code} %{size_download}', `${base}/stream?bytes=${n}`])));
  assert.deepEqual(parallel.map((r) => r.stdout), sizes.map((n) => `200 ${n}`), parallel.map((r) => r.stderr).join(''));

  const java = [forward.pid, ...descendants(forward.pid)];
  let peak = 0;
  const sampler = setInterval(() => { for (const p of java) peak = Math.max(peak, rssBytes(p) || 0); }, 200);
  const t0 = Date.now();
  const big = await curl(['-o', '/dev/null', '-w', '%{http_code} %{size_download}', `${base}/stream?bytes=${BIG}`]);
  clearInterval(sampler);
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(big.code, 0, big.stderr + forward.tail());
  assert.equal(big.stdout, `200 ${BIG}`);
  console.log(`forward: 256 MiB in ${seconds.toFixed(1)} s (${(BIG / 1048576 / seconds).toFixed(0)} MiB/s), peak RSS ${(peak / 1048576).toFixed(0)} MiB`);
  assert.ok(peak < 400 * 1048576, `the forward's memory stays bounded: peak RSS ${peak} bytes`);
});

test('the forward survives a restart of the appliance: the next request makes a new link', async () => {
  const base = `http://127.0.0.1:${forwardPort}`;
  await app.stop();
  app = await startAppliance({ flock: flock.url, publicApps: [], stateDir: app.stateDir });
  let r;
  for (let i = 0; i < 3; i++) { // a request on the dead link may fail while the forward notices
    r = await curl(['-w', ' %{http_code}', `${base}/whoami`]);
    if (r.code === 0 && / 200$/.test(r.stdout)) break;
  }
  assert.match(r.stdout, /alice.* 200$/s, r.stderr + forward.tail());
  assert.match(forward.output, /connecting again/);
});

test('revoking the device refuses it at once, and the CLI says the enrolment has ended', async () => {
  const listed = JSON.parse((await onAppliance(['device', 'list', '--json'])).stdout);
  assert.equal(listed.devices.length, 1);
  assert.equal(listed.devices[0].persona, 'alice');
  const sessions = JSON.parse((await onAppliance(['session', 'list', '--json'])).stdout).sessions;
  assert.deepEqual(sessions.filter((x) => x.device).map((x) => x.id), [listed.devices[0].id], 'the session list marks the device');
  const revoke = await onAppliance(['device', 'revoke', listed.devices[0].id]);
  assert.equal(revoke.code, 0, revoke.stderr);

  const r = await curl(['-w', ' %{http_code}', `http://127.0.0.1:${forwardPort}/whoami`]);
  assert.match(r.stdout, / 403$/, r.stdout + forward.tail());
  const status = await onLaptop(['status', '--appliance', app.id]);
  assert.equal(status.code, 1);
  assert.match(status.stderr, /enrolment has ended/);
});

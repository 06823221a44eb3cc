// 20. `intrustd backup` from a laptop to the appliance's backups app, over the end-to-end link:
// a repository made there, two snapshots (the second reads only what changed), a restore that
// gives back every byte, check --read-data; the appliance stores sealed files and never sees the
// password (a wrong one is refused by the laptop itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startFlock, startAppliance, removeTempDir, requireNetwork, tempDir, runCli, HELLO_APPS, BACKUPS_APP } from '../lib/harness.js';

const LOGIN = 'the owner password for backups';
let flock;
let app;
let work;

before(async () => {
  requireNetwork();
  flock = await startFlock();
  app = await startAppliance({ flock: flock.url, apps: [HELLO_APPS, BACKUPS_APP], publicApps: [] });
  const owner = await runCli(['persona', 'add', 'alice', '--role', 'owner', '--password-stdin', '--state', app.stateDir],
    { input: `${LOGIN}\n` });
  assert.equal(owner.code, 0, owner.stderr);
  work = tempDir('intrustd-e2e-backup-');
  fs.mkdirSync(path.join(work, 'home', 'docs'), { recursive: true });
  fs.writeFileSync(path.join(work, 'home', 'notes.txt'), 'backed up over the link\n'.repeat(2000));
  fs.writeFileSync(path.join(work, 'home', 'docs', 'random.bin'), crypto.randomBytes(3 << 20));
  fs.writeFileSync(path.join(work, 'pw'), 'the repository password\n');
  fs.writeFileSync(path.join(work, 'wrong'), 'not the password\n');
});
after(async () => {
  if (app) await app.stop();
  if (flock) await flock.stop();
  if (app) removeTempDir(app.stateDir);
  if (work) removeTempDir(work);
});

const backup = (args, password = 'pw') => runCli(['backup', ...args, '--appliance', app.id, '--flock', flock.url, '--login', 'alice',
  '--repo', 'laptop', '--password-file', path.join(work, password)], { env: { INTRUSTD_PASSWORD: LOGIN }, timeoutMs: 180000 });

test('a laptop backs up to the appliance over the link and restores every byte', async () => {
  const init = await backup(['init', '--kdf-memory', '8', '--kdf-iterations', '1', '--json']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(JSON.parse(init.stdout).repository, /laptop on appliance/);

  const first = await backup(['run', path.join(work, 'home'), '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).summary.files, 2);

  fs.writeFileSync(path.join(work, 'home', 'docs', 'new.txt'), 'added later');
  const second = await backup(['run', path.join(work, 'home'), '--json']);
  assert.equal(second.code, 0, second.stderr);
  const summary = JSON.parse(second.stdout).summary;
  assert.equal(summary.filesUnchanged, 2);
  assert.equal(summary.filesNew, 1);

  // "latest" reads every snapshot (in one exchange) to find the newest.
  const out = path.join(work, 'restored');
  const restore = await backup(['restore', 'latest', '--target', out]);
  assert.equal(restore.code, 0, restore.stderr);
  for (const f of ['notes.txt', path.join('docs', 'random.bin'), path.join('docs', 'new.txt')]) {
    assert.ok(fs.readFileSync(path.join(out, 'home', f)).equals(fs.readFileSync(path.join(work, 'home', f))), f);
  }

  const check = await backup(['check', '--read-data']);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /no errors/);

  const wrong = await backup(['snapshots'], 'wrong');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /wrong password/);

  // What the appliance keeps: sealed files named by their hashes, nothing readable.
  const stored = fs.readdirSync(app.stateDir, { recursive: true }).map(String).filter((f) => f.includes(`${path.sep}snapshots${path.sep}`));
  assert.equal(stored.length, 2, `two snapshot files on the appliance: ${stored}`);
  const text = fs.readFileSync(path.join(app.stateDir, stored[0]));
  assert.ok(!text.includes(Buffer.from('home')), 'a snapshot names its paths only inside the seal');
});

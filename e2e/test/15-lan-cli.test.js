// 15. With no flock and no internet, a laptop on the LAN still finds, claims and administers
// the appliance with the CLI: mDNS finds it, and the link goes through its own LAN flock, signed
// and end-to-end like any other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAppliance, removeTempDir, requireNetwork, pyserveBundles, runCli as cli } from '../lib/harness.js';

const PASSWORD = 'the owner password on the LAN';
let app;
before(async () => {
  requireNetwork();
  // Port 9 (discard) on loopback: no flock answers, as when the internet is down.
  app = await startAppliance({ flock: 'ws://127.0.0.1:9', name: 'Offline box', publicApps: [] });
});
after(async () => {
  if (app) {
    await app.stop();
    removeTempDir(app.stateDir);
  }
});

test('the CLI claims the appliance over the LAN with no flock: a wrong code is refused, the right one works once', async () => {
  assert.ok(app.ready.claimCode, JSON.stringify(app.ready));
  const wrong = await cli(['claim', '--code', 'AAAAA-AAAAA', '--password-stdin'], { input: `${PASSWORD}\n` });
  assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stderr, /wrong claim code/);

  const right = await cli(['claim', '--code', app.ready.claimCode, '--persona', 'alice', '--password-stdin'], { input: `${PASSWORD}\n` });
  assert.equal(right.code, 0, right.stdout + right.stderr);
  assert.match(right.stdout, new RegExp(`claimed ${app.id}: 'alice' is its owner`));
  assert.match(app.proc.output, /appliance claimed: 'alice' is its owner/);

  const again = await cli(['claim', '--code', app.ready.claimCode, '--password-stdin'], { input: `${PASSWORD}\n` });
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /no unclaimed appliance answered on this LAN/);
});

test('then the owner runs commands on it over the LAN; a wrong password is refused', async () => {
  const status = await cli(['status', '--appliance', app.id, '--login', 'alice', '--json'], { env: { INTRUSTD_PASSWORD: PASSWORD } });
  assert.equal(status.code, 0, status.stdout + status.stderr);
  const s = JSON.parse(status.stdout);
  const why = (r) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(s.appliance, app.id);
  assert.equal(s.name, 'Offline box');
  assert.equal(s.claimed, true);
  assert.equal(s.flock.registered, false);
  assert.equal(s.lan.port, Number(app.ready.lanPort));

  const add = await cli(['persona', 'add', 'bob', '--appliance', app.id, '--login', 'alice', '--password-stdin'],
    { input: "bob's password\n", env: { INTRUSTD_PASSWORD: PASSWORD } });
  assert.equal(add.code, 0, add.stdout + add.stderr);
  const list = await cli(['persona', 'list', '--appliance', app.id, '--login', 'alice'], { env: { INTRUSTD_PASSWORD: PASSWORD } });
  assert.match(list.stdout, /^bob\s+member/m, why(list));

  const refused = await cli(['status', '--appliance', app.id, '--login', 'alice'], { env: { INTRUSTD_PASSWORD: 'not it' } });
  assert.equal(refused.code, 1, why(refused));
  assert.match(refused.stderr, /wrong persona name or password/, why(refused));
  const member = await cli(['status', '--appliance', app.id, '--login', 'bob'], { env: { INTRUSTD_PASSWORD: "bob's password" } });
  assert.equal(member.code, 1, why(member));
  assert.match(member.stderr, /owner or an admin/, why(member));
});

test('the owner installs and updates an app from the laptop: the CLI uploads the bundle through the link', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'intrustd-lan-bundle-'));
  const why = (r) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  const env = { INTRUSTD_PASSWORD: PASSWORD };
  try {
    const bundles = pyserveBundles({ dir: work, id: 'notes', name: 'Notes', versions: ['1.0.0', '1.1.0'],
      noiseBytes: 9 * 1024 * 1024, stateDir: app.stateDir }); // over two flow-control windows
    const install = await cli(['app', 'install', bundles['1.0.0'], '--appliance', app.id, '--login', 'alice', '--json'], { env });
    assert.equal(install.code, 0, why(install));
    const installed = JSON.parse(install.stdout);
    assert.equal(installed.action, 'installed');
    assert.equal(installed.version, '1.0.0');
    const again = await cli(['app', 'install', bundles['1.0.0'], '--appliance', app.id, '--login', 'alice'], { env });
    assert.equal(again.code, 1, why(again));
    assert.match(again.stderr, /already installed; update it instead/);

    const update = await cli(['app', 'update', 'notes', bundles['1.1.0'], '--appliance', app.id, '--login', 'alice'], { env });
    assert.equal(update.code, 0, why(update));
    assert.match(update.stdout, /notes\s+1\.1\.0/);
    const wrong = await cli(['app', 'update', 'hello', bundles['1.1.0'], '--appliance', app.id, '--login', 'alice'], { env });
    assert.equal(wrong.code, 1, why(wrong));
    assert.match(wrong.stderr, /that bundle is app 'notes', not 'hello'/);
    const missing = await cli(['app', 'install', path.join(work, 'nope.itb'), '--appliance', app.id, '--login', 'alice'], { env });
    assert.equal(missing.code, 1, why(missing));
    assert.match(missing.stderr, /no such file/);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

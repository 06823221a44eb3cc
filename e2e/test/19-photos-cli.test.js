// 19. `intrustd photos import` from a laptop: every photo and video under a folder goes into the
// owner's library over the end-to-end link; other files are passed over, a corrupt one is
// refused by name, and running it again adds nothing (files are known by their content).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startFlock, startAppliance, removeTempDir, requireNetwork, tempDir, runCli, HELLO_APPS, PHOTOS_APP } from '../lib/harness.js';

const PASSWORD = 'the owner password for photos';
const PHOTOS = PHOTOS_APP;
let flock;
let app;
let folder;

before(async () => {
  requireNetwork();
  flock = await startFlock();
  app = await startAppliance({ flock: flock.url, apps: [HELLO_APPS, PHOTOS], publicApps: [] });
  const owner = await runCli(['persona', 'add', 'alice', '--role', 'owner', '--password-stdin', '--state', app.stateDir],
    { input: `${PASSWORD}\n` });
  assert.equal(owner.code, 0, owner.stderr);
  folder = tempDir('intrustd-e2e-pictures-');
  fs.mkdirSync(path.join(folder, '2024', 'summer'), { recursive: true });
  const jpeg = (w, h, file) => {
    execFileSync('vips', ['black', path.join(folder, 'tmp.v'), String(w), String(h)]);
    execFileSync('vips', ['copy', path.join(folder, 'tmp.v'), path.join(folder, file)]);
  };
  jpeg(64, 48, 'IMG_0001.JPG');
  jpeg(48, 64, path.join('2024', 'IMG_0002.jpg'));
  jpeg(80, 60, path.join('2024', 'summer', 'beach.jpeg'));
  fs.rmSync(path.join(folder, 'tmp.v'));
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'not a photo');
  const cut = fs.readFileSync(path.join(folder, 'IMG_0001.JPG'));
  fs.writeFileSync(path.join(folder, 'broken.jpg'), cut.subarray(0, cut.length - 40));
});
after(async () => {
  if (app) await app.stop();
  if (flock) await flock.stop();
  if (app) removeTempDir(app.stateDir);
  if (folder) removeTempDir(folder);
});

const importFolder = () => runCli(['photos', 'import', folder, '--appliance', app.id, '--flock', flock.url, '--login', 'alice',
  '--json'], { env: { INTRUSTD_PASSWORD: PASSWORD }, timeoutMs: 120000 });

test('a folder is imported over the link; a corrupt file is refused by name; a second run adds nothing', async () => {
  const first = await importFolder();
  assert.equal(first.code, 1, `one file is refused, so the exit code says so: ${first.stderr}`);
  const summary = JSON.parse(first.stdout);
  assert.equal(summary.files, 4, 'notes.txt is not even tried');
  assert.equal(summary.added, 3);
  assert.deepEqual(summary.failed.map((f) => [f.file, f.status]), [['broken.jpg', 422]]);
  assert.match(summary.failed[0].detail, /truncated/);

  const again = await importFolder();
  const second = JSON.parse(again.stdout);
  assert.equal(second.added, 0);
  assert.equal(second.duplicates, 3);

  const timeline = await runCli(['request', 'photos', '/api/timeline', '--appliance', app.id, '--flock', flock.url,
    '--login', 'alice'], { env: { INTRUSTD_PASSWORD: PASSWORD } });
  assert.equal(timeline.code, 0, timeline.stderr);
  const names = JSON.parse(timeline.stdout).photos.map((p) => p.name).sort();
  assert.deepEqual(names, ['IMG_0001.JPG', 'IMG_0002.jpg', 'beach.jpeg']);

  const noFolder = await runCli(['photos', 'import', path.join(folder, 'nope'), '--appliance', app.id]);
  assert.equal(noFolder.code, 2);
  assert.match(noFolder.stderr, /is not a folder/);
});

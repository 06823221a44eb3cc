// 22. Off-site backups between friends: appliance A backs up its apps' data to appliance B's
// backups app over their peer link, sealed on A. B's owner must first give A room (a quota):
// until then the run fails, visibly, with the reason; then a run succeeds, A reads its
// snapshots back with its key, and B sees the space A uses but cannot read it. A puts an app's
// data back; then A is lost, and a new box C, paired with B, takes A's backups over with A's
// recovery kit and gets A's apps' data back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { startFlock, startAppliance, startBrowser, removeTempDir, requireNetwork, runCli, screenshot, sleep, HELLO_APPS, BACKUPS_APP } from '../lib/harness.js';

const PASSWORD = 'the owner password of both boxes';
let flock;
let browser;
const boxes = {};

const on = (box, args, o) => runCli([...args, '--state', boxes[box].stateDir], o);

/** Polls A's off-site status until `done` holds for it (or fails the test after `ms`). */
async function statusUntil(done, ms = 150000) {
  let last;
  for (const end = Date.now() + ms; Date.now() < end; await sleep(1000)) {
    const s = await on('a', ['backup', 'offsite', '--json']);
    assert.equal(s.code, 0, s.stderr);
    last = JSON.parse(s.stdout);
    if (done(last)) return last;
  }
  assert.fail(`off-site status never got there: ${JSON.stringify(last)}`);
}

before(async () => {
  requireNetwork();
  flock = await startFlock();
  boxes.a = await startAppliance({ flock: flock.url, name: "Alice's box", apps: HELLO_APPS, publicApps: [] });
  boxes.b = await startAppliance({ flock: flock.url, name: "Bob's box", apps: [HELLO_APPS, BACKUPS_APP], publicApps: [] });
  for (const box of ['a', 'b']) {
    const owner = await on(box, ['persona', 'add', 'owner', '--role', 'owner', '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(owner.code, 0, owner.stderr);
  }
  // Something of A's to keep: a file in its hello app's data.
  const data = path.join(boxes.a.stateDir, 'data', 'hello');
  fs.mkdirSync(data, { recursive: true });
  fs.writeFileSync(path.join(data, 'notes.txt'), 'what Alice keeps\n'.repeat(1000));
});
after(async () => {
  if (browser) await browser.close();
  for (const b of Object.values(boxes)) await b.stop();
  if (flock) await flock.stop();
  for (const b of Object.values(boxes)) removeTempDir(b.stateDir);
});

test('A backs up to B once B gives it room; a failure before that is visible', async () => {
  const invite = await on('b', ['peer', 'invite', '--allow', 'backups', '--json']);
  assert.equal(invite.code, 0, invite.stderr);
  const pair = await on('a', ['peer', 'pair', JSON.parse(invite.stdout).link, '--allow', 'hello', '--json']);
  assert.equal(pair.code, 0, pair.stderr);

  const set = await on('a', ['backup', 'offsite', 'set', '--peer', boxes.b.id, '--every', '24', '--json']);
  assert.equal(set.code, 0, set.stderr);
  const refused = await statusUntil((s) => s.last && !s.running);
  assert.equal(refused.last.ok, false);
  assert.match(refused.last.error, /no room|quota/);
  const text = await on('a', ['backup', 'offsite']);
  assert.match(text.stdout, /FAILED/);

  const quota = await runCli(['request', 'backups', `/api/clients/peer:${boxes.a.id}/quota`, '-X', 'PUT', '-d', '{"bytes": 200000000}',
    '--appliance', boxes.b.id, '--flock', flock.url, '--login', 'owner'], { env: { INTRUSTD_PASSWORD: PASSWORD } });
  assert.equal(quota.code, 0, quota.stderr);

  const run = await on('a', ['backup', 'offsite', 'run', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const done = await statusUntil((s) => s.last && !s.running && s.last.ok);
  assert.ok(done.lastSuccessAt);
  assert.equal(done.overdue, false);
  assert.ok(done.last.snapshots.length >= 1);

  const snapshots = await on('a', ['backup', 'offsite', 'snapshots', '--json'], { timeoutMs: 120000 });
  assert.equal(snapshots.code, 0, snapshots.stderr);
  const tags = JSON.parse(snapshots.stdout).snapshots.flatMap((s) => s.tags);
  assert.ok(tags.includes('app:hello'), `a snapshot of the hello app: ${tags}`);

  const kit = await on('a', ['backup', 'offsite', 'key']);
  assert.equal(kit.code, 0, kit.stderr);
  assert.match(kit.stdout, new RegExp(`^appliance: ${boxes.a.id}$`, 'm'));
  assert.match(kit.stdout, new RegExp(`^friend: ${boxes.b.id}$`, 'm'));
  assert.match(kit.stdout, /^key: [A-Za-z0-9_-]{40,}$/m);

  // B keeps A's sealed files in A's space, and nothing in them reads as A's data.
  const clients = await runCli(['request', 'backups', '/api/clients', '--appliance', boxes.b.id, '--flock', flock.url, '--login', 'owner'],
    { env: { INTRUSTD_PASSWORD: PASSWORD } });
  const friend = JSON.parse(clients.stdout).clients.find((c) => c.client === `peer:${boxes.a.id}`);
  assert.ok(friend.used > 0 && friend.used <= 200000000, JSON.stringify(friend));
  const stored = fs.readdirSync(boxes.b.stateDir, { recursive: true }).map(String).filter((f) => f.includes(`${path.sep}data${path.sep}`)
    && fs.statSync(path.join(boxes.b.stateDir, f)).isFile());
  for (const f of stored) {
    assert.ok(!fs.readFileSync(path.join(boxes.b.stateDir, f)).includes(Buffer.from('what Alice keeps')), f);
  }
});

test("A puts its app's data back from B's copy, keeping what it replaced", async () => {
  const data = path.join(boxes.a.stateDir, 'data', 'hello');
  // Lost since the backup: the notes gone, something else written.
  fs.rmSync(path.join(data, 'notes.txt'));
  fs.writeFileSync(path.join(data, 'since.txt'), 'written after the backup\n');

  const wrongApp = await on('a', ['backup', 'offsite', 'restore', 'nosuchapp']);
  assert.equal(wrongApp.code, 1);
  assert.match(wrongApp.stderr, /no app nosuchapp/);
  const wrongSnapshot = await on('a', ['backup', 'offsite', 'restore', 'hello', '--snapshot', 'ffffffff'], { timeoutMs: 120000 });
  assert.equal(wrongSnapshot.code, 1);
  assert.match(wrongSnapshot.stderr, /no snapshot ffffffff/);
  assert.ok(fs.existsSync(path.join(data, 'since.txt')), 'a refused restore leaves the data as it was');

  const restored = await on('a', ['backup', 'offsite', 'restore', 'hello', '--json'], { timeoutMs: 120000 });
  assert.equal(restored.code, 0, restored.stderr);
  const r = JSON.parse(restored.stdout);
  assert.equal(r.app, 'hello');
  assert.ok(r.files >= 1, restored.stdout);
  assert.equal(fs.readFileSync(path.join(data, 'notes.txt'), 'utf8'), 'what Alice keeps\n'.repeat(1000));
  assert.ok(!fs.existsSync(path.join(data, 'since.txt')));
  assert.match(path.basename(r.previous), /^hello\.before-restore-\d{8}T\d{6}Z$/);
  assert.equal(fs.readFileSync(path.join(r.previous, 'since.txt'), 'utf8'), 'written after the backup\n');
  assert.deepEqual(fs.readdirSync(path.dirname(data)).filter((f) => f.includes('restoring')), [], 'no staging folder left');
});

/** The admin app of `box` in Chromium, logged in as its owner, on the Settings page. */
async function adminSettings(box) {
  browser ||= await startBrowser();
  const page = await browser.newPage();
  await page.goto(`${flock.http}/admin/?appliance=${boxes[box].id}&flock=${encodeURIComponent(flock.url)}`);
  const dialog = page.locator('dialog.intrustd-login');
  await dialog.waitFor({ timeout: 20000 });
  await dialog.getByLabel('Name').fill('owner');
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Log in' }).click();
  await page.waitForFunction(() => document.body.dataset.page === 'overview', null, { timeout: 20000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.waitForFunction(() => document.body.dataset.page === 'settings');
  return page;
}

test("A's owner puts an app's data back from the admin app's list of snapshots", async () => {
  const data = path.join(boxes.a.stateDir, 'data', 'hello');
  fs.writeFileSync(path.join(data, 'notes.txt'), 'overwritten by mistake\n');
  const page = await adminSettings('a');
  await page.getByRole('button', { name: 'Snapshots kept there' }).click();
  const putBack = page.getByRole('button', { name: /^Put back hello as of / }).first();
  await putBack.waitFor({ timeout: 120000 });
  await screenshot(page, 'admin-offsite-snapshots');
  page.once('dialog', (d) => d.accept());
  await putBack.click();
  await page.getByRole('status').filter({ hasText: /^Put hello's data back as of .*What it replaced is kept in / }).waitFor({ timeout: 120000 });
  assert.equal(fs.readFileSync(path.join(data, 'notes.txt'), 'utf8'), 'what Alice keeps\n'.repeat(1000));
  await page.close();
});

test("A is lost: a new box C takes its backups over from B with A's recovery kit, and A's apps' data comes back", async () => {
  const kitDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intrustd-kit-'));
  try {
    const kitFile = path.join(kitDir, 'kit.txt');
    const kit = await on('a', ['backup', 'offsite', 'key']);
    fs.writeFileSync(kitFile, kit.stdout);
    await boxes.a.stop();

    boxes.c = await startAppliance({ flock: flock.url, name: 'the new box', apps: HELLO_APPS, publicApps: [] });
    const owner = await on('c', ['persona', 'add', 'owner', '--role', 'owner', '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(owner.code, 0, owner.stderr);
    const notPaired = await on('c', ['backup', 'offsite', 'recover', kitFile]);
    assert.equal(notPaired.code, 1);
    assert.match(notPaired.stderr, /not paired/);
    const invite = await on('b', ['peer', 'invite', '--allow', 'backups', '--json']);
    const pair = await on('c', ['peer', 'pair', JSON.parse(invite.stdout).link, '--allow', 'hello', '--json']);
    assert.equal(pair.code, 0, pair.stderr);

    const garbled = path.join(kitDir, 'garbled.txt');
    fs.writeFileSync(garbled, 'this is not a kit\n');
    const bad = await on('c', ['backup', 'offsite', 'recover', garbled]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /name: value/);
    const wrongKey = path.join(kitDir, 'wrong.txt');
    fs.writeFileSync(wrongKey, kit.stdout.replace(/^key: .*$/m, `key: ${'x'.repeat(43)}`));
    const refused = await on('c', ['backup', 'offsite', 'recover', wrongKey], { timeoutMs: 120000 });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /did not hand over/);

    const recovered = await on('c', ['backup', 'offsite', 'recover', kitFile, '--json'], { timeoutMs: 180000 });
    assert.equal(recovered.code, 0, recovered.stderr);
    const r = JSON.parse(recovered.stdout);
    assert.equal(r.from, boxes.a.id);
    assert.deepEqual(r.moved, ['apps']);
    assert.deepEqual(r.restored.map((x) => x.app), ['hello']);
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.warnings, []);
    const data = path.join(boxes.c.stateDir, 'data', 'hello');
    assert.equal(fs.readFileSync(path.join(data, 'notes.txt'), 'utf8'), 'what Alice keeps\n'.repeat(1000));

    // C has a key of its own now (the kit's is spent), and backs up to B from here.
    const newKit = await on('c', ['backup', 'offsite', 'key']);
    assert.match(newKit.stdout, new RegExp(`^appliance: ${boxes.c.id}$`, 'm'));
    assert.notEqual(newKit.stdout.match(/^key: .*$/m)[0], kit.stdout.match(/^key: .*$/m)[0]);
    const status = await on('c', ['backup', 'offsite', '--json']);
    assert.equal(JSON.parse(status.stdout).plan.peer, boxes.b.id);

    // Run again, from the admin app (as after a cut-off recovery): nothing more to move, the data put back again.
    fs.rmSync(path.join(data, 'notes.txt'));
    const page = await adminSettings('c');
    await page.getByLabel('Recovery kit').fill(kit.stdout);
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Recovered: 1 app put back.' }).waitFor({ timeout: 180000 });
    assert.match(await page.locator('#rc-result').textContent(), new RegExp(`The backups of ${boxes.a.id} are now this appliance's.*hello: data put back`));
    await screenshot(page, 'admin-offsite-recovered');
    assert.equal(fs.readFileSync(path.join(data, 'notes.txt'), 'utf8'), 'what Alice keeps\n'.repeat(1000));
    await page.close();

    // B now keeps the backups for C, and nothing for the lost A.
    const clients = await runCli(['request', 'backups', '/api/clients', '--appliance', boxes.b.id, '--flock', flock.url, '--login', 'owner'],
      { env: { INTRUSTD_PASSWORD: PASSWORD } });
    const keys = JSON.parse(clients.stdout).clients.map((c) => c.client);
    assert.ok(keys.includes(`peer:${boxes.c.id}`), keys.join());
    assert.ok(!keys.includes(`peer:${boxes.a.id}`), keys.join());
  } finally {
    fs.rmSync(kitDir, { recursive: true, force: true });
  }
});

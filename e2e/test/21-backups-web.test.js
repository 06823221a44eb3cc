// 21. The backups app's web page in real Chromium: a laptop has backed up to the appliance with
// `intrustd backup` (a repository with a snapshot; a phone's is made, never used), and its owner logs
// in and sees them with the space used, a warning when a backup is overdue (by a threshold she
// picks, kept in the browser), sets quotas for herself and for a friend's appliance (checked
// through the app's API), copies a restore command that works as it is, and deletes
// repositories with their names typed to confirm, the last one by keyboard on a phone-sized
// screen, which leaves the empty state with the commands to start again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fixture, ARTIFACTS, BACKUPS_APP, HELLO_APPS, runCli, screenshot, tempDir } from '../lib/harness.js';

const LOGIN = 'the backups web test password';
const fx = fixture({ applianceOptions: { name: 'Backups test box', apps: [HELLO_APPS, BACKUPS_APP], publicApps: [] } });
const FRIEND = applianceId(crypto.randomBytes(32)); // a friend's appliance, by its ID only
let work;
let page; // the owner's page, kept from test to test
let backedUp; // the laptop's first backup, under way

/** The appliance ID of a 32-byte digest, as ApplianceId shows it: base32, a Luhn mod 32 check per 13 characters, dashed by 7. */
function applianceId(digest) {
  const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const b of digest) bits += b.toString(2).padStart(8, '0');
  bits = bits.padEnd(260, '0');
  const b32 = bits.match(/.{5}/g).map((q) => B32[parseInt(q, 2)]).join('');
  const luhn = (group) => {
    let factor = 2;
    let sum = 0;
    for (let i = group.length - 1; i >= 0; i--) {
      const addend = factor * B32.indexOf(group[i]);
      factor = factor === 2 ? 1 : 2;
      sum += Math.floor(addend / 32) + (addend % 32);
    }
    return B32[(32 - (sum % 32)) % 32];
  };
  const checked = b32.match(/.{13}/g).map((g) => g + luhn(g)).join('');
  return checked.match(/.{7}/g).join('-');
}

/** `intrustd backup …` over the link, as alice, on repository `repo`. */
const backup = (args, repo) => runCli(['backup', ...args, '--appliance', fx.appliance.id, '--flock', fx.flock.url, '--login', 'alice',
  '--repo', repo, '--password-file', path.join(work, 'pw')], { env: { INTRUSTD_PASSWORD: LOGIN }, timeoutMs: 120000 });

before(async () => {
  await fx.setup();
  const owner = await runCli(['persona', 'add', 'alice', '--role', 'owner', '--display-name', 'Alice', '--password-stdin',
    '--state', fx.appliance.stateDir], { input: `${LOGIN}\n` });
  assert.equal(owner.code, 0, owner.stderr);
  work = tempDir('intrustd-e2e-backups-web-');
  fs.mkdirSync(path.join(work, 'home', 'docs'), { recursive: true });
  fs.writeFileSync(path.join(work, 'home', 'notes.txt'), 'kept on the appliance, sealed\n'.repeat(3000));
  fs.writeFileSync(path.join(work, 'home', 'docs', 'random.bin'), crypto.randomBytes(1 << 20));
  fs.writeFileSync(path.join(work, 'pw'), 'the repository password\n');
  // the laptop backs up while the owner opens the page and logs in (awaited in the first test)
  backedUp = (async () => {
    const init = await backup(['init', '--kdf-memory', '8', '--kdf-iterations', '1'], 'laptop');
    assert.equal(init.code, 0, init.stderr);
    const run = await backup(['run', path.join(work, 'home'), '--json'], 'laptop');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).summary.files, 2);
  })();
  backedUp.catch(() => {}); // reported where it is awaited
});
after(async () => {
  fs.writeFileSync(path.join(ARTIFACTS, 'backups-web-diagnostics.txt'), `${fx.diagnostics()}\n`);
  try { fs.copyFileSync(path.join(fx.appliance.stateDir, 'logs', 'backups.log'), path.join(ARTIFACTS, 'logs', 'backups-app.log')); } catch { /* none */ }
  await fx.teardown();
});

function pageUrl() {
  return `${fx.flock.http}/backups/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}`;
}

function onPage(p, name, timeout = 30000) {
  return p.waitForFunction((n) => document.body.dataset.page === n, name, { timeout });
}

/** The app's answer to GET `path`, asked from the page (through the shim, as the page's own calls are). */
function apiGet(p, target) {
  return p.evaluate(async (t) => {
    const res = await fetch(`intrustd+app://backups${t}`);
    return { status: res.status, body: await res.json() };
  }, target);
}

async function status(p, text, timeout = 30000) {
  await p.getByRole('status').filter({ hasText: text }).waitFor({ timeout });
}

const card = (name) => page.locator(`.repo-card[data-repo="${name}"]`);

test('the owner logs in and sees her repositories: snapshots, size, last backup, the space used', async () => {
  page = await fx.browser.newPage();
  await page.goto(pageUrl());
  const dialog = page.locator('dialog.intrustd-login');
  await dialog.waitFor({ timeout: 30000 });
  assert.equal(await dialog.getByRole('heading').textContent(), 'Log in to your backups');
  await dialog.getByLabel('Name').fill('alice');
  await dialog.getByLabel('Password').fill(LOGIN);
  await dialog.getByRole('button', { name: 'Log in' }).click();
  await onPage(page, 'backups');
  assert.equal(await page.locator('#who').textContent(), 'Alice');
  await backedUp;

  // a phone makes its repository (as `backup init` does) and never backs up; the page refreshed
  assert.equal(await page.evaluate(async () => (await fetch('intrustd+app://backups/api/repos', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'phone' }) })).status), 201);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await status(page, 'Refreshed.');
  const { body: repos } = await apiGet(page, '/api/repos');
  assert.deepEqual(repos.repos.map((r) => r.name), ['laptop', 'phone']);
  const laptop = repos.repos[0];
  assert.equal(laptop.snapshots, 1);
  assert.ok(laptop.bytes > 1 << 20, `the laptop repository holds the random MiB: ${laptop.bytes}`);

  assert.deepEqual(await page.locator('.repo-card .repo-name').allTextContents(), ['laptop', 'phone']);
  assert.equal(await card('laptop').getAttribute('data-state'), 'ok');
  assert.equal(await card('laptop').locator('.pill').textContent(), 'Up to date');
  assert.equal(await card('laptop').locator('.snapshots').textContent(), '1');
  assert.match(await card('laptop').locator('.size').textContent(), /^\d+(\.\d)? MB$/);
  assert.equal(await card('laptop').locator('.size').getAttribute('title'), `${laptop.bytes.toLocaleString('en-US')} bytes`);
  assert.match(await card('laptop').locator('.last').textContent(), /^Last backup (just now|\d+ minutes? ago)$/);
  assert.equal(await card('laptop').locator('time').getAttribute('datetime'), laptop.lastSnapshotAt);

  // phone: made, no snapshot: flagged whatever the threshold
  assert.equal(await card('phone').getAttribute('data-state'), 'empty');
  assert.equal(await card('phone').locator('.pill').textContent(), 'No backup yet');
  assert.equal(await card('phone').locator('.snapshots').textContent(), '0');
  assert.match(await page.locator('#overdue-text').textContent(), /^1 repository needs a backup: phone \(no backup yet\)\./);

  // the space used, in the top bar: no quota for a person unless the owner sets one
  assert.equal(repos.quota, null);
  assert.match(await page.locator('#usage-value').textContent(), /^\d+(\.\d)? MB used · no quota$/);
  assert.equal(await page.locator('#usage-meter').isHidden(), true);
  assert.match(await page.locator('#backups-summary').textContent(), /^2 repositories · 1 snapshot · \d+(\.\d)? MB$/);
  assert.equal(await page.getByRole('heading', { name: 'Looking for a file?' }).isVisible(), true);
  await screenshot(page, 'backups-repos');
});

test('the overdue warning follows the threshold she picks, kept in this browser', async () => {
  const value = page.getByLabel('Overdue after');
  assert.equal(await value.inputValue(), '2');
  assert.equal(await page.getByLabel('Unit').inputValue(), 'days');
  await value.fill('0');
  await page.waitForFunction(() => document.querySelector('.repo-card[data-repo="laptop"]').dataset.state === 'overdue');
  assert.equal(await card('laptop').locator('.pill').textContent(), 'Overdue');
  assert.match(await card('laptop').locator('.last').textContent(), /^Last backup (just now|\d+ minutes? ago), more than the 0 hours you allow$/);
  assert.match(await page.locator('#overdue-text').textContent(),
    /^2 repositories need a backup: laptop \(last backup [^)]+\), phone \(no backup yet\)\. You asked to be warned after 0 hours without one\./);
  await screenshot(page, 'backups-overdue');

  // kept: a reload (the session is remembered too: no login asked)
  await page.reload();
  await onPage(page, 'backups');
  assert.equal(await page.locator('dialog.intrustd-login').count(), 0);
  assert.equal(await page.getByLabel('Overdue after').inputValue(), '0');
  assert.equal(await card('laptop').getAttribute('data-state'), 'overdue');

  // an hour: the snapshot is newer than that
  await page.getByLabel('Overdue after').fill('1');
  await page.getByLabel('Unit').selectOption('hours');
  await page.waitForFunction(() => document.querySelector('.repo-card[data-repo="laptop"]').dataset.state === 'ok');
  assert.equal(await page.evaluate((id) => localStorage.getItem(`intrustd-backups-overdue:${id}`), fx.appliance.id),
    JSON.stringify({ value: 1, unit: 'hours' }));
  assert.match(await page.locator('#overdue-text').textContent(), /^1 repository needs a backup: phone \(no backup yet\)\. You asked to be warned after 1 hour without one\.$/);
});

test('friends and devices: the owner sets quotas, for herself and for a friend’s appliance', async () => {
  const section = page.getByRole('region', { name: 'Friends and devices' });
  await section.waitFor();
  const me = section.locator('tr[data-client="persona:alice"]');
  assert.match(await me.locator('td').first().textContent(), /^aliceyouPerson with a login here$/);
  assert.match(await me.locator('.repo-names').textContent(), /^laptop, phone$/);
  assert.equal(await me.locator('.quota-now').textContent(), 'No quota');

  // a wrong figure is refused on the spot, with why
  const quota = me.getByLabel('Quota for alice, in GB');
  await quota.fill('-3');
  await me.getByRole('button', { name: 'Save the quota for alice' }).click();
  assert.match(await me.getByRole('alert').textContent(), /^Enter a size in GB, 0 or more/);
  assert.equal(await quota.getAttribute('aria-invalid'), 'true');

  await quota.fill('1.5');
  await me.getByRole('button', { name: 'Save the quota for alice' }).click();
  await status(page, 'alice may now keep up to 1.5 GB here.');
  await page.locator('#usage-value').filter({ hasText: / of 1\.5 GB \((<1|\d+)%\)$/ }).waitFor();
  assert.equal(await page.locator('#usage-meter').getAttribute('aria-valuemax'), '1500000000');
  assert.equal(await page.locator('#usage-meter').isVisible(), true);
  let clients = (await apiGet(page, '/api/clients')).body.clients;
  assert.deepEqual(clients.find((c) => c.client === 'persona:alice').quota, 1500000000);
  assert.equal(await section.locator('tr[data-client="persona:alice"] .quota-now').textContent(), 'Quota 1.5 GB');

  // a friend's appliance: a malformed ID is refused, then room given to a real-looking one
  const form = page.getByRole('form', { name: 'Give room to a friend’s appliance' });
  await form.getByLabel('Their appliance ID').fill('my friend');
  await form.getByLabel('Room (GB)').fill('20');
  await form.getByRole('button', { name: 'Give room' }).click();
  assert.match(await form.getByRole('alert').textContent(), /^That is not an appliance ID/);
  assert.equal(await form.getByLabel('Their appliance ID').getAttribute('aria-invalid'), 'true');
  const typo = FRIEND.slice(0, 3) + (FRIEND[3] === 'Q' ? 'R' : 'Q') + FRIEND.slice(4);
  await form.getByLabel('Their appliance ID').fill(typo);
  await form.getByRole('button', { name: 'Give room' }).click();
  assert.match(await form.getByRole('alert').textContent(), /^That appliance ID has a typo/);
  // as a person may type it: lower case, without dashes
  await form.getByLabel('Their appliance ID').fill(FRIEND.toLowerCase().replace(/-/g, ''));
  await form.getByRole('button', { name: 'Give room' }).click();
  await status(page, `The appliance ${FRIEND.slice(0, 7)}… may now keep up to 20 GB here.`);
  const friend = section.locator(`tr[data-client="peer:${FRIEND}"]`);
  await friend.waitFor();
  assert.match(await friend.locator('td').first().textContent(), new RegExp(`^Friend’s appliance${FRIEND}$`));
  assert.equal(await friend.getByLabel(`Quota for the appliance ${FRIEND}, in GB`).inputValue(), '20');
  clients = (await apiGet(page, '/api/clients')).body.clients;
  assert.deepEqual(clients.find((c) => c.client === `peer:${FRIEND}`), { client: `peer:${FRIEND}`, used: 0, quota: 20e9, repos: [] });
  await screenshot(page, 'backups-friends');

  // changed, then taken back (a friend has no room unless given some: it leaves the list)
  await friend.getByLabel(`Quota for the appliance ${FRIEND}, in GB`).fill('0.25');
  await friend.getByRole('button', { name: `Save the quota for ${FRIEND}` }).click();
  await status(page, 'The friend’s appliance may now keep up to 250 MB here.');
  clients = (await apiGet(page, '/api/clients')).body.clients;
  assert.equal(clients.find((c) => c.client === `peer:${FRIEND}`).quota, 250e6);
  await section.locator(`tr[data-client="peer:${FRIEND}"]`).getByRole('button', { name: `Take back the room given to ${FRIEND}` }).click();
  await status(page, 'The friend’s appliance now has no room here.');
  await friend.waitFor({ state: 'detached' });
  clients = (await apiGet(page, '/api/clients')).body.clients;
  assert.equal(clients.some((c) => c.client.startsWith('peer:')), false, JSON.stringify(clients));

  // her own quota cleared again
  await section.locator('tr[data-client="persona:alice"]').getByRole('button', { name: 'No quota for alice' }).click();
  await status(page, 'alice now has no quota.');
  await page.locator('#usage-value').filter({ hasText: /used · no quota$/ }).waitFor();
  clients = (await apiGet(page, '/api/clients')).body.clients;
  assert.equal(clients.find((c) => c.client === 'persona:alice').quota, null);
});

test('browsing the laptop’s repository here: the password opens it in the browser; a file and a folder come back byte for byte', async () => {
  await page.getByRole('button', { name: 'Browse the files of laptop' }).click();
  const dialog = page.getByRole('dialog', { name: 'Browse “laptop”' });
  await dialog.waitFor();
  await dialog.getByLabel('The repository’s password').fill('not the password');
  await dialog.getByRole('button', { name: 'Open', exact: true }).click();
  await dialog.getByRole('alert').filter({ hasText: 'That is not a password of this repository.' }).waitFor({ timeout: 60000 });
  await dialog.getByLabel('The repository’s password').fill('the repository password');
  await dialog.getByRole('button', { name: 'Open', exact: true }).click();
  const snapshots = dialog.locator('#snapshot-list button');
  await snapshots.first().waitFor({ timeout: 60000 });
  assert.equal(await snapshots.count(), 1);
  assert.match(await snapshots.first().textContent(), /2 files/);
  await snapshots.first().click();
  await dialog.getByRole('button', { name: 'Open folder home' }).click();
  await dialog.getByRole('button', { name: 'Open folder docs' }).waitFor();
  await screenshot(page, 'backups-browse');

  // one file: every chunk read through the shim, opened and checked here
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }),
    dialog.getByRole('button', { name: 'Download notes.txt' }).click()]);
  assert.equal(file.suggestedFilename(), 'notes.txt');
  assert.deepEqual(fs.readFileSync(await file.path()), fs.readFileSync(path.join(work, 'home', 'notes.txt')));
  // a folder as a ZIP
  const [zip] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }),
    dialog.getByRole('button', { name: 'Download folder docs (ZIP)' }).click()]);
  assert.equal(zip.suggestedFilename(), 'docs.zip');
  const listing = JSON.parse(execFileSync('python3', ['-c',
    'import hashlib, json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}))',
    await zip.path()], { encoding: 'utf8' }));
  assert.deepEqual(listing, { 'random.bin': crypto.createHash('sha256').update(fs.readFileSync(path.join(work, 'home', 'docs', 'random.bin'))).digest('hex') });
  await dialog.getByRole('button', { name: 'Done' }).last().click();
  assert.equal(await dialog.isHidden(), true);
});

test('deleting a repository asks for its name, typed', async () => {
  await page.getByRole('button', { name: 'Delete phone' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete “phone”?' });
  await dialog.waitFor();
  const ok = dialog.getByRole('button', { name: 'Delete for good' });
  assert.equal(await ok.isDisabled(), true);
  await dialog.getByLabel('Type phone to confirm').fill('phon');
  assert.equal(await ok.isDisabled(), true);
  await dialog.getByLabel('Type phone to confirm').fill('phone');
  assert.equal(await ok.isEnabled(), true);
  await screenshot(page, 'backups-delete');
  await ok.click();
  await status(page, 'Deleted the repository “phone”.');
  assert.equal(await dialog.isHidden(), true);
  assert.deepEqual(await page.locator('.repo-card .repo-name').allTextContents(), ['laptop']);
  assert.equal(await page.locator('#overdue-banner').isHidden(), true, 'nothing is overdue any more');
  const { body } = await apiGet(page, '/api/repos');
  assert.deepEqual(body.repos.map((r) => r.name), ['laptop']);
});

test('on a phone: the restore commands work as copied; a repository deleted by keyboard leaves the empty state', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on a phone');
  await screenshot(page, 'backups-phone');

  await page.getByRole('button', { name: 'Browse and restore laptop' }).click();
  const dialog = page.getByRole('dialog', { name: 'Browse and restore “laptop”' });
  await dialog.waitFor();
  const flags = `--appliance ${fx.appliance.id} --flock ${fx.flock.url} --login alice --repo laptop`;
  const commands = await dialog.locator('pre').allTextContents();
  assert.deepEqual(commands, [`intrustd backup snapshots ${flags}`, `intrustd backup ls latest -R ${flags}`,
    `intrustd backup restore latest --target ~/restored ${flags}`, `intrustd backup run ~ ${flags}`,
    `intrustd backup check --read-data ${flags}`]);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the dialog fits');
  await screenshot(page, 'backups-phone-restore');
  // the browsing command as shown (the password given by file, not typed)
  const ls = await runCli([...commands[1].split(' ').slice(1), '--password-file', path.join(work, 'pw')],
    { env: { INTRUSTD_PASSWORD: LOGIN }, timeoutMs: 120000 });
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /notes\.txt/);
  assert.match(ls.stdout, /random\.bin/);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Browse and restore laptop', 'the focus is back');

  // by keyboard alone: Tab to Delete, Enter, the name typed, Enter
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Delete laptop');
  await page.keyboard.press('Enter');
  const confirm = page.getByRole('dialog', { name: 'Delete “laptop”?' });
  await confirm.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'delete-name');
  await page.keyboard.type('laptop');
  await page.keyboard.press('Enter');
  await status(page, 'Deleted the repository “laptop”.');
  await page.getByRole('heading', { name: 'No backups here yet' }).waitFor();
  assert.equal(await page.locator('#repo-list .repo-card').count(), 0);
  const start = await page.locator('#repos-empty pre').allTextContents();
  assert.deepEqual(start, [`intrustd backup init ${flags}`, `intrustd backup run ~ ${flags}`]);
  assert.equal(await page.locator('#appliance-id').textContent(), fx.appliance.id);
  await page.locator('#usage-value').filter({ hasText: /^0 B used · no quota$/ }).waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling');
  await screenshot(page, 'backups-phone-empty');
  assert.deepEqual((await apiGet(page, '/api/repos')).body.repos, []);
  await page.close();
});

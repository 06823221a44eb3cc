// 13. The admin app in real Chromium: its owner logs in through the link and sees the
// appliance as it is, starts an app and reads its log, revokes an app's permission, manages
// people, creates a share link and revokes it, and reads the access log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixture, ARTIFACTS, LAUNCHER, pyserveBundles, screenshot, startBrowser } from '../lib/harness.js';

const PASSWORD = 'the admin test password';
const fx = fixture({ applianceOptions: { name: 'Admin test box', publicApps: [] } });
before(async () => {
  await fx.setup();
  execFileSync(LAUNCHER, ['persona', 'add', 'root', '--role', 'owner', '--display-name', 'Rosa', '--password-stdin',
    '--state', fx.appliance.stateDir], { env: { ...process.env, INTRUSTD_NO_BUILD: '1' }, input: `${PASSWORD}\n` });
});
after(() => fx.teardown());

test('the owner logs in, sees the overview, creates and revokes a share link, and reads the log', async () => {
  const page = await fx.browser.newPage();
  await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}`);
  const dialog = page.locator('dialog.intrustd-login');
  await dialog.waitFor({ timeout: 20000 });
  assert.equal(await dialog.getByRole('heading').textContent(), 'Log in to administer your appliance');
  await dialog.getByLabel('Name').fill('root');
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Log in' }).click();

  await page.waitForFunction(() => document.body.dataset.page === 'overview', null, { timeout: 20000 });
  assert.equal(await page.locator('#o-id').textContent(), fx.appliance.id);
  assert.equal(await page.locator('#o-name').textContent(), 'Admin test box');
  assert.match(await page.locator('#o-flock').textContent(), /^registered/);
  assert.match(await page.locator('#o-link').textContent(), /^verified/);
  assert.match(await page.locator('#who').textContent(), /Rosa \(owner\)/);
  assert.match(await page.locator('#o-apps').textContent(), /hello/);
  await screenshot(page, 'admin-overview');

  // Apps: start one, read its log, and take back a permission it was given.
  execFileSync(LAUNCHER, ['app', 'grant', 'hello', 'internet', '--host', 'mirror.example.org:443', '--state', fx.appliance.stateDir],
    { env: { ...process.env, INTRUSTD_NO_BUILD: '1' } });
  await page.getByRole('link', { name: 'Apps' }).click();
  await page.waitForFunction(() => document.body.dataset.page === 'apps');
  const hello = page.locator('#a-rows tr', { hasText: 'hello' });
  assert.match(await hello.textContent(), /stopped/);
  assert.match(await hello.textContent(), /internet \(mirror\.example\.org:443\)/);
  await page.getByRole('button', { name: 'Start Hello' }).click();
  await page.getByRole('status').filter({ hasText: 'Started Hello.' }).waitFor({ timeout: 30000 });
  assert.match(await hello.textContent(), /running/);
  await page.getByRole('button', { name: 'Log Hello' }).click();
  await page.locator('#a-log').waitFor();
  assert.match(await page.locator('#a-log-title').textContent(), /^Log of Hello \(last (line|\d+ lines)\)$/);
  await screenshot(page, 'admin-apps');
  await page.getByRole('button', { name: 'Revoke internet from Hello' }).click();
  await page.getByRole('status').filter({ hasText: 'Hello no longer has internet.' }).waitFor();
  assert.doesNotMatch(await hello.textContent(), /mirror\.example\.org/);
  await page.getByRole('button', { name: 'Stop Hello' }).click();
  await page.getByRole('status').filter({ hasText: 'Stopped Hello.' }).waitFor();
  assert.match(await hello.textContent(), /stopped/);

  await page.getByRole('link', { name: 'People' }).click();
  await page.waitForFunction(() => document.body.dataset.page === 'people');
  assert.match(await page.locator('#p-rows').textContent(), /Rosa.*root.*owner/);
  assert.equal(await page.getByRole('button', { name: 'Remove Rosa' }).count(), 0, 'the owner cannot be removed');
  await page.getByLabel('Login name').fill('nan');
  await page.getByLabel('Name people see').fill('Nan');
  await page.getByLabel('Password (8 characters or more)').fill('nan password 1');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Added nan.' }).waitFor();
  assert.match(await page.locator('#p-rows').textContent(), /Nan.*nan.*member/);
  await page.getByLabel('Person').selectOption('nan');
  await page.getByLabel('New password').fill('nan password 2');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByRole('status').filter({ hasText: /New password set for nan/ }).waitFor();
  await screenshot(page, 'admin-people');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Remove Nan' }).click();
  await page.getByRole('status').filter({ hasText: 'Removed Nan.' }).waitFor();
  assert.doesNotMatch(await page.locator('#p-rows').textContent(), /nan/);

  await page.getByRole('link', { name: 'Share links' }).click();
  await page.waitForFunction(() => document.body.dataset.page === 'tokens');
  assert.equal(await page.locator('#t-empty').isVisible(), true);
  await page.getByLabel('Permission').fill('intrustd+perm://hello/view?album=a');
  await page.getByLabel('Label').fill('album a for gran');
  await page.getByRole('button', { name: 'Create link' }).click();
  const link = page.locator('#mint-result a');
  await link.waitFor();
  assert.match(await link.textContent(), /#intrustd-appliance=.*&intrustd-token=it1_/);
  // The QR code says exactly the link: read back by an independent decoder (zbar).
  const qrFile = path.join(ARTIFACTS, 'admin-share-qr.png');
  await page.locator('#mint-qr svg').screenshot({ path: qrFile });
  const decoded = execFileSync('zbarimg', ['--raw', '-q', qrFile], { encoding: 'utf8' }).trim();
  assert.equal(decoded, await link.getAttribute('href'));
  await page.getByRole('cell', { name: 'album a for gran', exact: true }).waitFor();
  await screenshot(page, 'admin-share-links');
  await page.getByRole('button', { name: 'Revoke album a for gran' }).click();
  await page.getByRole('status').filter({ hasText: /Revoked “album a for gran”/ }).waitFor();
  assert.equal(await page.locator('#t-rows tr').count(), 0);

  await page.getByRole('link', { name: 'Access log' }).click();
  await page.waitForFunction(() => document.body.dataset.page === 'log');
  const log = await page.locator('#l-rows').textContent();
  assert.match(log, /intrustd\/admin/);
  assert.match(log, /root/);

  // A visitor with no login opens hello thanks to a grant to anyone; the owner finds that
  // entry with the filters and takes the grant back from it.
  execFileSync(LAUNCHER, ['grant', 'add', 'anyone', 'intrustd+perm://intrustd/open?app=hello', '--state', fx.appliance.stateDir],
    { env: { ...process.env, INTRUSTD_NO_BUILD: '1' } });
  const visitorBrowser = await startBrowser();
  try {
    const visitor = await visitorBrowser.openTestPage(fx.flock);
    await visitor.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: fx.flock.url, appliance: fx.appliance.id });
    assert.equal(await visitor.evaluate(async () => (await fetch('intrustd+app://hello/whoami')).status), 200);
    await page.getByLabel('App', { exact: true }).fill('hello');
    await page.getByLabel('Result', { exact: true }).selectOption('ok');
    await page.getByLabel('Since', { exact: true }).selectOption('the last hour');
    await page.getByRole('button', { name: 'Show' }).click();
    const grant = 'anyone intrustd+perm://intrustd/open?app=hello';
    await page.getByRole('cell', { name: grant }).first().waitFor();
    assert.doesNotMatch(await page.locator('#l-rows').textContent(), /intrustd\/admin/, 'filtered to hello');
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: `Revoke the grant “${grant}”` }).first().click();
    await page.getByRole('status').filter({ hasText: `Took back intrustd+perm://intrustd/open?app=hello from anyone.` }).waitFor();
    assert.equal(await visitor.evaluate(async () => (await fetch('intrustd+app://hello/whoami')).status), 403);
  } finally {
    await visitorBrowser.close();
  }
  await page.setViewportSize({ width: 390, height: 800 }); // a phone
  await screenshot(page, 'admin-log-phone');
  assert.ok(await page.getByRole('link', { name: 'Overview' }).isVisible());
  await page.close();
});

test('the owner installs an app from a bundle file with upload progress, updates it, and removes it', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'intrustd-admin-bundle-'));
  try {
    // pyserve as app "diary", with 5 MiB of incompressible data: more than one flow-control window
    const bundles = pyserveBundles({ dir: work, id: 'diary', name: 'Diary', versions: ['1.0.0', '1.1.0'],
      noiseBytes: 5 * 1024 * 1024, stateDir: fx.appliance.stateDir });

    const page = await fx.browser.newPage();
    // the owner's session from the first test is remembered in this browser: no login
    await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}#apps`);
    await page.waitForFunction(() => document.body.dataset.page === 'apps', null, { timeout: 20000 });
    // record every progress value the bar shows
    await page.evaluate(() => {
      window.progressSeen = [];
      const bar = document.getElementById('bundle-progress');
      const set = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value').set;
      const get = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value').get;
      Object.defineProperty(bar, 'value', { set(v) { set.call(this, v); window.progressSeen.push(v); }, get() { return get.call(this); } });
    });

    await page.getByLabel('Bundle file').setInputFiles(bundles['1.0.0']);
    await page.getByRole('button', { name: 'Install', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Installed Diary 1.0.0.' }).waitFor({ timeout: 30000 });
    const diary = page.locator('#a-rows tr', { hasText: 'Diary' });
    assert.match(await diary.textContent(), /1\.0\.0/);
    const seen = await page.evaluate(() => window.progressSeen);
    assert.ok(seen.some((v) => v > 0 && v < 1), `a partial upload shown: ${seen.slice(0, 8)}`);
    assert.equal(Math.max(...seen), 1);
    await page.locator('#bundle-progress').waitFor({ state: 'hidden' });
    await screenshot(page, 'admin-app-installed');

    // the same form updates an installed app
    await page.getByLabel('Bundle file').setInputFiles(bundles['1.1.0']);
    await page.getByRole('button', { name: 'Install', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Updated Diary 1.1.0.' }).waitFor({ timeout: 60000 });
    assert.match(await diary.textContent(), /1\.1\.0/);

    // a file that is not a bundle: a clear error, nothing installed
    const junk = path.join(work, 'junk.itb');
    fs.writeFileSync(junk, 'not a bundle');
    await page.getByLabel('Bundle file').setInputFiles(junk);
    await page.getByRole('button', { name: 'Install', exact: true }).click();
    await page.locator('#error').filter({ hasText: /bundle refused/ }).waitFor({ timeout: 20000 });

    assert.equal(await page.getByRole('button', { name: 'Remove Hello' }).count(), 0, 'apps from a directory cannot be removed here');
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Remove Diary' }).click();
    await page.getByRole('status').filter({ hasText: 'Removed Diary; its data is kept.' }).waitFor();
    assert.equal(await page.locator('#a-rows tr', { hasText: 'Diary' }).count(), 0);
    await page.close();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('the owner renames the appliance in Settings; a bad flock URL is refused with the reason', async () => {
  const page = await fx.browser.newPage(); // the owner's session from the first test is remembered
  await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}#settings`);
  await page.waitForFunction(() => document.body.dataset.page === 'settings', null, { timeout: 20000 });
  assert.equal(await page.getByLabel('Appliance name').inputValue(), 'Admin test box');
  assert.equal(await page.getByLabel('Flock').inputValue(), fx.flock.url);
  assert.match(await page.locator('#s-state').textContent(), new RegExp(fx.appliance.stateDir.replace(/[/.]/g, '\\$&')));
  await page.getByLabel('Appliance name').fill('Kitchen box');
  await page.getByRole('button', { name: 'Save' }).click();
  // the appliance re-registers under its new name: the flock says bye to this page's session,
  // and the link lives on because the appliance still echoes on its keepalive channel
  await page.getByRole('status').filter({ hasText: `Saved: “Kitchen box”, registering with ${fx.flock.url}.` }).waitFor();
  await screenshot(page, 'admin-settings');
  // the form's pattern stops a URL that is not ws(s)://; the appliance checks the rest
  await page.getByLabel('Flock').fill('wss://someone@flock.example.org');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#error').filter({ hasText: /ws:\/\/ or wss:\/\/ URL with a host/ }).waitFor();
  // registered again under the new name within a few seconds
  let flockState = '';
  for (let i = 0; i < 20 && !/^registered/.test(flockState); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.waitForFunction(() => document.body.dataset.page === 'settings');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.waitForFunction(() => document.body.dataset.page === 'overview');
    flockState = await page.locator('#o-flock').textContent();
  }
  assert.match(flockState, /^registered/);
  assert.equal(await page.locator('#o-name').textContent(), 'Kitchen box');
  await page.close();
});

test('a member who logs in is told the page is for owners and admins', async () => {
  execFileSync(LAUNCHER, ['persona', 'add', 'kid', '--password-stdin', '--state', fx.appliance.stateDir],
    { env: { ...process.env, INTRUSTD_NO_BUILD: '1' }, input: 'a member password\n' });
  const other = await startBrowser(); // its own profile: no owner session remembered
  const page = await other.newPage();
  await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}`);
  const dialog = page.locator('dialog.intrustd-login');
  await dialog.waitFor({ timeout: 20000 });
  await dialog.getByLabel('Name').fill('kid');
  await dialog.getByLabel('Password').fill('a member password');
  await dialog.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('status').filter({ hasText: /for the appliance’s owner and admins/ }).waitFor();
  await page.locator('dialog.intrustd-login').waitFor(); // asked again, for an owner or admin
  await other.close();
});

// 13. The admin app in real Chromium: its owner logs in through the link and sees the
// appliance as it is, starts an app and reads its log, revokes an app's permission, manages
// people and their pictures, creates a share link and revokes it, reads the access log,
// installs apps from a bundle file and from a repository, approves, turns down and revokes
// trusted devices that the real CLI enrols, and pairs with a second appliance both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fixture, ARTIFACTS, LAUNCHER, pyserveBundles, removeTempDir, runCli, screenshot, sleep, startAppliance, startBrowser, tempDir } from '../lib/harness.js';

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

test('the owner sets a picture, checked before upload and by the appliance, and removes it', async () => {
  const page = await fx.browser.newPage(); // the owner's session from the first test is remembered
  await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}#people`);
  await page.waitForFunction(() => document.body.dataset.page === 'people', null, { timeout: 20000 });
  const rosa = page.locator('#p-rows tr', { hasText: 'Rosa' });
  assert.equal(await rosa.locator('.avatar.initials').textContent(), 'R', 'no picture yet: an initial');
  assert.equal(await rosa.getByRole('img').count(), 0);
  // a real PNG: a corner of the page itself
  const png = await page.screenshot({ clip: { x: 0, y: 0, width: 40, height: 40 } });
  assert.ok(png.length < 48 * 1024);
  const picture = page.getByLabel('Image file');
  await page.getByLabel('Whose picture').selectOption('root');

  // refused here, before any upload: not an image type the appliance keeps, and too large
  await picture.setInputFiles({ name: 'rosa.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
  await page.locator('#error').filter({ hasText: 'rosa.gif is not a PNG, JPEG or WebP image.' }).waitFor();
  await picture.setInputFiles({ name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(60 * 1024) });
  await page.locator('#error').filter({ hasText: 'holiday.jpg is 60 KiB: a picture is at most 48 KiB.' }).waitFor();
  await page.getByRole('button', { name: 'Set picture' }).click();
  assert.equal(await page.locator('#status').isHidden(), true, 'nothing uploaded');
  assert.match(await page.locator('#error').textContent(), /holiday\.jpg is 60 KiB/);
  // a file named .png that is not one: the appliance reads its bytes and says why, in the problem's detail
  await picture.setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('<svg onload=alert(1)>') });
  assert.equal(await page.locator('#error').isHidden(), true, 'a file of an allowed type and size clears the error');
  await page.getByRole('button', { name: 'Set picture' }).click();
  await page.locator('#error').filter({ hasText: 'an avatar is a PNG, JPEG or WebP image' }).waitFor();

  await picture.setInputFiles({ name: 'rosa.png', mimeType: 'image/png', buffer: png });
  await page.getByRole('button', { name: 'Set picture' }).click();
  await page.getByRole('status').filter({ hasText: 'New picture set for root.' }).waitFor();
  const img = rosa.getByRole('img', { name: 'Picture of Rosa' });
  // what the appliance gives back (the session API's GET /v1/avatar), decoded and drawn by the browser
  assert.equal(await img.getAttribute('src'), `data:image/png;base64,${png.toString('base64')}`);
  assert.equal(await img.evaluate((el) => el.decode().then(() => el.naturalWidth)), png.readUInt32BE(16)); // IHDR width
  assert.equal(await rosa.locator('.avatar.initials').count(), 0);
  assert.equal(await page.locator('#error').isHidden(), true);
  await screenshot(page, 'admin-people-picture');
  // still there when the page is opened again
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.page === 'people', null, { timeout: 20000 });
  await img.waitFor();

  await page.getByLabel('Whose picture').selectOption('root');
  await page.getByRole('button', { name: 'Remove picture' }).click();
  await page.getByRole('status').filter({ hasText: 'Removed the picture of root.' }).waitFor();
  assert.equal(await rosa.getByRole('img').count(), 0);
  assert.equal(await rosa.locator('.avatar.initials').textContent(), 'R');
  await page.close();
});

test('the owner installs an app from a repository, then updates it from there', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'intrustd-admin-repo-'));
  const repo = path.join(work, 'repo');
  fs.mkdirSync(repo);
  const bundles = pyserveBundles({ dir: work, id: 'notes', name: 'Notes', versions: ['1.0.0', '1.1.0'], noiseBytes: 4096,
    stateDir: fx.appliance.stateDir });
  const publish = (version) => {
    fs.copyFileSync(bundles[version], path.join(repo, path.basename(bundles[version])));
    execFileSync(LAUNCHER, ['bundle', 'index', repo, '--key', path.join(work, 'publisher.key')], { env: { ...process.env, INTRUSTD_NO_BUILD: '1' } });
  };
  publish('1.0.0');
  // the repository on a web server, which takes its time over bundles so that the page's busy state shows
  const fetched = [];
  const server = http.createServer((req, res) => {
    const file = path.join(repo, path.basename(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    fetched.push(path.basename(file));
    if (!fs.existsSync(file)) { res.writeHead(404).end(); return; }
    setTimeout(() => res.writeHead(200, { 'Content-Length': fs.statSync(file).size }).end(fs.readFileSync(file)),
      file.endsWith('.itb') ? 1500 : 0);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/repo/`;
  try {
    const page = await fx.browser.newPage(); // the owner's session from the first test is remembered
    const open = async () => {
      await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}#apps`);
      await page.waitForFunction(() => document.body.dataset.page === 'apps', null, { timeout: 20000 });
    };
    await open();
    assert.equal(await page.locator('#a-rows tr', { hasText: 'Notes' }).count(), 0);
    await page.getByLabel('Repository', { exact: true }).fill(url);

    // an app the repository does not have: the appliance's reason
    await page.getByLabel('App ID').fill('nope');
    await page.getByRole('button', { name: 'Install from repository' }).click();
    await page.locator('#error').filter({ hasText: /has no app 'nope'/ }).waitFor({ timeout: 20000 });

    await page.getByLabel('App ID').fill('notes');
    await page.getByRole('button', { name: 'Install from repository' }).click();
    // busy while the appliance fetches, verifies and installs
    await page.getByRole('status').filter({ hasText: `Fetching notes from ${url} and checking its signature…` }).waitFor();
    assert.equal(await page.locator('#repo-progress').isVisible(), true);
    assert.equal(await page.getByRole('button', { name: 'Install from repository' }).isDisabled(), true);
    assert.equal(await page.locator('#error').isHidden(), true, 'the earlier error is cleared');
    await page.getByRole('status').filter({ hasText: 'Installed Notes 1.0.0 from the repository.' }).waitFor({ timeout: 60000 });
    const notes = page.locator('#a-rows tr', { hasText: 'Notes' });
    assert.match(await notes.textContent(), /notes/);
    assert.match(await notes.textContent(), /1\.0\.0/);
    assert.equal(await page.locator('#repo-progress').isHidden(), true);
    assert.equal(await page.getByRole('button', { name: 'Install from repository' }).isEnabled(), true);
    assert.ok(fetched.includes('notes-1.0.0.itb'), `fetched from the web server: ${fetched}`);
    await screenshot(page, 'admin-app-from-repository');

    // a newer version in the repository: the same form updates it; the repository is remembered
    publish('1.1.0');
    await open();
    assert.equal(await page.getByLabel('Repository', { exact: true }).inputValue(), url);
    await page.getByLabel('App ID').fill('notes');
    await page.getByRole('button', { name: 'Install from repository' }).click();
    await page.getByRole('status').filter({ hasText: 'Updated Notes 1.1.0 from the repository.' }).waitFor({ timeout: 60000 });
    assert.match(await notes.textContent(), /1\.1\.0/);
    await page.close();
  } finally {
    server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('the owner approves a device by its code, revokes it, and turns other requests down', async () => {
  const laptops = [tempDir('intrustd-e2e-laptop-'), tempDir('intrustd-e2e-laptop-'), tempDir('intrustd-e2e-laptop-')];
  const [laptop, second, third] = laptops;
  /** `intrustd device enroll` on a laptop (its own $XDG_CONFIG_HOME): the code it prints. */
  const enroll = async (config, label) => {
    const r = await runCli(['device', 'enroll', '--appliance', fx.appliance.id, '--flock', fx.flock.url, '--label', label,
      '--wait', '0'], { env: { XDG_CONFIG_HOME: config } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const code = /Its code: ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(r.stdout);
    assert.ok(code, r.stdout);
    return code[1];
  };
  /** `intrustd status` on a laptop: no password, no --flock (the enrolment remembers it). */
  const statusOn = (config) => runCli(['status', '--appliance', fx.appliance.id, '--json'], { env: { XDG_CONFIG_HOME: config } });
  try {
    const page = await fx.browser.newPage(); // the owner's session from the first test is remembered
    await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}#devices`);
    await page.waitForFunction(() => document.body.dataset.page === 'devices', null, { timeout: 20000 });
    assert.equal(await page.getByRole('link', { name: 'Devices' }).getAttribute('aria-current'), 'page');
    // nothing yet: what to run on the laptop, with this appliance's ID
    const empty = page.locator('#d-requests-empty');
    assert.equal(await empty.isVisible(), true);
    assert.match((await empty.textContent()).replace(/\s+/g, ' '),
      new RegExp(`^ ?No device waits for approval\\. On the laptop run: intrustd device enroll --appliance ${fx.appliance.id} `));
    assert.match(await empty.textContent(), new RegExp(`--flock ${fx.flock.url}`));
    assert.equal(await page.locator('#d-devices-empty').isVisible(), true);
    assert.equal(await page.locator('#d-requests-table').isHidden(), true);

    const code = await enroll(laptop, 'test laptop');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('status').filter({ hasText: 'One device waits for approval.' }).waitFor();
    assert.equal(await empty.isHidden(), true);
    const request = page.locator('#d-requests tr', { hasText: code });
    assert.match(await request.textContent(), /test laptop/);
    const shown = request.locator('code.device-code');
    assert.equal(await shown.textContent(), code);
    assert.match(await shown.evaluate((el) => getComputedStyle(el).fontFamily), /mono/i);
    await screenshot(page, 'admin-devices-waiting');
    const early = await statusOn(laptop);
    assert.equal(early.code, 1, 'refused until approved');
    assert.match(early.stderr, /waits for the owner's approval/);

    // no one chosen yet: the page asks who the device acts as before approving anything
    const what = `test laptop (${code})`;
    await page.getByRole('button', { name: `Approve ${what}` }).click();
    await page.locator('#error').filter({ hasText: 'Choose who “test laptop” acts as, then approve it.' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), `Acts as: ${what}`);
    assert.equal(await request.count(), 1);
    await page.getByLabel(`Acts as: ${what}`).selectOption('root');
    assert.equal(await page.locator('#error').isHidden(), true);
    await page.getByRole('button', { name: `Approve ${what}` }).click();
    await page.getByRole('status')
      .filter({ hasText: `Approved “test laptop” (${code}): it acts as Rosa (root), with no password, until you revoke it.` }).waitFor();
    assert.equal(await request.count(), 0);
    assert.equal(await empty.isVisible(), true);
    const device = page.locator('#d-devices tr', { hasText: 'test laptop' });
    assert.equal(await device.count(), 1);
    assert.match(await device.textContent(), /^test laptopRosa \(root\)/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'd-devices-title');
    await screenshot(page, 'admin-devices-enrolled');

    // the laptop now reaches the appliance with no password, as the owner
    const works = await statusOn(laptop);
    assert.equal(works.code, 0, works.stdout + works.stderr);
    assert.equal(JSON.parse(works.stdout).appliance, fx.appliance.id);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('status').filter({ hasText: 'No device waits for approval.' }).waitFor();

    // revoked after a confirmation: refused at once
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); d.accept(); });
    await page.getByRole('button', { name: 'Revoke test laptop (as Rosa)' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked “test laptop”: it can no longer reach this appliance.' }).waitFor();
    assert.match(asked, /^Revoke “test laptop”\? It stops acting as Rosa \(root\) at once/);
    assert.equal(await page.locator('#d-devices tr').count(), 0);
    assert.equal(await page.locator('#d-devices-empty').isVisible(), true);
    const refused = await statusOn(laptop);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /enrolment has ended/);

    // two more requests; one is answered elsewhere while the page still shows it
    const code2 = await enroll(second, 'second laptop');
    const code3 = await enroll(third, 'old laptop');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('status').filter({ hasText: '2 devices wait for approval.' }).waitFor();
    const answered = await runCli(['device', 'reject', code3, '--state', fx.appliance.stateDir]);
    assert.equal(answered.code, 0, answered.stderr);
    await page.getByLabel(`Acts as: old laptop (${code3})`).selectOption('root');
    await page.getByRole('button', { name: `Approve old laptop (${code3})` }).click();
    // the appliance's reason (the problem's detail), and the list brought up to date
    await page.locator('#error').filter({ hasText: `no device waits for approval with id or code` }).waitFor();
    await page.locator('#d-requests tr', { hasText: code3 }).waitFor({ state: 'detached' });
    assert.equal(await page.locator('#d-requests tr', { hasText: code2 }).count(), 1);
    assert.equal(await page.locator('#d-devices tr').count(), 0);

    // turned down from the keyboard
    await page.getByRole('button', { name: `Turn down second laptop (${code2})` }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: `Turned down “second laptop” (${code2}).` }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'd-requests-title');
    assert.equal(await page.locator('#error').isHidden(), true);
    assert.equal(await page.locator('#d-requests tr').count(), 0);
    assert.equal(await empty.isVisible(), true);
    assert.equal(await page.locator('#d-devices tr').count(), 0, 'turning down enrols nothing');
    const turnedDown = await statusOn(second);
    assert.equal(turnedDown.code, 1, turnedDown.stdout + turnedDown.stderr);
    await screenshot(page, 'admin-devices-empty');
    await page.close();
  } finally {
    for (const dir of laptops) removeTempDir(dir);
  }
});

test('the owner pairs with a second appliance both ways, changes what it may open, and unpairs', async () => {
  const bob = await startAppliance({ flock: fx.flock.url, name: "Bob's box", publicApps: [] });
  try {
    const owner = await runCli(['persona', 'add', 'owner', '--role', 'owner', '--password-stdin', '--state', bob.stateDir],
      { input: 'a long password\n' });
    assert.equal(owner.code, 0, owner.stderr);
    const listOf = async (stateDir) => {
      const r = await runCli(['peer', 'list', '--json', '--state', stateDir]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };

    const page = await fx.browser.newPage(); // the owner's session from the first test is remembered
    await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}#peers`);
    await page.waitForFunction(() => document.body.dataset.page === 'peers', null, { timeout: 20000 });
    assert.equal(await page.getByRole('link', { name: 'Paired appliances' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.locator('#pe-empty').isVisible(), true);
    assert.equal(await page.locator('#pe-table').isHidden(), true);
    assert.equal(await page.locator('#pe-invites').isHidden(), true);

    // a pairing link allowing hello: shown once, with a Copy button, a QR code and its expiry
    const invite = page.locator('#peer-invite');
    await invite.getByLabel('Hello').check();
    await invite.getByRole('button', { name: 'Make a pairing link' }).click();
    await page.getByRole('status').filter({ hasText: 'Pairing link made.' }).waitFor({ timeout: 20000 });
    const field = page.getByLabel('Pairing link (shown only this once)');
    const link = await field.inputValue();
    assert.match(link, new RegExp(`^intrustd\\+pair://${fx.appliance.id}/[A-Z0-9]{5}-[A-Z0-9]{5}$`));
    assert.equal(await field.getAttribute('readonly'), '');
    assert.match(await field.evaluate((el) => getComputedStyle(el).fontFamily), /mono/i);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'pi-link');
    assert.match(await page.locator('#pi-expires').textContent(), /^It works once, until .+, and the other appliance may open here: hello\./);
    const qrFile = path.join(ARTIFACTS, 'admin-pairing-qr.png');
    await page.locator('#pi-qr svg').screenshot({ path: qrFile });
    assert.equal(execFileSync('zbarimg', ['--raw', '-q', qrFile], { encoding: 'utf8' }).trim(), link);
    assert.equal(await page.getByRole('img', { name: 'QR code of the pairing link' }).count(), 1);
    assert.equal(await page.locator('#pe-invites').textContent(), 'One pairing link made here has not been used yet; each works once, until it expires.');
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied the pairing link.' }).waitFor();
    await screenshot(page, 'admin-peers-invite');

    // Bob's owner pairs with it on the command line
    const paired = await runCli(['peer', 'pair', link, '--allow', 'hello', '--state', bob.stateDir]);
    assert.equal(paired.code, 0, paired.stdout + paired.stderr + bob.proc.tail());
    assert.match(paired.stdout, new RegExp(`paired with ${fx.appliance.id}`));
    assert.match(paired.stdout, /this appliance may open there: hello/);

    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('status').filter({ hasText: 'One appliance is paired with this one.' }).waitFor();
    const row = page.locator('#pe-rows tr', { hasText: "Bob's box" });
    assert.equal(await row.count(), 1);
    const id = row.locator('code');
    assert.equal(await id.getAttribute('title'), bob.id);
    assert.equal(await id.textContent(), `${bob.id.slice(0, 7)}…${bob.id.slice(-7)}`);
    assert.equal(await row.getByLabel('Hello').isChecked(), true);
    assert.equal(await page.locator('#pe-invites').isHidden(), true, 'the link is used up');
    assert.equal(await page.locator('#pe-empty').isHidden(), true);
    await screenshot(page, 'admin-peers-paired');

    // what Bob's box may open here: nothing, once saved
    await row.getByLabel('Hello').uncheck();
    await page.getByRole('button', { name: "Save what Bob's box may open here" }).click();
    await page.getByRole('status').filter({ hasText: '“Bob\'s box” may now open here: nothing.' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), "Save what Bob's box may open here");
    assert.equal(await row.getByLabel('Hello').isChecked(), false);
    assert.deepEqual((await listOf(fx.appliance.stateDir)).peers.map((p) => [p.id, p.name, p.allow]), [[bob.id, "Bob's box", []]]);

    // the other way: Bob's owner makes a link, and this page pairs with it
    const pair = page.locator('#peer-pair');
    await pair.getByLabel('Pairing link').fill('not a link');
    await pair.getByRole('button', { name: 'Pair' }).click();
    await page.locator('#error').filter({ hasText: /'link' is not a pairing link/ }).waitFor({ timeout: 20000 });
    const made = await runCli(['peer', 'invite', '--allow', 'hello', '--json', '--state', bob.stateDir]);
    assert.equal(made.code, 0, made.stderr);
    const bobLink = JSON.parse(made.stdout).link;
    assert.match(bobLink, new RegExp(`^intrustd\\+pair://${bob.id}/`));
    await pair.getByLabel('Pairing link').fill(bobLink);
    await pair.getByLabel('Hello').check();
    await page.evaluate(() => { // every busy state the form goes through
      window.busySeen = [];
      new MutationObserver(() => window.busySeen.push(document.getElementById('peer-pair').getAttribute('aria-busy')))
        .observe(document.getElementById('peer-pair'), { attributes: true, attributeFilter: ['aria-busy'] });
    });
    await pair.getByRole('button', { name: 'Pair' }).click();
    await page.locator('#pp-result').filter({ hasText: 'Paired with “Bob\'s box”; this appliance may open there: hello.' })
      .waitFor({ timeout: 30000 });
    assert.deepEqual(await page.evaluate(() => window.busySeen), ['true', 'false']);
    assert.equal(await page.locator('#error').isHidden(), true, 'the earlier error is cleared');
    assert.equal(await page.locator('#pp-progress').isHidden(), true);
    assert.equal(await pair.getByRole('button', { name: 'Pair' }).isEnabled(), true);
    assert.equal(await pair.getByLabel('Pairing link').inputValue(), '');
    assert.equal(await row.getByLabel('Hello').isChecked(), true, 'this page allowed hello');
    assert.deepEqual((await listOf(fx.appliance.stateDir)).peers.map((p) => [p.id, p.allow]), [[bob.id, ['hello']]]);
    assert.deepEqual((await listOf(bob.stateDir)).peers.map((p) => [p.id, p.allow]), [[fx.appliance.id, ['hello']]]);
    await screenshot(page, 'admin-peers-pair-with');

    // unpaired after a confirmation, here and on Bob's box
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); d.accept(); });
    await page.getByRole('button', { name: "Unpair Bob's box" }).click();
    await page.getByRole('status').filter({ hasText: 'Unpaired “Bob\'s box”.' }).waitFor();
    assert.match(asked, /^Unpair “Bob's box”\?/);
    assert.equal(await page.locator('#pe-rows tr').count(), 0);
    assert.equal(await page.locator('#pe-empty').isVisible(), true);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'pe-title');
    assert.deepEqual((await listOf(fx.appliance.stateDir)).peers, []);
    let bobs;
    for (let i = 0; i < 50; i++) {
      bobs = (await listOf(bob.stateDir)).peers;
      if (bobs.length === 0) break;
      await sleep(200);
    }
    assert.deepEqual(bobs, [], "Bob's box heard of it");
    await screenshot(page, 'admin-peers-empty');
    await page.close();
  } finally {
    await bob.stop();
    removeTempDir(bob.stateDir);
  }
});

test('the owner renames the appliance in Settings; a bad flock URL is refused with the reason', async () => {
  const page = await fx.browser.newPage(); // the owner's session from the first test is remembered
  await page.goto(`${fx.flock.http}/admin/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}#settings`);
  await page.waitForFunction(() => document.body.dataset.page === 'settings', null, { timeout: 20000 });
  assert.equal(await page.getByLabel('Appliance name').inputValue(), 'Admin test box');
  assert.equal(await page.getByLabel('Flock').inputValue(), fx.flock.url);
  assert.match(await page.locator('#s-state').textContent(), new RegExp(fx.appliance.stateDir.replace(/[/.]/g, '\\$&')));
  // Off-site backups: off until the owner picks a paired appliance (e2e 22 runs them).
  await page.locator('#bk-state').filter({ hasText: 'Off: nothing is backed up off site.' }).waitFor();
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

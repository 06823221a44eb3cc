// 14. LAN presence: the appliance announces itself with mDNS/DNS-SD, and Debian's avahi (an
// independent implementation, with its own daemon inside the test's namespace) sees it: its
// ID, its name, and that it is unclaimed until it is claimed. `intrustd discover` finds it and
// what avahi publishes, and ignores records that are not valid appliances.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fixture, startAppliance, removeTempDir, LAUNCHER, ROOT } from '../lib/harness.js';
import { startAvahi } from '../lib/avahi.js';

const TYPE = '_intrustd._tcp';
const fx = fixture({ applianceOptions: { name: 'Kitchen box', publicApps: [] } });
let avahi;
before(async () => {
  avahi = await startAvahi();
  await fx.setup();
});
after(async () => {
  await fx.teardown();
  if (avahi) await avahi.stop();
});

const resolved = (id, extra = () => true) => (events) => events.some((e) => e.event === '=' && e.txt.id === id && extra(e));

test('avahi-browse sees the new appliance: its ID, its name, its port, and claim=open', async () => {
  const events = await avahi.browse(TYPE, resolved(fx.appliance.id));
  const rec = events.find((e) => e.event === '=' && e.txt.id === fx.appliance.id);
  assert.equal(rec.name, 'Kitchen box');
  assert.deepEqual(rec.txt, { txtvers: '1', id: fx.appliance.id, name: 'Kitchen box', claim: 'open' });
  assert.equal(rec.port, 7470);
  assert.match(rec.address, /^198\.18\.0\.\d+$/);
  assert.match(rec.host, /^intrustd-[a-z2-7]{7}\.local$/);
});

test('once claimed, the record no longer tells its claim state; intrustd discover agrees', async () => {
  const page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: fx.flock.url, appliance: fx.appliance.id });
  const info = await page.evaluate((code) => window.handle.claim(code, 'owner', 'the owner password'), fx.appliance.ready.claimCode);
  assert.equal(info.claimed, true);
  await page.close();
  const t0 = Date.now();
  const events = await avahi.browse(TYPE, resolved(fx.appliance.id, (e) => !('claim' in e.txt)));
  const rec = events.findLast((e) => e.event === '=' && e.txt.id === fx.appliance.id);
  assert.deepEqual(rec.txt, { txtvers: '1', id: fx.appliance.id, name: 'Kitchen box' }, `after ${Date.now() - t0} ms`);

  // Our browser, against our appliance and against avahi's announcements: one valid
  // unclaimed appliance, and one record that is no appliance at all (an ID that does not check).
  const other = 'F2EGSN4-XYLCSCW-JBQVRVG-G3YQMK5-AMML3ZD-Z36DH4H-NKAEDJ3-KZPXHQP';
  const published = [
    await avahi.publish('Garage box', TYPE, 7471, ['txtvers=1', `id=${other}`, 'name=Garage box', 'claim=open']),
    await avahi.publish('Junk', TYPE, 7472, ['txtvers=1', `id=${other.replace('F2E', 'F2F')}`, 'name=Junk']),
  ];
  try {
    const run = spawnSync(LAUNCHER, ['discover', '--json', '--wait', '3'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, INTRUSTD_NO_BUILD: '1' }, timeout: 60000 });
    assert.equal(run.status, 0, run.stderr);
    const found = JSON.parse(run.stdout).appliances;
    assert.deepEqual(found.map((a) => [a.name, a.id, a.claimed, a.port]).sort(),
      [['Garage box', other, false, 7471], ['Kitchen box', fx.appliance.id, true, 7470]].sort(), run.stdout);
    // IPv4 addresses of the test's namespace (avahi also publishes an IPv6 link-local one).
    assert.ok(found.every((a) => a.addresses.some((x) => /^198\.18\.0\.\d+$/.test(x))), run.stdout);
  } finally {
    for (const p of published) await p.stop();
  }
});

test('an appliance that stops says goodbye: avahi drops it at once', async () => {
  const app = await startAppliance({ flock: fx.flock.url, name: 'Leaving box', publicApps: [] });
  try {
    await avahi.browse(TYPE, resolved(app.id));
    const watching = avahi.browse(TYPE, (events) => events.some((e) => e.event === '-' && e.name === 'Leaving box'), 10000);
    await new Promise((r) => setTimeout(r, 1500)); // let avahi-browse list what it knows first
    const t0 = Date.now();
    await app.stop();
    await watching;
    assert.ok(Date.now() - t0 < 8000);
  } finally {
    await app.stop({ signal: 'SIGKILL' });
    removeTempDir(app.stateDir);
  }
});

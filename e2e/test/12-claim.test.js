// 12. The first-run claim in real Chromium: a new appliance opens nothing but its public apps
// until the code it printed makes someone its owner, once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../lib/harness.js';

const fx = fixture({ applianceOptions: { name: 'claim', publicApps: ['pyserve'] } });
before(() => fx.setup());
after(() => fx.teardown());

test('an unclaimed appliance is claimed once with its code, and then its owner opens its apps', async () => {
  const code = fx.appliance.ready.claimCode;
  assert.match(code, /^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/, JSON.stringify(fx.appliance.ready));
  const page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: fx.flock.url, appliance: fx.appliance.id });
  const r = await page.evaluate(async (code) => {
    const out = {};
    out.session = await window.handle.session();
    const refused = await fetch('intrustd+app://hello/whoami');
    out.before = { status: refused.status, detail: (await refused.json()).detail };
    for (const [name, attempt] of [['wrong', () => window.handle.claim('AAAAA-AAAAA', 'owner', 'the owner password')],
      ['right', () => window.handle.claim(code.toLowerCase(), 'owner', 'the owner password', { displayName: 'The Owner' })],
      ['again', () => window.handle.claim(code, 'thief', 'the thief password')]]) {
      try {
        const info = await attempt();
        out[name] = { persona: info.persona, claimed: info.claimed };
      } catch (e) {
        out[name] = { error: e.name, status: e.status, message: e.message };
      }
    }
    const who = await fetch('intrustd+app://hello/whoami');
    out.after = { status: who.status, body: await who.json() };
    // The new owner runs the appliance from the page, through the control API over the link.
    out.status = await window.handle.admin('GET', '/v1/status');
    return out;
  }, code);
  assert.equal(r.session.claimed, false);
  assert.equal(r.before.status, 403);
  assert.match(r.before.detail, /not been claimed/);
  assert.deepEqual([r.wrong.error, r.wrong.status], ['IntrustdAccessError', 401]);
  assert.equal(r.right.persona.role, 'owner', JSON.stringify(r.right));
  assert.equal(r.right.persona.displayName, 'The Owner');
  assert.equal(r.right.claimed, true);
  assert.deepEqual([r.again.error, r.again.status], ['IntrustdAccessError', 409]);
  assert.equal(r.after.status, 200);
  assert.equal(r.after.body.persona, 'owner');
  assert.equal(r.status.claimed, true);
  assert.equal(r.status.appliance, fx.appliance.id);
  assert.match(fx.appliance.proc.output, /appliance claimed: 'owner' is its owner/);
  await page.close();
});

test('the dialog in claim mode asks for the code and refuses a second claim clearly', async () => {
  const page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: fx.flock.url, appliance: fx.appliance.id });
  const result = page.evaluate(() => window.handle.showLogin({ claim: true }));
  const dialog = page.locator('dialog.intrustd-login');
  await dialog.waitFor();
  assert.equal(await dialog.getByRole('heading').textContent(), 'Claim your appliance');
  await dialog.getByLabel('Claim code').fill(fx.appliance.ready.claimCode);
  await dialog.getByLabel('Name').fill('late');
  await dialog.getByLabel('Password').fill('a late password');
  await dialog.getByRole('button', { name: 'Claim' }).click();
  await page.getByRole('alert').filter({ hasText: /claimed already/ }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await result, null);
  await page.close();
});

// Apps run sandboxed: an unmodified server nobody wrote for Intrustd (Debian's
// `python3 -m http.server`, listening on TCP inside its own network namespace), packed as a
// signed bundle and installed into the running appliance with the CLI, is reached from the
// browser through the shim, next to the Java hello app in its own sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fixture, tempDir, LAUNCHER, PYSERVE_APP } from '../lib/harness.js';

const fx = fixture();
let page;

/** Runs an `intrustd` CLI command to completion; its stdout. */
function cli(...args) {
  return execFileSync(LAUNCHER, args, { env: { ...process.env, INTRUSTD_NO_BUILD: '1' }, encoding: 'utf8' });
}

before(async () => {
  await fx.setup();
  // A publisher packs pyserve; the owner trusts that publisher and installs the bundle.
  const work = tempDir('intrustd-e2e-bundle-');
  const key = path.join(work, 'publisher.key');
  const bundle = path.join(work, 'pyserve.itb');
  cli('bundle', 'keygen', key);
  cli('bundle', 'pack', PYSERVE_APP, '--key', key, '-o', bundle);
  cli('app', 'trust', `${key}.pub`, '--state', fx.appliance.stateDir);
  const installed = JSON.parse(cli('app', 'install', bundle, '--state', fx.appliance.stateDir, '--json'));
  assert.equal(installed.id, 'pyserve');
  page = await fx.browser.openTestPage(fx.flock);
  await page.evaluate(({ flock, appliance }) => e2e.install({ flock, appliance }), { flock: fx.flock.url, appliance: fx.appliance.id });
});
after(() => fx.teardown());

test('fetch reaches python3 -m http.server in its sandbox over its TCP port', async () => {
  const r = await page.evaluate(() => e2e.attempt(() => e2e.fetchText('intrustd+app://pyserve/hello.json')));
  assert.ok(r.ok, `${JSON.stringify(r.error)}\n${fx.diagnostics()}`);
  assert.equal(r.value.status, 200);
  assert.deepEqual(JSON.parse(r.value.body), { 'served-by': 'python3 -m http.server' });
  const page404 = await page.evaluate(() => e2e.fetchText('intrustd+app://pyserve/no-such-file'));
  assert.equal(page404.status, 404);
});

test('XMLHttpRequest gets the HTML page the same way', async () => {
  const r = await page.evaluate(() => new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('GET', 'intrustd+app://pyserve/');
    x.onload = () => resolve({ status: x.status, text: x.responseText });
    x.onerror = () => resolve({ status: -1, text: 'network error' });
    x.send();
  }));
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /python3 -m http\.server/);
});

test('the Java app in its own sandbox answers on the same link', async () => {
  const r = await page.evaluate(() => e2e.fetchText('intrustd+app://hello/echo?msg=sandboxed'));
  assert.equal(r.status, 200);
  assert.equal(r.body, 'sandboxed');
});

// 26. The NAT matrix (docs/nat-matrix.md): for pairs of NAT kinds (browser site × appliance
// site, natlab.js), a headless Chromium behind one links to an appliance behind the other
// through the flock (which runs its relay) and fetches through the shim; each pair must link,
// fetch intact, and take the expected path on both ends: direct where hole punching can work,
// the relay otherwise. CI runs a subset (about 1¾ minutes); INTRUSTD_NAT_MATRIX=full runs all 36
// pairs (about 10 minutes: give node --test-timeout=1400000) and writes artifacts/nat-matrix.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { requireNetwork, ARTIFACTS } from '../lib/harness.js';
import { natLabAvailable, NAT_KINDS } from '../lib/natlab.js';
import { startRelayFlock, runPair, pathFamily } from '../lib/natpair.js';

const FULL = process.env.INTRUSTD_NAT_MATRIX === 'full';
// The subset: usual home routers both sides (direct through NAT), a symmetric NAT that can still
// punch through to a friendlier one (direct), one that cannot (relay), an unNATed appliance,
// and no UDP on either side (relay over TCP). Symmetric on both sides is in 25-relay.
const SUBSET = [
  ['port-restricted', 'port-restricted'],
  ['symmetric', 'address-restricted'],
  ['full-cone', 'symmetric'],
  ['port-restricted', 'symmetric'],
  ['symmetric', 'none'],
  ['udp-blocked', 'udp-blocked'],
];
const PAIRS = FULL ? NAT_KINDS.flatMap((b) => NAT_KINDS.map((a) => [b, a])) : SUBSET;

let flock;
const results = [];

before(async () => {
  requireNetwork();
  if (!natLabAvailable()) throw new Error('this test needs root, nft and the private namespace of scripts/netns-run');
  flock = await startRelayFlock();
});
after(async () => {
  if (flock) await flock.stop();
  const rows = results.map((r) => `| ${r.browserKind} | ${r.applianceKind} | ${r.expected} | ${r.linked && r.fetched ? 'yes' : 'NO'} | `
    + `${r.browserPath ?? '-'} | ${r.appliancePath ?? '-'} | ${(r.pathLog || []).join(' → ') || '-'} | ${r.setupMs ?? '-'} |`);
  const table = ['| browser NAT | appliance NAT | expected | linked + fetched | browser path | appliance path | appliance saw | set-up ms |',
    '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
  console.log(table);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS, 'nat-matrix.md'), `${table}\n`);
});

for (const [browserKind, applianceKind] of PAIRS) {
  test(`browser behind ${browserKind}, appliance behind ${applianceKind}`, async () => {
    const r = await runPair(flock, browserKind, applianceKind);
    results.push(r);
    assert.ok(r.linked, `no link: ${r.error}\n${r.diagnostics}`);
    assert.ok(r.fetched, `fetch through the shim failed: ${r.error}\n${r.diagnostics}`);
    const expected = r.expected.split(' or ');
    assert.ok(expected.includes(pathFamily(r.browserPath)), `browser path ${r.browserPath}, expected ${r.expected}\n${r.diagnostics}`);
    assert.ok(expected.includes(pathFamily(r.appliancePath)), `appliance path ${r.appliancePath}, expected ${r.expected}\n${r.diagnostics}`);
    assert.equal(pathFamily(r.appliancePath), pathFamily(r.browserPath), 'both ends see the same path');
  });
}

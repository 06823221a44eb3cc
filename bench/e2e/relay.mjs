// Issue 11's relay benchmark, one run: the same browser and appliance, behind two usual home
// routers (natlab port-restricted NATs, where a direct path works), linked directly and through
// the flock's own TURN relay (iceTransportPolicy 'relay' in the page), alternately: link set-up
// time (offer to channel open, the shim's setupMs) and download throughput through the shim.
// The relay ratio is relay / direct throughput measured in this run (goal >= 0.8).
//
//   scripts/netns-run node bench/e2e/relay.mjs [--size-mib 64] [--runs 3] [--setup-runs 8]
//
// Needs the tree built (./intrustd --version) and runs inside the private namespace of
// scripts/netns-run, like the e2e tests (natlab builds the NATs inside it).
import { startAppliance, startBrowser, removeTempDir } from '../../e2e/lib/harness.js';
import { natLab } from '../../e2e/lib/natlab.js';
import { startRelayFlock } from '../../e2e/lib/natpair.js';

const opts = { sizeMib: 64, runs: 3, setupRuns: 8 };
for (let i = 2; i < process.argv.length; i += 2) {
  const [k, v] = [process.argv[i], process.argv[i + 1]];
  if (k === '--size-mib') opts.sizeMib = Number(v);
  else if (k === '--runs') opts.runs = Number(v);
  else if (k === '--setup-runs') opts.setupRuns = Number(v);
  else throw new Error(`unknown option ${k}`);
}
const BYTES = opts.sizeMib * 1024 * 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MODES = { direct: 'all', relay: 'relay' };

/** A fresh page and link in `mode`; returns {page, info}. */
async function link(browser, flock, applianceId, mode) {
  const page = await browser.openTestPage(flock);
  const r = await page.evaluate(({ url, id, policy }) => {
    e2e.install({ flock: url, appliance: id, iceTransportPolicy: policy, connectTimeoutMs: 20000 });
    return e2e.link();
  }, { url: flock.url, id: applianceId, policy: MODES[mode] });
  if (!r.ok) throw new Error(`${mode} link failed: ${JSON.stringify(r.error)}`);
  return { page, info: r.value };
}

const cleanups = [];
try {
  const lab = natLab(['b', 'a'], { kinds: { b: 'port-restricted', a: 'port-restricted' } });
  cleanups.push(() => lab.close());
  const flock = await startRelayFlock();
  cleanups.push(() => flock.stop());
  const app = await startAppliance({ flock: flock.url, publicApps: ['hello'], name: 'bench-relay', wrap: lab.sites.a.exec });
  cleanups.push(async () => { await app.stop(); removeTempDir(app.stateDir); });
  const browser = await startBrowser({ wrap: lab.sites.b.exec });
  cleanups.push(() => browser.close());

  const setup = { direct: [], relay: [] };
  const paths = { direct: new Set(), relay: new Set() }; // as the set-ups reported them
  const downloadPaths = { direct: [], relay: [] }; // each download's path, read after it
  for (let i = 0; i < opts.setupRuns; i++) {
    for (const mode of i % 2 ? ['relay', 'direct'] : ['direct', 'relay']) {
      const { page, info } = await link(browser, flock, app.id, mode);
      setup[mode].push(info.setupMs);
      paths[mode].add(info.path);
      await page.close();
    }
  }
  const speed = { direct: [], relay: [] };
  for (let i = 0; i < opts.runs; i++) {
    for (const mode of i % 2 ? ['relay', 'direct'] : ['direct', 'relay']) {
      const { page } = await link(browser, flock, app.id, mode);
      const r = await page.evaluate((n) => e2e.attempt(async () => {
        const t0 = performance.now();
        const res = await fetch(`intrustd+app://hello/stream?bytes=${n}`);
        const seen = await e2e.readPattern(res);
        return { status: res.status, total: seen.total, mismatch: seen.firstMismatch, ms: performance.now() - t0 };
      }), BYTES);
      if (!r.ok || r.value.total !== BYTES || r.value.mismatch !== -1) throw new Error(`${mode} download: ${JSON.stringify(r)}`);
      speed[mode].push(BYTES / (r.value.ms / 1000) / 1e6);
      downloadPaths[mode].push((await page.evaluate(() => window.handle.refreshPath())).path);
      await page.close();
    }
  }
  const row = (mode) => `| ${mode} | ${[...paths[mode]].join(', ')} | ${median(setup[mode])} | ${Math.min(...setup[mode])}–${Math.max(...setup[mode])} `
    + `| ${median(speed[mode]).toFixed(1)} | ${speed[mode].map((s, i) => `${s.toFixed(1)} (${downloadPaths[mode][i]})`).join(', ')} |`;
  console.log(`\n${opts.sizeMib} MiB × ${opts.runs} downloads, ${opts.setupRuns} set-ups per path, alternating`);
  console.log('| asked for | path at set-up | set-up median ms | set-up range ms | download MB/s median | runs MB/s (path after it) |');
  console.log('|---|---|---|---|---|---|');
  console.log(row('direct'));
  console.log(row('relay'));
  console.log(`relay/direct throughput ratio ${(median(speed.relay) / median(speed.direct)).toFixed(2)} (goal >= 0.8); `
    + `set-up +${median(setup.relay) - median(setup.direct)} ms through the relay`);
} finally {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch (e) { console.error(`cleanup: ${e.message}`); }
  }
}

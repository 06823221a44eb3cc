// One browser and one appliance, each behind its own NAT of a chosen kind (natlab.js), linked
// through a flock that runs its own relay (`intrustd flock --relay`) on the public segment: the
// building block of the relay and NAT matrix tests (25, 26).
import fs from 'node:fs';
import path from 'node:path';
import { startFlock, startAppliance, startBrowser, removeTempDir, sleep, tempDir, ARTIFACTS } from './harness.js';
import { natLab, PUBLIC_IP } from './natlab.js';

export const RELAY_PORT = 3478;

/**
 * A flock on the public segment with its relay (coturn) at PUBLIC_IP:RELAY_PORT. The relay may
 * forward to the lab's addresses only because they are named here: by default it refuses
 * private and special ones (198.18/15 and 10/8 among them).
 */
export async function startRelayFlock() {
  const relayDir = tempDir('intrustd-e2e-relay-');
  const flock = await startFlock({
    host: '0.0.0.0',
    args: ['--relay', '--relay-address', PUBLIC_IP, '--relay-port', String(RELAY_PORT), '--relay-dir', relayDir,
      '--relay-allow-peer', '198.18.0.0/15', '--relay-allow-peer', '10.0.0.0/8'],
  });
  flock.url = `ws://${PUBLIC_IP}:${flock.port}`;
  flock.http = `http://${PUBLIC_IP}:${flock.port}`;
  flock.relayLog = path.join(relayDir, 'turnserver.log');
  const stop = flock.stop;
  flock.stop = async (o) => {
    const r = await stop(o);
    // Kept for post-mortems beside the processes' logs.
    try { fs.copyFileSync(flock.relayLog, path.join(ARTIFACTS, 'logs', `turnserver-${process.pid}-${Date.now()}.log`)); } catch { /* none */ }
    removeTempDir(relayDir);
    return r;
  };
  return flock;
}

/**
 * What the matrix expects (docs/nat-matrix.md): 'relay' when no direct path can work, else
 * 'direct'; 'direct or relay' where both can win.
 */
export function expectedPath(browserKind, applianceKind) {
  // ICE over TCP: a browser with no UDP can also reach an appliance whose TCP host candidate
  // (libwebrtc's passive one) anyone may connect to; whether ICE settles on that or the relay
  // over TCP first varies from run to run. The other way round it cannot: Chromium offers no TCP
  // candidate the appliance could reach (its host candidates are mDNS names).
  if (browserKind === 'udp-blocked' && applianceKind === 'none') return 'direct or relay';
  if (browserKind === 'udp-blocked' || applianceKind === 'udp-blocked') return 'relay';
  const hard = ['symmetric', 'port-restricted'];
  const symmetric = browserKind === 'symmetric' || applianceKind === 'symmetric';
  return symmetric && hard.includes(browserKind) && hard.includes(applianceKind) ? 'relay' : 'direct';
}

/** 'direct-lan' and 'direct-nat' are both direct. */
export function pathFamily(p) {
  return p === 'relay' ? 'relay' : p && p.startsWith('direct') ? 'direct' : 'unknown';
}

/**
 * Builds the two sites, starts the appliance in one and Chromium in the other, links the page
 * to the appliance and fetches through the shim. Returns what happened (never throws for a
 * failed link: the caller asserts), and tears everything down.
 */
export async function runPair(flock, browserKind, applianceKind, { fetchBytes = 1 << 20, browserOptions = {} } = {}) {
  const lab = natLab(['b', 'a'], { kinds: { b: browserKind, a: applianceKind } });
  const result = { browserKind, applianceKind, expected: expectedPath(browserKind, applianceKind), diagnostics: '' };
  let appliance;
  let browser;
  try {
    appliance = await startAppliance({ flock: flock.url, name: `nat-${applianceKind}`, wrap: lab.sites.a.exec });
    browser = await startBrowser({ wrap: lab.sites.b.exec });
    const page = await browser.openTestPage(flock);
    const t0 = Date.now();
    const linked = await page.evaluate(({ flockUrl, id, options }) => {
      e2e.install({ flock: flockUrl, appliance: id, connectTimeoutMs: 20000, ...options });
      return e2e.link();
    }, { flockUrl: flock.url, id: appliance.id, options: browserOptions });
    result.linkMs = Date.now() - t0;
    result.linked = linked.ok;
    if (!linked.ok) {
      result.error = JSON.stringify(linked.error);
      return result;
    }
    result.setupMs = linked.value.setupMs;
    const fetched = await page.evaluate((n) => e2e.attempt(async () => {
      const res = await fetch(`intrustd+app://hello/stream?bytes=${n}`);
      const seen = await e2e.readPattern(res);
      return { status: res.status, bytes: seen.total, mismatch: seen.firstMismatch };
    }), fetchBytes);
    result.fetched = fetched.ok && fetched.value.status === 200 && fetched.value.bytes === fetchBytes && fetched.value.mismatch === -1;
    if (!result.fetched) result.error = JSON.stringify(fetched.ok ? fetched.value : fetched.error);
    result.fetchMs = fetched.ms;
    // The path now (ICE may have moved since set-up), from both ends.
    const now = await page.evaluate(() => e2e.attempt(() => window.handle.refreshPath()));
    result.browserPath = now.ok ? now.value.path : `error ${JSON.stringify(now.error)}`;
    result.appliancePath = await appliancePath(appliance, pathFamily(result.browserPath));
    // Every path the appliance logged, in order: a link that moved from the relay to a direct pair shows it.
    result.pathLog = [...appliance.proc.output.matchAll(/link path (\S+)/g)].map((m) => m[1]);
  } catch (e) {
    result.error = e.message;
  } finally {
    if (appliance) result.diagnostics += `--- appliance (${appliance.proc.logFile}) ---\n${appliance.proc.tail(20)}\n`;
    if (browser) result.diagnostics += `--- browser console ---\n${browser.logs.slice(-20).join('\n')}\n`;
    if (browser) await browser.close();
    if (appliance) {
      await appliance.stop();
      removeTempDir(appliance.stateDir);
    }
    lab.close();
  }
  return result;
}

/**
 * The last `link path …` the appliance logged (once the link connects, and on every change).
 * ICE may still be settling on its best pair (the appliance reads it again within seconds):
 * waits up to 8 s for the family the browser saw, then returns whatever was logged last.
 */
async function appliancePath(appliance, browserFamily) {
  let last = 'none logged';
  for (let i = 0; i < 80; i++) {
    const all = [...appliance.proc.output.matchAll(/link path (\S+)/g)];
    if (all.length) last = all[all.length - 1][1];
    if (pathFamily(last) === browserFamily) return last;
    await sleep(100);
  }
  return last;
}

/** The relay's log, for allocation checks. */
export function relayLog(flock) {
  try {
    return fs.readFileSync(flock.relayLog, 'utf8');
  } catch {
    return '';
  }
}

// Issue 7's benchmark, one run: a Java↔Java link (what `intrustd request`/`forward` and paired
// appliances use) against the browser link of the spine — set-up and download throughput — and
// `intrustd forward` against a direct TCP connection to the same app on the same host.
//
//   scripts/netns-run node bench/e2e/devices.mjs [--size-mib 256] [--setup-runs 10]
//
// Needs the artifacts built (./intrustd --version; mvn -pl bench -am package -DskipTests) and
// runs inside the private namespace of scripts/netns-run, like the e2e tests.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFlock, startAppliance, startBrowser, runCli, tempDir, removeTempDir, Proc, LAUNCHER, ROOT } from '../../e2e/lib/harness.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const opts = { sizeMib: 256, setupRuns: 10 };
for (let i = 2; i < process.argv.length; i += 2) {
  const [k, v] = [process.argv[i], process.argv[i + 1]];
  if (k === '--size-mib') opts.sizeMib = Number(v);
  else if (k === '--setup-runs') opts.setupRuns = Number(v);
  else throw new Error(`unknown option ${k}`);
}
const BYTES = opts.sizeMib * 1024 * 1024;
const JAVA = path.join(process.env.JAVA_HOME || '/usr/lib/jvm/temurin-25-jdk-amd64', 'bin', 'java');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function run(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      if (e) reject(new Error(`${cmd} failed: ${e.message}\n${stderr}`)); else resolve(stdout);
    });
  });
}

/** curl's download speed (bytes/s) for `url`, the body thrown away. */
async function curlSpeed(url) {
  const out = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{speed_download}', url]);
  const [status, size, speed] = out.trim().split(' ').map(Number);
  if (status !== 200 || size !== BYTES) throw new Error(`curl ${url}: ${out}`);
  return speed;
}

const cleanups = [];
try {
  const flock = await startFlock();
  cleanups.push(() => flock.stop());
  const app = await startAppliance({ flock: flock.url, publicApps: ['hello'], name: 'bench' });
  cleanups.push(async () => { await app.stop(); removeTempDir(app.stateDir); });
  const config = tempDir('intrustd-bench-laptop-');
  cleanups.push(() => removeTempDir(config));
  const laptop = { XDG_CONFIG_HOME: config };
  await runCli(['persona', 'add', 'owner', '--role', 'owner', '--password-stdin', '--state', app.stateDir], { input: 'bench password\n' });
  const enrol = await runCli(['device', 'enroll', '--appliance', app.id, '--flock', flock.url, '--wait', '0'], { env: laptop });
  const code = /Its code: (\S+)/.exec(enrol.stdout)?.[1];
  if (!code) throw new Error(`enrolment failed: ${enrol.stdout}${enrol.stderr}`);
  const approve = await runCli(['device', 'approve', code, '--persona', 'owner', '--state', app.stateDir]);
  if (approve.code !== 0) throw new Error(approve.stderr);

  // 1. Java↔Java link: set-up and download, in one warmed JVM.
  const javaOut = await run(JAVA, ['--enable-native-access=ALL-UNNAMED', '-cp', path.join(ROOT, 'bench', 'target', 'lib', '*'),
    'org.intrustd.bench.JavaLinkBench', flock.url, app.id, path.join(config, 'intrustd', 'devices'), String(opts.setupRuns), String(BYTES)]);
  const java = JSON.parse(/JAVALINK (\{.*\})/.exec(javaOut)[1]);

  // 2. The browser link of the spine: shim install() → first response, and a download.
  const browser = await startBrowser();
  cleanups.push(() => browser.close());
  const page = await browser.openTestPage(flock);
  const shimSetups = [];
  for (let i = 0; i < opts.setupRuns + 2; i++) {
    const ms = await page.evaluate(async ({ flock: f, appliance }) => {
      if (window.benchHandle) window.benchHandle.uninstall();
      const t0 = performance.now();
      window.benchHandle = window.intrustd.install({ flock: f, appliance });
      const res = await fetch('intrustd+app://hello/stream?bytes=1');
      await res.arrayBuffer();
      return performance.now() - t0;
    }, { flock: flock.url, appliance: app.id });
    if (i >= 2) shimSetups.push(ms);
  }
  await page.evaluate(() => fetch('intrustd+app://hello/stream?bytes=16777216').then((r) => r.arrayBuffer()));
  const shimMs = await page.evaluate(async (bytes) => {
    const t0 = performance.now();
    const reader = (await fetch(`intrustd+app://hello/stream?bytes=${bytes}`)).body.getReader();
    let total = 0;
    for (;;) { const { done, value } = await reader.read(); if (done) break; total += value.length; }
    if (total !== bytes) throw new Error(`${total} of ${bytes}`);
    return performance.now() - t0;
  }, BYTES);
  const shimMBps = BYTES / 1e6 / (shimMs / 1000);

  // 3. intrustd forward against a direct TCP connection to the same app process (socat → its socket).
  const forward = new Proc('bench-forward', LAUNCHER, ['forward', 'hello', '0'], { env: laptop });
  cleanups.push(() => forward.stop());
  const [, port] = await forward.waitForLine((l) => /forwarding http:\/\/127\.0\.0\.1:(\d+)\//.exec(l), 30000, 'the port');
  const appSocket = path.join(app.stateDir, 'run', 'apps', 'hello', 'socket', 'app.sock');
  const directPort = 20000 + (process.pid % 20000);
  const socat = new Proc('bench-socat', 'socat', [`TCP-LISTEN:${directPort},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${appSocket}`]);
  cleanups.push(() => socat.stop());
  await new Promise((r) => setTimeout(r, 500));
  const forwardUrl = `http://127.0.0.1:${port}/stream?bytes=${BYTES}`;
  const directUrl = `http://127.0.0.1:${directPort}/stream?bytes=${BYTES}`;
  const fwd = [];
  const direct = [];
  for (let i = 0; i < 2; i++) { // interleaved: the machine's load falls on both alike
    fwd.push(await curlSpeed(forwardUrl));
    direct.push(await curlSpeed(directUrl));
  }
  const forwardMBps = Math.max(...fwd) / 1e6;
  const directMBps = Math.max(...direct) / 1e6;

  const shimSetupMs = median(shimSetups);
  const results = {
    when: new Date().toISOString(), sizeMib: opts.sizeMib, setupRuns: opts.setupRuns,
    javaLink: java, shim: { setupMs: shimSetups, setupMedianMs: shimSetupMs, downloadMBps: shimMBps },
    forward: { MBps: fwd.map((s) => s / 1e6), directTcpMBps: direct.map((s) => s / 1e6) },
    ratios: {
      setupJavaOverShim: java.setupMedianMs / shimSetupMs,
      downloadJavaOverShim: java.downloadMBps / shimMBps,
      forwardOverDirectTcp: forwardMBps / directMBps,
    },
  };
  const rows = [
    ['set-up to first response: Java link / browser link (ms, median)', java.setupMedianMs, shimSetupMs, results.ratios.setupJavaOverShim],
    [`download ${opts.sizeMib} MiB: Java link / browser link (MB/s)`, java.downloadMBps, shimMBps, results.ratios.downloadJavaOverShim],
    [`download ${opts.sizeMib} MiB: forward / direct TCP (MB/s, best of 2)`, forwardMBps, directMBps, results.ratios.forwardOverDirectTcp],
  ];
  for (const [what, a, b, r] of rows) console.log(`${what.padEnd(66)} ${a.toFixed(1).padStart(8)} ${b.toFixed(1).padStart(8)}   ratio ${r.toFixed(2)}`);
  console.log(`Java link CPU: ${java.cpuSecondsPerGB} s per GB received (the whole JVM)`);
  const out = path.join(HERE, '..', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'devices-latest.json'), JSON.stringify(results, null, 2));
} finally {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch { /* best effort */ }
  }
}
process.exit(0);

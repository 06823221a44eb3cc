#!/usr/bin/env node
// Upload throughput through the shim into the photos app, against the spine's raw fetch upload,
// measured in the same run (ratios from one run; see bench/README.md, "Photos").
//
//   cd /work/main && scripts/netns-run node bench/e2e/photos.mjs [--size-mib 256] [--runs 3] \
//       [--parts-mib 8,32] [--warmup-mib 16] [--out FILE]
//
// One run starts a flock, an appliance with the hello and photos apps, an owner persona (the
// CLI), and Debian's Chromium on a page of the flock that installs the shim and logs in. The
// payload is a real H.264 MP4 of exactly --size-mib MiB (ffmpeg's testsrc2, lossless, made once
// and kept in bench/results/media/), given to the page's <input type=file> so that every
// request body is a disk-backed File or a slice of it, as in the gallery. Each run measures,
// in this order:
//   baseline   fetch('intrustd+app://hello/upload', {method: 'POST', body: file}) — hello hashes
//              (SHA-256) and counts the body and answers {size, sha256}
//   parts      POST /api/uploads {name, size}, then PATCH parts of 8 MiB (and 32 MiB) in
//              sequence, to the final part's 201 {photo} — validation (ffprobe) included
//   whole      POST /api/photos?name=… with the whole file, to its 201
// After every photos upload (untimed) it waits for the preview (a poster frame) and deletes the
// photo and empties the trash, so each upload of the same bytes is a new photo.
//
// Needs the artifacts built (./intrustd --version at the top of the checkout; apps/photos/target),
// the shim bundle, /usr/bin/chromium, ffmpeg. Writes bench/results/photos-latest.json.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startFlock, startAppliance, startBrowser, runCli, removeTempDir, requireNetwork, descendants, cmdline,
  DEFAULT_STATIC, HELLO_APPS, ROOT, CHROMIUM, CHROMIUM_ARGS,
} from '../../e2e/lib/harness.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, '..', 'results');
const PHOTOS_APP = path.join(ROOT, 'apps', 'photos', 'target');
const MiB = 1024 * 1024;
const CLK_TCK = 100;
const PERSONA = 'owner';
const PASSWORD = 'photos bench password';
const BASELINE = 'baseline: hello /upload, one POST';
const partsName = (mib) => `photos: ${mib} MiB parts (POST /api/uploads + PATCH…)`;
const WHOLE = 'photos: whole file, one POST /api/photos';

// ------------------------------------------------------------------ arguments
function parseArgs(argv) {
  const o = { sizeMiB: 256, runs: 3, partsMiB: [8, 32], warmupMiB: 16, out: path.join(RESULTS, 'photos-latest.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--size-mib') o.sizeMiB = Number(v());
    else if (a === '--runs') o.runs = Number(v());
    else if (a === '--parts-mib') o.partsMiB = v().split(',').map(Number);
    else if (a === '--warmup-mib') o.warmupMiB = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else if (a === '-h' || a === '--help') {
      console.log('usage: scripts/netns-run node bench/e2e/photos.mjs [--size-mib 256] [--runs 3] [--parts-mib 8,32] [--warmup-mib 16] [--out FILE]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!(Number.isInteger(o.sizeMiB) && o.sizeMiB >= 2) || !(o.runs > 0)) throw new Error('--size-mib must be an integer ≥ 2 and --runs positive');
  if (!o.partsMiB.length || o.partsMiB.some((p) => !(p > 0))) throw new Error('--parts-mib: sizes in MiB, comma-separated');
  o.warmupMiB = Math.min(o.warmupMiB, o.sizeMiB - 1);
  return o;
}

// ------------------------------------------------------------------ the payload
/**
 * A real MP4 (H.264 High 4:4:4 Predictive, yuv420p, 1920×1080, 30 fps, lossless testsrc2) of
 * exactly `sizeMiB` MiB: ffmpeg stops at 1 MiB short of it (`-fs`; it then writes the moov box),
 * and a top-level `free` box pads the rest, which every MP4 reader skips. Made once per size.
 */
function makeVideo(sizeMiB) {
  const dir = path.join(RESULTS, 'media');
  const file = path.join(dir, `photos-bench-${sizeMiB}MiB.mp4`);
  const target = sizeMiB * MiB;
  if (fs.existsSync(file) && fs.statSync(file).size === target) return file;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  // About 4 MB per second of this picture; -t is a ceiling, -fs stops it.
  for (let seconds = Math.ceil(sizeMiB / 2) + 10; ; seconds *= 2) {
    console.log(`making the payload: ${path.relative(process.cwd(), file)} (ffmpeg testsrc2, lossless H.264, ~${sizeMiB} MiB)`);
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '0', '-pix_fmt', 'yuv420p', '-fs', String(target - MiB), '-f', 'mp4', tmp],
    { stdio: 'inherit' });
    const size = fs.statSync(tmp).size;
    if (size > target - 8) throw new Error(`ffmpeg wrote ${size} bytes, more than the ${target} wanted`);
    if (target - size > 2 * MiB) {
      if (seconds > 100000) throw new Error('ffmpeg does not reach the size');
      continue; // too short: the picture compressed better than expected
    }
    const pad = target - size;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(pad, 0);
    head.write('free', 4, 'latin1');
    fs.appendFileSync(tmp, Buffer.concat([head, Buffer.alloc(pad - 8)]));
    fs.renameSync(tmp, file);
    return file;
  }
}

function probeVideo(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { encoding: 'utf8' });
  const info = JSON.parse(out);
  const v = info.streams.find((s) => s.codec_type === 'video');
  return { codec: v.codec_name, profile: v.profile, pixFmt: v.pix_fmt, width: v.width, height: v.height, seconds: Number(info.format.duration) };
}

// ------------------------------------------------------------------ /proc accounting
function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch { return null; }
}

/** CPU ticks of `pids`; with `withChildren`, also of their children that have ended (ffprobe, ffmpeg). */
function cpuTicks(pids, withChildren = false) {
  let sum = 0;
  for (const p of pids) {
    const s = readStat(p);
    if (s) sum += s.own + (withChildren ? s.children : 0);
  }
  return sum;
}

function machineBusyTicks() {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] || 0); // user nice system irq softirq steal
}

function findChromiumBrowser(profile) {
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const c = cmdline(Number(e));
    if (c.some((a) => a === `--user-data-dir=${profile}`) && !c.some((a) => a.startsWith('--type='))) return Number(e);
  }
  return null;
}

// ------------------------------------------------------------------ environment
function ensureRoute() {
  // As run.mjs: without a default route Chromium gathers no host candidate in the namespace
  // (not needed to reach the Java appliance, but kept identical to the other e2e benchmarks).
  if (process.env.INTRUSTD_IN_NETNS !== '1') return false;
  if (execFileSync('ip', ['route', 'show', 'default'], { encoding: 'utf8' }).trim()) return false;
  execFileSync('ip', ['route', 'add', 'default', 'via', '198.18.0.2', 'dev', 'intrustd0']);
  return true;
}

function machine() {
  const cpus = os.cpus();
  let chromium = '';
  try { chromium = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* unknown */ }
  const java = path.join(process.env.JAVA_HOME || '/usr/lib/jvm/temurin-25-jdk-amd64', 'bin', 'java');
  const jv = spawnSync(java, ['-version'], { encoding: 'utf8' });
  return { cpus: cpus.length, cpuModel: cpus[0] && cpus[0].model, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(),
    node: process.version, chromium, java: `${jv.stdout || ''}${jv.stderr || ''}`.split('\n')[0] };
}

function cpuPressure() {
  try { return fs.readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0]; } catch { return ''; }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

// ------------------------------------------------------------------ main
async function run(opts) {
  requireNetwork();
  for (const [p, how] of [[path.join(PHOTOS_APP, 'lib'), 'mvn -pl apps/photos -am package -DskipTests'],
    [path.join(HELLO_APPS, 'lib'), 'mvn -pl apps/hello -am package -DskipTests'], [CHROMIUM, 'apt-get install -y chromium']]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing: ${how}`);
  }
  const video = makeVideo(opts.sizeMiB);
  const media = probeVideo(video);
  const bytes = opts.sizeMiB * MiB;
  const mb = bytes / 1e6;
  const defaultRouteAdded = ensureRoute();
  const load0 = os.loadavg();
  const pressure0 = cpuPressure();
  const info = machine();
  console.log(`bench/e2e/photos: ${opts.sizeMiB} MiB × ${opts.runs} runs, parts of ${opts.partsMiB.join(' and ')} MiB; `
    + `payload ${path.basename(video)} (${media.codec} ${media.profile}, ${media.pixFmt}, ${media.width}×${media.height}, ${media.seconds.toFixed(1)} s); `
    + `${info.cpus} × ${info.cpuModel}; ${info.chromium}; load ${load0.map((l) => l.toFixed(2)).join(' ')}`);

  const cleanups = [];
  try {
    const flock = await startFlock({ staticMounts: { ...DEFAULT_STATIC, '/bench': path.join(HERE, 'page') } });
    cleanups.push(() => flock.stop());
    const app = await startAppliance({ flock: flock.url, apps: [HELLO_APPS, PHOTOS_APP], publicApps: ['hello'], name: 'bench-photos' });
    cleanups.push(async () => { await app.stop(); removeTempDir(app.stateDir); });
    const added = await runCli(['persona', 'add', PERSONA, '--role', 'owner', '--password-stdin', '--state', app.stateDir], { input: `${PASSWORD}\n` });
    if (added.code !== 0) throw new Error(`persona add failed: ${added.stdout}${added.stderr}`);

    const browser = await startBrowser();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${flock.http}/bench/photos.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 15000 });
    await page.setInputFiles('#file', video);
    const inPage = await page.evaluate(() => bench.fileInfo());
    if (inPage.size !== bytes) throw new Error(`the page's file has ${inPage.size} bytes, not ${bytes}`);
    const chromiumPid = findChromiumBrowser(browser.profile);
    if (!chromiumPid) throw new Error('Chromium\'s browser process not found');
    const ev = (fn, arg) => page.evaluate(fn, arg);

    const login = await ev((a) => bench.setup(a), { flock: flock.url, appliance: app.id, persona: PERSONA, password: PASSWORD });
    if (!login.me || login.me.persona !== PERSONA || login.me.library !== true) throw new Error(`photos /api/me: ${JSON.stringify(login.me)}`);
    console.log(`logged in as ${login.persona} (${login.role}) in ${login.loginMs.toFixed(0)} ms (link: ${login.linkPath}); photos /api/me ${JSON.stringify(login.me)}`);

    // Processes each transfer's CPU time is charged to (looked up again at every measurement).
    const procs = () => {
      const all = [app.proc.pid, ...descendants(app.proc.pid)]; // the launcher execs the daemon's JVM
      const by = (re) => all.filter((p) => cmdline(p).some((a) => re.test(a)));
      const hello = by(/^org\.intrustd\.hello\.HelloApp$/);
      const photos = by(/^org\.intrustd\.photos\.PhotosApp$/);
      const daemon = by(/^org\.intrustd\.cli\.Main$/).filter((p) => !hello.includes(p) && !photos.includes(p));
      const chromium = [chromiumPid, ...descendants(chromiumPid)];
      return { chromium: [chromium, false], appliance: [daemon, false], 'hello app': [hello, false],
        'photos app (+tools)': [photos, true], flock: [[flock.proc.pid, ...descendants(flock.proc.pid)], false] };
    };
    const results = {};
    const cpu = {};
    const measured = async (name, fn) => {
      const p0 = procs();
      const before = Object.fromEntries(Object.entries(p0).map(([k, [pids, ch]]) => [k, cpuTicks(pids, ch)]));
      const node0 = process.cpuUsage();
      const busy0 = machineBusyTicks();
      const r = await fn();
      const busy1 = machineBusyTicks();
      const nodeUs = process.cpuUsage(node0);
      const delta = {};
      for (const [k, [pids, ch]] of Object.entries(procs())) delta[k] = ((cpuTicks(pids, ch) - (before[k] ?? 0)) * 1000) / CLK_TCK;
      delta.node = (nodeUs.user + nodeUs.system) / 1000;
      delta.ours = Object.values(delta).reduce((a, b) => a + b, 0);
      delta.others = Math.max(0, ((busy1 - busy0) * 1000) / CLK_TCK - delta.ours);
      (results[name] ||= []).push(r);
      (cpu[name] ||= []).push(delta);
      const extra = r.parts ? `; ${r.parts.length} parts, create ${r.createMs.toFixed(0)} ms, last part ${r.parts.at(-1).ms.toFixed(0)} ms` : '';
      console.log(`  ${name.padEnd(56)} ${r.mbps.toFixed(1).padStart(6)} MB/s  (${(r.ms / 1000).toFixed(1)} s${extra})`);
      return r;
    };
    const settle = async (r, what) => {
      if (!r.photo) throw new Error(`${what}: no photo in the answer`);
      if (r.photo.size !== bytes || r.photo.kind !== 'video') throw new Error(`${what}: unexpected photo ${JSON.stringify(r.photo)}`);
      const s = await ev((a) => bench.settleAndDelete(a), { id: r.photo.id });
      if (s.deleted !== 1) throw new Error(`${what}: emptying the trash deleted ${s.deleted} photos`);
      r.settle = s;
      return s;
    };

    // -------------------------------------------------------------- warm-up (also starts both apps)
    const w = opts.warmupMiB * MiB;
    console.log(`warm-up (${opts.warmupMiB} MiB each: hello upload, photos parts then cancelled, whole POST of a truncated file → 422)`);
    const warm = {};
    warm.hello = await ev((a) => bench.helloUpload(a), { bytes: w });
    warm.parts = await ev((a) => bench.partsUpload(a), { part: Math.min(8 * MiB, w), name: 'warm-up.mp4', stopAfter: w });
    warm.whole = await ev((a) => bench.wholeUpload(a), { name: 'warm-up.mp4', bytes: w, want: [422] });
    console.log(`  hello ${warm.hello.mbps.toFixed(1)} MB/s; parts ${warm.parts.mbps.toFixed(1)} MB/s; whole (truncated) ${warm.whole.status}: ${warm.whole.detail}`);

    // -------------------------------------------------------------- runs, alternating
    let sha256 = null;
    for (let i = 1; i <= opts.runs; i++) {
      console.log(`run ${i}/${opts.runs}`);
      const b = await measured(BASELINE, () => ev((a) => bench.helloUpload(a), {}));
      if (sha256 && b.sha256 !== sha256) throw new Error('hello hashed different bytes this time');
      sha256 = b.sha256;
      for (const p of opts.partsMiB) {
        const r = await measured(partsName(p), () => ev((a) => bench.partsUpload(a), { part: p * MiB, name: `bench-${p}MiB-parts.mp4` }));
        if (r.photo.sha256 !== sha256) throw new Error(`the photos app stored other bytes (sha256 ${r.photo.sha256}, hello saw ${sha256})`);
        await settle(r, partsName(p));
      }
      const r = await measured(WHOLE, () => ev((a) => bench.wholeUpload(a), { name: 'bench-whole.mp4' }));
      if (r.photo.sha256 !== sha256) throw new Error(`the photos app stored other bytes (sha256 ${r.photo.sha256}, hello saw ${sha256})`);
      await settle(r, WHOLE);
    }
    const left = await ev(() => bench.leftovers());
    const load1 = os.loadavg();
    const pressure1 = cpuPressure();

    // -------------------------------------------------------------- summary
    const mbps = (name) => median(results[name].map((r) => r.mbps));
    const names = Object.keys(results);
    const subjects = names.filter((n) => n !== BASELINE);
    const goal = (n) => (n === partsName(8) ? ' (goal ≥ 0.9)' : '');
    const ratios = Object.fromEntries(subjects.map((n) => [`${n} / baseline${goal(n)}`, mbps(n) / mbps(BASELINE)]));
    // Run by run: each subject against the baseline measured just before it.
    const pairedRatios = Object.fromEntries(subjects.map((n) => [n, results[n].map((r, i) => r.mbps / results[BASELINE][i].mbps)]));
    const cpuPerMB = Object.fromEntries(Object.entries(cpu).map(([n, list]) => [n,
      Object.fromEntries(Object.keys(list[0]).map((k) => [k, +(median(list.map((d) => d[k])) / mb).toFixed(2)]))]));
    // Inverted, so that > 1 still means "the subject is cheaper/faster".
    const cpuRatios = Object.fromEntries(subjects.map((n) => [`${n} / baseline`, cpuPerMB[BASELINE].ours / cpuPerMB[n].ours]));
    const partDetail = Object.fromEntries(opts.partsMiB.map((p) => {
      const rs = results[partsName(p)];
      const inner = rs.flatMap((r) => r.parts.filter((x) => !x.last));
      const innerMbps = median(inner.map((x) => x.bytes / 1e6 / (x.ms / 1000)));
      const innerMs = median(inner.map((x) => x.ms));
      const last = rs.map((r) => r.parts.at(-1));
      return [partsName(p), {
        createMs: median(rs.map((r) => r.createMs)), partsPerUpload: rs[0].parts.length,
        partMedianMs: innerMs, partMedianMbps: innerMbps,
        lastPartMs: median(last.map((x) => x.ms)), lastPartBytes: last[0].bytes,
        // What the final part costs beyond moving its bytes at the median part rate: validation
        // (ffprobe), publishing the original, the database rows, the preview job.
        lastPartExtraMs: median(last.map((x) => x.ms - x.bytes / 1e6 / innerMbps * 1000)),
      }];
    }));

    console.log(`\n${'measurement'.padEnd(56)} ${'median'.padStart(10)}  runs`);
    for (const n of names) console.log(`${n.padEnd(56)} ${mbps(n).toFixed(1).padStart(6)} MB/s  ${results[n].map((r) => r.mbps.toFixed(1)).join(', ')}`);
    console.log('\nratios, subject / baseline, by throughput (MB/s; 1.0 = as fast as the raw fetch upload)');
    for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(78)} ${v.toFixed(2)}`);
    console.log('run by run (each against the baseline measured just before it)');
    for (const [k, v] of Object.entries(pairedRatios)) console.log(`  ${k.padEnd(78)} ${v.map((x) => x.toFixed(2)).join(', ')}`);
    console.log('by CPU time (our processes, ms per MB: baseline / subject; robust to a busy machine)');
    for (const [k, v] of Object.entries(cpuRatios)) console.log(`  ${k.padEnd(78)} ${v.toFixed(2)}`);
    console.log('\nresumable uploads, part by part (medians)');
    for (const [n, d] of Object.entries(partDetail)) {
      const inner = d.partsPerUpload > 1 ? `a part ${d.partMedianMs.toFixed(0)} ms (${d.partMedianMbps.toFixed(1)} MB/s); the last part `
        + `${d.lastPartMs.toFixed(0)} ms, of which ~${d.lastPartExtraMs.toFixed(0)} ms beyond moving its bytes at that rate`
        : `the only part ${d.lastPartMs.toFixed(0)} ms`;
      console.log(`  ${n}: create ${d.createMs.toFixed(0)} ms; ${d.partsPerUpload} part${d.partsPerUpload > 1 ? 's' : ''}; ${inner}`);
    }
    const previews = names.filter((n) => n !== BASELINE).flatMap((n) => results[n].map((r) => r.settle.previewWaitMs));
    console.log(`  (after each upload, untimed: the poster frame was ready ${median(previews).toFixed(0)} ms after the answer, median)`);
    console.log(`\nCPU ms per MB (median), by process; 'others' = the rest of the machine meanwhile`);
    const cols = Object.keys(Object.values(cpuPerMB)[0]);
    console.log(`  ${''.padEnd(56)}${cols.map((c) => c.slice(0, 13).padStart(14)).join('')}`);
    for (const [n, v] of Object.entries(cpuPerMB)) console.log(`  ${n.padEnd(56)}${cols.map((c) => String(v[c]).padStart(14)).join('')}`);
    console.log(`\nload average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${load1.map((l) => l.toFixed(2)).join(' ')}; cpu pressure at the end: ${pressure1}`);
    if (left.timeline || left.trash) console.log(`left in the library: ${JSON.stringify(left)} (expected none)`);

    const out = {
      date: new Date().toISOString(), machine: info, loadAverage: { start: load0, end: load1 }, cpuPressure: { start: pressure0, end: pressure1 },
      config: { sizeMiB: opts.sizeMiB, bytes, runs: opts.runs, partsMiB: opts.partsMiB, warmupMiB: opts.warmupMiB,
        payload: { file: path.relative(ROOT, video), ...media, note: 'ffmpeg testsrc2 1080p30, libx264 ultrafast -crf 0 yuv420p, padded to the exact size with a top-level free box' },
        finalPart: 'measured: every photos upload runs to the final 201 with the photo (validation included); the photo is then deleted and the trash emptied, untimed',
        order: [BASELINE, ...opts.partsMiB.map(partsName), WHOLE], chromiumFlags: CHROMIUM_ARGS, defaultRouteAdded, login: { ms: login.loginMs, linkPath: login.linkPath } },
      units: 'MB/s = 10^6 bytes per second; ratios = subject MB/s / baseline MB/s; cpuRatios = baseline CPU per MB / subject CPU per MB',
      results: Object.fromEntries(names.map((n) => [n, { unit: 'MB/s', median: mbps(n), runs: results[n].map((r) => r.mbps), detail: results[n] }])),
      ratios, pairedRatios, cpuRatios, cpuMsPerMB: cpuPerMB, parts: partDetail, warmUp: warm, leftovers: left,
    };
    fs.mkdirSync(path.dirname(opts.out), { recursive: true });
    fs.writeFileSync(opts.out, JSON.stringify(out, null, 2) + '\n');
    console.log(`\nwrote ${path.relative(process.cwd(), opts.out)}`);
    const errors = browser.logs.filter((l) => l.startsWith('[pageerror'));
    if (errors.length) console.log(errors.join('\n'));
  } finally {
    for (const c of cleanups.reverse()) {
      try { await c(); } catch { /* best effort */ }
    }
  }
}

run(parseArgs(process.argv.slice(2))).then(() => process.exit(0), (e) => {
  console.error(`bench/e2e/photos failed: ${e.stack || e}`);
  process.exit(1);
});

// Harness for the browser end-to-end tests: starts a flock and appliances through the
// `intrustd` launcher, Chromium through playwright-core, and cleans all of it up again (process
// groups, temporary directories), also when a test fails or the test process is killed.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(E2E_DIR, '..');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');
// INTRUSTD_E2E_LAUNCHER: another launcher with the same interface (e.g. one that skips the
// build step of ./intrustd, whose npm ci cannot work inside the network namespace).
export const LAUNCHER = process.env.INTRUSTD_E2E_LAUNCHER || path.join(ROOT, 'intrustd');
export const HELLO_APPS = path.join(ROOT, 'apps', 'hello', 'target');
/** The photo album app (apps/photos), as Maven builds it; its web UI is served at /photos. */
export const PHOTOS_APP = path.join(ROOT, 'apps', 'photos', 'target');
/** The backups app (apps/backups): keeps encrypted repositories for personas and paired appliances. */
export const BACKUPS_APP = path.join(ROOT, 'apps', 'backups', 'target');
/** The mail app (apps/mail): mailboxes for personas, mail between appliances over the link; its webmail is served at /mail. */
export const MAIL_APP = path.join(ROOT, 'apps', 'mail', 'target');
/** Debian's `python3 -m http.server`, unmodified, reached over TCP inside its sandbox. */
export const PYSERVE_APP = path.join(ROOT, 'apps', 'pyserve');
const SHIM_DIST = path.join(ROOT, 'web', 'shim', 'dist', 'intrustd-shim.js');

const READY_TIMEOUT_MS = Number(process.env.INTRUSTD_E2E_READY_TIMEOUT_MS || 30000);

// ---------------------------------------------------------------------------------------------
// Cleanup registry: every process group and temporary directory we create, so that an exit
// (normal, a failed assertion, or SIGTERM/SIGINT from the test runner) does not leave any behind.
const liveGroups = new Set(); // pids of process-group leaders we spawned (detached)
const tempDirs = new Set();

function killGroupSync(pid, signal) {
  try { process.kill(-pid, signal); } catch { /* gone */ }
}

function cleanupSync() {
  for (const pid of liveGroups) killGroupSync(pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of tempDirs) {
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  tempDirs.clear();
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    cleanupSync();
    process.exit(128 + (os.constants.signals[sig] || 1));
  });
}

/** A fresh temporary directory, removed at teardown (or at process exit at the latest). */
export function tempDir(prefix = 'intrustd-e2e-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // Sandboxed apps run as their own uids and must be able to pass through to their files.
  fs.chmodSync(dir, 0o711);
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

// ---------------------------------------------------------------------------------------------
// Environment checks

/** Non-loopback IPv4/IPv6 interfaces that WebRTC could use for host candidates. */
export function usableInterfaces() {
  const out = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs || []) if (!a.internal) out.push(`${name} ${a.address}`);
  }
  return out;
}

/**
 * Refuse to run where WebRTC cannot connect: Chromium and libwebrtc ignore the loopback
 * interface for ICE, so the tests need the private namespace of scripts/netns-run (or, on an
 * ordinary machine, a real interface). Throws with a message saying what to do.
 */
export function requireNetwork() {
  if (process.env.INTRUSTD_IN_NETNS === '1') return;
  if (usableInterfaces().length > 0) return;
  throw new Error(
    'the e2e tests need a non-loopback network interface for WebRTC (Chromium ignores loopback ' +
    'for ICE) and none was found. Run them inside a private network namespace:\n' +
    '    cd e2e && ../scripts/netns-run npm test');
}

/** The shim bundle must have been built (./intrustd builds it; or npm ci && npm run build in web/shim). */
export function requireShim() {
  if (!fs.existsSync(SHIM_DIST)) {
    throw new Error(`the shim is not built (${SHIM_DIST} is missing): run\n    cd web/shim && npm ci && npm run build`);
  }
}

export function requireLauncher() {
  if (!fs.existsSync(LAUNCHER)) throw new Error(`the launcher ${LAUNCHER} is missing`);
}

// ---------------------------------------------------------------------------------------------
// Processes

const LOG_TAIL = 64 * 1024;

/**
 * A child process in its own process group, with its stdout scanned for
 * `INTRUSTD_READY {json}` and its stdout/stderr kept (a tail in memory, everything in a log file
 * under artifacts/logs for post-mortems).
 */
export class Proc {
  // cwd: artifacts/, so that a JVM crash report (hs_err_pid*.log) lands there, not in the repo.
  constructor(name, cmd, args, { env = {}, cwd = ARTIFACTS } = {}) {
    this.name = name;
    this.cmd = cmd;
    this.args = args;
    this.output = '';
    this.exited = false;
    this.exitCode = null;
    this.exitSignal = null;
    fs.mkdirSync(path.join(ARTIFACTS, 'logs'), { recursive: true });
    fs.mkdirSync(cwd, { recursive: true });
    this.logFile = path.join(ARTIFACTS, 'logs', `${name}-${process.pid}-${Date.now()}.log`);
    this._log = fs.openSync(this.logFile, 'w');
    fs.writeSync(this._log, `$ ${[cmd, ...args].join(' ')}\n`);
    this.child = spawn(cmd, args, {
      cwd,
      // INTRUSTD_NO_BUILD: the tests run inside the network namespace, where ./intrustd's
      // build step (npm ci) cannot reach the registry: build before, never from here.
      env: { INTRUSTD_NO_BUILD: '1', ...process.env, ...env },
      detached: true, // own process group: we kill the whole group (launcher, JVM, app processes)
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    liveGroups.add(this.pid);
    this._lineWaiters = [];
    this._bufs = { out: '', err: '' };
    this.exitedPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = signal;
        resolve({ code, signal });
      });
      this.child.once('error', (err) => {
        this._append('spawn', `spawn error: ${err.message}\n`);
        this.exited = true;
        resolve({ code: null, signal: null, error: err });
      });
    });
    this.exitedPromise.then(() => {
      // The group may live on (a child the launcher left behind): kill it all.
      killGroupSync(this.pid, 'SIGKILL');
      liveGroups.delete(this.pid);
      for (const w of this._lineWaiters.splice(0)) w.onExit();
      try { fs.closeSync(this._log); } catch { /* closed */ }
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    for (const stream of ['out', 'err']) {
      this.child[stream === 'out' ? 'stdout' : 'stderr'].on('data', (d) => {
        this._append(stream, d);
        let buf = this._bufs[stream] + d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          this._line(buf.slice(0, nl).replace(/\r$/, ''), stream);
          buf = buf.slice(nl + 1);
        }
        this._bufs[stream] = buf.slice(-LOG_TAIL);
      });
    }
  }

  _append(stream, text) {
    this.output = (this.output + text).slice(-LOG_TAIL);
    try { fs.writeSync(this._log, text); } catch { /* closed */ }
  }

  _line(line, stream) {
    for (const w of [...this._lineWaiters]) {
      const m = w.test(line, stream);
      if (m) {
        this._lineWaiters.splice(this._lineWaiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  /** True when the output shows a JVM crash (SIGSEGV/SIGABRT in native code and the like). */
  get crashed() {
    return /A fatal error has been detected by the Java Runtime Environment/.test(this.output);
  }

  /** Last output lines, for failure messages. */
  tail(lines = 40) {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /**
   * Wait for a line for which `test(line, stream)` returns something truthy (which is returned).
   * Rejects when the process exits first or after `timeoutMs`.
   */
  waitForLine(test, timeoutMs = READY_TIMEOUT_MS, what = 'the expected line') {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new Error(`${this.name} exited (${this.exitCode ?? this.exitSignal}) before ${what}; output:\n${this.tail()}`));
        return;
      }
      const timer = setTimeout(() => {
        const i = this._lineWaiters.indexOf(w);
        if (i >= 0) this._lineWaiters.splice(i, 1);
        reject(new Error(`${this.name} printed no ${what} within ${timeoutMs} ms; output:\n${this.tail()}`));
      }, timeoutMs);
      const w = {
        test,
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        onExit: () => {
          clearTimeout(timer);
          reject(new Error(`${this.name} exited (code ${this.exitCode}, signal ${this.exitSignal}) before ${what}; output:\n${this.tail()}`));
        },
      };
      this._lineWaiters.push(w);
    });
  }

  /**
   * The `INTRUSTD_READY {json}` line's JSON. Fails at once when ./intrustd starts to rebuild the
   * project: inside the network namespace its `npm ci` cannot work, and a build racing the other
   * launchers (and whoever else builds in this checkout) must not happen behind a test's back.
   */
  async waitReady(timeoutMs = READY_TIMEOUT_MS) {
    const building = this.waitForLine((line) => /^intrustd: building/.test(line), timeoutMs + 1000, 'build line');
    building.catch(() => {});
    const ready = this.waitForLine((line, stream) => {
      if (stream !== 'out') return null;
      const m = /^INTRUSTD_READY (\{.*\})\s*$/.exec(line);
      if (!m) return null;
      try { return JSON.parse(m[1]); } catch { return null; }
    }, timeoutMs, 'INTRUSTD_READY line');
    const refuse = building.then(() => {
      this.signal('SIGKILL');
      throw new Error(`${LAUNCHER} started rebuilding the project from inside the test run. Build first, ` +
        'outside the network namespace (e.g. `./intrustd --version` at the top of the checkout, or ' +
        '`./intrustd test`), then run the e2e tests.');
    });
    return Promise.race([ready, refuse]);
  }

  /** Signal the whole process group. */
  signal(sig) {
    if (!this.exited) killGroupSync(this.pid, sig);
  }

  /**
   * Stop: `signal` to the process group, SIGKILL after `graceMs`.
   * @returns {Promise<{code, signal, ms, killed}>}
   */
  async stop({ signal = 'SIGTERM', graceMs = 8000 } = {}) {
    const t0 = Date.now();
    if (this.exited) return { code: this.exitCode, signal: this.exitSignal, ms: 0, killed: false };
    this.signal(signal);
    let killed = false;
    const timer = setTimeout(() => { killed = true; this.signal('SIGKILL'); }, graceMs);
    const r = await this.exitedPromise;
    clearTimeout(timer);
    return { ...r, ms: Date.now() - t0, killed };
  }
}

/**
 * Runs the CLI to its end; resolves with {code, stdout, stderr}. A CLI still running after
 * `timeoutMs` has its threads dumped into stderr (for the post-mortem) and is killed.
 */
export function runCli(args, { input = '', env = {}, timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const p = spawn(LAUNCHER, args, { cwd: ROOT, env: { ...process.env, INTRUSTD_NO_BUILD: '1', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.stdin.end(input);
    const timer = setTimeout(() => {
      const dump = spawnSync(`${process.env.JAVA_HOME || '/usr/lib/jvm/temurin-25-jdk-amd64'}/bin/jstack`, [String(p.pid)], { encoding: 'utf8' });
      stderr += `\n[killed after ${timeoutMs} ms; jstack:]\n${dump.stdout || dump.stderr || dump.error}`;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// ---------------------------------------------------------------------------------------------
// /proc helpers (Linux)

function readProc(pid, file) {
  try { return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8'); } catch { return null; }
}

/** All descendants of `pid` (not including it), by scanning /proc/<pid>/stat. */
export function descendants(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(entry, 'stat');
    if (!stat) continue;
    // pid (comm) state ppid ...; comm may contain spaces and parentheses
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(after[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  const out = [];
  const stack = [...(children.get(pid) || [])];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(children.get(p) || []));
  }
  return out;
}

export function cmdline(pid) {
  const c = readProc(pid, 'cmdline');
  return c ? c.split('\0').filter(Boolean) : [];
}

/**
 * The stacks of the daemon's threads that mention `pattern`, virtual threads included (jstack
 * leaves those out), from the intrustd JVM under launcher process `pid`: for post-mortems of a
 * stall. Best effort: '' when there is no JDK tool or no such JVM.
 */
export function javaStacks(pid, pattern = /org\.intrustd/) {
  const jvm = [pid, ...descendants(pid)].find((p) => cmdline(p).some((a) => a.includes('org.intrustd.cli.Main')));
  if (!jvm) return '';
  const file = path.join(os.tmpdir(), `intrustd-threads-${jvm}-${Date.now()}.txt`);
  const jcmd = path.join(process.env.JAVA_HOME || '/usr/lib/jvm/temurin-25-jdk-amd64', 'bin', 'jcmd');
  const r = spawnSync(jcmd, [String(jvm), 'Thread.dump_to_file', '-format=text', file], { encoding: 'utf8', timeout: 20000 });
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split(/\n(?=#\d+ )/).filter((block) => pattern.test(block)).join('\n');
  } catch {
    return `(no thread dump: ${r.stderr || r.error})`;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * Signed bundles of the pyserve app renamed to app `id` (`name`), one per version, each with
 * `noiseBytes` of random data so that uploading it crosses flow-control windows; the publisher
 * key is made in `dir` and trusted by the appliance whose state is `stateDir`. Returns
 * {version: bundle file}.
 */
export function pyserveBundles({ dir, id, name, versions, noiseBytes, stateDir }) {
  const env = { ...process.env, INTRUSTD_NO_BUILD: '1' };
  const run = (args) => spawnSync(LAUNCHER, args, { env, encoding: 'utf8' });
  const check = (r, what) => { if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr}`); };
  const key = path.join(dir, 'publisher.key');
  check(run(['bundle', 'keygen', key]), 'bundle keygen');
  check(run(['app', 'trust', `${key}.pub`, '--state', stateDir]), 'app trust'); // done on the appliance itself
  const bundles = {};
  for (const version of versions) {
    const src = path.join(dir, `${id}-${version}`);
    fs.cpSync(PYSERVE_APP, src, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(src, 'manifest.json'), 'utf8'));
    Object.assign(manifest, { id, name, version });
    fs.writeFileSync(path.join(src, 'manifest.json'), JSON.stringify(manifest));
    fs.writeFileSync(path.join(src, 'www', 'noise.bin'), crypto.randomBytes(noiseBytes));
    bundles[version] = path.join(dir, `${id}-${version}.itb`);
    check(run(['bundle', 'pack', src, '--key', key, '-o', bundles[version]]), 'bundle pack');
  }
  return bundles;
}

/** VmRSS of a process in bytes, or null when it is gone. */
export function rssBytes(pid) {
  const status = readProc(pid, 'status');
  if (!status) return null;
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

function isJava(pid) {
  const argv = cmdline(pid);
  return argv.length > 0 && /(^|\/)java$/.test(argv[0]);
}

// ---------------------------------------------------------------------------------------------
// Flock

// Prefixes as the CLI takes them: '/name', without a trailing slash.
export const DEFAULT_STATIC = {
  '/shim': path.join(ROOT, 'web', 'shim', 'dist'),
  '/demo': path.join(ROOT, 'web', 'demo'),
  '/admin': path.join(ROOT, 'apps', 'admin'),
  '/photos': path.join(ROOT, 'apps', 'photos', 'web'),
  '/backups': path.join(ROOT, 'apps', 'backups', 'web'),
  '/mail': path.join(ROOT, 'apps', 'mail', 'web'),
  '/e2e': path.join(E2E_DIR, 'pages'),
};

/**
 * Start a flock on 127.0.0.1 (a free port) serving the shim, the demo and the e2e pages.
 * @returns {Promise<{proc: Proc, url: string, http: string, port: number, stop: Function}>}
 */
export async function startFlock({ staticMounts = DEFAULT_STATIC, env = {}, host = '127.0.0.1', args: extra = [] } = {}) {
  requireShim();
  requireLauncher();
  const args = ['flock', '--host', host, '--port', '0', ...extra];
  for (const [prefix, dir] of Object.entries(staticMounts)) args.push('--static', `${prefix}=${dir}`);
  const proc = new Proc('flock', LAUNCHER, args, { env });
  let ready;
  try {
    ready = await proc.waitReady();
  } catch (e) {
    await proc.stop({ signal: 'SIGKILL' });
    throw e;
  }
  const url = String(ready.flock).replace(/\/+$/, '');
  const http = String(ready.http || url.replace(/^ws/, 'http')).replace(/\/+$/, '');
  const port = Number(new URL(http).port);
  return { proc, url, http, port, ready, stop: (o) => proc.stop(o) };
}

// ---------------------------------------------------------------------------------------------
// Appliance

/**
 * Start an appliance daemon with the hello app (or the app directories in `apps`, one or an
 * array), registered with `flock` (ws URL). `publicApps` may be opened with no login.
 * `stateDir` defaults to a fresh temporary directory (reuse it to restart with the same ID).
 * @returns {Promise<Appliance>}
 */
export async function startAppliance({ flock, stateDir, name = 'e2e', javaOpts, env = {}, apps = HELLO_APPS, publicApps = ['hello', 'pyserve'], wrap = [] } = {}) {
  requireLauncher();
  const state = stateDir || tempDir('intrustd-e2e-state-');
  const extraEnv = { ...env };
  if (javaOpts) extraEnv.INTRUSTD_JAVA_OPTS = javaOpts;
  // `wrap` runs it inside something, e.g. ['ip', 'netns', 'exec', NS] (natlab.js).
  const args = ['appliance', '--state', state, '--flock', flock, ...[].concat(apps).flatMap((a) => ['--apps', a]),
    ...publicApps.flatMap((a) => ['--public', a]), '--name', name];
  const proc = wrap.length ? new Proc(`appliance-${name}`, wrap[0], [...wrap.slice(1), LAUNCHER, ...args], { env: extraEnv })
    : new Proc(`appliance-${name}`, LAUNCHER, args, { env: extraEnv });
  let ready;
  try {
    ready = await proc.waitReady();
  } catch (e) {
    await proc.stop({ signal: 'SIGKILL' });
    throw e;
  }
  if (typeof ready.applianceId !== 'string' || !/^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/.test(ready.applianceId)) {
    await proc.stop({ signal: 'SIGKILL' });
    throw new Error(`appliance printed no canonical applianceId: ${JSON.stringify(ready)}`);
  }
  return new Appliance(proc, ready, state);
}

export class Appliance {
  constructor(proc, ready, stateDir) {
    this.proc = proc;
    this.ready = ready;
    this.id = ready.applianceId;
    this.stateDir = stateDir;
  }

  /**
   * The daemon's JVM(s): the java processes in the launcher's tree (the launcher itself if it
   * exec'd java), except app processes (the hello app's JVM).
   */
  daemonPids() {
    const all = [this.proc.pid, ...descendants(this.proc.pid)];
    return all.filter((pid) => isJava(pid) && !cmdline(pid).some((a) => a.startsWith('org.intrustd.hello')));
  }

  /** Sum of the daemon JVMs' VmRSS in bytes (null when none is running). */
  daemonRss() {
    const pids = this.daemonPids();
    if (pids.length === 0) return null;
    let sum = 0;
    for (const p of pids) sum += rssBytes(p) || 0;
    return sum;
  }

  get alive() {
    return !this.proc.exited;
  }

  stop(o) {
    return this.proc.stop(o);
  }
}

// ---------------------------------------------------------------------------------------------
// Chromium

export const CHROMIUM = process.env.INTRUSTD_E2E_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Start Debian's Chromium (never a downloaded one) with a throw-away profile; `args`: more
 * command-line switches; `wrap` runs it inside something, e.g. a natlab site's LAN
 * (['ip', 'netns', 'exec', NS]): Playwright drives it over pipes, which cross namespaces.
 * @returns {Promise<Browser>}
 */
export async function startBrowser({ args = [], wrap = [] } = {}) {
  const { chromium } = await import('playwright-core');
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const profile = tempDir('intrustd-e2e-chromium-');
  let executablePath = CHROMIUM;
  if (wrap.length) {
    executablePath = path.join(profile, 'chromium-wrapped');
    const quote = (a) => `'${String(a).replace(/'/g, "'\\''")}'`;
    fs.writeFileSync(executablePath, `#!/bin/sh\nexec ${[...wrap, CHROMIUM].map(quote).join(' ')} "$@"\n`, { mode: 0o755 });
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    viewport: { width: 1000, height: 900 },
  });
  return new Browser(context, profile);
}

export class Browser {
  constructor(context, profile) {
    this.context = context;
    this.profile = profile;
    this.logs = [];
  }

  /** A new page with its console and errors recorded (see `logs`). */
  async newPage() {
    const page = await this.context.newPage();
    page.on('console', (m) => this.logs.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${e.message}`));
    return page;
  }

  /**
   * Open the e2e test page on `flock` (the object startFlock returned, served over its HTTP
   * origin, as Chromium blocks about:blank → ws://127.0.0.1) and wait for the shim to load.
   */
  async openTestPage(flock) {
    const page = await this.newPage();
    await page.goto(`${flock.http}/e2e/index.html`);
    await page.waitForFunction(() => window.e2eReady === true, null, { timeout: 15000 });
    return page;
  }

  async close() {
    try { await this.context.close(); } catch { /* already gone */ }
    removeTempDir(this.profile);
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities

/** A stop result that is a normal exit after SIGTERM: status 0 or 143, or killed by SIGTERM itself. */
export function cleanExit(r) {
  return !r.killed && (r.code === 0 || r.code === 143 || r.signal === 'SIGTERM');
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Save a screenshot under artifacts/ and return its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * A standard fixture for a test file: flock + appliance + browser, torn down in reverse order.
 * Call `setup()` from `before()` and `teardown()` from `after()`.
 */
export function fixture({ applianceOptions = {}, withAppliance = true } = {}) {
  const fx = {
    flock: null, appliance: null, browser: null,
    async setup() {
      requireNetwork();
      fx.flock = await startFlock();
      if (withAppliance) fx.appliance = await startAppliance({ flock: fx.flock.url, ...applianceOptions });
      fx.browser = await startBrowser();
      return fx;
    },
    async teardown() {
      const errors = [];
      if (fx.browser) await fx.browser.close().catch((e) => errors.push(e));
      if (fx.appliance) {
        const r = await fx.appliance.stop().catch((e) => errors.push(e));
        if (r && !cleanExit(r)) errors.push(new Error(`the appliance did not stop cleanly on SIGTERM: ${JSON.stringify(r)}\n${fx.appliance.proc.tail()}`));
      }
      if (fx.flock) await fx.flock.stop().catch((e) => errors.push(e));
      if (fx.appliance) removeTempDir(fx.appliance.stateDir);
      for (const p of [fx.appliance, fx.flock]) {
        if (p && p.proc.crashed) errors.push(new Error(`${p.proc.name} crashed (see ${p.proc.logFile}):\n${p.proc.tail()}`));
      }
      if (errors.length) throw errors[0];
    },
    /** Output tails of the processes and the browser's console, for assertion messages. */
    diagnostics() {
      const parts = [];
      if (fx.appliance) parts.push(`--- appliance (${fx.appliance.proc.logFile}) ---\n${fx.appliance.proc.tail(30)}`);
      if (fx.flock) parts.push(`--- flock (${fx.flock.proc.logFile}) ---\n${fx.flock.proc.tail(15)}`);
      if (fx.browser) parts.push(`--- browser console ---\n${fx.browser.logs.slice(-30).join('\n')}`);
      return parts.join('\n');
    },
  };
  return fx;
}

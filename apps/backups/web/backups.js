// The backups app's web page: what the logged-in person keeps in the appliance's backups app
// (docs/backups.md has its HTTP API) — the space used against their quota, their repositories
// with how many snapshots and when the last one came (a warning when that is longer ago than
// they like), how to start, browsing a snapshot and downloading files and folders (opened in
// this page with the repository's password, which the app never sees: reader.mjs), the
// commands to restore with `intrustd backup`, deleting a whole repository; and for the appliance's owner and admins,
// everyone who keeps backups here, with the quotas they set. ?appliance=<ID>[&flock=ws://…], as
// for the photos and admin apps.
import { install } from '/shim/intrustd-shim.js';
import { RepositoryReader, WrongPassword, httpStore } from './reader.mjs';
import { decompress } from './vendor/fzstd.mjs';
import { downloadZip } from './vendor/client-zip.mjs';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const flock = params.get('flock') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
const applianceId = params.get('appliance');
const APP = 'intrustd+app://backups';
const GB = 1e9;
const HOUR = 3600 * 1000;
const DEFAULT_THRESHOLD = { value: 2, unit: 'days' };
const THRESHOLD_KEY = () => `intrustd-backups-overdue:${applianceId}`;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

let handle;
let persona = null; // {name, displayName, role} of who is logged in
let data = null; // the last GET /api/repos
let clients = null; // the last GET /api/clients (owner and admins), or null
let isAdmin = false;

// ---------------------------------------------------------------------------------------------
// Small helpers

class ApiError extends Error {
  constructor(message, status = 0, options) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
  }
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c != null && c !== false));
  return e;
}

function icon(name, cls = 'icon') {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

function plural(n, one, many = `${one}s`) { return `${n} ${n === 1 ? one : many}`; }

/** A size for people: decimal units, as disks are sold (and as quotas are typed, in GB). */
function bytes(n) {
  if (n == null) return '—';
  if (n < 1000) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago", … */
function ago(ms) {
  const s = Math.max(0, ms) / 1000;
  if (s < 45) return 'just now';
  const steps = [[60, 'minute', 90 * 60], [3600, 'hour', 36 * 3600], [86400, 'day', 14 * 86400], [7 * 86400, 'week', 60 * 86400],
    [30.44 * 86400, 'month', 365 * 86400], [365.25 * 86400, 'year', Infinity]];
  for (const [unit, word, below] of steps) {
    if (s < below) return `${plural(Math.max(1, Math.round(s / unit)), word)} ago`;
  }
  return 'long ago';
}

/** A span of hours in words: "2 days", "12 hours", "0 hours". */
function spanWords(hours) {
  if (hours >= 24 && Number.isInteger(hours / 24)) return plural(hours / 24, 'day');
  if (hours >= 48) return `${+(hours / 24).toFixed(1)} days`;
  return plural(+hours.toFixed(2), 'hour');
}

function fullTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
}

/** A GB figure for an input: at most 3 decimals, no trailing zeros. */
function gbValue(n) { return n == null ? '' : String(+(n / GB).toFixed(3)); }

/** Luhn mod 32 of a group of base32 characters: the check character of an appliance ID's groups. */
function luhn32(group) {
  let factor = 2;
  let sum = 0;
  for (let i = group.length - 1; i >= 0; i--) {
    const addend = factor * BASE32.indexOf(group[i]);
    factor = factor === 2 ? 1 : 2;
    sum += Math.floor(addend / 32) + (addend % 32);
  }
  return BASE32[(32 - (sum % 32)) % 32];
}

/**
 * An appliance ID as a person may type it (any case, with or without dashes and spaces, 0/1/8
 * for O/I/B), in its dashed display form; {error} when it is not one (docs/spec/identity.md).
 */
function parseApplianceId(text) {
  const clean = [...text].filter((c) => !'- \t'.includes(c)).map((c) => ({ 0: 'O', 1: 'I', 8: 'B' })[c] || c.toUpperCase()).join('');
  if (clean.length !== 56 || [...clean].some((c) => !BASE32.includes(c))) {
    return { error: 'That is not an appliance ID: it is 56 letters and digits in groups of seven, like ABCDEFG-HIJKLMN-… '
      + 'Your friend sees theirs with intrustd status.' };
  }
  for (let g = 0; g < 4; g++) {
    if (clean[g * 14 + 13] !== luhn32(clean.slice(g * 14, g * 14 + 13))) {
      return { error: 'That appliance ID has a typo: its check characters do not match. Copy it again from your friend.' };
    }
  }
  if (BASE32.indexOf(clean[54]) % 16 !== 0) {
    return { error: 'That appliance ID has a typo near its end. Copy it again from your friend.' };
  }
  return { id: clean.match(/.{7}/g).join('-') };
}

function who(key) {
  const colon = key.indexOf(':');
  return { kind: key.slice(0, colon), name: key.slice(colon + 1) };
}

// ---------------------------------------------------------------------------------------------
// Status and errors

let toastTimer = null;
/** A short message at the bottom of the page (role=status); goes away by itself unless `sticky`. */
function status(text, { sticky = false } = {}) {
  clearTimeout(toastTimer);
  $('status').textContent = text || '';
  $('toast').classList.toggle('show', Boolean(text));
  $('status-close').hidden = !text;
  if (text && !sticky) toastTimer = setTimeout(() => status(''), 8000);
}

/** The error box at the top of the page (role=alert); `retry` adds a “Try again” button. */
function error(e, retry = null) {
  $('error').hidden = !e;
  $('error-text').textContent = e ? e.message || String(e) : '';
  const button = $('error-retry');
  button.hidden = !retry;
  button.onclick = retry ? async () => { error(null); await retry(); } : null;
  if (e) console.warn('[backups]', e);
}

function showPage(name) {
  for (const s of document.querySelectorAll('.page')) s.hidden = s.id !== `page-${name.replace(/-failed$/, '')}`;
  document.body.dataset.page = name;
}

// ---------------------------------------------------------------------------------------------
// The app's API, over the link

async function problemOf(res) {
  let text = '';
  try { text = await res.text(); } catch { /* no body */ }
  let detail = '';
  try {
    const j = JSON.parse(text);
    detail = j.detail || j.title || j.error || '';
  } catch {
    detail = text.length < 200 && !/<[a-z]/i.test(text) ? text.trim() : '';
  }
  const why = detail || ({ 401: 'You need to log in.', 403: 'You may not do this.', 404: 'It is not there (any more).',
    429: 'Too many requests: try again in a moment.' }[res.status] || `The appliance answered ${res.status}.`);
  return new ApiError(why.charAt(0).toUpperCase() + why.slice(1), res.status);
}

/** A JSON request to the app; resolves with the answer (null for 204), rejects with ApiError. */
async function api(method, path, json) {
  let res;
  try {
    res = await fetch(`${APP}${path}`, json === undefined ? { method }
      : { method, body: JSON.stringify(json), headers: { 'Content-Type': 'application/json' } });
  } catch (e) {
    throw new ApiError(`Cannot reach your appliance: ${e.cause?.message || e.message}`, 0, { cause: e });
  }
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// ---------------------------------------------------------------------------------------------
// The overdue threshold, kept in this browser

function loadThreshold() {
  try {
    const t = JSON.parse(localStorage.getItem(THRESHOLD_KEY()) || 'null');
    if (t && Number.isFinite(t.value) && t.value >= 0 && (t.unit === 'hours' || t.unit === 'days')) return t;
  } catch { /* storage off, or not ours */ }
  return { ...DEFAULT_THRESHOLD };
}

let threshold = loadThreshold();
function thresholdHours() { return threshold.value * (threshold.unit === 'days' ? 24 : 1); }

function thresholdChanged() {
  const input = $('threshold-value');
  const value = input.value.trim() === '' ? NaN : Number(input.value);
  const ok = Number.isFinite(value) && value >= 0;
  input.setAttribute('aria-invalid', String(!ok));
  if (!ok) return;
  threshold = { value, unit: $('threshold-unit').value };
  try { localStorage.setItem(THRESHOLD_KEY(), JSON.stringify(threshold)); } catch { /* storage off: for this visit only */ }
  if (data) renderRepos();
}

/** How a repository stands: 'ok', 'overdue' (its last snapshot is too old) or 'empty' (none yet). */
function stateOf(repo, now = Date.now()) {
  if (!repo.snapshots || !repo.lastSnapshotAt) return 'empty';
  return now - Date.parse(repo.lastSnapshotAt) > thresholdHours() * HOUR ? 'overdue' : 'ok';
}

// ---------------------------------------------------------------------------------------------
// Commands to copy (the app cannot read the repositories: `intrustd backup` on a computer can)

function remoteFlags(repo) {
  const login = persona?.name ? ` --login ${shellWord(persona.name)}` : '';
  return `--appliance ${applianceId} --flock ${shellWord(flock)}${login} --repo ${shellWord(repo)}`;
}
function shellWord(s) { return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`; }

function commandBox(id, text, what) {
  return el('div', { class: 'command' },
    el('pre', { class: 'mono', id }, text),
    el('button', { type: 'button', class: 'quiet small copy-button', 'data-copy': id, 'aria-label': `Copy the command that ${what}` },
      icon('copy'), el('span', { text: 'Copy' })));
}

async function copyFrom(id) {
  const pre = $(id);
  const text = pre.textContent;
  try {
    await navigator.clipboard.writeText(text);
    status('Copied the command.');
  } catch {
    const range = document.createRange();
    range.selectNodeContents(pre);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    status('Select the command and copy it.');
  }
}

function showRestore(repo) {
  const flags = remoteFlags(repo.name);
  const rows = [
    ['List its snapshots', `intrustd backup snapshots ${flags}`, 'lists the snapshots'],
    ['Browse the newest snapshot', `intrustd backup ls latest -R ${flags}`, 'lists the files of the newest snapshot'],
    ['Restore it into a new folder (files already there are kept)', `intrustd backup restore latest --target ~/restored ${flags}`, 'restores the newest snapshot'],
    ['Back up again now', `intrustd backup run ~ ${flags}`, 'backs up'],
    ['Check that every byte is there and readable', `intrustd backup check --read-data ${flags}`, 'checks the repository'],
  ];
  $('restore-title').textContent = `Browse and restore “${repo.name}”`;
  $('restore-commands').replaceChildren(...rows.flatMap(([what, cmd, does], i) => [
    el('dt', { text: what }), el('dd', {}, commandBox(`restore-cmd-${i}`, cmd, does))]));
  $('restore-dialog').showModal();
}

// ---------------------------------------------------------------------------------------------
// Browsing a repository in this browser: the app sends sealed files, the password opens them here

/** Argon2id (hash-wasm's WebAssembly, loaded by vendor/argon2.js) and zstd (fzstd) for the reader. */
const CODECS = {
  argon2id: ({ password, salt, memoryKiB, iterations, parallelism, length }) => globalThis.hashwasm.argon2id({
    password, salt, parallelism, iterations, memorySize: memoryKiB, hashLength: length, outputType: 'binary' }),
  zstdDecompress: (bytes) => decompress(bytes),
};

let browsing = null; // {repo, reader, snapshot, path: [{name, tree}]} while the browse dialog is open

function showBrowse(repo) {
  browsing = { repo, reader: null, snapshot: null, path: [] };
  $('browse-title').textContent = `Browse “${repo.name}”`;
  $('unlock-form').hidden = false;
  $('browse-snapshots').hidden = true;
  $('browse-tree').hidden = true;
  $('unlock-password').value = '';
  $('unlock-error').textContent = '';
  $('unlock-password').removeAttribute('aria-invalid');
  $('browse-dialog').showModal();
  $('unlock-password').focus();
}

async function unlock(ev) {
  ev.preventDefault();
  const b = browsing;
  const password = $('unlock-password').value;
  if (!b || !password) return;
  $('unlock-ok').disabled = true;
  $('unlock-error').textContent = '';
  status('Opening the repository…', { sticky: true });
  try {
    const store = httpStore((...args) => fetch(...args), `${APP}/api/repos/${encodeURIComponent(b.repo.name)}`);
    b.reader = await RepositoryReader.open(store, password, CODECS);
    const snapshots = (await b.reader.snapshots()).reverse();
    $('unlock-password').value = '';
    status('');
    renderSnapshots(snapshots);
  } catch (e) {
    status('');
    if (e instanceof WrongPassword) {
      $('unlock-password').setAttribute('aria-invalid', 'true');
      $('unlock-error').textContent = 'That is not a password of this repository.';
      $('unlock-password').select();
    } else {
      $('unlock-error').textContent = `The repository cannot be opened: ${e.message || e}`;
    }
  } finally {
    $('unlock-ok').disabled = false;
  }
}

function renderSnapshots(snapshots) {
  $('unlock-form').hidden = true;
  $('browse-tree').hidden = true;
  $('browse-snapshots').hidden = false;
  $('snapshot-list').replaceChildren(...snapshots.map((snap) => {
    const files = snap.summary ? `${plural(snap.summary.files, 'file')} · ${bytes(snap.summary.bytes)}` : '';
    return el('li', {}, el('button', { type: 'button', class: 'quiet', 'aria-label': `Snapshot ${snap.id.slice(0, 8)} of ${fullTime(snap.time)}`,
      onclick: () => openSnapshot(snap, snapshots) },
    el('strong', { text: `${fullTime(snap.time)} · ${snap.id.slice(0, 8)}` }),
    el('span', { class: 'what', text: [snap.host, (snap.paths || []).join(', '), files].filter(Boolean).join(' · ') })));
  }));
  if (!snapshots.length) $('snapshot-list').replaceChildren(el('li', { class: 'muted', text: 'No snapshot yet.' }));
  $('browse-back').onclick = () => renderSnapshots(snapshots);
  $('snapshot-list').querySelector('button')?.focus();
}

function openSnapshot(snap, snapshots) {
  browsing.snapshot = snap;
  browsing.path = [{ name: snap.time.slice(0, 16).replace('T', ' '), tree: snap.tree }];
  $('browse-back').onclick = () => renderSnapshots(snapshots);
  showFolder().catch((e) => { $('browse-progress').textContent = `Cannot read this folder: ${e.message || e}`; });
}

async function showFolder() {
  const b = browsing;
  const here = b.path.at(-1);
  $('browse-snapshots').hidden = true;
  $('browse-tree').hidden = false;
  $('browse-progress').textContent = 'Reading…';
  const nodes = await b.reader.tree(here.tree);
  $('browse-path').replaceChildren(...b.path.flatMap((part, i) => {
    const last = i === b.path.length - 1;
    const crumb = last ? el('strong', { text: part.name, 'aria-current': 'location' })
      : el('button', { type: 'button', class: 'quiet small', text: part.name, onclick: () => { b.path.length = i + 1; showFolder().catch(error); } });
    return i === 0 ? [crumb] : [el('span', { class: 'sep', text: '/' }), crumb];
  }));
  const zipName = b.path.length === 1 ? `${b.repo.name}-${b.snapshot.id.slice(0, 8)}` : here.name;
  $('zip-folder').replaceChildren(icon('download'), el('span', { text: 'Download this folder (ZIP)' }));
  $('zip-folder').onclick = () => downloadFolder(here.tree, zipName);
  $('tree-rows').replaceChildren(...nodes.map((n) => {
    const at = n.mtimeMs ? new Date(n.mtimeMs) : null;
    const modified = at ? el('time', { datetime: at.toISOString(), title: fullTime(at.toISOString()),
      text: at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) }) : '';
    let name;
    let action = '';
    if (n.type === 'dir') {
      name = el('button', { type: 'button', 'aria-label': `Open folder ${n.name}`, onclick: () => { b.path.push({ name: n.name, tree: n.subtree }); showFolder().catch(error); } },
        icon('folder'), el('span', { text: n.name }));
      action = el('button', { type: 'button', class: 'quiet small', 'aria-label': `Download folder ${n.name} (ZIP)`, onclick: () => downloadFolder(n.subtree, n.name) },
        icon('download'), el('span', { text: 'ZIP' }));
    } else if (n.type === 'file') {
      name = el('span', {}, icon('file'), el('span', { text: n.name }));
      action = el('button', { type: 'button', class: 'quiet small', 'aria-label': `Download ${n.name}`, onclick: () => downloadFile(n) },
        icon('download'), el('span', { text: 'Get' }));
    } else {
      name = el('span', { title: n.type === 'symlink' ? `→ ${n.target}` : n.type }, icon('file'), el('span', { text: n.type === 'symlink' ? `${n.name} → ${n.target}` : n.name }));
    }
    return el('tr', {}, el('td', { class: 'name' }, name), el('td', { class: 'num', text: n.type === 'file' ? bytes(n.size || 0) : '' }),
      el('td', {}, modified), el('td', {}, action));
  }));
  $('browse-progress').textContent = nodes.length ? '' : 'This folder is empty.';
}

/** Hands `blob` to the browser as a download named `name`. */
function save(blob, name) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

/** A file's chunks as they are read and checked, counted into the progress line. */
async function* counted(reader, node, progress) {
  for await (const chunk of reader.chunks(node)) {
    progress.bytes += chunk.length;
    $('browse-progress').textContent = `${progress.what}: ${bytes(progress.bytes)}…`;
    yield chunk;
  }
}

async function downloadFile(node) {
  const progress = { what: `Reading ${node.name}`, bytes: 0 };
  try {
    const parts = [];
    for await (const chunk of counted(browsing.reader, node, progress)) parts.push(chunk);
    save(new Blob(parts), node.name);
    $('browse-progress').textContent = `${node.name}: ${bytes(progress.bytes)}, every chunk checked.`;
  } catch (e) {
    $('browse-progress').textContent = `${node.name} cannot be read: ${e.message || e}`;
  }
}

/** Every file under a tree as ZIP entries, read lazily (client-zip pulls them one at a time). */
async function* zipEntries(reader, treeId, prefix, progress) {
  for (const n of await reader.tree(treeId)) {
    const lastModified = n.mtimeMs ? new Date(n.mtimeMs) : undefined;
    if (n.type === 'dir') {
      yield { name: `${prefix}${n.name}/`, lastModified };
      yield* zipEntries(reader, n.subtree, `${prefix}${n.name}/`, progress);
    } else if (n.type === 'file') {
      yield { name: `${prefix}${n.name}`, lastModified, input: counted(reader, n, progress), mode: n.mode & 0o777 };
    }
    // links and special files have no place in a ZIP
  }
}

async function downloadFolder(treeId, name) {
  const progress = { what: `Zipping ${name}`, bytes: 0 };
  $('zip-folder').disabled = true;
  try {
    const zip = await downloadZip(zipEntries(browsing.reader, treeId, '', progress)).blob();
    save(zip, `${name}.zip`);
    $('browse-progress').textContent = `${name}.zip: ${bytes(progress.bytes)} of files, every chunk checked.`;
  } catch (e) {
    $('browse-progress').textContent = `${name} cannot be zipped: ${e.message || e}`;
  } finally {
    $('zip-folder').disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** Runs `render` keeping the focus on the control with the same data-key (a re-render replaces it). */
function keepingFocus(render) {
  const key = document.activeElement?.dataset?.key;
  render();
  if (key) document.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

function setMeter(meter, fill, used, quota) {
  if (quota == null) {
    meter.hidden = true;
    return;
  }
  meter.hidden = false;
  const share = quota > 0 ? Math.min(1, used / quota) : (used > 0 ? 1 : 0);
  const full = quota === 0 || used >= quota;
  // a sliver at least when something is kept, so that it shows
  fill.style.width = `${quota === 0 ? 100 : Math.max(share * 100, used > 0 ? 1.5 : 0)}%`;
  meter.classList.toggle('full', full);
  meter.classList.toggle('high', !full && share >= 0.85);
  meter.setAttribute('aria-valuemin', '0');
  meter.setAttribute('aria-valuemax', String(quota));
  meter.setAttribute('aria-valuenow', String(Math.min(used, quota)));
  meter.setAttribute('aria-valuetext', `${bytes(used)} of ${bytes(quota)} used`);
}

function renderUsage() {
  const { used, quota } = data;
  $('usage').hidden = false;
  if (quota == null) {
    $('usage-label').textContent = 'Backups:';
    $('usage-value').textContent = `${bytes(used)} used · no quota`;
  } else {
    const pct = quota > 0 ? (used / quota) * 100 : 100;
    $('usage-label').textContent = 'Space used:';
    $('usage-value').textContent = `${bytes(used)} of ${bytes(quota)} (${pct > 0 && pct < 1 ? '<1' : Math.round(pct)}%)`;
  }
  setMeter($('usage-meter'), $('usage-fill'), used, quota);
}

function repoCard(repo, now) {
  const state = stateOf(repo, now);
  const pill = {
    ok: el('span', { class: 'pill ok' }, icon('check'), 'Up to date'),
    overdue: el('span', { class: 'pill warn' }, icon('warn'), 'Overdue'),
    empty: el('span', { class: 'pill warn' }, icon('warn'), 'No backup yet'),
  }[state];
  let last;
  if (state === 'empty') {
    last = el('p', { class: 'last' }, icon('clock'), el('span', {}, 'No snapshot yet: run ', el('code', { text: 'intrustd backup run' }), '.'));
  } else {
    const at = repo.lastSnapshotAt;
    const when = el('time', { datetime: at, title: fullTime(at) }, ago(now - Date.parse(at)));
    last = el('p', { class: 'last' }, icon('clock'), el('span', {}, 'Last backup ', when,
      state === 'overdue' ? `, more than the ${spanWords(thresholdHours())} you allow` : ''));
  }
  const titleId = `repo-${repo.name}`;
  return el('li', { class: 'repo-card', dataset: { state, repo: repo.name }, 'aria-labelledby': titleId },
    el('div', { class: 'repo-head' }, icon('repo'), el('h3', { class: 'repo-name', id: titleId, title: repo.name, text: repo.name }), pill),
    el('dl', { class: 'facts' },
      el('div', {}, el('dt', { text: 'Snapshots' }), el('dd', { class: 'snapshots', text: String(repo.snapshots) })),
      el('div', {}, el('dt', { text: 'Size' }), el('dd', { class: 'size', title: `${repo.bytes.toLocaleString()} bytes`, text: bytes(repo.bytes) }))),
    last,
    el('div', { class: 'repo-actions' },
      el('button', { type: 'button', class: 'quiet small', dataset: { key: `browse:${repo.name}` }, 'aria-label': `Browse the files of ${repo.name}`,
        disabled: state === 'empty', onclick: () => showBrowse(repo) }, icon('folder'), el('span', { text: 'Browse files' })),
      el('button', { type: 'button', class: 'quiet small', dataset: { key: `restore:${repo.name}` }, 'aria-label': `Browse and restore ${repo.name}`,
        onclick: () => showRestore(repo) }, icon('restore'), el('span', { text: 'Browse and restore' })),
      el('button', { type: 'button', class: 'quiet small danger', dataset: { key: `delete:${repo.name}` }, 'aria-label': `Delete ${repo.name}`,
        onclick: () => askDelete(repo) }, icon('trash'), el('span', { text: 'Delete' }))));
}

function renderRepos() {
  const repos = data.repos || [];
  const now = Date.now();
  keepingFocus(() => $('repo-list').replaceChildren(...repos.map((r) => repoCard(r, now))));
  $('repos-empty').hidden = repos.length > 0;
  $('repo-list').hidden = repos.length === 0;
  $('restore-help').hidden = repos.length === 0;
  $('threshold-form').hidden = repos.length === 0;
  const snapshots = repos.reduce((n, r) => n + (r.snapshots || 0), 0);
  $('backups-summary').textContent = repos.length
    ? `${plural(repos.length, 'repository', 'repositories')} · ${plural(snapshots, 'snapshot')} · ${bytes(repos.reduce((n, r) => n + r.bytes, 0))}`
    : 'Nothing backed up here yet.';
  const late = repos.filter((r) => stateOf(r, now) !== 'ok');
  $('overdue-banner').hidden = late.length === 0;
  if (late.length) {
    const what = late.map((r) => (stateOf(r, now) === 'empty' ? `${r.name} (no backup yet)`
      : `${r.name} (last backup ${ago(now - Date.parse(r.lastSnapshotAt))})`));
    $('overdue-text').textContent = `${late.length === 1 ? '1 repository needs' : `${late.length} repositories need`} a backup: `
      + `${what.join(', ')}. You asked to be warned after ${spanWords(thresholdHours())} without one.`;
  }
  // the empty state's commands, for this appliance and this person
  $('cmd-init').textContent = `intrustd backup init ${remoteFlags('laptop')}`;
  $('cmd-run').textContent = `intrustd backup run ~ ${remoteFlags('laptop')}`;
  $('appliance-id').textContent = applianceId;
}

function clientRow(c, index) {
  const { kind, name } = who(c.client);
  const mine = data && c.client === data.client;
  const safe = String(index); // ids of this row's parts
  const nameCell = kind === 'peer'
    ? el('td', {}, el('span', { class: 'client-name' }, 'Friend’s appliance'), el('span', { class: 'client-kind mono peer-id', title: name, text: name }))
    : el('td', {}, el('span', { class: 'client-name' }, name, mine ? el('span', { class: 'you', text: 'you' }) : null),
      el('span', { class: 'client-kind', text: 'Person with a login here' }));
  const meter = el('div', { class: 'meter', role: 'meter', 'aria-label': `Space used by ${name}` }, el('div', { class: 'meter-fill' }));
  setMeter(meter, meter.firstChild, c.used, c.quota);
  const input = el('input', { type: 'number', min: '0', step: 'any', inputmode: 'decimal', id: `quota-${safe}`, value: gbValue(c.quota),
    placeholder: kind === 'peer' ? '0' : 'none', 'aria-describedby': `quota-now-${safe} quota-error-${safe}`, dataset: { key: `quota:${c.client}` } });
  const label = `Quota for ${kind === 'peer' ? `the appliance ${name}` : name}, in GB`;
  const errorBox = el('p', { class: 'row-error', id: `quota-error-${safe}`, role: 'alert' });
  const form = el('form', { class: 'quota-form', novalidate: true, 'aria-label': `Quota for ${name}` },
    el('label', { class: 'sr', for: input.id, text: label }),
    el('span', { class: 'gb' }, input, el('span', { class: 'muted', 'aria-hidden': 'true', text: 'GB' })),
    el('button', { type: 'submit', class: 'primary small', dataset: { key: `save:${c.client}` }, 'aria-label': `Save the quota for ${name}` }, 'Save'),
    el('button', { type: 'button', class: 'quiet small', dataset: { key: `clear:${c.client}` },
      'aria-label': kind === 'peer' ? `Take back the room given to ${name}` : `No quota for ${name}`,
      onclick: () => saveQuota(c, null, input, errorBox) }, kind === 'peer' ? 'Take back' : 'No quota'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (text === '') { saveQuota(c, null, input, errorBox); return; }
    const gb = Number(text);
    if (!Number.isFinite(gb) || gb < 0 || input.validity.badInput) {
      input.setAttribute('aria-invalid', 'true');
      errorBox.textContent = 'Enter a size in GB, 0 or more (for example 50 or 2.5), or leave it empty for no quota.';
      input.focus();
      return;
    }
    saveQuota(c, Math.round(gb * GB), input, errorBox);
  });
  input.addEventListener('input', () => { input.removeAttribute('aria-invalid'); errorBox.textContent = ''; });
  const now = c.quota == null ? 'No quota' : (kind === 'peer' && c.quota === 0 ? 'No room given yet' : `Quota ${bytes(c.quota)}`);
  return el('tr', { dataset: { client: c.client } },
    nameCell,
    el('td', { 'data-label': 'Repositories', class: 'repo-names' }, c.repos.length ? c.repos.join(', ') : el('span', { class: 'muted', text: 'none' })),
    el('td', { 'data-label': 'Used', class: 'used-cell' }, el('span', { class: 'used', text: bytes(c.used) }), meter),
    el('td', { 'data-label': 'Quota' }, form,
      el('span', { class: `quota-now${kind === 'peer' && c.quota === 0 ? ' none-yet' : ''}`, id: `quota-now-${safe}`, text: now }), errorBox));
}

function renderClients() {
  $('clients').hidden = !isAdmin;
  if (!isAdmin || !clients) return;
  keepingFocus(() => $('client-rows').replaceChildren(...clients.map((c, i) => clientRow(c, i))));
  $('clients-empty').hidden = clients.length > 0;
  $('clients-table').hidden = clients.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Loading

let loading = null;
/** Loads the repositories (and, for the owner and admins, the clients) and shows them. */
function load({ quiet = false } = {}) {
  if (loading) return loading;
  loading = (async () => {
    $('refresh').disabled = true;
    $('repo-list').setAttribute('aria-busy', 'true');
    try {
      const [repos, all] = await Promise.all([
        api('GET', '/api/repos'),
        isAdmin ? api('GET', '/api/clients').catch((e) => {
          if (e.status === 403) { isAdmin = false; return null; }
          throw e;
        }) : null,
      ]);
      data = repos;
      clients = all?.clients || null;
      error(null);
      renderUsage();
      renderRepos();
      renderClients();
      showPage('backups');
      if (!quiet) status('');
    } catch (e) {
      if (e.status === 401) { await enter(); return; }
      error(e, () => load());
      if (!data) showPage('backups-failed');
    } finally {
      $('refresh').disabled = false;
      $('repo-list').removeAttribute('aria-busy');
      loading = null;
    }
  })();
  return loading;
}

async function refreshClients() {
  const all = await api('GET', '/api/clients');
  clients = all.clients;
  renderClients();
}

// ---------------------------------------------------------------------------------------------
// Actions

let deleting = null;
function askDelete(repo) {
  deleting = repo;
  $('delete-title').textContent = `Delete “${repo.name}”?`;
  $('delete-what').textContent = `${{
    0: 'It holds no snapshot yet. It is deleted from this appliance',
    1: `Its snapshot (${bytes(repo.bytes)}) is deleted from this appliance, for good: nobody can restore it after this`,
  }[repo.snapshots] || `All ${plural(repo.snapshots, 'snapshot')} in it (${bytes(repo.bytes)}) are deleted from this appliance, `
    + 'for good: nobody can restore them after this'}. Files on your devices are not touched.`;
  $('delete-label').textContent = `Type ${repo.name} to confirm`;
  $('delete-name').value = '';
  $('delete-name').removeAttribute('aria-invalid');
  $('delete-error').textContent = '';
  $('delete-ok').disabled = true;
  $('delete-dialog').showModal();
  $('delete-name').focus();
}

async function confirmDelete() {
  const repo = deleting;
  if (!repo) return;
  if ($('delete-name').value !== repo.name) {
    $('delete-name').setAttribute('aria-invalid', 'true');
    $('delete-error').textContent = `Type the name exactly as it is: ${repo.name}`;
    return;
  }
  $('delete-ok').disabled = true;
  $('delete-error').textContent = '';
  try {
    await api('DELETE', `/api/repos/${encodeURIComponent(repo.name)}`);
  } catch (e) {
    $('delete-error').textContent = `Not deleted: ${e.message}`;
    $('delete-ok').disabled = false;
    return;
  }
  deleting = null;
  $('delete-dialog').close();
  // gone at once; then the usage and the rest as the app now counts them
  data = { ...data, repos: data.repos.filter((r) => r.name !== repo.name) };
  renderRepos();
  $('backups-title').focus();
  status(`Deleted the repository “${repo.name}”.`);
  await load({ quiet: true });
}

async function saveQuota(c, quotaBytes, input, errorBox) {
  const { kind, name } = who(c.client);
  errorBox.textContent = '';
  input.removeAttribute('aria-invalid');
  const buttons = input.closest('form').querySelectorAll('button');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const answer = await api('PUT', `/api/clients/${encodeURIComponent(c.client)}/quota`, { bytes: quotaBytes });
    const subject = kind === 'peer' ? 'The friend’s appliance' : name;
    if (answer.quota == null) status(`${subject} now has no quota.`);
    else if (answer.quota === 0) status(`${subject} now has no room here.`);
    else status(`${subject} may now keep up to ${bytes(answer.quota)} here${answer.used > answer.quota ? ` (${bytes(answer.used)} is kept already: new backups are refused until some is freed)` : ''}.`);
    if (c.client === data?.client) await load({ quiet: true }); else await refreshClients();
  } catch (e) {
    buttons.forEach((b) => { b.disabled = false; });
    input.setAttribute('aria-invalid', 'true');
    errorBox.textContent = `Not saved: ${e.message}`;
  }
}

async function giveRoom(ev) {
  ev.preventDefault();
  const idInput = $('friend-id');
  const gbInput = $('friend-gb');
  const problem = (text, input) => {
    $('friend-error').textContent = text;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  idInput.removeAttribute('aria-invalid');
  gbInput.removeAttribute('aria-invalid');
  const parsed = parseApplianceId(idInput.value);
  if (parsed.error) { problem(parsed.error, idInput); return; }
  const { id } = parsed;
  if (id === applianceId) { problem('That is this appliance’s own ID: enter your friend’s.', idInput); return; }
  const gb = gbInput.value.trim() === '' ? NaN : Number(gbInput.value);
  if (!Number.isFinite(gb) || gb <= 0 || gbInput.validity.badInput) {
    problem('Enter how much room to give, in GB (for example 50).', gbInput);
    return;
  }
  $('friend-error').textContent = '';
  const button = ev.target.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const answer = await api('PUT', `/api/clients/${encodeURIComponent(`peer:${id}`)}/quota`, { bytes: Math.round(gb * GB) });
    idInput.value = '';
    gbInput.value = '';
    status(`The appliance ${id.slice(0, 7)}… may now keep up to ${bytes(answer.quota)} here.`);
    await refreshClients();
  } catch (e) {
    $('friend-error').textContent = `Not saved: ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Who is here

async function enter() {
  showPage('loading');
  $('loading-text').textContent = 'Loading your backups…';
  let session = handle.currentSession;
  if (!session) { try { session = await handle.session(); } catch { session = null; } }
  persona = session?.persona || null;
  isAdmin = persona?.role === 'owner' || persona?.role === 'admin';
  $('logout').hidden = !persona;
  $('who').textContent = persona ? persona.displayName || persona.name : '';
  $('login-button').hidden = true;
  if (!persona) {
    $('usage').hidden = true;
    showPage('signin');
    $('signin-title').textContent = 'Your backups';
    $('signin-text').textContent = 'Log in to see the backups your devices keep on this appliance.';
    await logIn();
    return;
  }
  try {
    await api('GET', '/api/me');
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      $('usage').hidden = true;
      showPage('signin');
      document.body.dataset.page = 'no-access';
      $('signin-title').textContent = 'No backups here for you';
      $('signin-text').textContent = `${persona.displayName || persona.name}, you may not use Backups on this appliance. Ask its owner to let you, or log in as someone else.`;
      return;
    }
    error(e, enter);
    showPage('backups-failed');
    return;
  }
  await load();
  if (document.body.dataset.page === 'backups') $('backups-title').focus();
}

async function logIn() {
  const info = await handle.showLogin({ title: 'Log in to your backups' });
  if (!info) { status('Log in to see your backups.'); return; }
  error(null);
  await enter();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $('error-close').addEventListener('click', () => error(null));
  $('status-close').addEventListener('click', () => status(''));
  $('signin-button').addEventListener('click', () => logIn().catch(error));
  $('login-button').addEventListener('click', () => logIn().catch(error));
  $('logout').addEventListener('click', async () => {
    try { await handle.logout(); } catch (e) { error(e); return; }
    location.reload();
  });
  $('refresh').addEventListener('click', async () => {
    await load({ quiet: true });
    if (!$('error').hidden) return;
    status('Refreshed.');
  });

  $('threshold-value').value = String(threshold.value);
  $('threshold-unit').value = threshold.unit;
  $('threshold-value').addEventListener('input', thresholdChanged);
  $('threshold-unit').addEventListener('change', thresholdChanged);
  $('threshold-form').addEventListener('submit', (ev) => ev.preventDefault());

  document.addEventListener('click', (ev) => {
    const copy = ev.target.closest('[data-copy]');
    if (copy) copyFrom(copy.dataset.copy);
  });

  $('delete-name').addEventListener('input', () => {
    $('delete-ok').disabled = $('delete-name').value !== deleting?.name;
    $('delete-name').removeAttribute('aria-invalid');
    $('delete-error').textContent = '';
  });
  $('delete-form').addEventListener('submit', (ev) => { ev.preventDefault(); confirmDelete(); });
  $('delete-cancel').addEventListener('click', () => $('delete-dialog').close());
  $('delete-dialog').addEventListener('close', () => { deleting = null; });

  $('friend-form').addEventListener('submit', giveRoom);

  $('unlock-form').addEventListener('submit', unlock);
  $('unlock-password').addEventListener('input', () => { $('unlock-password').removeAttribute('aria-invalid'); $('unlock-error').textContent = ''; });
  for (const b of $('browse-dialog').querySelectorAll('[data-close]')) b.addEventListener('click', () => $('browse-dialog').close());
  $('browse-dialog').addEventListener('close', () => { browsing = null; });
  for (const id of ['friend-id', 'friend-gb']) {
    $(id).addEventListener('input', () => { $(id).removeAttribute('aria-invalid'); $('friend-error').textContent = ''; });
  }

  // the times ("3 hours ago") and the warnings follow the clock; the data, a return to the page
  setInterval(() => {
    if (data && document.body.dataset.page === 'backups' && !document.querySelector('dialog[open]')) renderRepos();
  }, 60000);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && data && document.body.dataset.page === 'backups') load({ quiet: true });
  });
}

async function main() {
  wire();
  if (!applianceId) {
    showPage('signin');
    $('signin-button').hidden = true;
    error(new Error('Open this page with ?appliance=<your appliance ID>.'));
    return;
  }
  try {
    handle = install({ flock, appliance: applianceId });
  } catch (e) {
    showPage('signin');
    error(e);
    return;
  }
  status('Connecting to your appliance…', { sticky: true });
  const start = async () => {
    showPage('loading');
    $('loading-text').textContent = 'Connecting to your appliance…';
    try {
      await handle.link();
      status('');
      await enter();
    } catch (e) {
      status('');
      error(new Error(`Cannot reach your appliance: ${e.message || e}`), start);
      showPage('loading-failed');
      $('loading-text').textContent = 'Not connected.';
    }
  };
  await start();
}

main();

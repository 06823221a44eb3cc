// The webmail: a logged-in persona's mailbox on their appliance, reached through the shim's
// verified link (docs/mail.md has the mail app's HTTP API). Folders on the left, the message list
// in the middle, the message on the right (one at a time on a phone); compose (with drafts,
// and addresses suggested), reply, forward (with the attachments), the outbox, the external
// account, keyboard shortcuts. ?appliance=<ID>[&flock=ws://…] as for the other apps' pages.
//
// Reading mail safely: the app sends HTML already sanitised (no scripts, no handlers, remote
// images taken out unless asked for); the page shows it inside an iframe with an empty `sandbox`
// (no scripts, an opaque origin: it cannot reach this page, the link or the session) and a
// Content-Security-Policy of its own that lets it load nothing but images. Inline images
// (`cid:`) are fetched over the link and put in as data: URLs.
import { install } from '/shim/intrustd-shim.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const flock = params.get('flock') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
const APP = 'intrustd+app://mail';
const PAGE_SIZE = 50;
const THREAD_SCAN = 200; // the newest messages searched for a message's thread
const POLL_MS = 20000; // folders, the open list and the outbox are asked again this often
const AUTOSAVE_MS = 5000; // a message being written is saved as a draft after this long without a change
const SUGGEST_MS = 200; // addresses are suggested after this long without typing
const SUGGEST_LIMIT = 8;
const MAX_INLINE_IMAGE = 8 * 1024 * 1024;
const FRAME_CSP = "default-src 'none'; img-src data: https: cid:; style-src 'unsafe-inline'";
const FRAME_STYLE = `
  html { color-scheme: light; }
  body { margin: 0; padding: 2px 2px 16px; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    color: #1d2330; overflow-wrap: anywhere; }
  img { max-width: 100%; height: auto; }
  img:not([src]) { display: inline-block; min-width: 6rem; min-height: 3rem; background: #eef0f4; border: 1px dashed #c9ced8;
    border-radius: 6px; vertical-align: middle; }
  table { max-width: 100%; }
  pre { white-space: pre-wrap; }
  blockquote { margin: .5em 0 .5em .25em; padding-left: .75em; border-left: 3px solid #d0d5dd; color: #475467; }
  a { color: #2f5bd3; }`;
const RASTER = /^image\/(png|jpeg|gif|webp)$/i;

const FOLDERS = [
  { id: 'inbox', name: 'Inbox', icon: 'inbox' },
  { id: 'requests', name: 'Requests', icon: 'requests' },
  { id: 'sent', name: 'Sent', icon: 'sent' },
  { id: 'drafts', name: 'Drafts', icon: 'drafts' },
  { id: 'archive', name: 'Archive', icon: 'archive' },
  { id: 'trash', name: 'Trash', icon: 'trash' },
];
const FOLDER_NAMES = Object.fromEntries(FOLDERS.map((f) => [f.id, f.name]));

let handle;
let mode = 'starting'; // 'mail' (logged in), 'signin'
let me = null; // GET /api/me: {persona, address}
const state = {
  folder: 'inbox',
  query: '', // a search, over every folder, instead of a folder
  messages: [], // the summaries listed
  hasMore: false,
  cursor: -1, // the list row j/k are at
  open: null, // the message shown (GET /api/messages/<id>)
  counts: {}, // folder → {total, unread}
  outbox: [],
  compose: null, // the message the compose dialog holds (see Composing)
  account: null,
};
let listToken = 0;
let openToken = 0;
let pollTimer = null;

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
    else if (k in e && typeof v !== 'string') e[k] = v;
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
function bytes(n) {
  if (n == null) return '';
  if (n < 1000) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function sameDay(a, b) { return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate(); }
/** A list's date: the time today, the day this year, else the date. */
function validDate(ms) { return Boolean(ms) && Number.isFinite(new Date(ms).getTime()); }
function shortDate(ms) {
  if (!validDate(ms)) return '';
  const d = new Date(ms);
  const now = new Date();
  if (sameDay(d, now)) return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}
function longDate(ms) {
  return validDate(ms) ? new Date(ms).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' }) : '';
}

/** The address in "Name <a@b>" (or the text itself). */
function addressOf(text) {
  const m = /<([^<>]*)>\s*$/.exec(text || '');
  return (m ? m[1] : text || '').trim();
}
/** The name in "Name <a@b>", else the address. */
function nameOf(text) {
  const m = /^\s*"?(.*?)"?\s*<[^<>]*>\s*$/.exec(text || '');
  return (m && m[1].trim()) || addressOf(text);
}
/** An address as mailboxes compare: lower case, without a +tag. */
function mailbox(address) {
  const a = String(address || '').trim().toLowerCase();
  const at = a.lastIndexOf('@');
  if (at < 0) return a;
  return a.slice(0, at).replace(/\+.*$/, '') + a.slice(at);
}
function display(a) { return a.name ? `${a.name} <${a.address}>` : a.address; }
function mine(address) { return me && mailbox(address) === mailbox(me.address); }

/**
 * Whether the appliance proved the message's sender: it recorded the sender the link proved
 * (`verifiedSender`), and that is the one address in From. Headers alone prove nothing.
 */
function isVerified(verifiedSender, fromAddress) {
  return Boolean(verifiedSender) && Boolean(fromAddress) && !fromAddress.includes(',')
    && mailbox(verifiedSender) === mailbox(fromAddress);
}

function badge(verifiedSender, fromAddress) {
  return isVerified(verifiedSender, fromAddress)
    ? el('span', { class: 'badge verified', title: `Sent from ${verifiedSender}: proved by the link between the appliances` }, '✓ verified')
    : el('span', { class: 'badge unverified', title: verifiedSender
      ? `The From line does not name the proved sender, ${verifiedSender}`
      : 'Nothing proves who sent this: the From line may be forged' }, 'unverified');
}

/** Addresses typed in a field, split at commas (and semicolons) outside quotes and <…>. */
function splitAddresses(text) {
  const out = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (const ch of String(text || '')) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if ((ch === ',' || ch === ';') && !quoted && !angle) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function unique(list) {
  const seen = new Set();
  return list.filter((a) => {
    const k = mailbox(addressOf(a));
    if (!k || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A content ID as cid: URLs and Content-ID headers are compared (RFC 2392: percent-encoded). */
function cidKey(id) {
  let s = String(id || '');
  try { s = decodeURIComponent(s); } catch { /* not encoded */ }
  s = s.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1);
  return s.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Status and errors

let toastTimer = null;
/** A short message at the bottom (role=status), with an optional action (“Undo”); goes away unless `sticky`. */
function status(text, { action = null, sticky = false, long = false } = {}) {
  clearTimeout(toastTimer);
  $('status').textContent = text || '';
  const button = $('status-action');
  button.hidden = !action;
  button.onclick = null;
  if (action) {
    button.textContent = action.label;
    button.onclick = async () => { status(''); try { await action.run(); } catch (e) { error(e); } };
  }
  $('toast').classList.toggle('show', Boolean(text));
  $('status-close').hidden = !text;
  if (text && !sticky) toastTimer = setTimeout(() => status(''), action || long ? 15000 : 8000);
}

/** The error box under the top bar (role=alert); `retry` adds a “Try again” button. */
function error(e, retry = null) {
  const box = $('error');
  box.hidden = !e;
  $('error-text').textContent = e ? (e.message || String(e)) : '';
  const button = $('error-retry');
  button.hidden = !retry;
  button.onclick = retry ? async () => { error(null); await retry(); } : null;
  if (e) console.warn('[mail]', e);
}

// ---------------------------------------------------------------------------------------------
// The app's API, over the link

async function problemOf(res) {
  let text = '';
  try { text = await res.text(); } catch { /* no body */ }
  let detail = '';
  try {
    const j = JSON.parse(text);
    detail = j.detail || j.title || '';
  } catch {
    detail = text.length < 300 && !/<[a-z]/i.test(text) ? text.trim() : '';
  }
  const why = detail || ({ 401: 'You need to log in.', 403: 'You may not use Mail here.', 404: 'It is not there (any more).',
    413: 'It is too large.', 422: 'It was refused.', 429: 'Too many requests: try again in a moment.' }[res.status]
    || `The appliance answered ${res.status}.`);
  return new ApiError(why, res.status);
}

async function send(method, path, { body, headers = {}, signal } = {}) {
  try {
    return await fetch(`${APP}${path}`, { method, body, headers, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(`Cannot reach your appliance: ${e.cause?.message || e.message}`, 0, { cause: e });
  }
}

/** A JSON request; resolves with the answer (null for 204), rejects with ApiError carrying the problem's detail. */
async function api(method, path, json) {
  const res = await send(method, path, json === undefined ? {}
    : { body: JSON.stringify(json), headers: { 'Content-Type': 'application/json' } });
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

function query(obj) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function partBlob(id, part) {
  const res = await send('GET', `/api/messages/${id}/parts/${part.index}`);
  if (!res.ok) throw await problemOf(res);
  return res.blob();
}

function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

/** Saves a Blob as a download named `name`, never shown as a page. */
function saveBlob(blob, name) {
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
  const a = el('a', { href: url, download: name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_') || 'attachment' });
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// ---------------------------------------------------------------------------------------------
// Folders

async function refreshFolders() {
  const { folders } = await api('GET', '/api/folders');
  const before = state.counts[state.folder];
  state.counts = Object.fromEntries(folders.map((f) => [f.id, { total: f.total, unread: f.unread }]));
  renderFolders();
  const after = state.counts[state.folder];
  return Boolean(before && after && (before.total !== after.total || before.unread !== after.unread));
}

function renderFolders() {
  const list = $('folder-list');
  list.replaceChildren(...FOLDERS.map((f) => {
    const c = state.counts[f.id] || { total: 0, unread: 0 };
    const unread = f.id === 'sent' || f.id === 'drafts' ? 0 : c.unread;
    const current = !state.query && state.folder === f.id;
    return el('li', {},
      el('a', { href: `#${f.id}`, dataset: { folder: f.id }, 'aria-current': current ? 'page' : null,
        onclick: (ev) => { ev.preventDefault(); openFolder(f.id); } },
      icon(f.icon), el('span', { class: 'name' }, f.name),
      unread ? el('span', { class: 'count', 'aria-hidden': 'true' }, String(unread)) : null,
      unread ? el('span', { class: 'sr' }, `, ${unread} unread`) : null));
  }));
  document.title = `${state.counts.inbox?.unread ? `(${state.counts.inbox.unread}) ` : ''}Mail${me ? ` – ${me.address}` : ''}`;
}

function openFolder(id) {
  if (!FOLDER_NAMES[id]) id = 'inbox';
  history.replaceState(null, '', `${location.pathname}${location.search}#${id}`);
  state.folder = id;
  state.query = '';
  $('search').value = '';
  setMenu(false);
  closeMessage();
  state.cursor = -1;
  renderFolders();
  $('list-title').textContent = FOLDER_NAMES[id];
  $('clear-search').hidden = true;
  refreshFolders().catch(error);
  return loadList().catch((e) => error(e, () => loadList()));
}

function search(q) {
  q = q.trim();
  if (!q) { openFolder(state.folder); return; }
  state.query = q;
  closeMessage();
  state.cursor = -1;
  renderFolders();
  $('list-title').textContent = `Search: “${q}”`;
  $('clear-search').hidden = false;
  loadList().catch((e) => error(e, () => loadList()));
}

// ---------------------------------------------------------------------------------------------
// The message list

async function loadList({ more = false, keep = false } = {}) {
  const token = ++listToken;
  const q = { limit: PAGE_SIZE };
  if (state.query) q.q = state.query;
  else q.folder = state.folder;
  if (more && state.messages.length) q.before = state.messages.at(-1).id;
  $('list-loading').hidden = false;
  $('load-more').hidden = true;
  let messages;
  try {
    ({ messages } = await api('GET', `/api/messages${query(q)}`));
  } finally {
    if (token === listToken) $('list-loading').hidden = true;
  }
  if (token !== listToken) return;
  const cursorId = keep ? state.messages[state.cursor]?.id : null;
  state.messages = more ? state.messages.concat(messages) : messages;
  state.hasMore = messages.length === PAGE_SIZE;
  if (keep) state.cursor = state.messages.findIndex((m) => m.id === cursorId);
  renderList();
}

function whoOf(m) {
  if ((m.folder === 'sent' || m.folder === 'drafts') && !state.query) {
    return m.to ? `To: ${m.to.split(',').map((t) => nameOf(t)).join(', ')}` : '(no recipients)';
  }
  return nameOf(m.from) || '(no sender)';
}

function row(m, i) {
  const unread = !m.flags.includes('seen');
  const flagged = m.flags.includes('flagged');
  const open = state.open?.id === m.id;
  const showBadge = !(m.folder === 'sent' || m.folder === 'drafts');
  const button = el('button', { type: 'button', class: 'msg', 'aria-current': open ? 'true' : null,
    onclick: () => { state.cursor = i; openMessage(m.id); } },
  el('span', { class: 'line1' },
    unread ? el('span', { class: 'sr' }, 'Unread: ') : null,
    el('span', { class: 'who' }, whoOf(m)),
    showBadge ? badge(m.verifiedSender, addressOf(m.from)) : null,
    flagged ? el('span', { class: 'flagged', title: 'Flagged' }, icon('flag', 'icon tiny'), el('span', { class: 'sr' }, ' flagged')) : null,
    m.attachments ? el('span', { title: 'Has attachments' }, icon('clip', 'icon tiny'), el('span', { class: 'sr' }, ' with attachments')) : null,
    el('time', { class: 'date', datetime: validDate(m.date) ? new Date(m.date).toISOString() : null }, shortDate(m.date))),
  el('span', { class: 'subject' }, m.subject || '(no subject)'),
  el('span', { class: 'snippet' }, m.snippet || ''),
  state.query ? el('span', { class: 'in-folder' }, FOLDER_NAMES[m.folder] || m.folder) : null);
  return el('li', { class: `row${unread ? ' unread' : ''}${i === state.cursor ? ' cursor' : ''}`, dataset: { id: String(m.id) } }, button);
}

function renderList() {
  $('list').replaceChildren(...state.messages.map(row));
  $('list-empty').hidden = state.messages.length > 0;
  $('list-empty').textContent = state.query ? 'Nothing matches.' : emptyText(state.folder);
  $('load-more').hidden = !state.hasMore;
}

function emptyText(folder) {
  return {
    inbox: 'No messages. Mail to your address comes here.',
    requests: 'No requests. Mail from people you have not accepted or written to waits here.',
    sent: 'Nothing sent yet.',
    drafts: 'No drafts.',
    archive: 'Nothing archived.',
    trash: 'The trash is empty.',
  }[folder] || 'No messages.';
}

function renderRow(id) {
  const i = state.messages.findIndex((m) => m.id === id);
  const li = $('list').querySelector(`li[data-id="${id}"]`);
  if (i >= 0 && li) li.replaceWith(row(state.messages[i], i));
}

/** Keeps a summary the list shows up to date with a fresher copy (a view or a PATCH answer). */
function updateSummary(s) {
  const i = state.messages.findIndex((m) => m.id === s.id);
  if (i < 0) return;
  const old = state.messages[i];
  state.messages[i] = { ...old, folder: s.folder, flags: s.flags, thread: s.thread ?? old.thread };
  renderRow(s.id);
}

/** Takes a message out of a folder's list (it moved, or was deleted). */
function dropFromList(id) {
  const i = state.messages.findIndex((m) => m.id === id);
  if (i < 0) return;
  state.messages.splice(i, 1);
  if (state.cursor > i || state.cursor >= state.messages.length) state.cursor = Math.min(state.cursor, state.messages.length - 1);
  renderList();
}

function moveCursor(delta) {
  if (!state.messages.length) return;
  let i = state.cursor;
  if (i < 0) {
    const open = state.messages.findIndex((m) => m.id === state.open?.id);
    i = open >= 0 ? open + delta : (delta > 0 ? 0 : state.messages.length - 1);
  } else {
    i += delta;
  }
  state.cursor = Math.max(0, Math.min(state.messages.length - 1, i));
  for (const li of $('list').children) li.classList.toggle('cursor', li.dataset.id === String(state.messages[state.cursor].id));
  const button = $('list').querySelector(`li[data-id="${state.messages[state.cursor].id}"] button`);
  if (button) {
    button.focus({ preventScroll: true });
    button.scrollIntoView({ block: 'nearest' });
  }
  if (state.cursor === state.messages.length - 1 && state.hasMore) loadList({ more: true, keep: true }).catch(error);
}

function openCursor() {
  const m = state.messages[state.cursor];
  if (m) openMessage(m.id);
}

// ---------------------------------------------------------------------------------------------
// Reading

function closeMessage() {
  openToken++;
  state.open = null;
  $('message').hidden = true;
  $('reader-empty').hidden = false;
  $('msg-body').replaceChildren();
  document.body.dataset.view = 'list';
  for (const li of $('list').children) li.querySelector('button')?.removeAttribute('aria-current');
}

async function openMessage(id, { remote = false } = {}) {
  const token = ++openToken;
  let v;
  try {
    v = await api('GET', `/api/messages/${id}${remote ? '?remote=1' : ''}`);
  } catch (e) {
    if (token === openToken) error(e);
    return;
  }
  if (token !== openToken) return;
  error(null);
  const i = state.messages.findIndex((m) => m.id === id);
  if (i >= 0) state.cursor = i;
  if (v.folder === 'drafts') { // a draft is written on, not read
    editDraft(v);
    return;
  }
  state.open = v;
  updateSummary(v);
  for (const li of $('list').children) {
    const here = li.dataset.id === String(id);
    const b = li.querySelector('button');
    if (b && here) b.setAttribute('aria-current', 'true');
    else if (b) b.removeAttribute('aria-current');
    li.classList.toggle('cursor', here);
  }
  await renderMessage(v, token);
  if (token !== openToken) return;
  document.body.dataset.view = 'read';
  $('msg-subject').focus({ preventScroll: true });
  loadThread(v, token).catch((e) => console.warn('[mail] thread', e));
  refreshFolders().catch(() => {});
}

function people(list) {
  if (!list?.length) return [];
  const out = [];
  list.forEach((a, i) => {
    if (i) out.push(', ');
    out.push(a.name && a.address ? el('span', { class: 'person', title: a.address }, a.name, el('span', { class: 'addr' }, ` <${a.address}>`))
      : el('span', { class: 'person' }, a.address || a.name));
  });
  return out;
}

async function renderMessage(v, token) {
  $('reader-empty').hidden = true;
  $('message').hidden = false;
  $('msg-subject').textContent = v.subject || '(no subject)';
  const from = v.fromList?.length === 1 ? v.fromList[0].address : addressOf(v.from);
  $('msg-from').replaceChildren(...people(v.fromList), ' ', badge(v.verifiedSender, from));
  $('msg-to').replaceChildren(...people(v.toList));
  $('msg-cc').replaceChildren(...people(v.ccList));
  $('msg-cc').hidden = $('msg-cc-label').hidden = !v.ccList?.length;
  $('msg-date').textContent = longDate(v.date);
  $('remote-bar').hidden = !v.remoteContentBlocked;
  $('thread').hidden = true;

  // what may be done with it, here
  const requests = v.folder === 'requests';
  $('act-accept').hidden = !requests || !v.verifiedSender;
  $('act-block').hidden = !requests || !v.verifiedSender;
  $('act-archive').hidden = v.folder === 'archive';
  $('act-delete').querySelector('span').textContent = v.folder === 'trash' ? 'Delete for good' : 'Delete';
  $('act-delete').title = `${v.folder === 'trash' ? 'Delete for good' : 'Delete'} (#)`;
  setFlagButton(v.flags.includes('flagged'));

  const used = new Set();
  const body = v.html != null ? await htmlFrame(v, used) : textBody(v.text || '');
  if (token !== openToken) return;
  $('msg-body').replaceChildren(body);

  const files = (v.parts || []).filter((p) => !used.has(p.index)); // the inline images shown are not listed again
  $('attachments').hidden = !files.length;
  $('attachment-list').replaceChildren(...files.map((p) => {
    const name = p.filename || `part-${p.index}`;
    return el('li', {},
      el('button', { type: 'button', class: 'attachment', 'aria-label': `Download ${name}, ${bytes(p.size)}`,
        onclick: () => download(v.id, p, name) },
      icon('download'), el('span', { class: 'name' }, name), el('span', { class: 'muted size' }, bytes(p.size))));
  }));
}

function setFlagButton(on) {
  $('act-flag').setAttribute('aria-pressed', String(on));
  $('act-flag').querySelector('span').textContent = on ? 'Unflag' : 'Flag';
  $('act-flag').title = on ? 'Unflag' : 'Flag';
}

/** The text of a message with its web links clickable (they open in a new tab, with no referrer); nothing else is. */
function textBody(text) {
  const div = el('div', { class: 'text-body' });
  const re = /\bhttps?:\/\/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}]/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    div.append(text.slice(last, m.index),
      el('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer nofollow' }, m[0]));
    last = m.index + m[0].length;
  }
  div.append(text.slice(last));
  return div;
}

/**
 * The sanitised HTML in a sandboxed iframe (no allow-scripts, no allow-same-origin) with its
 * own CSP; inline cid: images replaced by data: URLs of the parts they name. `used` gets the
 * parts shown that way.
 */
async function htmlFrame(v, used) {
  // DOMParser's document is inert: nothing in it runs or loads.
  const doc = new DOMParser().parseFromString(`<!doctype html><html><head></head><body>${v.html}</body></html>`, 'text/html');
  const byCid = new Map((v.parts || []).filter((p) => p.contentId).map((p) => [cidKey(p.contentId), p]));
  for (const node of doc.querySelectorAll('img[src], [background]')) {
    const attr = node.tagName === 'IMG' ? 'src' : 'background';
    const url = node.getAttribute(attr) || '';
    if (!/^cid:/i.test(url)) continue;
    const part = byCid.get(cidKey(url.slice(4)));
    if (part && RASTER.test(part.contentType) && part.size <= MAX_INLINE_IMAGE) {
      try {
        const blob = await partBlob(v.id, part);
        node.setAttribute(attr, await dataUrl(new Blob([blob], { type: part.contentType.toLowerCase() })));
        used.add(part.index);
        continue;
      } catch (e) {
        console.warn('[mail] inline image', e);
      }
    }
    node.removeAttribute(attr);
  }
  const srcdoc = '<!doctype html><html><head><meta charset="utf-8">'
    + `<meta http-equiv="Content-Security-Policy" content="${FRAME_CSP}">`
    + '<meta name="referrer" content="no-referrer"><base target="_blank">'
    + `<style>${FRAME_STYLE}</style></head><body>${doc.body.innerHTML}</body></html>`;
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', ''); // before it loads anything: scripts, forms, popups, same origin all off
  frame.setAttribute('referrerpolicy', 'no-referrer');
  frame.setAttribute('title', 'Message body');
  frame.className = 'body-frame';
  frame.srcdoc = srcdoc;
  return frame;
}

async function download(id, part, name) {
  status(`Downloading ${name}…`, { sticky: true });
  try {
    saveBlob(await partBlob(id, part), name);
    status(`Downloaded ${name}.`);
  } catch (e) {
    status('');
    error(e);
  }
}

/** The other messages of the open one's thread, oldest first, collapsed above it. */
async function loadThread(v, token) {
  const { messages } = await api('GET', `/api/messages${query({ limit: THREAD_SCAN })}`);
  if (token !== openToken) return;
  const others = messages.filter((m) => m.thread === v.thread && m.id !== v.id)
    .sort((a, b) => (a.date - b.date) || (a.id - b.id));
  $('thread').hidden = !others.length;
  $('thread-title').textContent = others.length ? `${plural(others.length, 'other message')} in this conversation` : '';
  $('thread-items').replaceChildren(...others.map((m) => {
    const text = el('div', { class: 'thread-text text-body' }, 'Loading…');
    let loaded = false;
    const details = el('details', { class: 'thread-item', dataset: { id: String(m.id) } },
      el('summary', {},
        el('span', { class: 'who' }, nameOf(m.from)),
        el('span', { class: 'snippet' }, m.subject || '(no subject)'),
        el('span', { class: 'in-folder' }, FOLDER_NAMES[m.folder] || m.folder),
        el('time', { class: 'date' }, shortDate(m.date))),
      text,
      el('button', { type: 'button', class: 'link open-other', onclick: () => { state.cursor = -1; openMessage(m.id); } }, 'Open this message'));
    details.addEventListener('toggle', async () => {
      if (!details.open || loaded) return;
      loaded = true;
      try {
        const full = await api('GET', `/api/messages/${m.id}?peek=1`);
        text.replaceWith(Object.assign(textBody(full.text || ''), { className: 'thread-text text-body' }));
      } catch (e) {
        text.textContent = e.message;
      }
    });
    return details;
  }));
}

// ---------------------------------------------------------------------------------------------
// Acting on a message

/** The message actions work on: the open one, else (for e and #) the one at the cursor. */
function target({ orCursor = false } = {}) {
  if (state.open) return state.open;
  return orCursor ? state.messages[state.cursor] || null : null;
}

function afterMove(m, folder) {
  if (!state.query && folder !== state.folder) dropFromList(m.id);
  else updateSummary({ ...m, folder });
  if (state.open?.id === m.id) closeMessage();
  refreshFolders().catch(() => {});
}

async function moveTo(m, folder, done) {
  const from = m.folder;
  const s = await api('PATCH', `/api/messages/${m.id}`, { folder });
  afterMove(m, s.folder);
  status(done, { action: { label: 'Undo', run: async () => {
    await api('PATCH', `/api/messages/${m.id}`, { folder: from });
    await Promise.all([loadList({ keep: true }), refreshFolders()]);
    status(`Moved back to ${FOLDER_NAMES[from] || from}.`);
  } } });
}

async function archive(m = target({ orCursor: true })) {
  if (!m) return;
  if (m.folder === 'archive') { status('It is archived already.'); return; }
  try { await moveTo(m, 'archive', 'Archived.'); } catch (e) { error(e); }
}

async function remove(m = target({ orCursor: true })) {
  if (!m) return;
  try {
    if (m.folder === 'trash') {
      if (!confirm(`Delete “${m.subject || '(no subject)'}” for good? This cannot be undone.`)) return;
      await api('DELETE', `/api/messages/${m.id}`);
      afterMove(m, null);
      dropFromList(m.id);
      status('Deleted for good.');
      return;
    }
    const from = m.folder;
    await api('DELETE', `/api/messages/${m.id}`);
    afterMove(m, 'trash');
    status('Moved to Trash.', { action: { label: 'Undo', run: async () => {
      await api('PATCH', `/api/messages/${m.id}`, { folder: from });
      await Promise.all([loadList({ keep: true }), refreshFolders()]);
      status(`Moved back to ${FOLDER_NAMES[from] || from}.`);
    } } });
  } catch (e) { error(e); }
}

async function markUnread(m = target()) {
  if (!m) return;
  try {
    const s = await api('PATCH', `/api/messages/${m.id}`, { flags: m.flags.filter((f) => f !== 'seen') });
    closeMessage();
    updateSummary(s);
    await refreshFolders();
    status('Marked unread.');
  } catch (e) { error(e); }
}

async function toggleFlag(m = target()) {
  if (!m) return;
  const on = !m.flags.includes('flagged');
  try {
    const s = await api('PATCH', `/api/messages/${m.id}`, { flags: on ? [...m.flags, 'flagged'] : m.flags.filter((f) => f !== 'flagged') });
    if (state.open?.id === m.id) { state.open.flags = s.flags; setFlagButton(on); }
    updateSummary(s);
    status(on ? 'Flagged.' : 'Flag removed.');
  } catch (e) { error(e); }
}

/** Requests: the proved sender's mail goes to the Inbox from now on, this message and the others waiting. */
async function acceptSender(m = target()) {
  if (!m?.verifiedSender) return;
  const sender = m.verifiedSender;
  try {
    await api('PUT', '/api/senders', { sender, verdict: 'accepted' });
    await api('PATCH', `/api/messages/${m.id}`, { folder: 'inbox' });
    afterMove(m, 'inbox');
    const { messages } = await api('GET', `/api/messages${query({ folder: 'requests', limit: 500 })}`);
    const more = messages.filter((x) => x.verifiedSender && mailbox(x.verifiedSender) === mailbox(sender));
    for (const x of more) {
      await api('PATCH', `/api/messages/${x.id}`, { folder: 'inbox' });
      afterMove(x, 'inbox');
    }
    status(`Accepted ${sender}: ${more.length ? `${plural(more.length + 1, 'message')} moved` : 'moved'} to your Inbox, and their mail goes there from now on.`, { long: true });
  } catch (e) { error(e); }
}

async function blockSender(m = target()) {
  if (!m?.verifiedSender) return;
  const sender = m.verifiedSender;
  try {
    await api('PUT', '/api/senders', { sender, verdict: 'blocked' });
    await api('DELETE', `/api/messages/${m.id}`);
    afterMove(m, 'trash');
    status(`Blocked ${sender}: their mail is dropped from now on (they are not told). Settings lists whom you blocked.`, { long: true });
  } catch (e) { error(e); }
}

// ---------------------------------------------------------------------------------------------
// Composing
//
// state.compose is the message the compose dialog holds: what it answers, what to flag once it
// is sent, what is attached (`attached`: files picked here, {file}, and parts of messages
// already here, {message, part, filename, size}, sent as `keep`), the draft it was last saved
// as (`draftId`), and how many edits there were (`version`) against the last one saved. Saves
// of one message run one after the other (`chain`), each replacing the draft before it.

function quote(text) {
  return String(text || '').replace(/\s+$/, '').split('\n').map((l) => (l.startsWith('>') ? `>${l}` : `> ${l}`)).join('\n');
}

/** A part of a message here, as the compose dialog attaches it (`keep`). */
function keptPart(message, p) {
  return { message, part: p.index, filename: p.filename || `part-${p.index}`, size: p.size };
}

function reply(all, v = target()) {
  if (!v) return;
  const own = (v.fromList || []).some((a) => mine(a.address));
  const back = own ? v.toList : (v.replyTo?.length ? v.replyTo : v.fromList);
  const to = unique((back || []).map((a) => a.address).filter(Boolean));
  let cc = [];
  if (all) {
    const taken = new Set(to.map(mailbox));
    cc = unique([...(own ? [] : v.toList || []), ...(v.ccList || [])].map((a) => a.address)
      .filter((a) => a && !mine(a) && !taken.has(mailbox(a))));
  }
  const subject = /^re:/i.test(v.subject || '') ? v.subject : `Re: ${v.subject || ''}`;
  const who = v.fromList?.[0] ? display(v.fromList[0]) : 'someone';
  compose({
    to: to.join(', '), cc: cc.join(', '), subject,
    text: `\n\nOn ${longDate(v.date)}, ${who} wrote:\n${quote(v.text)}\n`,
    inReplyTo: v.messageId || null,
    references: [...new Set([...(v.references || []), v.messageId].filter(Boolean))],
    mark: { id: v.id, flag: 'replied' },
    title: all ? 'Reply all' : 'Reply',
  });
}

/** Forwards the message with its attachments (not the images shown in its text), each one removable. */
function forward(v = target()) {
  if (!v) return;
  const subject = /^fwd?:/i.test(v.subject || '') ? v.subject : `Fwd: ${v.subject || ''}`;
  const head = ['---------- Forwarded message ----------',
    `From: ${(v.fromList || []).map(display).join(', ')}`,
    `Date: ${longDate(v.date)}`,
    `Subject: ${v.subject || ''}`,
    `To: ${(v.toList || []).map(display).join(', ')}`];
  if (v.ccList?.length) head.push(`Cc: ${v.ccList.map(display).join(', ')}`);
  compose({ subject, text: `\n\n${head.join('\n')}\n\n${v.text || ''}\n`, mark: { id: v.id, flag: 'passed' }, title: 'Forward',
    attached: (v.parts || []).filter((p) => !p.inline).map((p) => keptPart(v.id, p)) });
}

/** A draft (GET /api/messages/<id> of one in Drafts), in the compose dialog again. */
function editDraft(v) {
  const list = (people) => (people || []).map(recipient).filter(Boolean).join(', ');
  compose({ to: list(v.toList), cc: list(v.ccList), bcc: list(v.bccList), subject: v.subject || '', text: v.text || '',
    inReplyTo: v.inReplyTo || null, references: v.references || [],
    attached: (v.parts || []).map((p) => keptPart(v.id, p)), draftId: v.id, title: 'Draft' });
}

function compose({ to = '', cc = '', bcc = '', subject = '', text = '', inReplyTo = null, references = [], mark = null,
  attached = [], draftId = null, title = 'New message' } = {}) {
  const dialog = $('compose');
  if (dialog.open || state.compose) leaveCompose();
  state.compose = { inReplyTo, references, mark, attached, draftId, version: 0, savedVersion: 0, timer: null,
    chain: Promise.resolve(), unlearnt: null, sending: false, sent: false, discarded: false };
  renderComposeFiles();
  $('compose-title').textContent = title;
  $('compose-from').textContent = me?.address || '';
  fillCompose({ to, cc, bcc, subject, text });
  composeError(null);
  $('compose-saved').textContent = '';
  $('compose-send').disabled = false;
  $('compose-save').disabled = false;
  dialog.showModal();
  const first = !to ? $('c-to') : !subject ? $('c-subject') : $('c-text');
  first.focus();
  if (first === $('c-text')) $('c-text').setSelectionRange(0, 0);
}

/** What the compose dialog's fields hold. */
function composeFields() {
  return { to: $('c-to').value, cc: $('c-cc').value, bcc: $('c-bcc').value, subject: $('c-subject').value, text: $('c-text').value };
}

function fillCompose(f) {
  $('c-to').value = f.to;
  $('c-cc').value = f.cc;
  $('c-bcc').value = f.bcc;
  $('c-subject').value = f.subject;
  $('c-text').value = f.text;
}

function hasContent(c, f) {
  return c.attached.length > 0 || Object.values(f).some((v) => v.trim());
}

/** Something in the compose dialog changed: saved as a draft after AUTOSAVE_MS without another change. */
function composeChanged() {
  const c = state.compose;
  if (!c) return;
  c.version++;
  clearTimeout(c.timer);
  c.timer = setTimeout(() => {
    if (state.compose === c && $('compose').open && !c.sending && c.version !== c.savedVersion && hasContent(c, composeFields())) {
      saveDraft(c, { quiet: true }).catch(() => {});
    }
  }, AUTOSAVE_MS);
}

function savedNote(c, text) {
  if (state.compose === c) $('compose-saved').textContent = text;
}

/** The body of POST /api/send or /api/drafts, but for the files to upload. */
function messageBody(c, f) {
  const body = { to: splitAddresses(f.to), cc: splitAddresses(f.cc), bcc: splitAddresses(f.bcc), subject: f.subject, text: f.text };
  if (c.inReplyTo) body.inReplyTo = c.inReplyTo;
  if (c.references?.length) body.references = c.references;
  const kept = c.attached.filter((a) => !a.file);
  if (kept.length) body.keep = kept.map((k) => ({ message: k.message, part: k.part }));
  if (c.draftId != null) body.draft = c.draftId;
  return body;
}

/**
 * Files what compose dialog `c` holds in Drafts (POST /api/drafts), replacing the draft saved
 * before. The fields are read now (the dialog may be closed or hold another message by the time
 * an earlier save is done). `force`: saved even if nothing changed; `closing`: the dialog was
 * closed, and opens again with the message if it cannot be saved; `quiet`: no upload messages.
 */
function saveDraft(c, { force = false, closing = false, quiet = false } = {}) {
  clearTimeout(c.timer);
  const fields = composeFields();
  const version = c.version;
  const run = c.chain.then(() => fileDraft(c, fields, version, { force, closing, quiet }));
  c.chain = run.catch(() => {});
  return run;
}

async function fileDraft(c, fields, version, { force, closing, quiet }) {
  if (c.sent || c.discarded || c.sending) return;
  if (version === c.savedVersion && (!force || c.draftId != null)) {
    if (force) savedNote(c, 'Draft saved.');
    return;
  }
  savedNote(c, 'Saving…');
  let saved;
  let uploaded = false;
  try {
    await learnParts(c);
    const files = c.attached.filter((a) => a.file);
    uploaded = files.length > 0;
    const kept = c.attached.filter((a) => !a.file);
    const body = messageBody(c, fields);
    if (files.length) body.attachments = await uploadFiles(files.map((a) => a.file), { quiet });
    saved = await api('POST', '/api/drafts', body);
    c.draftId = saved.id;
    c.savedVersion = version;
    c.unlearnt = { id: saved.id, taken: [...files, ...kept] };
    await learnParts(c);
  } catch (e) {
    savedNote(c, '');
    if (closing) reopenCompose(c, fields, new Error(`It was not saved as a draft: ${e.message}`, { cause: e }));
    else if (state.compose === c && !quiet) composeError(e);
    else if (state.compose === c) savedNote(c, `Not saved: ${e.message}`);
    throw e;
  } finally {
    if (saved) draftsChanged();
  }
  savedNote(c, `Draft saved at ${new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}.`);
  if (closing) status('Kept in Drafts.');
  else if (uploaded && !quiet) status(''); // the uploads are done
}

/**
 * After a save, the files and parts attached are the new draft's parts (the uploads first, then
 * the parts kept, in order): attached from it from now on, never uploaded again. Asked again
 * before the next save or the send if the draft could not be read.
 */
async function learnParts(c) {
  if (!c.unlearnt) return;
  const { id, taken } = c.unlearnt;
  const parts = (await api('GET', `/api/messages/${id}?peek=1`)).parts || [];
  if (parts.length === taken.length) {
    const now = new Map(taken.map((a, i) => [a, keptPart(id, parts[i])]));
    c.attached = c.attached.map((a) => now.get(a) || a);
  } else { // not as written: the draft's own parts, and whatever was attached meanwhile
    c.attached = [...parts.map((p) => keptPart(id, p)), ...c.attached.filter((a) => !taken.includes(a))];
  }
  c.unlearnt = null;
  if (state.compose === c) renderComposeFiles();
}

/** The Drafts folder, and its count, after a draft was saved, sent or discarded. */
function draftsChanged() {
  refreshFolders().catch(() => {});
  if (!state.query && state.folder === 'drafts') loadList({ keep: true }).catch(() => {});
}

/** A closed compose dialog whose message was neither saved nor sent: back, with why, unless another one is open. */
function reopenCompose(c, fields, e) {
  if ($('compose').open || state.compose) { error(e); return; }
  state.compose = c;
  fillCompose(fields);
  renderComposeFiles();
  $('compose-saved').textContent = '';
  $('compose-send').disabled = false;
  $('compose-save').disabled = false;
  $('compose').showModal();
  composeError(e);
}

/** Closes the compose dialog; what was written (and changed since it was last saved) is kept in Drafts. */
function leaveCompose() {
  const c = state.compose;
  if ($('compose').open) $('compose').close('kept');
  state.compose = null;
  if (!c) return;
  clearTimeout(c.timer);
  if (c.sending) return; // sendCompose opens it again if it fails
  if (c.version !== c.savedVersion && hasContent(c, composeFields())) saveDraft(c, { closing: true }).catch(() => {});
}

/** Closes the compose dialog and deletes (to Trash, with Undo) the draft it was saved as. */
async function discardCompose() {
  const c = state.compose;
  $('compose').close('discarded');
  state.compose = null;
  if (!c) return;
  clearTimeout(c.timer);
  c.discarded = true;
  await c.chain; // a save under way: its draft goes too
  if (c.draftId == null) return;
  const id = c.draftId;
  try {
    await api('DELETE', `/api/messages/${id}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) error(e);
    return;
  } finally {
    draftsChanged();
  }
  status('Draft discarded.', { action: { label: 'Undo', run: async () => {
    await api('PATCH', `/api/messages/${id}`, { folder: 'drafts' });
    draftsChanged();
    status('The draft is back in Drafts.');
  } } });
}

/** The files and parts attached to the message being written, each with a button to take it off again. */
function renderComposeFiles() {
  const c = state.compose;
  $('c-attachments').replaceChildren(...(c?.attached || []).map((a) => {
    const name = a.file ? a.file.name : a.filename;
    return el('li', {},
      el('span', { class: 'name' }, name), el('span', { class: 'muted size' }, ` ${bytes(a.file ? a.file.size : a.size)} `),
      el('button', { type: 'button', class: 'link', 'aria-label': `Remove ${name}`, onclick: () => {
        const i = c.attached.indexOf(a);
        if (i >= 0) c.attached.splice(i, 1);
        composeChanged();
        renderComposeFiles();
      } }, 'Remove'));
  }));
}

/**
 * Uploads each attached file (streamed from disk by the browser, over the link) and resolves
 * with their upload ids for POST /api/send or /api/drafts.
 */
async function uploadFiles(files, { quiet = false } = {}) {
  const ids = [];
  for (const f of files) {
    if (!quiet) status(`Uploading ${f.name} (${bytes(f.size)})…`);
    const res = await send('POST', `/api/uploads${query({ name: f.name })}`,
      { body: f, headers: { 'Content-Type': f.type || 'application/octet-stream' } });
    if (!res.ok) throw await problemOf(res);
    ids.push((await res.json()).id);
  }
  return ids;
}

function composeError(e) {
  $('compose-error').hidden = !e;
  $('compose-error-text').textContent = e ? e.message : '';
  // mail to an ordinary address, and no account to send it through
  $('compose-account').hidden = !(e instanceof ApiError && e.status === 422);
}

async function sendCompose() {
  const c = state.compose;
  if (!c || c.sending) return;
  const fields = composeFields();
  if (![fields.to, fields.cc, fields.bcc].some((f) => splitAddresses(f).length)) {
    composeError(new Error('Name at least one recipient.'));
    $('c-to').focus();
    return;
  }
  clearTimeout(c.timer);
  c.sending = true;
  $('compose-send').disabled = true;
  $('compose-save').disabled = true;
  composeError(null);
  let answer;
  try {
    await c.chain; // a save under way first: the draft it makes is the one this sends (and deletes)
    await learnParts(c);
    const body = messageBody(c, fields);
    const files = c.attached.filter((a) => a.file).map((a) => a.file);
    if (files.length) body.attachments = await uploadFiles(files);
    answer = await api('POST', '/api/send', body);
  } catch (e) {
    c.sending = false;
    if (state.compose === c) {
      $('compose-send').disabled = false;
      $('compose-save').disabled = false;
      composeError(e);
    } else {
      reopenCompose(c, fields, e); // closed meanwhile: not lost
    }
    return;
  }
  c.sent = true;
  if (state.compose === c) {
    $('compose').close('sent');
    state.compose = null;
  }
  status(sentText(answer), { long: true });
  if (c.mark) {
    const m = state.messages.find((x) => x.id === c.mark.id) || (state.open?.id === c.mark.id ? state.open : null);
    if (m && !m.flags.includes(c.mark.flag)) {
      api('PATCH', `/api/messages/${m.id}`, { flags: [...m.flags, c.mark.flag] })
        .then((s) => { updateSummary(s); if (state.open?.id === s.id) state.open.flags = s.flags; })
        .catch((e) => console.warn('[mail] flag', e));
    }
  }
  refreshFolders().catch(() => {});
  refreshOutbox().catch(() => {});
  if (!state.query && ['sent', 'inbox', 'drafts'].includes(state.folder)) loadList({ keep: true }).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// Address suggestions for To, Cc and Bcc (GET /api/contacts), completing the last recipient

/** A recipient field's text cut before the recipient being typed, the last one: {head, tail}. */
function lastRecipient(text) {
  let quoted = false;
  let angle = false;
  let cut = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    else if ((ch === ',' || ch === ';') && !quoted && !angle) cut = i + 1;
  }
  return { head: text.slice(0, cut), tail: text.slice(cut) };
}

/** A person as a recipient field holds them: `Name <address>` (the name quoted if need be), or the address. */
function recipient(a) {
  const address = (a.address || '').trim();
  const name = (a.name || '').replace(/["\\\r\n]/g, '').trim();
  if (!address) return name;
  if (!name || mailbox(name) === mailbox(address)) return address;
  return /[,;<>@()[\]:.]/.test(name) ? `"${name}" <${address}>` : `${name} <${address}>`;
}

/** The combobox of a recipient field: its list (`<id>-suggest`) asked for after SUGGEST_MS without typing. */
function suggestions(input) {
  const list = $(`${input.id}-suggest`);
  let timer = null;
  let token = 0;
  let items = [];
  let active = -1;
  const close = () => {
    token++;
    clearTimeout(timer);
    items = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  };
  const highlight = (i) => {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
    if (i < 0) { input.removeAttribute('aria-activedescendant'); return; }
    input.setAttribute('aria-activedescendant', list.children[i].id);
    list.children[i].scrollIntoView({ block: 'nearest' });
  };
  const pick = (person) => {
    const { head } = lastRecipient(input.value);
    input.value = `${head.trim() ? `${head.trimEnd()} ` : ''}${recipient(person)}, `;
    close();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    composeChanged();
  };
  const lookup = async () => {
    const { head, tail } = lastRecipient(input.value);
    // what is typed of the name or the address (after a `<`, the address)
    const term = (tail.includes('<') ? tail.slice(tail.lastIndexOf('<') + 1) : tail).replace(/["<>]/g, '').trim();
    if (!term || /[>]\s*$/.test(tail)) { close(); return; }
    const t = ++token;
    let contacts;
    try {
      ({ contacts } = await api('GET', `/api/contacts${query({ q: term, limit: SUGGEST_LIMIT })}`));
    } catch (e) {
      console.warn('[mail] contacts', e);
      return;
    }
    if (t !== token || document.activeElement !== input) return;
    const taken = new Set(splitAddresses(head).map((a) => mailbox(addressOf(a))));
    items = contacts.filter((p) => !taken.has(mailbox(p.address)));
    if (!items.length) { close(); return; }
    active = -1;
    list.replaceChildren(...items.map((p, i) => el('li', { id: `${list.id}-${i}`, role: 'option', 'aria-selected': 'false',
      onmousedown: (ev) => ev.preventDefault(), // the field keeps the focus
      onclick: () => pick(p) },
    el('span', { class: 'name' }, p.name || p.address),
    p.name ? ' ' : null, p.name ? el('span', { class: 'muted addr' }, p.address) : null)));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    input.removeAttribute('aria-activedescendant');
  };
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(lookup, SUGGEST_MS); });
  input.addEventListener('blur', close);
  input.addEventListener('keydown', (ev) => {
    if (list.hidden || !items.length) return;
    if (ev.key === 'ArrowDown') highlight((active + 1) % items.length);
    else if (ev.key === 'ArrowUp') highlight(active <= 0 ? items.length - 1 : active - 1);
    else if (ev.key === 'Enter' && active >= 0) pick(items[active]);
    else if (ev.key === 'Escape') { ev.stopPropagation(); close(); } // the list, not the dialog
    else return;
    ev.preventDefault();
  });
}

/** What POST /api/send said, for people: who has it now, what waits in the outbox. */
function sentText(answer) {
  const delivered = (answer.delivered || []).filter((d) => d.status === 'accepted').map((d) => d.address);
  const refused = (answer.delivered || []).filter((d) => d.status !== 'accepted').map((d) => d.address);
  const queued = answer.queued || [];
  const parts = [];
  if (delivered.length) parts.push(`delivered to ${delivered.join(', ')}`);
  if (queued.length) parts.push(`queued for ${queued.join(', ')} (sent as soon as ${queued.length === 1 ? 'it' : 'they'} can be reached)`);
  if (refused.length) parts.push(`not delivered to ${refused.join(', ')}: no such mailbox here`);
  return parts.length ? `Sent: ${parts.join('; ')}.` : 'Sent.';
}

// ---------------------------------------------------------------------------------------------
// The outbox

async function refreshOutbox() {
  const { outbox } = await api('GET', '/api/outbox');
  state.outbox = outbox;
  const n = outbox.length;
  $('outbox-button').hidden = n === 0;
  $('outbox-count').textContent = `${n} waiting`;
  $('outbox-button').setAttribute('aria-label', `${plural(n, 'message')} waiting to be sent`);
  if ($('outbox').open) renderOutbox();
}

function renderOutbox() {
  $('outbox-list').replaceChildren(...state.outbox.map((e) => el('li', {},
    el('p', { class: 'to' }, (e.recipients || []).join(', ')),
    el('p', { class: 'muted' }, `Queued ${shortDate(e.queued)}; ${plural(e.attempts, 'attempt')}`
      + (e.nextAttempt ? `; next ${new Date(e.nextAttempt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}` : '')),
    e.lastError ? el('p', { class: 'form-error' }, `Last error: ${e.lastError}`) : null)));
  if (!state.outbox.length) $('outbox-list').replaceChildren(el('li', { class: 'muted' }, 'Nothing waits: everything was delivered.'));
}

async function retryOutbox() {
  try {
    await api('POST', '/api/outbox/retry');
    status('Trying again now…');
    setTimeout(() => { refreshOutbox().catch(() => {}); refreshFolders().catch(() => {}); }, 3000);
  } catch (e) { error(e); }
}

// ---------------------------------------------------------------------------------------------
// Settings: the external account, senders

const SERVER_FIELDS = ['host', 'port', 'security', 'username', 'password'];
/** The ports the app uses when none is given (Accounts.java). */
const DEFAULT_PORTS = { smtp: { tls: 465, starttls: 587, none: 587 }, imap: { tls: 993, starttls: 143, none: 143 } };

function portHints() {
  for (const kind of ['smtp', 'imap']) $(`a-${kind}-port`).placeholder = DEFAULT_PORTS[kind][$(`a-${kind}-security`).value];
}

async function openSettings() {
  $('account-error').hidden = true;
  $('account-status').textContent = '';
  $('settings').showModal();
  try {
    const [account, senders] = await Promise.all([api('GET', '/api/account'), api('GET', '/api/senders')]);
    fillAccount(account);
    renderSenders(senders.senders);
  } catch (e) {
    accountError(e);
  }
}

function fillAccount({ account, lastError }) {
  state.account = account;
  $('a-address').value = account?.address || '';
  $('a-name').value = account?.name || '';
  $('a-every').value = account?.fetchEveryMinutes || 5;
  for (const kind of ['smtp', 'imap']) {
    const s = account?.[kind] || {};
    $(`a-${kind}-host`).value = s.host || '';
    $(`a-${kind}-port`).value = s.port || '';
    $(`a-${kind}-security`).value = s.security || 'tls';
    $(`a-${kind}-username`).value = s.username || '';
    $(`a-${kind}-password`).value = '';
  }
  portHints();
  $('account-state').textContent = account ? `Mail to ordinary addresses goes out as ${account.address}.`
    : 'No external account: only mail between Intrustd appliances.';
  $('account-last-error').hidden = !lastError;
  $('account-last-error').textContent = lastError ? `The last fetch failed: ${lastError}` : '';
  $('account-delete').hidden = !account;
  $('account-fetch').hidden = !account;
}

function accountError(e) {
  $('account-error').hidden = !e;
  $('account-error').textContent = e ? e.message : '';
}

async function saveAccount() {
  const server = (kind) => {
    const s = {};
    for (const f of SERVER_FIELDS) {
      const v = $(`a-${kind}-${f}`).value;
      if (f === 'port') { if (v.trim()) s.port = Number(v); } else s[f] = f === 'password' ? v : v.trim();
    }
    return s;
  };
  const body = { address: $('a-address').value.trim(), name: $('a-name').value.trim(),
    fetchEveryMinutes: Number($('a-every').value) || 5, smtp: server('smtp'), imap: server('imap') };
  accountError(null);
  $('account-status').textContent = 'Saving…';
  try {
    fillAccount(await api('PUT', '/api/account', body));
    $('account-status').textContent = 'Saved. Give the app access to these servers if you have not yet (docs/mail.md).';
  } catch (e) {
    $('account-status').textContent = '';
    accountError(e);
  }
}

async function deleteAccount() {
  if (!confirm('Remove the external account? Mail already fetched stays.')) return;
  try {
    fillAccount(await api('DELETE', '/api/account'));
    $('account-status').textContent = 'Removed.';
  } catch (e) { accountError(e); }
}

async function fetchNow() {
  accountError(null);
  $('account-status').textContent = 'Fetching…';
  try {
    const r = await api('POST', '/api/account/fetch');
    if (r.error) {
      $('account-status').textContent = '';
      accountError(new Error(`Fetching failed: ${r.error}`));
    } else {
      $('account-status').textContent = r.messages ? `Fetched ${plural(r.messages, 'new message')}.` : 'No new mail.';
    }
    if (r.messages) { refreshFolders().catch(() => {}); loadList({ keep: true }).catch(() => {}); }
  } catch (e) {
    $('account-status').textContent = '';
    accountError(e);
  }
}

function renderSenders(senders) {
  $('senders-empty').hidden = senders.length > 0;
  $('sender-list').replaceChildren(...senders.map((s) => el('li', {},
    el('span', { class: 'mono' }, s.sender),
    el('span', { class: `verdict ${s.verdict}` }, s.verdict),
    el('button', { type: 'button', class: 'quiet small', 'aria-label': `Forget ${s.sender}`, onclick: async () => {
      try {
        renderSenders((await api('PUT', '/api/senders', { sender: s.sender, verdict: null })).senders);
      } catch (e) { accountError(e); }
    } }, 'Forget'))));
}

// ---------------------------------------------------------------------------------------------
// Keyboard

function typing(t) {
  return t instanceof Element && Boolean(t.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])'));
}

function onKey(ev) {
  if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || mode !== 'mail') return;
  if (document.querySelector('dialog[open]')) return; // a dialog has the keyboard; Esc closes it by itself
  const t = ev.target;
  if (typing(t)) {
    if (ev.key === 'Escape' && t.id === 'search') { t.blur(); if (state.query) openFolder(state.folder); ev.preventDefault(); }
    return;
  }
  switch (ev.key) {
    case 'j': moveCursor(1); break;
    case 'k': moveCursor(-1); break;
    case 'o': openCursor(); break;
    case 'Enter':
      if (t instanceof Element && t.closest('button, a, summary')) return; // it opens what it is on
      openCursor();
      break;
    case 'r': reply(false); break;
    case 'a': reply(true); break;
    case 'f': forward(); break;
    case 'c': compose(); break;
    case 'e': archive(); break;
    case '#': remove(); break;
    case '/': $('search').focus(); $('search').select(); break;
    case '?': $('help').showModal(); break;
    case 'Escape':
      if (document.body.classList.contains('menu-open')) setMenu(false);
      else if (document.body.dataset.view === 'read') back();
      else return;
      break;
    default: return;
  }
  ev.preventDefault();
}

function back() {
  const id = state.open?.id;
  closeMessage();
  const b = id && $('list').querySelector(`li[data-id="${id}"] button`);
  if (b) b.focus({ preventScroll: true });
}

function setMenu(open) {
  document.body.classList.toggle('menu-open', open);
  $('menu-button').setAttribute('aria-expanded', String(open));
  $('scrim').hidden = !open;
  if (open) $('folder-list').querySelector('a[aria-current]')?.focus();
}

// ---------------------------------------------------------------------------------------------
// Logging in

function setMode(m) {
  mode = m;
  document.body.dataset.mode = m;
}

async function enter() {
  status('');
  try {
    me = await api('GET', '/api/me');
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 401 && e.status !== 403)) throw e;
    me = null;
    const persona = handle.currentSession?.persona;
    setMode('signin');
    $('signin').hidden = false;
    $('logout').hidden = !persona;
    if (persona) {
      $('signin-title').textContent = 'No mail for you here';
      $('signin-text').textContent = `${persona.displayName || persona.name}, you may not use Mail on this appliance. Ask its owner to let you, or log in as someone else.`;
      $('signin-button').textContent = 'Log in as someone else';
      return;
    }
    await logIn();
    return;
  }
  setMode('mail');
  $('signin').hidden = true;
  $('who').textContent = me.address;
  $('logout').hidden = !handle.currentSession?.persona;
  const first = location.hash.slice(1);
  await openFolder(FOLDER_NAMES[first] ? first : 'inbox');
  refreshOutbox().catch((e) => console.warn('[mail] outbox', e));
  clearInterval(pollTimer);
  pollTimer = setInterval(poll, POLL_MS);
}

async function poll() {
  if (mode !== 'mail' || document.hidden) return;
  try {
    const changed = await refreshFolders();
    if (changed && !state.query && state.messages.length <= PAGE_SIZE) await loadList({ keep: true });
    await refreshOutbox();
  } catch (e) {
    console.warn('[mail] poll', e);
  }
}

async function logIn() {
  const info = await handle.showLogin({ title: 'Log in to your mail' });
  if (!info) {
    setMode('signin');
    $('signin').hidden = false;
    status('Log in to read your mail.');
    return;
  }
  error(null);
  await enter();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $('error-close').addEventListener('click', () => error(null));
  $('status-close').addEventListener('click', () => status(''));
  $('signin-button').addEventListener('click', async () => {
    try {
      if (handle.currentSession?.persona) await handle.logout();
      await logIn();
    } catch (e) { error(e); }
  });
  $('logout').addEventListener('click', async () => {
    try { await handle.logout(); } catch (e) { error(e); return; }
    location.hash = '';
    location.reload();
  });
  $('menu-button').addEventListener('click', () => setMenu(!document.body.classList.contains('menu-open')));
  $('scrim').addEventListener('click', () => setMenu(false));
  $('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); search($('search').value); $('list').focus(); });
  $('clear-search').addEventListener('click', () => openFolder(state.folder));
  $('load-more').addEventListener('click', () => loadList({ more: true, keep: true }).catch(error));
  $('back').addEventListener('click', back);
  $('remote-show').addEventListener('click', () => { if (state.open) openMessage(state.open.id, { remote: true }); });

  $('compose-button').addEventListener('click', () => { setMenu(false); compose(); });
  $('act-reply').addEventListener('click', () => reply(false));
  $('act-reply-all').addEventListener('click', () => reply(true));
  $('act-forward').addEventListener('click', () => forward());
  $('act-archive').addEventListener('click', () => archive(target()));
  $('act-delete').addEventListener('click', () => remove(target()));
  $('act-unread').addEventListener('click', () => markUnread());
  $('act-flag').addEventListener('click', () => toggleFlag());
  $('act-accept').addEventListener('click', () => acceptSender());
  $('act-block').addEventListener('click', () => blockSender());

  $('compose-form').addEventListener('submit', (ev) => { ev.preventDefault(); sendCompose(); });
  $('compose-form').addEventListener('input', (ev) => { if (ev.target.id !== 'c-files') composeChanged(); });
  $('compose-cancel').addEventListener('click', () => { discardCompose().catch(error); });
  $('compose-save').addEventListener('click', () => { if (state.compose) saveDraft(state.compose, { force: true }).catch(() => {}); });
  $('compose-close').addEventListener('click', leaveCompose);
  $('compose').addEventListener('cancel', (ev) => { ev.preventDefault(); leaveCompose(); }); // Esc: kept in Drafts
  $('compose').addEventListener('close', () => { if (!$('compose').open && state.compose) leaveCompose(); }); // closed otherwise
  $('c-files').addEventListener('change', (ev) => {
    if (!state.compose) return;
    state.compose.attached.push(...[...ev.target.files].map((file) => ({ file })));
    ev.target.value = ''; // the same file may be picked again
    composeChanged();
    renderComposeFiles();
  });
  for (const id of ['c-to', 'c-cc', 'c-bcc']) suggestions($(id));
  $('compose-account').addEventListener('click', () => { leaveCompose(); openSettings(); });

  $('outbox-button').addEventListener('click', () => { renderOutbox(); $('outbox').showModal(); refreshOutbox().catch(error); });
  $('outbox-close').addEventListener('click', () => $('outbox').close());
  $('outbox-retry').addEventListener('click', retryOutbox);

  $('settings-button').addEventListener('click', openSettings);
  $('settings-close').addEventListener('click', () => $('settings').close());
  $('account-form').addEventListener('submit', (ev) => { ev.preventDefault(); saveAccount(); });
  $('account-delete').addEventListener('click', deleteAccount);
  $('account-fetch').addEventListener('click', fetchNow);
  for (const kind of ['smtp', 'imap']) $(`a-${kind}-security`).addEventListener('change', portHints);

  $('help-button').addEventListener('click', () => $('help').showModal());
  $('help-close').addEventListener('click', () => $('help').close());

  document.addEventListener('keydown', onKey);
  addEventListener('beforeunload', (ev) => { // a message being written, not saved yet
    const c = state.compose;
    if (c && c.version !== c.savedVersion && hasContent(c, composeFields())) ev.preventDefault();
  });
  addEventListener('hashchange', () => {
    const id = location.hash.slice(1);
    if (mode === 'mail' && FOLDER_NAMES[id] && (id !== state.folder || state.query)) openFolder(id);
  });
  addEventListener('focus', () => poll());
}

async function main() {
  const appliance = params.get('appliance');
  wire();
  if (!appliance) {
    setMode('signin');
    error(new Error('Open this page with ?appliance=<your appliance ID>.'));
    return;
  }
  try {
    handle = install({ flock, appliance });
  } catch (e) {
    setMode('signin');
    error(e);
    return;
  }
  status('Connecting to your appliance…', { sticky: true });
  const start = async () => {
    try {
      await handle.link();
      await enter();
    } catch (e) {
      status('');
      error(new Error(`Cannot reach your appliance: ${e.message}`), start);
    }
  };
  await start();
}

main();

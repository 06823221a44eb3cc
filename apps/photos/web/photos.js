// The photo album's web app: a gallery of the logged-in person's library on their appliance,
// reached through the shim's verified link (docs/photos.md has the app's HTTP API). Pages:
// the timeline, albums, favourites, search, trash and share links; a share link's visitor sees
// only what was shared with them, read-only. ?appliance=<ID>[&flock=ws://…] as for the admin
// app; `&limit=N` sets how many photos one request asks for (a smaller page, for trying the
// infinite scroll).
//
// Images and videos come over the link, not from a URL the browser could load by itself: the
// shim patches fetch and XMLHttpRequest only, so an <img> or <video> gets an object URL of a
// Blob fetched here, revoked again when it scrolls far away or the page changes.
import { install } from '/shim/intrustd-shim.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const flock = params.get('flock') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
const APP = 'intrustd+app://photos';
const PAGE_SIZE = Math.min(500, Math.max(1, Number(params.get('limit')) || 100));
const PART = 8 * 1024 * 1024; // resumable uploads go in parts of this size
const PARALLEL_UPLOADS = 2;
const CONTROL_TIMEOUT = 20000; // an upload's small requests: no answer by then, asked again
const PART_TIMEOUT = 300000; // one part: 8 MiB at 30 KB/s
const MAX_THUMB_FETCHES = 6; // thumbnails asked for at once
const THUMB_CACHE = 600; // small thumbnails kept (as Blobs) for scrolling back
const LARGE_CACHE = 8; // large previews kept for ←/→
const VISITOR_KEY = () => `intrustd-photos-visitor:${params.get('appliance')}`;

let handle;
let mode = 'starting'; // 'library' (logged in, with a library), 'visitor' (a share link), 'signin'
let me = null; // GET /api/me
let page = null; // the page shown: {name, feeds: [Feed], arg}

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
function items(n) { return plural(n, 'item'); }
function bytes(n) {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
function duration(ms) {
  if (ms == null) return '';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A local wall-clock time ("2024-07-05T14:03:22", no zone: as the camera said) as a Date, or null. */
function wallClock(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(text || '');
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] || 0), Number(m[5] || 0), Number(m[6] || 0));
}
/** When a photo was taken, for sorting and grouping: its wall-clock time, else when it was uploaded. */
function takenOf(p) { return p.takenAt || (p.uploadedAt ? localIso(new Date(p.uploadedAt)) : ''); }
function localIso(d) {
  const z = (n, w = 2) => String(n).padStart(w, '0');
  return `${z(d.getFullYear(), 4)}-${z(d.getMonth() + 1)}-${z(d.getDate())}T${z(d.getHours())}:${z(d.getMinutes())}:${z(d.getSeconds())}`;
}
function dayOf(p) { return takenOf(p).slice(0, 10) || 'unknown'; }
function monthOf(p) { return takenOf(p).slice(0, 7) || 'unknown'; }

function dayLabel(day) {
  const d = wallClock(day);
  if (!d) return 'Date unknown';
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  const same = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  const full = d.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  if (same(d, today)) return { short: 'Today', full };
  if (same(d, yesterday)) return { short: 'Yesterday', full };
  const short = d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short',
    year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' });
  return { short, full };
}
function monthLabel(month) {
  const d = wallClock(`${month}-01`);
  return d ? d.toLocaleDateString(undefined, { month: 'long', year: 'numeric' }) : 'Date unknown';
}
function whenLabel(p) {
  const d = wallClock(takenOf(p));
  return d ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : 'date unknown';
}
function isoWhen(iso) { return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : 'never'; }

function kindWord(p) { return p.kind === 'video' ? 'Video' : 'Photo'; }
function photoLabel(p) { return `${kindWord(p)} ${p.name}, ${whenLabel(p)}`; }

/** The width/height ratio the photo shows with (the API gives the upright size, EXIF orientation applied). */
function aspectOf(p) {
  const w = Number(p.width);
  const h = Number(p.height);
  if (!(w > 0 && h > 0)) return 1;
  return Math.min(4, Math.max(0.25, w / h));
}

// ---------------------------------------------------------------------------------------------
// Status and errors

let toastTimer = null;
/**
 * A short message at the bottom of the page (role=status), with an optional action button
 * (“Undo”); it goes away by itself unless `sticky`.
 */
function status(text, { action = null, sticky = false } = {}) {
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
  if (text && !sticky) toastTimer = setTimeout(() => status(''), action ? 12000 : 8000);
}

/** The error box at the top of the page (role=alert); `retry` adds a “Try again” button. */
function error(e, retry = null) {
  const box = $('error');
  box.hidden = !e;
  $('error-text').textContent = e ? messageOf(e) : '';
  const button = $('error-retry');
  button.hidden = !retry;
  button.onclick = retry ? async () => { error(null); await retry(); } : null;
  if (e) console.warn('[photos]', e);
}

function messageOf(e) {
  if (mode === 'visitor' && e instanceof ApiError && (e.status === 403 || e.status === 401)) return REVOKED;
  return e.message || String(e);
}
const REVOKED = 'This share link no longer works: it was revoked or it expired. Ask whoever shared it with you for a new one.';

// ---------------------------------------------------------------------------------------------
// The app's API, over the link

function appUrl(path) { return `${APP}${path}`; }

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
  const why = detail || ({ 401: 'You need to log in.', 403: 'You may not see this.', 404: 'It is not there (any more).',
    413: 'It is too large.', 422: 'It was refused.', 429: 'Too many requests: try again in a moment.' }[res.status]
    || `The appliance answered ${res.status}.`);
  return new ApiError(why, res.status);
}

/**
 * A request to the app; `timeoutMs`: given up (and retried by the caller) when its answer has
 * not begun by then, so that a request lost on the way cannot hold an upload for ever.
 */
async function send(method, path, { body, headers = {}, signal, timeoutMs = 0 } = {}) {
  const timer = timeoutMs ? AbortSignal.timeout(timeoutMs) : null;
  const both = timer ? (signal ? AbortSignal.any([signal, timer]) : timer) : signal;
  try {
    return await fetch(appUrl(path), { method, body, headers, signal: both });
  } catch (e) {
    if (timer?.aborted && !signal?.aborted) {
      console.warn(`[photos] ${method} ${path}: no answer in ${timeoutMs / 1000} s`);
      throw new ApiError(`Your appliance did not answer in ${timeoutMs / 1000} s.`, 0, { cause: e });
    }
    if (e.name === 'AbortError') throw e;
    throw new ApiError(`Cannot reach your appliance: ${e.cause?.message || e.message}`, 0, { cause: e });
  }
}

/** A JSON request; resolves with the answer (null for 204), rejects with ApiError. */
async function api(method, path, json, { signal, timeoutMs } = {}) {
  const res = await send(method, path, json === undefined ? { signal, timeoutMs }
    : { body: JSON.stringify(json), headers: { 'Content-Type': 'application/json' }, signal, timeoutMs });
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

/**
 * A whole body as a Blob of type `type` (or the answer's Content-Type), with `onProgress(received,
 * total|null)` as it arrives. Resolves {blob, status}; 202 (being made) counts as an answer.
 */
async function fetchBlob(path, { signal, onProgress, type } = {}) {
  const res = await send('GET', path, { signal });
  if (res.status !== 200 && res.status !== 202) throw await problemOf(res);
  const contentType = type || (res.headers.get('Content-Type') || '').split(';')[0].trim();
  const total = Number(res.headers.get('Content-Length')) || null;
  if (!onProgress || !res.body) return { blob: new Blob([await res.blob()], { type: contentType }), status: res.status };
  const reader = res.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress(received, total);
  }
  return { blob: new Blob(chunks, { type: contentType }), status: res.status };
}

/** Saves a Blob as a download named `name`. */
function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_') || 'download' });
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// ---------------------------------------------------------------------------------------------
// Thumbnails: fetched a few at a time (those near the screen first), kept as Blobs for a while

const thumbCache = new Map(); // `${id}:${size}` → Blob, oldest first
const thumbQueue = [];
let thumbsInFlight = 0;

function cacheGet(key) {
  const b = thumbCache.get(key);
  if (b) { thumbCache.delete(key); thumbCache.set(key, b); }
  return b;
}
function cachePut(key, blob, max) {
  thumbCache.set(key, blob);
  const size = key.endsWith(':l') ? 'l' : 's';
  const keys = [...thumbCache.keys()].filter((k) => k.endsWith(`:${size}`));
  for (let i = 0; i < keys.length - max; i++) thumbCache.delete(keys[i]);
}
function forgetThumbs(id) { thumbCache.delete(`${id}:s`); thumbCache.delete(`${id}:l`); }

/**
 * A thumbnail (`size` s or l): {promise → {blob, pending}, cancel()}. `pending`: the app is
 * still making it and sent a placeholder (202): ask again later with `fresh`.
 */
function requestThumb(id, size, { fresh = false, urgent = false } = {}) {
  const key = `${id}:${size}`;
  const cached = !fresh && cacheGet(key);
  if (cached) return { promise: Promise.resolve({ blob: cached, pending: false }), cancel() {} };
  let job;
  const promise = new Promise((resolve, reject) => { job = { key, id, size, resolve, reject, cancelled: false, controller: null }; });
  if (urgent) thumbQueue.unshift(job); else thumbQueue.push(job);
  pumpThumbs();
  return {
    promise,
    cancel() {
      if (job.cancelled) return;
      job.cancelled = true;
      if (job.controller) job.controller.abort();
      else job.reject(new DOMException('cancelled', 'AbortError'));
    },
  };
}

function pumpThumbs() {
  while (thumbsInFlight < MAX_THUMB_FETCHES && thumbQueue.length) {
    const job = thumbQueue.shift();
    if (job.cancelled) continue;
    runThumb(job);
  }
}

async function runThumb(job) {
  thumbsInFlight++;
  job.controller = new AbortController();
  try {
    const { blob, status: code } = await fetchBlob(`/api/photos/${encodeURIComponent(job.id)}/thumb?size=${job.size}`,
      { signal: job.controller.signal });
    if (code === 200) cachePut(job.key, blob, job.size === 'l' ? LARGE_CACHE : THUMB_CACHE);
    job.resolve({ blob, pending: code === 202 });
  } catch (e) {
    job.reject(e);
  } finally {
    thumbsInFlight--;
    pumpThumbs();
  }
}

// ---------------------------------------------------------------------------------------------
// Selection (on the page shown)

const selection = { ids: new Set(), feed: null, last: null };

function select(feed, id, on) {
  if (selection.feed && selection.feed !== feed) clearSelection();
  const key = String(id);
  selection.feed = feed;
  if (on) selection.ids.add(key); else selection.ids.delete(key);
  selection.last = key;
  feed.tiles.get(key)?.setSelected(on);
  selectionChanged();
}

/** The selected photos' ids, as the API takes them. */
function selectedIds() { return [...selection.ids].map((k) => selection.feed?.photo(k)?.id ?? Number(k)); }

function clearSelection() {
  if (selection.feed) for (const id of selection.ids) selection.feed.tiles.get(id)?.setSelected(false);
  selection.ids.clear();
  selection.feed = null;
  selection.last = null;
  selectionChanged();
}

function selectionChanged() {
  const n = selection.ids.size;
  $('selection-bar').hidden = n === 0;
  document.body.classList.toggle('selecting', n > 0);
  $('sel-count').textContent = `${n} selected`;
  const feedMode = selection.feed?.mode || 'library';
  for (const b of $('selection-bar').querySelectorAll('[data-in]')) b.hidden = !shownIn(b.dataset.in, feedMode);
  $('sel-share').hidden = $('sel-share').hidden || n !== 1;
  const favs = [...selection.ids].map((k) => selection.feed?.photo(k)).filter(Boolean);
  const allFav = favs.length > 0 && favs.every((p) => p.favourite);
  $('sel-favourite').querySelector('span').textContent = allFav ? 'Unfavourite' : 'Favourite';
  for (const f of page?.feeds || []) for (const day of f.root.querySelectorAll('.day')) f.updateDayButton(day);
}

/** Whether a control marked data-in=`where` belongs in a feed of `feedMode`. */
function shownIn(where, feedMode) {
  if (where === 'library') return feedMode === 'library' || feedMode === 'album';
  return where === feedMode;
}

// ---------------------------------------------------------------------------------------------
// A tile: one photo in a grid, its thumbnail loaded while it is near the screen

class Tile {
  constructor(feed, photo) {
    this.feed = feed;
    this.photo = photo;
    this.state = 'idle';
    this.url = null;
    this.req = null;
    this.retries = 0;
    this.timer = null;
    this.img = el('img', { alt: '', draggable: 'false', decoding: 'async' });
    this.img.addEventListener('load', () => {
      this.el.classList.add('loaded');
      // the thumbnail is upright: its shape is the one to lay out with
      const { naturalWidth: w, naturalHeight: h } = this.img;
      if (this.real && w > 0 && h > 0) this.el.style.setProperty('--ar', Math.min(4, Math.max(0.25, w / h)).toFixed(4));
    });
    this.img.addEventListener('error', () => { if (this.url) this.el.classList.add('failed'); });
    this.open = el('button', { type: 'button', class: 'open', onclick: (ev) => this.clicked(ev) }, this.img);
    this.badges = el('span', { class: 'badges' });
    this.pick = el('button', { type: 'button', class: 'pick', role: 'checkbox', 'aria-checked': 'false',
      onclick: (ev) => { ev.stopPropagation(); this.toggle(ev.shiftKey); } }, icon('check'));
    this.el = el('li', { class: 'tile', dataset: { id: photo.id } }, this.open, this.badges, feed.mode === 'visitor' ? null : this.pick);
    this.render();
  }

  render() {
    const p = this.photo;
    this.el.style.setProperty('--ar', aspectOf(p).toFixed(4));
    this.el.dataset.kind = p.kind;
    this.open.setAttribute('aria-label', photoLabel(p));
    this.pick.setAttribute('aria-label', `Select ${p.name}`);
    const badges = [];
    if (p.kind === 'video') badges.push(el('span', { class: 'badge video' }, icon('play', 'icon tiny'), el('span', { text: duration(p.durationMs) })));
    if (p.favourite && this.feed.mode !== 'visitor') badges.push(el('span', { class: 'badge fav', title: 'Favourite' }, icon('heart', 'icon tiny filled')));
    if (this.feed.mode === 'trash' && p.trashedAt) badges.push(el('span', { class: 'badge when', text: `trashed ${new Date(p.trashedAt).toLocaleDateString()}` }));
    this.badges.replaceChildren(...badges);
  }

  setSelected(on) {
    this.el.classList.toggle('selected', on);
    this.pick.setAttribute('aria-checked', String(on));
  }

  toggle(range) {
    const on = !selection.ids.has(String(this.photo.id)) || selection.feed !== this.feed;
    if (range && selection.last && selection.feed === this.feed) {
      const a = this.feed.indexOf(selection.last);
      const b = this.feed.indexOf(this.photo.id);
      if (a >= 0 && b >= 0) {
        for (let i = Math.min(a, b); i <= Math.max(a, b); i++) select(this.feed, this.feed.items[i].id, true);
        return;
      }
    }
    select(this.feed, this.photo.id, on);
  }

  clicked(ev) {
    if (this.feed.mode !== 'visitor' && (selection.ids.size > 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey)) {
      this.toggle(ev.shiftKey);
      return;
    }
    lightbox.open(this.feed, this.photo.id);
  }

  load() {
    if (this.state !== 'idle') return;
    this.state = 'loading';
    this.fetch(false);
  }

  fetch(fresh) {
    this.req = requestThumb(this.photo.id, 's', { fresh });
    this.req.promise.then(({ blob, pending }) => {
      if (this.state !== 'loading') return;
      this.show(blob, !pending);
      if (pending && this.retries < 12) {
        this.state = 'pending';
        const delay = Math.min(30000, 1000 * 2 ** this.retries++);
        this.timer = setTimeout(() => { if (this.state === 'pending') { this.state = 'loading'; this.fetch(true); } }, delay);
      } else {
        this.state = 'shown';
      }
    }, (e) => {
      if (e.name === 'AbortError') { if (this.state === 'loading') this.state = 'idle'; return; }
      this.state = 'failed';
      this.el.classList.add('failed');
      this.el.title = `No preview: ${messageOf(e)}`;
    });
  }

  show(blob, real) {
    const old = this.url;
    this.real = real;
    this.url = URL.createObjectURL(blob);
    this.img.src = this.url;
    this.el.classList.toggle('placeholder', !real);
    if (old) URL.revokeObjectURL(old);
  }

  /** Far from the screen: its image goes (the Blob stays in the cache for a while). */
  unload() {
    if (this.state === 'loading' && this.req) this.req.cancel();
    clearTimeout(this.timer);
    this.state = 'idle';
    if (this.url) { URL.revokeObjectURL(this.url); this.url = null; }
    this.img.removeAttribute('src');
    this.el.classList.remove('loaded', 'failed', 'placeholder');
  }

  /** Asked again (an upload's preview is ready, a restore). */
  reload() {
    this.unload();
    this.retries = 0;
    this.load();
  }
}

// ---------------------------------------------------------------------------------------------
// A feed: a grid of photos, grouped by day under month headings or not, that loads more with
// the cursor API as it is scrolled to its end

class Feed {
  /**
   * @param {HTMLElement} root
   * @param {{load: (cursor) => Promise<{photos, next}>, grouped?: boolean, mode?: string,
   *   empty?: () => Node, monthCounts?: Map<string, number>, onLoaded?: Function}} options
   */
  constructor(root, { load, grouped = true, mode = 'library', empty, monthCounts = null, onLoaded = null }) {
    Object.assign(this, { root, loader: load, grouped, mode, emptyView: empty, monthCounts, onLoaded });
    this.items = [];
    this.tiles = new Map();
    this.next = null;
    this.done = false;
    this.loading = null;
    this.days = new Map(); // day → {section, grid}
    this.months = new Map(); // month → {section, count}
    this.body = el('div', { class: 'feed-body' });
    this.flat = grouped ? null : el('ul', { class: 'grid', 'aria-label': 'Photos' });
    if (this.flat) this.body.append(this.flat);
    this.emptyBox = el('div', { class: 'feed-empty' });
    this.emptyBox.hidden = true;
    this.more = el('div', { class: 'more', 'aria-live': 'polite' });
    root.replaceChildren(this.body, this.emptyBox, this.more);
    // near the screen: load; far from it: let go of the image
    this.near = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const tile = this.tiles.get(e.target.dataset.id);
        if (!tile) continue;
        if (e.isIntersecting) tile.load();
        else if (tile.state === 'loading' && tile.req) tile.req.cancel();
      }
    }, { rootMargin: '800px 0px' });
    this.far = new IntersectionObserver((entries) => {
      for (const e of entries) if (!e.isIntersecting) this.tiles.get(e.target.dataset.id)?.unload();
    }, { rootMargin: '4000px 0px' });
    this.end = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { rootMargin: '1200px 0px' });
    this.end.observe(this.more);
    this.skeleton();
  }

  photo(id) { return this.tiles.get(String(id))?.photo; }
  indexOf(id) { const k = String(id); return this.items.findIndex((p) => String(p.id) === k); }

  skeleton() {
    const row = el('ul', { class: 'grid skeleton', 'aria-hidden': 'true' });
    for (let i = 0; i < 12; i++) row.append(el('li', { class: 'tile ghost', style: `--ar:${[1.5, 0.75, 1, 1.33][i % 4]}` }));
    this.more.replaceChildren(el('p', { class: 'sr', text: 'Loading photos…' }), row);
  }

  /** The next page, unless all is there or a page is on its way; resolves when it is shown. */
  loadMore() {
    if (this.done || this.loading || this.dead) return this.loading || Promise.resolve();
    if (this.items.length) this.more.replaceChildren(el('p', { class: 'loading-more' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading more…'));
    this.loading = (async () => {
      try {
        const { photos, next } = await this.loader(this.next);
        if (this.dead) return;
        this.append(photos || []);
        this.next = next || null;
        this.done = !this.next;
        this.more.replaceChildren();
        if (this.done) this.more.append(this.items.length > 40 ? el('p', { class: 'muted end', text: `That is all: ${items(this.items.length)}.` }) : '');
        this.showEmpty();
        this.onLoaded?.(this);
      } catch (e) {
        if (this.dead) return;
        const retry = el('button', { type: 'button', class: 'quiet', text: 'Try again', onclick: () => { this.more.replaceChildren(); this.loadMore(); } });
        this.more.replaceChildren(el('div', { class: 'load-failed' }, el('p', { text: `Could not load ${this.items.length ? 'more ' : ''}photos: ${messageOf(e)}` }), retry));
        if (!this.items.length) error(e);
      } finally {
        this.loading = null;
      }
      // still at the end (a short page, a tall screen): the next page at once
      if (!this.done && !this.dead) {
        const r = this.more.getBoundingClientRect();
        if (r.top < innerHeight + 1200 && !this.more.querySelector('.load-failed')) requestAnimationFrame(() => this.loadMore());
      }
    })();
    return this.loading;
  }

  /** Until all is loaded. */
  async loadAll() {
    while (!this.done && !this.dead) {
      await this.loadMore();
      if (this.more.querySelector('.load-failed')) return;
    }
  }

  showEmpty() {
    const empty = this.done && this.items.length === 0;
    if (empty && this.emptyView && !this.emptyBox.firstChild) this.emptyBox.append(this.emptyView());
    this.emptyBox.hidden = !empty;
  }

  append(photos) {
    for (const p of photos) {
      if (this.tiles.has(String(p.id))) continue;
      this.items.push(p);
      const tile = this.addTile(p);
      this.gridFor(p, true).append(tile.el);
    }
  }

  addTile(p) {
    const tile = new Tile(this, p);
    this.tiles.set(String(p.id), tile);
    this.near.observe(tile.el);
    this.far.observe(tile.el);
    if (selection.feed === this && selection.ids.has(String(p.id))) tile.setSelected(true);
    return tile;
  }

  /** The grid a photo goes in: its day's (made, in date order, if missing) or the only one. */
  gridFor(p, atEnd) {
    if (!this.grouped) return this.flat;
    const day = dayOf(p);
    let d = this.days.get(day);
    if (d) return d.grid;
    const month = monthOf(p);
    let m = this.months.get(month);
    if (!m) {
      const count = el('span', { class: 'count' });
      const h = el('h2', { class: 'month-head' }, el('span', { text: monthLabel(month) }), count);
      m = { section: el('section', { class: 'month', dataset: { month }, 'aria-label': monthLabel(month) }, h), count, n: 0 };
      this.months.set(month, m);
      const later = atEnd ? null : [...this.body.children].find((s) => s.dataset.month < month);
      this.body.insertBefore(m.section, later || null);
    }
    const { short, full } = typeof dayLabel(day) === 'string' ? { short: dayLabel(day), full: dayLabel(day) } : dayLabel(day);
    const pickDay = el('button', { type: 'button', class: 'day-pick', role: 'checkbox', 'aria-checked': 'false',
      'aria-label': `Select all of ${full}`, onclick: () => this.toggleDay(day) }, icon('check'));
    const head = el('div', { class: 'day-head' },
      this.mode === 'visitor' ? null : pickDay,
      el('h3', {}, el('time', { datetime: day, title: full, text: short })));
    const grid = el('ul', { class: 'grid', 'aria-label': full });
    const section = el('section', { class: 'day', dataset: { day } }, head, grid);
    d = { section, grid, month };
    this.days.set(day, d);
    const laterDay = atEnd ? null : [...m.section.querySelectorAll(':scope > .day')].find((s) => s.dataset.day < day);
    m.section.insertBefore(section, laterDay || null);
    this.updateMonth(month);
    return grid;
  }

  updateMonth(month) {
    const m = this.months.get(month);
    if (!m) return;
    const n = this.monthCounts?.get(month);
    m.count.textContent = n ? ` · ${items(n)}` : '';
  }

  toggleDay(day) {
    const ids = this.items.filter((p) => dayOf(p) === day).map((p) => String(p.id));
    const all = selection.feed === this && ids.every((id) => selection.ids.has(id));
    for (const id of ids) select(this, id, !all);
  }

  updateDayButton(section) {
    const b = section.querySelector('.day-pick');
    if (!b) return;
    const ids = this.items.filter((p) => dayOf(p) === section.dataset.day).map((p) => String(p.id));
    b.setAttribute('aria-checked', String(selection.feed === this && ids.length > 0 && ids.every((id) => selection.ids.has(id))));
  }

  /**
   * A photo that arrived (an upload) in its place, newest first; not when it belongs after what
   * is loaded yet (the infinite scroll brings it).
   */
  insert(p) {
    if (this.tiles.has(String(p.id))) { this.update(p); return; }
    const key = takenOf(p);
    let i = this.items.findIndex((q) => takenOf(q) < key);
    if (i < 0) {
      if (!this.done) return;
      i = this.items.length;
    }
    this.items.splice(i, 0, p);
    const tile = this.addTile(p);
    const grid = this.gridFor(p, false);
    // before the first tile of the same grid that comes after it
    const after = this.items.slice(i + 1).find((q) => this.tiles.get(String(q.id))?.el.parentNode === grid);
    grid.insertBefore(tile.el, after ? this.tiles.get(String(after.id)).el : null);
    if (this.monthCounts) {
      this.monthCounts.set(monthOf(p), (this.monthCounts.get(monthOf(p)) || 0) + 1);
      this.updateMonth(monthOf(p));
    }
    this.showEmpty();
  }

  update(p) {
    const tile = this.tiles.get(String(p.id));
    if (!tile) return;
    const i = this.indexOf(p.id);
    if (i >= 0) this.items[i] = p;
    tile.photo = p;
    tile.render();
  }

  remove(id) {
    const tile = this.tiles.get(String(id));
    if (!tile) return;
    const p = tile.photo;
    tile.unload();
    this.near.unobserve(tile.el);
    this.far.unobserve(tile.el);
    const grid = tile.el.parentNode;
    tile.el.remove();
    this.tiles.delete(String(id));
    this.items.splice(this.indexOf(id), 1);
    if (selection.feed === this) selection.ids.delete(String(id));
    if (this.grouped && grid && !grid.children.length) {
      const day = dayOf(p);
      this.days.get(day)?.section.remove();
      this.days.delete(day);
      const m = this.months.get(monthOf(p));
      if (m && !m.section.querySelector('.day')) { m.section.remove(); this.months.delete(monthOf(p)); }
    }
    if (this.monthCounts?.get(monthOf(p))) {
      this.monthCounts.set(monthOf(p), this.monthCounts.get(monthOf(p)) - 1);
      this.updateMonth(monthOf(p));
    }
    this.showEmpty();
  }

  /** The page changed: every image let go, nothing more loaded. */
  destroy() {
    this.dead = true;
    for (const t of this.tiles.values()) t.unload();
    this.near.disconnect();
    this.far.disconnect();
    this.end.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// The lightbox

const lightbox = {
  feed: null,
  index: -1,
  photo: null,
  urls: [], // object URLs of what is shown
  controller: null,
  neighbours: [],
  touchX: null,

  open(feed, id) {
    this.feed = feed;
    this.index = feed.indexOf(id);
    if (this.index < 0) return;
    this.returnTo = id;
    const dialog = $('lightbox');
    dialog.dataset.mode = feed.mode;
    for (const b of dialog.querySelectorAll('[data-in]')) b.hidden = !shownIn(b.dataset.in, feed.mode);
    const wide = matchMedia('(min-width: 60rem)').matches;
    this.setInfo(wide);
    if (!dialog.open) {
      // the page under it stays where it was, and does not scroll
      this.scrollY = scrollY;
      document.body.style.top = `-${scrollY}px`;
      document.body.classList.add('lightbox-open');
      dialog.showModal();
    }
    this.show();
  },

  setInfo(on) {
    $('lb-info').setAttribute('aria-pressed', String(on));
    $('lb-details').hidden = !on;
    $('lightbox').classList.toggle('with-details', on);
  },

  clear() {
    if (this.controller) this.controller.abort();
    this.controller = null;
    for (const v of $('lb-media').querySelectorAll('video')) { v.pause(); v.removeAttribute('src'); v.load(); }
    for (const u of this.urls) URL.revokeObjectURL(u);
    this.urls = [];
    for (const n of this.neighbours) n.cancel();
    this.neighbours = [];
    $('lb-media-status').textContent = '';
  },

  close() {
    const dialog = $('lightbox');
    this.clear();
    $('lb-media').replaceChildren();
    if (dialog.open) dialog.close();
    if (document.body.classList.contains('lightbox-open')) {
      document.body.classList.remove('lightbox-open');
      document.body.style.top = '';
      scrollTo(0, this.scrollY || 0);
    }
    const tile = this.feed?.tiles.get(String(this.photo?.id ?? this.returnTo));
    this.feed = null;
    this.photo = null;
    if (tile) { tile.el.scrollIntoView({ block: 'nearest' }); tile.open.focus(); }
  },

  async go(delta) {
    if (!this.feed) return;
    let i = this.index + delta;
    if (i >= this.feed.items.length && !this.feed.done) {
      $('lb-media-status').textContent = 'Loading more…';
      await this.feed.loadMore();
    }
    if (i < 0 || i >= this.feed.items.length) return;
    this.index = i;
    this.show();
  },

  show() {
    this.clear();
    const feed = this.feed;
    const p = feed.items[this.index];
    this.photo = p;
    const controller = new AbortController();
    this.controller = controller;
    $('lb-title').textContent = p.name;
    $('lb-prev').disabled = this.index === 0;
    $('lb-next').disabled = this.index >= feed.items.length - 1 && feed.done;
    $('lb-media').dataset.id = p.id;
    this.renderDetails(p, null);
    this.renderFavourite(p);
    const media = $('lb-media');
    // the small thumbnail at once (it is in the cache), the large one over it when it comes
    const small = cacheGet(`${p.id}:s`);
    const img = el('img', { class: 'lb-image', alt: `${kindWord(p)} ${p.name}` });
    if (small) img.src = this.track(URL.createObjectURL(small));
    img.classList.toggle('soft', Boolean(small));
    if (p.kind === 'video') {
      media.replaceChildren(img);
      this.playVideo(p, img, controller.signal);
    } else {
      media.replaceChildren(img);
      const large = requestThumb(p.id, 'l', { urgent: true });
      this.neighbours.push(large);
      large.promise.then(({ blob, pending }) => {
        if (this.photo !== p) return;
        img.src = this.track(URL.createObjectURL(blob));
        img.classList.remove('soft');
        if (pending) $('lb-media-status').textContent = 'The preview is still being made…';
      }, (e) => { if (e.name !== 'AbortError' && this.photo === p) $('lb-media-status').textContent = `No preview: ${messageOf(e)}`; });
    }
    // the details (with albums) when this is the person's own library
    if (feed.mode !== 'visitor') {
      api('GET', `/api/photos/${encodeURIComponent(p.id)}`, undefined, { signal: controller.signal }).then((full) => {
        if (this.photo !== p) return;
        this.renderDetails(full, full.albums || []);
        this.renderFavourite(full);
      }, () => { /* the list's copy is shown */ });
    }
    // the neighbours' large previews, for ←/→
    for (const j of [this.index + 1, this.index - 1]) {
      const q = feed.items[j];
      if (q && q.kind === 'image' && !thumbCache.has(`${q.id}:l`)) {
        const r = requestThumb(q.id, 'l');
        r.promise.catch(() => {});
        this.neighbours.push(r);
      }
    }
  },

  track(url) { this.urls.push(url); return url; },

  /** A video: its MP4 fetched whole as a Blob (a <video> cannot load an app URL), then played. */
  async playVideo(p, poster, signal) {
    const note = $('lb-media-status');
    const large = requestThumb(p.id, 'l', { urgent: true });
    this.neighbours.push(large);
    large.promise.then(({ blob }) => { if (this.photo === p && !$('lb-media').querySelector('video')) { poster.src = this.track(URL.createObjectURL(blob)); poster.classList.remove('soft'); } }, () => {});
    if (p.preview === 'unsupported' || p.preview === 'failed') {
      note.textContent = 'This video cannot be played in the browser. Download the original to watch it.';
      return;
    }
    try {
      for (let wait = 1000; ; wait = Math.min(wait * 1.5, 5000)) {
        note.textContent = 'Loading the video…';
        const { blob, status: code } = await fetchBlob(`/api/photos/${encodeURIComponent(p.id)}/video`, {
          signal, type: 'video/mp4',
          onProgress: (got, total) => { note.textContent = total ? `Loading the video… ${Math.floor((got / total) * 100)} %` : `Loading the video… ${bytes(got)}`; },
        });
        if (this.photo !== p) return;
        if (code === 200) {
          const video = el('video', { class: 'lb-video', controls: true, playsinline: true, preload: 'auto',
            'aria-label': `Video ${p.name}` });
          video.src = this.track(URL.createObjectURL(blob));
          $('lb-media').replaceChildren(video);
          note.textContent = '';
          try {
            await video.play();
          } catch {
            video.muted = true; // a browser that plays only muted videos by itself
            await video.play().catch(() => {});
          }
          return;
        }
        note.textContent = 'The video is being prepared for the browser…';
        await new Promise((r) => setTimeout(r, wait));
        if (signal.aborted) return;
      }
    } catch (e) {
      if (e.name !== 'AbortError' && this.photo === p) note.textContent = `The video cannot be played: ${messageOf(e)}`;
    }
  },

  renderFavourite(p) {
    const b = $('lb-favourite');
    b.setAttribute('aria-pressed', String(Boolean(p.favourite)));
    b.setAttribute('aria-label', p.favourite ? 'Favourite (on): remove from favourites' : 'Add to favourites');
    b.classList.toggle('on', Boolean(p.favourite));
  },

  renderDetails(p, albums) {
    const facts = [];
    const add = (term, value) => { if (value != null && value !== '') facts.push(el('dt', { text: term }), el('dd', {}, value)); };
    const from = { file: ' (the file’s date)', upload: ' (when it was uploaded)' }[p.takenFrom] || ''; // exif, video: as recorded
    add('Taken', `${whenLabel(p)}${from}`);
    add('Camera', p.camera);
    add('Lens', p.lens);
    if (p.width && p.height) {
      const [w, h] = aspectOf(p) >= 1 === p.width >= p.height ? [p.width, p.height] : [p.height, p.width];
      add('Dimensions', `${w} × ${h}${p.kind === 'image' ? ` (${((w * h) / 1e6).toFixed(1)} MP)` : ''}`);
    }
    if (p.kind === 'video') add('Duration', duration(p.durationMs));
    add('Size', bytes(p.size));
    add('Type', p.type);
    if (p.gps && Number.isFinite(Number(p.gps.lat)) && Number.isFinite(Number(p.gps.lon))) {
      const lat = Number(p.gps.lat).toFixed(5);
      const lon = Number(p.gps.lon).toFixed(5);
      add('Location', el('a', { href: `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`,
        target: '_blank', rel: 'noopener noreferrer', text: `${lat}, ${lon}` }));
    }
    add('File', p.name);
    if (p.uploadedAt) add('Uploaded', isoWhen(p.uploadedAt));
    if (p.trashedAt) add('In the trash since', isoWhen(p.trashedAt));
    $('lb-facts').replaceChildren(...facts);
    $('lb-albums-box').hidden = !albums || albums.length === 0;
    if (albums) {
      $('lb-albums').replaceChildren(...albums.map((a) => el('li', {}, el('a', { href: `#album/${encodeURIComponent(a.id)}`,
        onclick: () => this.close(), text: a.name }))));
    }
    this.renderTags(p);
  },

  renderTags(p) {
    const tags = p.tags || [];
    const editable = this.feed && shownIn('library', this.feed.mode);
    $('lb-tags-box').hidden = !editable && tags.length === 0;
    $('lb-tags').replaceChildren(...tags.map((t) => el('li', { class: 'chip' },
      el('a', { href: `#search?tag=${encodeURIComponent(t)}`, onclick: () => this.close(), text: t }),
      editable ? el('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove the tag ${t}`,
        onclick: () => this.setTags(tags.filter((x) => x !== t)) }, icon('close', 'icon tiny')) : null)));
    if (!tags.length) $('lb-tags').append(el('li', { class: 'muted', text: 'No tags' }));
  },

  async setTags(tags) {
    const p = this.photo;
    try {
      const updated = await api('PATCH', `/api/photos/${encodeURIComponent(p.id)}`, { tags });
      changed(updated);
      if (this.photo?.id === p.id) { this.photo = updated; this.renderTags(updated); }
      refreshTagOptions();
    } catch (e) { error(e); }
  },

  async toggleFavourite() {
    const p = this.photo;
    if (!p) return;
    try {
      const updated = await api('PATCH', `/api/photos/${encodeURIComponent(p.id)}`, { favourite: !p.favourite });
      changed(updated);
      if (this.photo?.id === p.id) { this.photo = updated; this.renderFavourite(updated); }
      status(updated.favourite ? 'Added to favourites.' : 'Removed from favourites.');
    } catch (e) { error(e); }
  },

  /** The current one left this view (trash, restore, removed from the album): show the next. */
  dropped(id) {
    if (!this.feed || this.photo?.id !== id) return;
    if (!this.feed.items.length) { this.close(); return; }
    this.index = Math.min(this.index, this.feed.items.length - 1);
    this.show();
  },
};

/** A photo changed: every feed of the page shows it anew. */
function changed(p) {
  for (const f of page?.feeds || []) f.update(p);
  if (selection.feed) selectionChanged();
}

// ---------------------------------------------------------------------------------------------
// Actions on photos

async function moveToTrash(feed, ids) {
  const done = [];
  try {
    for (const id of ids) {
      await api('DELETE', `/api/photos/${encodeURIComponent(id)}`);
      done.push(id);
      for (const f of page?.feeds || []) f.remove(id);
      lightbox.dropped(id);
    }
  } catch (e) { error(e); }
  selectionChanged();
  if (done.length) {
    status(`Moved ${done.length === 1 ? 'it' : items(done.length)} to the trash.`, {
      action: { label: 'Undo', run: () => restore(done, true) },
    });
  }
}

async function restore(ids, undo = false) {
  const restored = [];
  try {
    for (const id of ids) {
      const p = await api('POST', `/api/photos/${encodeURIComponent(id)}/restore`);
      restored.push(p);
      for (const f of page?.feeds || []) {
        if (f.mode === 'trash') f.remove(id); else f.insert(p);
      }
      lightbox.dropped(id);
    }
  } catch (e) { error(e); }
  selectionChanged();
  if (restored.length) status(undo ? 'Back where it was.' : `Restored ${items(restored.length)}.`);
}

async function addToAlbum(ids) {
  const choice = await albumDialog({ title: `Add ${items(ids.length)} to an album`, ok: 'Add', choose: true });
  if (!choice) return false;
  let album = choice.album;
  if (!album) album = await api('POST', '/api/albums', { name: choice.name });
  album = await api('POST', `/api/albums/${encodeURIComponent(album.id)}/photos`, { photos: ids });
  status(`Added ${items(ids.length)} to “${album.name}”.`, { action: { label: 'Open the album', run: () => { location.hash = `#album/${encodeURIComponent(album.id)}`; } } });
  return true;
}

async function downloadOriginal(p) {
  try {
    status(`Downloading ${p.name}…`, { sticky: true });
    const { blob } = await fetchBlob(`/api/photos/${encodeURIComponent(p.id)}/original`, {
      type: p.type || undefined,
      onProgress: (got, total) => status(`Downloading ${p.name}… ${total ? `${Math.floor((got / total) * 100)} %` : bytes(got)}`, { sticky: true }),
    });
    saveBlob(blob, p.name);
    status(`Downloaded ${p.name}.`);
  } catch (e) { status(''); error(e); }
}

async function downloadAlbum(album, button) {
  button.disabled = true;
  try {
    status(`Preparing “${album.name}” as a ZIP file…`, { sticky: true });
    const { blob } = await fetchBlob(`/api/albums/${encodeURIComponent(album.id)}/zip`, {
      type: 'application/zip',
      onProgress: (got) => status(`Downloading “${album.name}” (ZIP)… ${bytes(got)}`, { sticky: true }),
    });
    saveBlob(blob, `${album.name}.zip`);
    status(`Downloaded “${album.name}” (${bytes(blob.size)}).`);
  } catch (e) { status(''); error(e); } finally { button.disabled = false; }
}

// ---------------------------------------------------------------------------------------------
// Dialogs: share links, albums

let shareTarget = null;

/** The share dialog for an album or a photo; the link is made when the person says so. */
function shareDialog(target) {
  shareTarget = target;
  const dialog = $('share-dialog');
  $('share-title').textContent = target.kind === 'album' ? `Share the album “${target.name}”` : `Share ${target.name}`;
  $('share-what').textContent = target.kind === 'album'
    ? 'Anyone with the link sees this album’s photos and videos and can download them, without logging in. They cannot change anything.'
    : 'Anyone with the link sees this photo and can download it, without logging in.';
  $('share-label').value = target.name;
  $('share-expires').value = '7d';
  $('share-fields').hidden = false;
  $('share-result').hidden = true;
  $('share-link').value = ''; // the last link's secret does not stay around
  $('share-expiry').textContent = '';
  $('share-create').hidden = false;
  $('share-create').disabled = false;
  $('share-cancel').textContent = 'Cancel';
  dialog.showModal();
  $('share-label').focus();
  $('share-label').select();
}

/** The gallery page's own address with the share link's fragment: what the visitor opens. */
function shareUrl(fragment) {
  const q = new URLSearchParams({ appliance: params.get('appliance') });
  if (params.get('flock')) q.set('flock', params.get('flock'));
  return `${location.origin}${location.pathname}?${q}#${fragment.replace(/^#/, '')}`;
}

async function createShare(ev) {
  ev.preventDefault();
  const t = shareTarget;
  if (!t) return;
  const button = $('share-create');
  button.disabled = true;
  try {
    const body = { label: $('share-label').value.trim() || t.name };
    if ($('share-expires').value) body.expiresIn = $('share-expires').value;
    const made = await api('POST', `/api/${t.kind === 'album' ? 'albums' : 'photos'}/${encodeURIComponent(t.id)}/shares`, body);
    $('share-link').value = shareUrl(made.fragment);
    $('share-expiry').textContent = `${made.expiresAt ? `It works until ${isoWhen(made.expiresAt)}` : 'It works until you revoke it'}; `
      + 'it is shown only now: copy it. Revoke it under Share links.';
    $('share-fields').hidden = true;
    $('share-result').hidden = false;
    button.hidden = true;
    $('share-cancel').textContent = 'Done';
    $('share-link').focus();
    $('share-link').select();
    status('Share link made.');
  } catch (e) {
    button.disabled = false;
    $('share-dialog').close();
    error(e);
  }
}

async function copyShare() {
  const field = $('share-link');
  try {
    await navigator.clipboard.writeText(field.value);
    status('Copied the link.');
  } catch {
    field.focus();
    field.select();
    status(document.execCommand('copy') ? 'Copied the link.' : 'Select the link and copy it.');
  }
}

let albumDialogDone = null;

/**
 * Asks for an album: with `choose`, one of the albums or a new one's name ({album} or {name});
 * otherwise only a name ({name}). Resolves null when cancelled.
 */
async function albumDialog({ title, ok, choose = false, name = '' }) {
  const dialog = $('album-dialog');
  $('album-dialog-title').textContent = title;
  $('album-ok').textContent = ok;
  $('album-dialog-error').textContent = '';
  $('album-name').value = name;
  const options = $('album-options');
  options.replaceChildren();
  $('album-choices').hidden = !choose;
  let albums = [];
  if (choose) {
    try { albums = (await api('GET', '/api/albums')).albums || []; } catch (e) { error(e); return null; }
    for (const a of albums) {
      options.append(el('label', { class: 'album-choice' }, el('input', { type: 'radio', name: 'album-choice', value: a.id }),
        el('span', { class: 'name', text: a.name }), el('span', { class: 'muted', text: items(a.count ?? 0) })));
    }
    options.append(el('label', { class: 'album-choice' }, el('input', { type: 'radio', name: 'album-choice', value: '', checked: true }),
      el('span', { class: 'name', text: 'A new album' })));
    const sync = () => {
      const chosen = options.querySelector('input:checked')?.value;
      $('album-name').disabled = Boolean(chosen);
      $('album-name-label').classList.toggle('muted', Boolean(chosen));
    };
    options.onchange = sync;
    if (albums.length) options.querySelector('input').checked = true;
    sync();
  } else {
    $('album-name').disabled = false;
    $('album-name-label').classList.remove('muted');
  }
  $('album-name-label').textContent = choose ? 'New album name' : 'Album name';
  dialog.showModal();
  (choose && albums.length ? options.querySelector('input') : $('album-name')).focus();
  return new Promise((resolve) => {
    albumDialogDone = (value) => {
      albumDialogDone = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    dialog.onsubmit = (ev) => {
      ev.preventDefault();
      const chosen = choose ? options.querySelector('input:checked')?.value : '';
      if (chosen) { albumDialogDone({ album: albums.find((a) => String(a.id) === chosen) }); return; }
      const n = $('album-name').value.trim();
      if (!n) { $('album-dialog-error').textContent = 'Give the album a name.'; $('album-name').focus(); return; }
      albumDialogDone({ name: n });
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Uploads: resumable, in parts, a few files at a time

const uploads = { list: [], running: 0, batchDone: 0 };

function addFiles(fileList) {
  const files = [...fileList];
  if (!files.length || mode !== 'library') return;
  const albumId = page?.name === 'album' ? page.arg : null;
  for (const file of files) {
    const u = { file, id: null, offset: 0, state: 'waiting', albumId, controller: null, attempts: 0 };
    u.bar = el('progress', { max: 1, value: 0, 'aria-label': `Upload progress of ${file.name}` });
    u.text = el('span', { class: 'up-state', text: 'Waiting' });
    u.cancel = el('button', { type: 'button', class: 'icon-button small', 'aria-label': `Cancel the upload of ${file.name}`,
      onclick: () => cancelUpload(u) }, icon('close'));
    u.retry = el('button', { type: 'button', class: 'link', text: 'Retry', hidden: true, 'aria-label': `Retry the upload of ${file.name}`,
      onclick: () => { u.state = 'waiting'; u.attempts = 0; u.retry.hidden = true; u.el.dataset.state = 'waiting'; u.text.textContent = 'Waiting'; pumpUploads(); } });
    u.el = el('li', { class: 'upload', dataset: { state: 'waiting' } },
      el('span', { class: 'up-name', title: file.name, text: file.name }),
      el('span', { class: 'up-size muted', text: bytes(file.size) }),
      u.cancel, u.bar, el('span', { class: 'up-line' }, u.text, u.retry));
    if (file.type && !/^(image|video)\//.test(file.type)) finishUpload(u, 'refused', 'Not a photo or a video');
    else if (file.size === 0) finishUpload(u, 'refused', 'The file is empty');
    uploads.list.push(u);
    $('upload-list').append(u.el);
  }
  $('uploads').hidden = false;
  $('uploads-close').hidden = true;
  setUploadsOpen(true);
  status(`Uploading ${plural(files.length, 'file')}${albumId ? ' to this album' : ''}…`);
  pumpUploads();
}

function pumpUploads() {
  while (uploads.running < PARALLEL_UPLOADS) {
    const u = uploads.list.find((x) => x.state === 'waiting');
    if (!u) break;
    uploads.running++;
    runUpload(u).finally(() => { uploads.running--; pumpUploads(); });
  }
  uploadSummary();
}

function setUploadState(u, state, text) {
  u.state = state;
  u.el.dataset.state = state;
  u.text.textContent = text;
  uploadSummary();
}

function finishUpload(u, state, text) {
  setUploadState(u, state, text);
  u.cancel.hidden = true;
  if (state === 'done' || state === 'duplicate') u.bar.value = 1;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `d` as this browser's clock shows it, with its UTC offset (2024-07-05T14:03:22+02:00): the app dates a photo without EXIF by it. */
function localTime(d) {
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    + `${off < 0 ? '-' : '+'}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

async function runUpload(u) {
  const f = u.file;
  u.controller = new AbortController();
  const signal = u.controller.signal;
  setUploadState(u, 'uploading', u.offset ? `Resuming at ${Math.floor((u.offset / f.size) * 100)} %` : 'Starting…');
  try {
    if (u.id) { u.offset = await uploadOffset(u, signal); u.bar.value = f.size ? u.offset / f.size : 0; } // a retry: from where the app is
    for (;;) {
      if (!u.id) {
        const body = { name: f.name, size: f.size };
        if (f.type) body.type = f.type;
        if (f.lastModified) body.modified = localTime(new Date(f.lastModified));
        let made;
        try {
          made = await api('POST', '/api/uploads', body, { signal, timeoutMs: CONTROL_TIMEOUT });
        } catch (e) {
          if (e.name === 'AbortError' || (e instanceof ApiError && e.status >= 400)) throw e;
          await backOff(u, e, signal);
          continue;
        }
        u.id = made.id;
        u.offset = made.offset || 0;
      }
      const end = Math.min(u.offset + PART, f.size);
      let res;
      try {
        res = await send('PATCH', `/api/uploads/${encodeURIComponent(u.id)}`, {
          body: f.slice(u.offset, end),
          headers: { 'Upload-Offset': String(u.offset), 'Content-Type': 'application/offset+octet-stream' },
          signal,
          timeoutMs: PART_TIMEOUT,
        });
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        u.offset = await recover(u, e, signal);
        continue;
      }
      if (res.status === 409) { // not where it thought: the app says where (a header, or the body)
        let at = Number.parseInt(res.headers.get('Upload-Offset') ?? '', 10);
        if (!Number.isInteger(at)) { try { at = (await res.json()).offset; } catch { /* asked below */ } }
        u.offset = Number.isInteger(at) ? at : await uploadOffset(u, signal);
        continue;
      }
      if (res.status === 404) { // the app no longer has it (it expired): start it again
        u.id = null;
        u.offset = 0;
        if (++u.attempts > 6) throw await problemOf(res);
        continue;
      }
      if (res.status >= 500 || res.status === 408 || res.status === 429) {
        u.offset = await recover(u, await problemOf(res), signal);
        continue;
      }
      if (!res.ok) throw await problemOf(res);
      const answer = await res.json();
      u.attempts = 0;
      if (answer.photo) { await uploaded(u, answer.photo, answer.duplicate); return; }
      u.offset = answer.offset ?? end;
      u.bar.value = f.size ? u.offset / f.size : 0;
      setUploadState(u, 'uploading', `${Math.floor((u.offset / f.size) * 100)} %`);
    }
  } catch (e) {
    if (e.name === 'AbortError' || u.state === 'cancelled') return;
    if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) {
      finishUpload(u, 'refused', `Refused: ${e.message}`);
    } else {
      finishUpload(u, 'failed', `Failed: ${messageOf(e)}`);
      u.retry.hidden = false;
      u.cancel.hidden = false;
    }
  }
}

/**
 * How much of an upload the app has (GET /api/uploads/<id>); 0, with the upload forgotten, when
 * the app no longer has it (it expired, or its last part did arrive: the next try finds the
 * file in the library and says so).
 */
async function uploadOffset(u, signal) {
  try {
    return (await api('GET', `/api/uploads/${encodeURIComponent(u.id)}`, undefined, { signal, timeoutMs: CONTROL_TIMEOUT })).offset;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    u.id = null;
    return 0;
  }
}

/** After a failed request: wait a little longer each time (and give up after a few). */
async function backOff(u, why, signal) {
  if (++u.attempts > 6) throw why;
  setUploadState(u, 'uploading', `Connection trouble: trying again (${u.attempts})…`);
  await sleep(Math.min(30000, 1000 * 2 ** (u.attempts - 1)));
  if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
}

/** After a failed part: wait, then ask how much arrived. */
async function recover(u, why, signal) {
  for (;;) {
    await backOff(u, why, signal);
    try {
      const at = await uploadOffset(u, signal);
      u.bar.value = u.file.size ? at / u.file.size : 0;
      setUploadState(u, 'uploading', `Resuming at ${u.file.size ? Math.floor((at / u.file.size) * 100) : 0} %`);
      return at;
    } catch (e) {
      if (e.name === 'AbortError' || (e instanceof ApiError && e.status >= 400)) throw e;
      why = e;
    }
  }
}

async function uploaded(u, photo, duplicate) {
  u.offset = u.file.size;
  finishUpload(u, duplicate ? 'duplicate' : 'done', duplicate ? 'Already in your library' : 'Uploaded');
  if (u.albumId) {
    try { await api('POST', `/api/albums/${encodeURIComponent(u.albumId)}/photos`, { photos: [photo.id] }); } catch (e) { error(e); }
  }
  for (const f of page?.feeds || []) {
    if (f.mode === 'library' && page.name === 'photos') f.insert(photo);
    if (f.mode === 'album' && page.arg === u.albumId) f.insert(photo);
  }
  if (page?.name === 'photos') photosSummary();
}

async function cancelUpload(u) {
  if (['done', 'duplicate', 'refused', 'cancelled'].includes(u.state)) return;
  const id = u.id;
  u.controller?.abort();
  finishUpload(u, 'cancelled', 'Cancelled');
  if (id) api('DELETE', `/api/uploads/${encodeURIComponent(id)}`).catch(() => {});
}

function uploadSummary() {
  const list = uploads.list.filter((u) => u.state !== 'cancelled');
  const count = (...states) => list.filter((u) => states.includes(u.state)).length;
  const counted = list.filter((u) => u.state !== 'refused');
  const total = counted.reduce((s, u) => s + u.file.size, 0);
  const sent = counted.reduce((s, u) => s + (['done', 'duplicate'].includes(u.state) ? u.file.size : u.offset), 0);
  const busy = count('waiting', 'uploading');
  const ok = count('done', 'duplicate');
  $('uploads-progress').value = total ? sent / total : (busy ? 0 : 1);
  let text;
  if (busy) text = `Uploading ${ok + 1 > list.length ? list.length : ok + 1} of ${list.length} · ${bytes(sent)} of ${bytes(total)}`;
  else {
    const parts = [`${ok} uploaded`];
    if (count('duplicate')) parts.push(`${count('duplicate')} already there`);
    if (count('refused')) parts.push(`${count('refused')} refused`);
    if (count('failed')) parts.push(`${count('failed')} failed`);
    text = parts.join(', ');
  }
  $('uploads-summary').textContent = text;
  $('uploads-title').textContent = busy ? 'Uploading' : 'Uploads';
  $('uploads').dataset.busy = String(busy > 0);
  $('uploads-close').hidden = busy > 0;
  if (!busy && list.length && uploads.running === 0 && !uploads.announced) {
    uploads.announced = true;
    if (ok === list.length) setUploadsOpen(false); // all went well: the summary says enough
    status(`Upload finished: ${text}.`);
  }
  if (busy) uploads.announced = false;
}

function setUploadsOpen(open) {
  $('upload-list').hidden = !open;
  const b = $('uploads-toggle');
  b.setAttribute('aria-expanded', String(open));
  b.setAttribute('aria-label', open ? 'Hide the upload list' : 'Show the upload list');
}

function closeUploads() {
  uploads.list = uploads.list.filter((u) => ['waiting', 'uploading'].includes(u.state));
  for (const li of [...$('upload-list').children]) if (!uploads.list.some((u) => u.el === li)) li.remove();
  if (!uploads.list.length) $('uploads').hidden = true;
}

function setupDrop() {
  let depth = 0;
  const hasFiles = (ev) => mode === 'library' && [...(ev.dataTransfer?.types || [])].includes('Files');
  addEventListener('dragenter', (ev) => { if (!hasFiles(ev)) return; ev.preventDefault(); depth++; $('drop').hidden = false; });
  addEventListener('dragover', (ev) => { if (!hasFiles(ev)) return; ev.preventDefault(); ev.dataTransfer.dropEffect = 'copy'; });
  addEventListener('dragleave', (ev) => { if (!hasFiles(ev)) return; if (--depth <= 0) { depth = 0; $('drop').hidden = true; } });
  addEventListener('drop', (ev) => {
    depth = 0;
    $('drop').hidden = true;
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    addFiles(ev.dataTransfer.files);
  });
}

// ---------------------------------------------------------------------------------------------
// Pages

async function refreshTagOptions() {
  try {
    const { tags } = await api('GET', '/api/tags');
    $('tag-options').replaceChildren(...tags.map((t) => el('option', { value: t.tag })));
  } catch { /* suggestions only */ }
}

function emptyLibrary() {
  return el('div', { class: 'empty' }, icon('photos', 'icon huge'), el('h2', { text: 'No photos yet' }),
    el('p', { class: 'muted', text: 'Upload photos and videos from this device: drop them anywhere on this page, or choose them.' }),
    el('button', { type: 'button', class: 'primary', onclick: () => $('file-input').click() }, icon('upload'), el('span', { text: 'Choose photos' })));
}
function emptyNote(title, text, name = 'photos') {
  return () => el('div', { class: 'empty' }, icon(name, 'icon huge'), el('h2', { text: title }), el('p', { class: 'muted', text }));
}

async function photosSummary() {
  try {
    const { months } = await api('GET', '/api/timeline/months');
    const total = months.reduce((s, m) => s + m.count, 0);
    $('photos-summary').textContent = total ? items(total) : '';
    return new Map(months.map((m) => [m.month, m.count]));
  } catch { return null; }
}

/** Turns search form values into the API's query, and back. */
function searchQuery() {
  const f = $('search-form');
  return {
    from: f.from.value, to: f.to.value, tag: f.tag.value.trim(), album: f.album.value, camera: f.camera.value,
    kind: f.kind.value, favourite: f.favourite.checked ? 'true' : '',
  };
}

function fillSelect(select, values, chosen) {
  const first = select.options[0];
  select.replaceChildren(first, ...values.map(([value, label]) => el('option', { value, text: label })));
  if (chosen && values.some(([v]) => v === chosen)) select.value = chosen;
}

const PAGES = {
  async photos(ctx) {
    const counts = await photosSummary();
    const feed = new Feed($('photos-feed'), {
      load: (cursor) => api('GET', `/api/timeline${query({ limit: PAGE_SIZE, cursor })}`),
      monthCounts: counts, empty: emptyLibrary,
    });
    ctx.feeds.push(feed);
    await feed.loadMore();
  },

  async albums() {
    const { albums } = await api('GET', '/api/albums');
    $('albums-empty').hidden = albums.length > 0;
    const list = $('album-list');
    list.replaceChildren(...albums.map((a) => {
      const img = el('img', { alt: '' });
      const cover = el('span', { class: 'cover' }, a.cover ? img : icon('album', 'icon big'));
      if (a.cover) {
        requestThumb(a.cover, 's').promise.then(({ blob }) => {
          if (!img.isConnected && !list.contains(cover)) return;
          const url = URL.createObjectURL(blob);
          page.urls.push(url);
          img.src = url;
        }, () => {});
      }
      return el('li', {}, el('a', { class: 'album-card', href: `#album/${encodeURIComponent(a.id)}` }, cover,
        el('span', { class: 'name', text: a.name }), el('span', { class: 'count muted', text: items(a.count ?? 0) })));
    }));
  },

  async album(ctx) {
    const id = ctx.arg;
    let album = null;
    const feed = new Feed($('album-feed'), {
      mode: 'album', grouped: false,
      empty: emptyNote('This album is empty', 'Select photos in Photos and choose “Add to album”, or drop photos here to upload them into it.', 'album'),
      load: async (cursor) => {
        const r = await api('GET', `/api/albums/${encodeURIComponent(id)}${query({ limit: PAGE_SIZE, cursor })}`);
        album = r.album;
        showAlbumHead(album);
        return r;
      },
    });
    ctx.feeds.push(feed);
    ctx.album = () => ctx.current || album;
    $('album-title').textContent = 'Album';
    $('album-summary').textContent = '';
    await feed.loadMore();
    if (!album) throw new ApiError('This album cannot be shown.');
  },

  async favourites(ctx) {
    const feed = new Feed($('favourites-feed'), {
      load: (cursor) => api('GET', `/api/search${query({ favourite: 'true', limit: PAGE_SIZE, cursor })}`),
      empty: emptyNote('No favourites yet', 'Open a photo and press the heart to find it here.', 'heart'),
    });
    ctx.feeds.push(feed);
    await feed.loadMore();
  },

  async search(ctx) {
    const q = new URLSearchParams(ctx.arg || '');
    const f = $('search-form');
    for (const name of ['from', 'to', 'tag', 'kind']) f[name].value = q.get(name) || '';
    f.favourite.checked = q.get('favourite') === 'true';
    const [albums, cameras] = await Promise.all([
      api('GET', '/api/albums').then((r) => r.albums).catch(() => []),
      api('GET', '/api/cameras').then((r) => r.cameras).catch(() => []),
      refreshTagOptions(),
    ]);
    fillSelect(f.album, albums.map((a) => [a.id, a.name]), q.get('album'));
    fillSelect(f.camera, cameras.map((c) => [c.camera, `${c.camera} (${c.count})`]), q.get('camera'));
    const asked = Object.fromEntries([...q].filter(([, v]) => v));
    $('search-feed').replaceChildren();
    if (!Object.keys(asked).length) {
      $('search-summary').textContent = 'Choose dates, a tag, an album or a camera, then Search.';
      return;
    }
    $('search-summary').textContent = 'Searching…';
    const feed = new Feed($('search-feed'), {
      load: (cursor) => api('GET', `/api/search${query({ ...asked, limit: PAGE_SIZE, cursor })}`),
      empty: emptyNote('Nothing found', 'No photo or video matches all of that.', 'search'),
      onLoaded: (fd) => { $('search-summary').textContent = fd.done ? `${items(fd.items.length)} found.` : `More than ${items(fd.items.length)} found.`; },
    });
    ctx.feeds.push(feed);
    await feed.loadMore();
  },

  async trash(ctx) {
    const feed = new Feed($('trash-feed'), {
      mode: 'trash', grouped: false,
      load: (cursor) => api('GET', `/api/trash${query({ limit: PAGE_SIZE, cursor })}`),
      empty: emptyNote('The trash is empty', 'What you move to the trash waits here until you empty it.', 'trash'),
      onLoaded: (fd) => { $('empty-trash').disabled = fd.items.length === 0; },
    });
    ctx.feeds.push(feed);
    await feed.loadMore();
  },

  async shares() {
    const [{ shares }, albums] = await Promise.all([
      api('GET', '/api/shares'),
      api('GET', '/api/albums').then((r) => r.albums).catch(() => []),
    ]);
    const albumName = new Map(albums.map((a) => [String(a.id), a.name]));
    const photoNames = new Map();
    await Promise.all(shares.filter((s) => s.photo).map(async (s) => {
      try { photoNames.set(s.photo, (await api('GET', `/api/photos/${encodeURIComponent(s.photo)}`)).name); } catch { /* gone */ }
    }));
    $('shares-empty').hidden = shares.length > 0;
    $('shares-table').hidden = shares.length === 0;
    const now = Date.now();
    $('share-rows').replaceChildren(...shares.map((s) => {
      const label = s.label || 'share link';
      const what = s.album
        ? el('a', { href: `#album/${encodeURIComponent(s.album)}`, text: `Album “${albumName.get(String(s.album)) || s.album}”` })
        : el('span', { text: `Photo ${photoNames.get(s.photo) || s.photo || ''}`.trim() });
      const expired = s.expiresAt && Date.parse(s.expiresAt) < now;
      const revoke = el('button', { type: 'button', class: 'quiet danger small', text: 'Revoke', 'aria-label': `Revoke ${label}` });
      revoke.addEventListener('click', async () => {
        if (!confirm(`Revoke “${label}”? Everyone using it loses access at once.`)) return;
        revoke.disabled = true;
        try {
          await api('DELETE', `/api/shares/${encodeURIComponent(s.id)}`);
          await PAGES.shares();
          status(`Revoked “${label}”: the link no longer works.`);
        } catch (e) { revoke.disabled = false; error(e); }
      });
      return el('tr', { dataset: { id: s.id } }, el('td', { text: label }), el('td', {}, what), el('td', { text: String(s.uses ?? 0) }),
        el('td', { text: s.expiresAt ? `${expired ? 'expired ' : ''}${isoWhen(s.expiresAt)}` : 'never' }), el('td', {}, revoke));
    }));
  },

  /** A share link's visitor: what was shared, read-only. */
  async shared(ctx) {
    const { albums = [], photos = [] } = await api('GET', '/api/shared');
    const zip = $('shared-zip');
    zip.hidden = true;
    if (!albums.length && !photos.length) {
      $('shared-title').textContent = 'Nothing to see';
      $('shared-summary').textContent = 'Nothing is shared with you here (any more).';
      $('shared-feed').replaceChildren();
      return;
    }
    if (albums.length) {
      const album = albums.find((a) => String(a.id) === ctx.arg) || albums[0];
      $('shared-title').textContent = album.name;
      $('shared-summary').textContent = `${items(album.count ?? 0)}${albums.length > 1 ? '' : ''}`;
      zip.hidden = false;
      zip.onclick = () => downloadAlbum(album, zip);
      const feed = new Feed($('shared-feed'), {
        mode: 'visitor', grouped: false,
        load: async (cursor) => {
          const r = await api('GET', `/api/albums/${encodeURIComponent(album.id)}${query({ limit: PAGE_SIZE, cursor })}`);
          if (r.album) $('shared-summary').textContent = items(r.album.count ?? r.photos.length);
          return r;
        },
        empty: emptyNote('This album is empty', 'Nothing has been put in it yet.', 'album'),
      });
      ctx.feeds.push(feed);
      if (albums.length > 1) {
        $('shared-feed').prepend(el('nav', { class: 'chips shared-albums', 'aria-label': 'Albums shared with you' },
          ...albums.map((a) => el('a', { class: 'chip', href: `#shared/${encodeURIComponent(a.id)}`, 'aria-current': a.id === album.id ? 'page' : null, text: a.name }))));
      }
      await feed.loadMore();
    } else {
      $('shared-title').textContent = photos.length === 1 ? photos[0].name : `${items(photos.length)}`;
      $('shared-summary').textContent = photos.length === 1 ? `${kindWord(photos[0])} · ${whenLabel(photos[0])}` : '';
      const feed = new Feed($('shared-feed'), { mode: 'visitor', grouped: false, load: async () => ({ photos, next: null }) });
      ctx.feeds.push(feed);
      await feed.loadMore();
      if (photos.length === 1) lightbox.open(feed, photos[0].id);
    }
  },
};

function showAlbumHead(album) {
  if (page?.name === 'album') page.current = album;
  $('album-title').textContent = album.name;
  $('album-summary').textContent = `${items(album.count ?? 0)}${album.createdAt ? ` · made ${new Date(album.createdAt).toLocaleDateString()}` : ''}`;
  document.title = `${album.name} · Photos`;
}

const TITLES = { photos: 'Photos', albums: 'Albums', album: 'Album', favourites: 'Favourites', search: 'Search', trash: 'Trash',
  shares: 'Share links', shared: 'Shared with you', signin: 'Photos' };

/** The page the address names: #photos, #albums, #album/<id>, #search?tag=…, … */
function route() {
  const hash = location.hash.slice(1);
  const decode = (s) => { try { return decodeURIComponent(s); } catch { return s; } };
  if (mode === 'visitor') {
    const shared = /^shared\/(.+)$/.exec(hash);
    return { name: 'shared', arg: shared ? decode(shared[1]) : null };
  }
  const m = /^([a-z]+)(?:[/?](.*))?$/.exec(hash);
  const name = m && PAGES[m[1]] && m[1] !== 'shared' ? m[1] : 'photos';
  const arg = m?.[2] ?? null;
  return { name, arg: arg != null && name !== 'search' ? decode(arg) : arg };
}

let showing = 0;
async function show() {
  const { name, arg } = route();
  const n = ++showing;
  if (page) {
    for (const f of page.feeds) f.destroy();
    for (const u of page.urls) URL.revokeObjectURL(u);
  }
  if ($('lightbox').open) lightbox.close();
  clearSelection();
  page = { name, arg, feeds: [], urls: [] };
  for (const s of document.querySelectorAll('.page')) s.hidden = s.id !== `page-${name}`;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === name || (name === 'album' && a.dataset.page === 'albums')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${TITLES[name]} · Photos`;
  document.body.dataset.page = '';
  error(null);
  try {
    await PAGES[name](page);
    if (n !== showing) return;
    document.body.dataset.page = name;
  } catch (e) {
    if (n !== showing) return;
    error(e, show);
    document.body.dataset.page = `${name}-failed`;
  }
}

// ---------------------------------------------------------------------------------------------
// Who is here: the owner of a library, a share link's visitor, or someone who should log in

function rememberVisitor(on) {
  try {
    if (on) localStorage.setItem(VISITOR_KEY(), '1');
    else localStorage.removeItem(VISITOR_KEY());
  } catch { /* storage off */ }
}
function wasVisitor() {
  try { return localStorage.getItem(VISITOR_KEY()) === '1'; } catch { return false; }
}

async function whoAmI() {
  try {
    return await api('GET', '/api/me');
  } catch (e) {
    // the appliance lets no one in who has neither a login for this app nor a share link
    if (e instanceof ApiError && (e.status === 403 || e.status === 401)) return { persona: null, library: false, refused: true };
    throw e;
  }
}

function setMode(m) {
  mode = m;
  document.body.dataset.mode = m;
}

/** Decides what this visitor sees, and shows it. */
async function enter() {
  status('');
  me = await whoAmI();
  const session = handle.currentSession;
  const persona = session?.persona || null;
  $('logout').hidden = !persona;
  $('who').textContent = persona ? persona.displayName || persona.name : '';
  if (me.library) {
    rememberVisitor(false);
    setMode('library');
    $('login-button').hidden = true;
    await show();
    refreshTagOptions();
    return;
  }
  const tokens = session?.tokens?.length || 0;
  if (!me.refused && tokens > 0) {
    setMode('visitor');
    $('login-button').hidden = Boolean(persona);
    await show();
    return;
  }
  setMode('signin');
  $('login-button').hidden = true;
  for (const s of document.querySelectorAll('.page')) s.hidden = s.id !== 'page-signin';
  document.body.dataset.page = 'signin';
  if (persona) {
    $('signin-title').textContent = 'No photo library here';
    $('signin-text').textContent = `${persona.displayName || persona.name}, you have no photo library on this appliance. Ask its owner to let you use Photos, or log in as someone else.`;
    return;
  }
  if (wasVisitor()) {
    // came with a share link before, which the appliance now refuses
    $('signin-title').textContent = 'This link no longer works';
    $('signin-text').textContent = 'The share link you opened this page with was revoked or it expired. Ask whoever shared it with you for a new one. If you have your own login here, log in.';
    error(new Error(REVOKED));
    document.body.dataset.page = 'revoked';
    return;
  }
  $('signin-title').textContent = 'Your photos';
  $('signin-text').textContent = 'Log in to see your photos.';
  await logIn();
}

async function logIn() {
  const info = await handle.showLogin({ title: 'Log in to your photos' });
  if (!info) { status('Log in to see your photos.'); return; }
  error(null);
  await enter();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $('error-close').addEventListener('click', () => error(null));
  $('status-close').addEventListener('click', () => status(''));
  $('upload-button').addEventListener('click', () => $('file-input').click());
  $('file-input').addEventListener('change', (ev) => { addFiles(ev.target.files); ev.target.value = ''; });
  $('uploads-toggle').addEventListener('click', () => setUploadsOpen($('upload-list').hidden));
  $('uploads-close').addEventListener('click', closeUploads);
  $('signin-button').addEventListener('click', () => logIn().catch(error));
  $('login-button').addEventListener('click', () => logIn().catch(error));
  $('logout').addEventListener('click', async () => {
    try { await handle.logout(); } catch (e) { error(e); return; }
    location.hash = '';
    location.reload();
  });
  setupDrop();

  // selection bar
  $('sel-clear').addEventListener('click', clearSelection);
  $('sel-album').addEventListener('click', async () => {
    try { if (await addToAlbum(selectedIds())) clearSelection(); } catch (e) { error(e); }
  });
  $('sel-favourite').addEventListener('click', async () => {
    const feed = selection.feed;
    const photos = selectedIds().map((id) => feed.photo(id)).filter(Boolean);
    const on = !photos.every((p) => p.favourite);
    try {
      for (const p of photos) changed(await api('PATCH', `/api/photos/${encodeURIComponent(p.id)}`, { favourite: on }));
      status(on ? `Added ${items(photos.length)} to favourites.` : `Removed ${items(photos.length)} from favourites.`);
      clearSelection();
    } catch (e) { error(e); }
  });
  $('sel-share').addEventListener('click', () => {
    const p = selection.feed?.photo([...selection.ids][0]);
    if (p) shareDialog({ kind: 'photo', id: p.id, name: p.name });
  });
  $('sel-trash').addEventListener('click', async () => {
    const ids = selectedIds();
    const feed = selection.feed;
    clearSelection();
    await moveToTrash(feed, ids);
  });
  $('sel-restore').addEventListener('click', async () => {
    const ids = selectedIds();
    clearSelection();
    await restore(ids);
  });
  $('sel-remove').addEventListener('click', async () => {
    const ids = selectedIds();
    const albumId = page.arg;
    clearSelection();
    await removeFromAlbum(albumId, ids);
  });
  addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && selection.ids.size && !document.querySelector('dialog[open]')) clearSelection();
  });
  $('selection-bar').addEventListener('keydown', (ev) => { // a toolbar: ←/→ between its buttons
    if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
    const buttons = [...$('selection-bar').querySelectorAll('button:not([hidden])')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    ev.preventDefault();
    buttons[(i + (ev.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length].focus();
  });

  // lightbox
  const lb = $('lightbox');
  $('lb-close').addEventListener('click', () => lightbox.close());
  lb.addEventListener('cancel', (ev) => { ev.preventDefault(); lightbox.close(); });
  lb.addEventListener('close', () => { if (lightbox.feed) lightbox.close(); });
  $('lb-prev').addEventListener('click', () => lightbox.go(-1));
  $('lb-next').addEventListener('click', () => lightbox.go(1));
  lb.addEventListener('keydown', (ev) => {
    if (ev.target.closest('input, select, textarea')) return;
    if (ev.key === 'ArrowLeft') { ev.preventDefault(); lightbox.go(-1); }
    else if (ev.key === 'ArrowRight') { ev.preventDefault(); lightbox.go(1); }
  });
  const stage = $('lb-stage');
  stage.addEventListener('pointerdown', (ev) => { if (ev.pointerType !== 'mouse') lightbox.touchX = ev.clientX; });
  stage.addEventListener('pointerup', (ev) => {
    if (lightbox.touchX == null) return;
    const dx = ev.clientX - lightbox.touchX;
    lightbox.touchX = null;
    if (Math.abs(dx) > 60) lightbox.go(dx < 0 ? 1 : -1);
  });
  $('lb-info').addEventListener('click', () => lightbox.setInfo($('lb-details').hidden));
  $('lb-favourite').addEventListener('click', () => lightbox.toggleFavourite());
  $('lb-download').addEventListener('click', () => lightbox.photo && downloadOriginal(lightbox.photo));
  $('lb-share').addEventListener('click', () => { const p = lightbox.photo; if (p) shareDialog({ kind: 'photo', id: p.id, name: p.name }); });
  $('lb-trash').addEventListener('click', () => { const p = lightbox.photo; if (p) moveToTrash(lightbox.feed, [p.id]); });
  $('lb-restore').addEventListener('click', () => { const p = lightbox.photo; if (p) restore([p.id]); });
  $('lb-remove').addEventListener('click', () => { const p = lightbox.photo; if (p) removeFromAlbum(page.arg, [p.id]); });
  $('lb-cover').addEventListener('click', async () => {
    const p = lightbox.photo;
    if (!p) return;
    try {
      const album = await api('PATCH', `/api/albums/${encodeURIComponent(page.arg)}`, { cover: p.id });
      showAlbumHead(album);
      status(`“${p.name}” is now the cover of “${album.name}”.`);
    } catch (e) { error(e); }
  });
  $('lb-tag-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('lb-tag-input');
    const tag = input.value.trim();
    const p = lightbox.photo;
    if (!tag || !p) return;
    input.value = '';
    if (!(p.tags || []).includes(tag)) lightbox.setTags([...(p.tags || []), tag]);
  });

  // share dialog
  $('share-form').addEventListener('submit', createShare);
  $('share-cancel').addEventListener('click', () => $('share-dialog').close());
  $('share-copy').addEventListener('click', copyShare);
  $('share-dialog').addEventListener('close', () => {
    shareTarget = null;
    $('share-link').value = '';
    if (page?.name === 'shares') show();
  });

  // album dialog
  $('album-cancel').addEventListener('click', () => albumDialogDone?.(null));
  $('album-dialog').addEventListener('cancel', (ev) => { ev.preventDefault(); albumDialogDone?.(null); });

  // albums
  $('new-album').addEventListener('click', async () => {
    const choice = await albumDialog({ title: 'New album', ok: 'Create' });
    if (!choice) return;
    try {
      const album = await api('POST', '/api/albums', { name: choice.name });
      status(`Made the album “${album.name}”.`);
      location.hash = `#album/${encodeURIComponent(album.id)}`;
    } catch (e) { error(e); }
  });
  $('album-rename').addEventListener('click', async () => {
    const current = page.album?.();
    if (!current) return;
    const choice = await albumDialog({ title: 'Rename the album', ok: 'Rename', name: current.name });
    if (!choice) return;
    try {
      const album = await api('PATCH', `/api/albums/${encodeURIComponent(current.id)}`, { name: choice.name });
      showAlbumHead(album);
      status(`Renamed to “${album.name}”.`);
      $('album-title').focus();
    } catch (e) { error(e); }
  });
  $('album-delete').addEventListener('click', async () => {
    const current = page.album?.();
    if (!current) return;
    if (!confirm(`Delete the album “${current.name}”? Its photos stay in your library; its share links stop working.`)) return;
    try {
      await api('DELETE', `/api/albums/${encodeURIComponent(current.id)}`);
      location.hash = '#albums';
      status(`Deleted the album “${current.name}”.`);
    } catch (e) { error(e); }
  });
  $('album-share').addEventListener('click', () => {
    const current = page.album?.();
    if (current) shareDialog({ kind: 'album', id: current.id, name: current.name });
  });
  $('album-zip').addEventListener('click', () => { const current = page.album?.(); if (current) downloadAlbum(current, $('album-zip')); });

  // search
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(Object.entries(searchQuery()).filter(([, v]) => v));
    const target = `#search${q.toString() ? `?${q}` : ''}`;
    if (location.hash === target) show(); else location.hash = target;
  });
  $('search-form').addEventListener('reset', () => setTimeout(() => {
    if (location.hash !== '#search') { location.hash = '#search'; return; }
    for (const f of page?.feeds || []) f.destroy();
    if (page) page.feeds = [];
    clearSelection();
    $('search-feed').replaceChildren();
    $('search-summary').textContent = 'Choose dates, a tag, an album or a camera, then Search.';
  }));

  // trash
  $('empty-trash').addEventListener('click', async () => {
    if (!confirm('Delete everything in the trash for good? This cannot be undone.')) return;
    try {
      const { deleted } = await api('DELETE', '/api/trash');
      await show();
      status(`Deleted ${items(deleted)} for good.`);
    } catch (e) { error(e); }
  });

  addEventListener('hashchange', () => { if (mode === 'library' || mode === 'visitor') show(); });
}

async function removeFromAlbum(albumId, ids) {
  let album = null;
  try {
    for (const id of ids) {
      album = await api('DELETE', `/api/albums/${encodeURIComponent(albumId)}/photos/${encodeURIComponent(id)}`);
      for (const f of page?.feeds || []) f.remove(id);
      lightbox.dropped(id);
    }
  } catch (e) { error(e); }
  if (album) {
    showAlbumHead(album);
    status(`Removed ${items(ids.length)} from “${album.name}”; ${ids.length === 1 ? 'it stays' : 'they stay'} in your library.`);
  }
}

async function main() {
  const appliance = params.get('appliance');
  wire();
  if (!appliance) {
    setMode('signin');
    error(new Error('Open this page with ?appliance=<your appliance ID>.'));
    return;
  }
  // a share link's token: the shim takes it out of the address when it installs
  if (/(^#|&)intrustd-token=/.test(location.hash)) rememberVisitor(true);
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
      error(new Error(`Cannot reach your appliance: ${messageOf(e)}`), start);
    }
  };
  await start();
}

main();

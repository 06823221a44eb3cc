// In-page side of bench/e2e/photos.mjs; the Node script drives it with page.evaluate(). Every
// function returns plain, structured-cloneable values. All uploads send the same disk-backed
// File (the <input type=file>, filled by Playwright), or a prefix of it, as Blob bodies, the
// way the gallery (apps/photos/web/photos.js) sends its parts: `file.slice(from, to)`.
import * as shim from '/shim/intrustd-shim.js';

const HELLO = 'intrustd+app://hello';
const PHOTOS = 'intrustd+app://photos';
let handle = null;

function file() {
  const f = document.getElementById('file').files[0];
  if (!f) throw new Error('no file in the input: setInputFiles first');
  return f;
}

function mbps(bytes, ms) {
  return bytes / 1e6 / (ms / 1000);
}

async function answer(res, want, what) {
  const text = await res.text();
  if (!want.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} (wanted ${want.join(' or ')}): ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

/** The file the input holds: name, size, type. */
export function fileInfo() {
  const f = file();
  return { name: f.name, size: f.size, type: f.type };
}

/** install() the shim and log in; then ask the photos app who we are. */
export async function setup({ flock, appliance, persona, password }) {
  if (handle) handle.uninstall();
  handle = shim.install({ flock, appliance });
  const t0 = performance.now();
  const session = await handle.login(persona, password);
  const loginMs = performance.now() - t0;
  const me = await answer(await fetch(`${PHOTOS}/api/me`), [200], 'GET /api/me');
  const link = await handle.link();
  return { loginMs, persona: session.persona && session.persona.name, role: session.persona && session.persona.role, me, linkPath: link.path };
}

/** Baseline: POST the file (or its first `bytes`) to hello's /upload, which hashes and counts it. */
export async function helloUpload({ bytes } = {}) {
  const f = file();
  const body = bytes === undefined || bytes >= f.size ? f : f.slice(0, bytes);
  const t0 = performance.now();
  const res = await fetch(`${HELLO}/upload`, { method: 'POST', body });
  const a = await answer(res, [200], 'POST hello/upload');
  const ms = performance.now() - t0;
  if (a.size !== body.size) throw new Error(`hello counted ${a.size} bytes of ${body.size}`);
  return { ms, bytes: body.size, mbps: mbps(body.size, ms), sha256: a.sha256 };
}

/** The resumable upload as the gallery does it: POST /api/uploads, then PATCH parts in sequence. */
export async function partsUpload({ part, name, stopAfter }) {
  const f = file();
  const t0 = performance.now();
  const made = await answer(await fetch(`${PHOTOS}/api/uploads`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, size: f.size, type: f.type || 'video/mp4', modified: new Date(f.lastModified).toISOString() }),
  }), [201], 'POST /api/uploads');
  const createMs = performance.now() - t0;
  if (made.offset !== 0 || made.size !== f.size) throw new Error(`unexpected new upload ${JSON.stringify(made)}`);
  const parts = [];
  let offset = 0;
  let done = null;
  while (offset < f.size && (stopAfter === undefined || offset < stopAfter)) {
    const end = Math.min(offset + part, f.size, stopAfter ?? f.size);
    const tp = performance.now();
    const res = await fetch(`${PHOTOS}/api/uploads/${encodeURIComponent(made.id)}`, {
      method: 'PATCH', body: f.slice(offset, end),
      headers: { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
    });
    const last = end === f.size;
    const a = await answer(res, last ? [201] : [200], `PATCH part at ${offset}`);
    parts.push({ bytes: end - offset, ms: performance.now() - tp, status: res.status, last });
    if (!last && a.offset !== end) throw new Error(`part at ${offset}: the app says offset ${a.offset}, not ${end}`);
    if (Number(res.headers.get('Upload-Offset')) !== end) throw new Error(`part at ${offset}: Upload-Offset ${res.headers.get('Upload-Offset')}, not ${end}`);
    if (last) done = a;
    offset = end;
  }
  const ms = performance.now() - t0;
  if (!done) { // stopped short (warm-up): cancel the upload
    await answer(await fetch(`${PHOTOS}/api/uploads/${encodeURIComponent(made.id)}`, { method: 'DELETE' }), [204], 'DELETE /api/uploads');
    return { ms, bytes: offset, mbps: mbps(offset, ms), createMs, parts, photo: null };
  }
  if (done.duplicate) throw new Error('the upload was a duplicate: the library still has the file');
  return { ms, bytes: f.size, mbps: mbps(f.size, ms), createMs, parts, photo: photoSummary(done.photo) };
}

/** Second subject: the whole file in one POST /api/photos?name=…. */
export async function wholeUpload({ name, bytes, want = [201] }) {
  const f = file();
  const body = bytes === undefined || bytes >= f.size ? f : f.slice(0, bytes);
  const t0 = performance.now();
  const res = await fetch(`${PHOTOS}/api/photos?name=${encodeURIComponent(name)}`, { method: 'POST', body });
  const a = await answer(res, want, 'POST /api/photos');
  const ms = performance.now() - t0;
  return { ms, bytes: body.size, mbps: mbps(body.size, ms), status: res.status, photo: a && a.photo ? photoSummary(a.photo) : null, detail: a && a.detail };
}

function photoSummary(p) {
  return { id: p.id, kind: p.kind, type: p.type, size: p.size, sha256: p.sha256, width: p.width, height: p.height,
    durationMs: p.durationMs, preview: p.preview };
}

/**
 * Untimed clean-up after a photos upload: wait until its previews are made (an ffmpeg poster
 * frame, which would otherwise overlap the next transfer), then delete it and empty the trash,
 * so that the next upload of the same bytes is a new photo (201) and not a duplicate.
 */
export async function settleAndDelete({ id, timeoutMs = 300000 }) {
  const t0 = performance.now();
  let p;
  for (;;) {
    p = await answer(await fetch(`${PHOTOS}/api/photos/${id}`), [200], 'GET /api/photos/<id>');
    if (p.preview !== 'pending') break;
    if (performance.now() - t0 > timeoutMs) throw new Error(`the preview of photo ${id} is still pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const previewMs = performance.now() - t0;
  await answer(await fetch(`${PHOTOS}/api/photos/${id}`, { method: 'DELETE' }), [200], 'DELETE /api/photos/<id>');
  const emptied = await answer(await fetch(`${PHOTOS}/api/trash`, { method: 'DELETE' }), [200], 'DELETE /api/trash');
  return { preview: p.preview, previewWaitMs: previewMs, deleted: emptied.deleted };
}

/** Photos and unfinished uploads left in the library (a sanity check at the end). */
export async function leftovers() {
  const t = await answer(await fetch(`${PHOTOS}/api/timeline?limit=10`), [200], 'GET /api/timeline');
  const trash = await answer(await fetch(`${PHOTOS}/api/trash`), [200], 'GET /api/trash');
  return { timeline: t.photos.length, trash: trash.photos.length };
}

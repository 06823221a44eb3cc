// Helpers for the e2e tests, run inside the page (page.evaluate(() => e2e.something(...))).
// Every function returns plain, structured-cloneable values.

/** install() the shim on this page (window.handle); status events are kept in window.statusLog. */
export function install(options) {
  window.statusLog = [];
  window.handle = window.intrustd.install(options);
  window.handle.addEventListener('status', (ev) => {
    window.statusLog.push({ t: Date.now(), state: ev.detail.state, error: ev.detail.error ? describeError(ev.detail.error) : null });
  });
  return true;
}

/** Name, message, code and the chain of causes of an error (or anything thrown). */
export function describeError(e) {
  if (!e || typeof e !== 'object') return { name: typeof e, message: String(e), causes: [] };
  const causes = [];
  for (let c = e.cause, n = 0; c && n < 5; c = c.cause, n++) {
    causes.push({ name: c.name, message: String(c.message), code: c.code ?? null });
  }
  return { name: e.name, message: String(e.message), code: e.code ?? null, causes };
}

/** Run `fn`; return {ok: true, value} or {ok: false, error: describeError(...), ms}. */
export async function attempt(fn) {
  const t0 = performance.now();
  try {
    const value = await fn();
    return { ok: true, value, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: describeError(e), ms: performance.now() - t0 };
  }
}

/** link() through the installed handle. */
export function link() {
  return attempt(() => window.handle.link());
}

export function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(data) {
  return hex(await crypto.subtle.digest('SHA-256', data));
}

/** n random bytes (getRandomValues fills at most 65,536 bytes per call). */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

/** Response headers as a plain object (lower-case names). */
export function headersObject(headers) {
  const o = {};
  headers.forEach((v, k) => { o[k] = v; });
  return o;
}

/** fetch and read the body as text; returns status, headers and body. */
export async function fetchText(url, init) {
  const res = await fetch(url, init);
  return { status: res.status, statusText: res.statusText, headers: headersObject(res.headers), body: await res.text(), url: res.url, type: res.type };
}

/**
 * Read a streamed body with a reader without keeping it: count the bytes and check that byte i
 * is i % 251 (the hello app's /stream pattern) for every byte. Stops at `abortAfter` bytes
 * by aborting `controller` when given. Returns what was seen.
 */
export async function readPattern(res, { controller = null, abortAfter = Infinity } = {}) {
  const reader = res.body.getReader();
  let total = 0;
  let v = 0; // expected value of the next byte: total % 251
  let firstMismatch = -1;
  let chunks = 0;
  let largestChunk = 0;
  const t0 = performance.now();
  let abortedAt = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      if (value.length > largestChunk) largestChunk = value.length;
      if (firstMismatch < 0) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] !== v) { firstMismatch = total + i; break; }
          if (++v === 251) v = 0;
        }
      }
      total += value.length;
      if (controller && abortedAt === null && total >= abortAfter) {
        abortedAt = performance.now();
        controller.abort();
      }
    }
    return { ok: true, total, firstMismatch, chunks, largestChunk, ms: performance.now() - t0 };
  } catch (e) {
    return {
      ok: false, total, firstMismatch, chunks, largestChunk, ms: performance.now() - t0,
      error: describeError(e), abortToErrorMs: abortedAt === null ? null : performance.now() - abortedAt,
    };
  }
}

/** Sleep in the page. */
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

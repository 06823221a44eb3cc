// fetch() for app URLs: one HTTP/1.1 exchange per data channel, streaming in both directions.
import { writeRequestHead, chunkHead, CRLF, LAST_CHUNK, ResponseParser, isToken } from './http1.js';
import { FramePacker } from './frame-packer.js';
import { toRequestBody } from './body.js';
import { route as routeUrl, resolveRedirect } from './routes.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const MAX_REDIRECTS = 20;
/** Response bytes queued for a slow reader before the appliance is asked to wait. */
const RESPONSE_BUFFER = 1024 * 1024;
// Headers the shim sets itself, or that make no sense on a one-exchange stream.
const DROPPED_REQUEST_HEADERS = new Set([
  'host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'te', 'trailer',
  'upgrade', 'expect', 'origin', 'proxy-connection',
]);
const NORMALISED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];

/** A fetch network error: TypeError('Failed to fetch') with the reason as `cause`. */
export function networkError(cause) {
  if (cause instanceof TypeError && cause.message === 'Failed to fetch') return cause;
  return new TypeError('Failed to fetch', { cause });
}

/** The error an abort signal stands for. */
export function abortError(signal) {
  if (signal && signal.reason !== undefined) return signal.reason;
  return new DOMException('The operation was aborted.', 'AbortError');
}

/** Upper-case standard methods, as fetch does; reject forbidden ones. */
export function normaliseMethod(method) {
  method = String(method);
  if (!isToken(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = method.toUpperCase();
  if (upper === 'CONNECT' || upper === 'TRACE' || upper === 'TRACK') {
    throw new TypeError(`'${method}' HTTP method is unsupported.`);
  }
  return NORMALISED_METHODS.includes(upper) ? upper : method;
}

function pageOrigin() {
  const o = globalThis.location && globalThis.location.origin;
  return o && o !== 'null' ? o : null;
}

/**
 * Build the request head's header list.
 * @param {string} appId
 * @param {Headers} headers caller's headers
 * @param {import('./body.js').RequestBody|null} body
 * @param {Array<[string,string]>} [extra] added last (e.g. WebSocket handshake)
 */
export function requestHeaders(appId, headers, body, extra = []) {
  const list = [['Host', appId]];
  let hasAccept = false, hasType = false;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (DROPPED_REQUEST_HEADERS.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
    if (lower === 'accept') hasAccept = true;
    if (lower === 'content-type') hasType = true;
    list.push([name, value]);
  }
  if (!hasAccept) list.push(['Accept', '*/*']);
  const origin = pageOrigin();
  if (origin) list.push(['Origin', origin]);
  if (body) {
    if (!hasType && body.contentType) list.push(['Content-Type', body.contentType]);
    if (body.length === null) list.push(['Transfer-Encoding', 'chunked']);
    else list.push(['Content-Length', String(body.length)]);
  }
  for (const h of extra) list.push(h);
  return list;
}

/**
 * A body of known length into the packer. Returns the bytes sent, or null when `ended()`.
 * @param {import('./body.js').RequestBody} body
 * @param {FramePacker} packer
 */
async function sendSized(body, packer, ended, onUploadProgress) {
  let sent = 0;
  for await (const chunk of body.chunks()) {
    if (ended()) return null;
    sent += chunk.length;
    if (sent > body.length) throw new TypeError('request body longer than its length');
    await packer.push(chunk);
    if (onUploadProgress) onUploadProgress(sent, body.length);
  }
  if (sent !== body.length) throw new TypeError('request body shorter than its length');
  return sent;
}

/**
 * A body of unknown length (a ReadableStream) with chunked coding, one HTTP chunk per piece
 * the stream yields. Pieces the stream already holds share frames; a partly filled frame is
 * sent as soon as the stream has nothing more at hand, so streaming adds no delay.
 */
async function sendChunked(body, packer, ended, onUploadProgress) {
  let sent = 0;
  const pieces = body.chunks()[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = pieces.next();
      if (packer.pending > 0 && !(await settlesAtOnce(next))) await packer.flush();
      const { done, value } = await next;
      if (done) break;
      if (ended()) return null;
      if (value.length === 0) continue; // an empty chunk would read as the last one
      await packer.push(chunkHead(value.length));
      await packer.push(value);
      await packer.push(CRLF);
      sent += value.length;
      if (onUploadProgress) onUploadProgress(sent, null);
    }
  } finally {
    pieces.return().catch(() => {});
  }
  await packer.push(LAST_CHUNK);
  return sent;
}

/** Whether `p` settles within a few microtasks, i.e. without waiting for any new event. */
async function settlesAtOnce(p) {
  let soon = Promise.resolve();
  for (let i = 0; i < 16; i++) soon = soon.then();
  return Promise.race([p.then(() => true, () => true), soon.then(() => false)]);
}

/**
 * One exchange: open a stream, write the request, resolve when the response head arrives.
 * The returned body is a ReadableStream of the (de-chunked) body bytes.
 * Rejects with the abort reason if `signal` aborts, otherwise with a network error TypeError.
 * @returns {Promise<{status:number, statusText:string, headers:Array<[string,string]>, body:ReadableStream<Uint8Array>, cancel(reason?: string): void}>}
 */
export async function exchange(getLink, { appId, method, target, headers, body, signal, onUploadProgress, daemonChannel = null }) {
  if (signal && signal.aborted) throw abortError(signal);
  let stream;
  for (let attempt = 1; ; attempt++) {
    try {
      const link = await getLink();
      if (signal && signal.aborted) throw abortError(signal);
      stream = daemonChannel ? await link.openDaemonStream(daemonChannel) : await link.openStream(appId);
      break;
    } catch (e) {
      if (signal && signal.aborted) throw abortError(signal);
      // Nothing was sent: the link retired (link.js, MAX_STREAM_ID), and the next one takes over.
      if (attempt === 1 && e && e.code === 'stream-ids-exhausted') continue;
      throw networkError(e);
    }
  }
  if (signal && signal.aborted) {
    stream.reset('aborted');
    throw abortError(signal);
  }
  return new Promise((resolve, reject) => {
    let headSeen = false;
    let finished = false;
    let controller;
    // A page that reads the body slowly pauses the stream's credit once this much is queued,
    // so the appliance stops sending (stream.js): memory stays bounded whatever the reader does.
    const bodyStream = new ReadableStream({
      start(c) { controller = c; },
      pull() { stream.resume(); },
      cancel() {
        if (!finished) {
          finished = true;
          cleanup();
          stream.reset('response body cancelled');
        }
      },
    }, { highWaterMark: RESPONSE_BUFFER, size: (chunk) => chunk.byteLength });
    const onAbort = () => fail(abortError(signal), 'aborted', true);
    const cleanup = () => { if (signal) signal.removeEventListener('abort', onAbort); };
    if (signal) signal.addEventListener('abort', onAbort);

    function fail(err, resetReason, isAbort = false) {
      if (finished) return;
      finished = true;
      cleanup();
      const e = isAbort ? err : networkError(err);
      stream.reset(resetReason || (err && err.message) || 'failed');
      if (!headSeen) reject(e);
      else {
        try { controller.error(e); } catch { /* already closed */ }
      }
    }

    const parser = new ResponseParser({
      head(h) {
        headSeen = true;
        resolve({
          status: h.status,
          statusText: h.statusText,
          headers: h.headers,
          body: bodyStream,
          cancel: (reason) => fail(new TypeError(reason || 'cancelled'), reason),
        });
      },
      data(bytes) {
        if (finished) return;
        controller.enqueue(bytes);
        if (controller.desiredSize <= 0) stream.pause();
      },
      end() {
        if (finished) return;
        finished = true;
        cleanup();
        controller.close();
        // the channel closes when both ENDs have passed (stream.js)
      },
    }, { method });

    stream.setSink({
      data(bytes) {
        if (finished) return;
        try { parser.push(bytes); } catch (e) { fail(e, 'malformed response'); }
      },
      end() {
        if (finished) return;
        try { parser.finish(); } catch (e) { fail(e, 'incomplete response'); }
      },
      error(err) { fail(err); },
    });

    (async () => {
      const packer = new FramePacker((frame) => stream.writeFrame(frame));
      await packer.push(writeRequestHead(method, target, requestHeaders(appId, headers, body)));
      let sent = 0;
      if (body) {
        const send = body.length === null ? sendChunked : sendSized;
        sent = await send(body, packer, () => finished, onUploadProgress);
        if (sent === null) return; // the exchange ended first
      }
      await packer.flush();
      await stream.end();
      if (body && onUploadProgress) onUploadProgress(sent, body.length, true);
    })().catch((e) => {
      // after a complete response, a failed upload (server answered early) does not matter
      if (!finished) fail(e, 'request failed');
    });
  });
}

/**
 * An HTTP request to an app with redirects. Resolves at the final response head.
 * @param {() => Promise<any>} getLink
 * @param {import('./routes.js').Route} route
 * @param {{method: string, headers: Headers, body: *, signal?: AbortSignal, redirect?: 'follow'|'manual'|'error', onUploadProgress?: Function}} opts
 */
export async function appRequest(getLink, route, opts) {
  let method = normaliseMethod(opts.method || 'GET');
  let headers = new Headers(opts.headers || undefined);
  if ((method === 'GET' || method === 'HEAD') && opts.body !== null && opts.body !== undefined) {
    throw new TypeError('Request with GET/HEAD method cannot have body.');
  }
  let body = toRequestBody(opts.body);
  const redirectMode = opts.redirect || 'follow';
  let target = route.target;
  let redirects = 0;
  for (;;) {
    const res = await exchange(getLink, {
      appId: route.appId, method, target, headers, body, signal: opts.signal,
      onUploadProgress: opts.onUploadProgress,
    });
    const location = REDIRECT_STATUSES.has(res.status) ? res.headers.find(([n]) => n.toLowerCase() === 'location') : null;
    if (!location || redirectMode === 'manual') {
      return { ...res, url: route.publicUrl(target), redirected: redirects > 0, method };
    }
    res.cancel('redirect');
    if (redirectMode === 'error') throw networkError(new TypeError(`redirect to ${location[1]} with redirect mode "error"`));
    if (++redirects > MAX_REDIRECTS) throw networkError(new TypeError('too many redirects'));
    const next = resolveRedirect(route.appId, target, location[1]);
    if (next === null) throw networkError(new TypeError(`redirect to ${location[1]} leaves app ${route.appId}`));
    if (((res.status === 301 || res.status === 302) && method === 'POST') || (res.status === 303 && method !== 'GET' && method !== 'HEAD')) {
      method = 'GET';
      body = null;
      headers = new Headers(headers);
      for (const h of ['content-type', 'content-encoding', 'content-language', 'content-location']) headers.delete(h);
    } else if (body && !body.replayable) {
      throw networkError(new TypeError('cannot replay a streamed request body for a redirect'));
    }
    target = next;
  }
}

/** Build a Response from an appRequest result. */
export function toResponse(res) {
  const headers = new Headers();
  for (const [n, v] of res.headers) {
    try { headers.append(n, v); } catch { /* a value Headers refuses */ }
  }
  if (res.status < 200 || res.status > 599) {
    res.cancel('unsupported status');
    throw networkError(new TypeError(`unsupported status ${res.status}`));
  }
  const nullBody = NULL_BODY_STATUSES.has(res.status) || res.method === 'HEAD';
  let response;
  try {
    response = new Response(nullBody ? null : res.body, { status: res.status, statusText: res.statusText, headers });
  } catch {
    response = new Response(nullBody ? null : res.body, { status: res.status, headers });
  }
  Object.defineProperty(response, 'url', { value: res.url, enumerable: true });
  Object.defineProperty(response, 'redirected', { value: res.redirected, enumerable: true });
  return response;
}

/**
 * A fetch that sends app URLs over the link and everything else to `originalFetch`.
 * @param {{getLink: () => Promise<any>, apps: Array<{prefix: string, appId: string}>, originalFetch?: typeof fetch}} cfg
 * @returns {typeof fetch}
 */
export function createFetch({ getLink, apps, originalFetch }) {
  return async function fetch(input, init = undefined) {
    const isRequest = typeof Request !== 'undefined' && input instanceof Request;
    const url = isRequest ? input.url : input;
    let route;
    try {
      route = routeUrl(url, apps, 'http');
    } catch (e) {
      throw networkError(e);
    }
    if (!route) {
      if (!originalFetch) throw new TypeError('Failed to fetch', { cause: new TypeError('not an app URL') });
      return originalFetch(input, init);
    }
    init = init || {};
    let body = init.body;
    if (body === undefined && isRequest && input.body) body = await input.clone().arrayBuffer();
    const res = await appRequest(getLink, route, {
      method: init.method ?? (isRequest ? input.method : 'GET'),
      headers: init.headers ?? (isRequest ? input.headers : undefined),
      body,
      signal: init.signal ?? (isRequest ? input.signal : undefined),
      redirect: init.redirect ?? (isRequest ? input.redirect : 'follow'),
    });
    return toResponse(res);
  };
}

// XMLHttpRequest: a subclass of the native one. `open()` with an app URL switches the instance
// into app mode, where the request runs through the shim's HTTP path and every XHR-visible
// state (readyState, status, headers, response, events) is the subclass's own.
import { route as routeUrl } from './routes.js';
import { appRequest, normaliseMethod } from './fetch.js';
import { concat, fromUtf8 } from './bytes.js';

const UNSENT = 0, OPENED = 1, HEADERS_RECEIVED = 2, LOADING = 3, DONE = 4;
const PROGRESS_INTERVAL_MS = 50;
const FORBIDDEN_HEADERS = new Set([
  'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method',
  'connection', 'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive',
  'origin', 'referer', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via',
]);

function progressEvent(type, loaded, total, lengthComputable) {
  if (typeof ProgressEvent === 'function') return new ProgressEvent(type, { loaded, total, lengthComputable });
  const ev = new Event(type);
  Object.defineProperties(ev, { loaded: { value: loaded }, total: { value: total }, lengthComputable: { value: lengthComputable } });
  return ev;
}

function mimeOf(contentType) {
  return (contentType || '').split(';')[0].trim().toLowerCase();
}

function charsetOf(contentType) {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType || '');
  return m ? m[1] : null;
}

/**
 * Make the XMLHttpRequest class.
 * @param {{getLink: () => Promise<any>, apps: Array<{prefix: string, appId: string}>, NativeXHR: typeof XMLHttpRequest}} cfg
 */
export function createXHRClass({ getLink, apps, NativeXHR }) {
  class XMLHttpRequest extends NativeXHR {
    #app = null; // app-mode state, null in native mode
    #responseType = '';
    #timeout = 0;
    #mime = null;

    open(method, url, async = true, username, password) {
      let r = null;
      try {
        r = routeUrl(url, apps, 'http');
      } catch (e) {
        throw new DOMException(e.message, 'SyntaxError');
      }
      if (this.#app) this.#terminate();
      if (!r) {
        this.#app = null;
        return arguments.length > 2 ? super.open(method, url, async, username, password) : super.open(method, url);
      }
      if (arguments.length > 2 && !async) {
        throw new DOMException('Synchronous requests are not supported for app URLs.', 'InvalidAccessError');
      }
      let m;
      try {
        m = normaliseMethod(method);
      } catch (e) {
        throw new DOMException(e.message, 'SyntaxError');
      }
      this.#app = {
        route: r, method: m, headers: new Headers(), state: OPENED, sent: false,
        status: 0, statusText: '', responseHeaders: [], responseURL: '',
        chunks: [], received: 0, total: 0, lengthComputable: false,
        text: '', decoder: null, response: undefined, error: false,
        controller: null, timer: null, uploadDone: true, lastProgress: 0, lastUpload: 0,
      };
      this.#fire('readystatechange');
    }

    setRequestHeader(name, value) {
      const a = this.#app;
      if (!a) return super.setRequestHeader(name, value);
      if (a.state !== OPENED || a.sent) throw new DOMException('The object\'s state must be OPENED.', 'InvalidStateError');
      const lower = String(name).toLowerCase();
      if (FORBIDDEN_HEADERS.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) return;
      try {
        a.headers.append(name, value);
      } catch (e) {
        throw new DOMException(e.message, 'SyntaxError');
      }
    }

    send(body = null) {
      const a = this.#app;
      if (!a) return super.send(body);
      if (a.state !== OPENED || a.sent) throw new DOMException('The object\'s state must be OPENED.', 'InvalidStateError');
      if (a.method === 'GET' || a.method === 'HEAD') body = null;
      a.sent = true;
      a.controller = new AbortController();
      const hasBody = body !== null && body !== undefined;
      a.uploadDone = !hasBody;
      this.#fire('loadstart', 0, 0, false);
      if (hasBody) this.#fireUpload('loadstart', 0, 0, false);
      if (this.#timeout > 0) a.timer = setTimeout(() => this.#requestError(a, 'timeout'), this.#timeout);
      let uploadTotal = 0;
      appRequest(getLink, a.route, {
        method: a.method,
        headers: a.headers,
        body: hasBody ? body : null,
        signal: a.controller.signal,
        redirect: 'follow',
        onUploadProgress: (loaded, total, done) => {
          if (this.#app !== a || a.uploadDone) return;
          uploadTotal = total ?? 0;
          const now = Date.now();
          if (done) {
            a.uploadDone = true;
            this.#fireUpload('progress', loaded, uploadTotal, total !== null);
            this.#fireUpload('load', loaded, uploadTotal, total !== null);
            this.#fireUpload('loadend', loaded, uploadTotal, total !== null);
          } else if (now - a.lastUpload >= PROGRESS_INTERVAL_MS) {
            a.lastUpload = now;
            this.#fireUpload('progress', loaded, uploadTotal, total !== null);
          }
        },
      }).then((res) => this.#onHead(a, res), (err) => {
        if (this.#app === a && !a.error) this.#requestError(a, 'error', err);
      });
    }

    #onHead(a, res) {
      if (this.#app !== a || a.error) {
        res.cancel('request gone');
        return;
      }
      if (!a.uploadDone) {
        // the response came before the whole body went out: the upload is over anyway
        a.uploadDone = true;
        this.#fireUpload('progress', 0, 0, false);
        this.#fireUpload('load', 0, 0, false);
        this.#fireUpload('loadend', 0, 0, false);
      }
      a.status = res.status;
      a.statusText = res.statusText;
      a.responseHeaders = res.headers;
      a.responseURL = res.url;
      const cl = res.headers.find(([n]) => n.toLowerCase() === 'content-length');
      const ce = res.headers.find(([n]) => n.toLowerCase() === 'content-encoding');
      if (cl && !ce && /^\d+$/.test(cl[1].trim())) {
        a.total = Number(cl[1].trim());
        a.lengthComputable = true;
      }
      a.state = HEADERS_RECEIVED;
      this.#fire('readystatechange');
      if (this.#app !== a || a.error) return;
      const reader = res.body.getReader();
      const pump = () => reader.read().then(({ done, value }) => {
        if (this.#app !== a || a.error) {
          reader.cancel().catch(() => {});
          return;
        }
        if (done) return this.#onEnd(a);
        a.chunks.push(value);
        a.received += value.length;
        if (this.#responseType === '' || this.#responseType === 'text') this.#decode(a, value, false);
        if (a.state === HEADERS_RECEIVED) a.state = LOADING;
        this.#fire('readystatechange');
        const now = Date.now();
        if (now - a.lastProgress >= PROGRESS_INTERVAL_MS) {
          a.lastProgress = now;
          this.#fire('progress', a.received, a.total, a.lengthComputable);
        }
        return pump();
      }, (err) => {
        if (this.#app === a && !a.error) this.#requestError(a, 'error', err);
      });
      pump();
    }

    #decode(a, bytes, final) {
      if (!a.decoder) {
        const type = this.#mime || this.#header(a, 'content-type') || '';
        let label = charsetOf(type) || 'utf-8';
        try {
          a.decoder = new TextDecoder(label);
        } catch {
          a.decoder = new TextDecoder('utf-8');
        }
      }
      a.text += a.decoder.decode(bytes || new Uint8Array(0), { stream: !final });
    }

    #onEnd(a) {
      if (a.timer) clearTimeout(a.timer);
      if (this.#responseType === '' || this.#responseType === 'text') this.#decode(a, null, true);
      a.state = DONE;
      this.#fire('readystatechange');
      this.#fire('progress', a.received, a.total, a.lengthComputable);
      this.#fire('load', a.received, a.total, a.lengthComputable);
      this.#fire('loadend', a.received, a.total, a.lengthComputable);
    }

    // XHR "request error steps" for error, timeout and abort.
    #requestError(a, kind, cause) {
      if (a.error || a.state === DONE || a.state === UNSENT) return;
      a.error = kind;
      a.cause = cause;
      if (a.timer) clearTimeout(a.timer);
      if (a.controller) a.controller.abort();
      a.state = DONE;
      a.status = 0;
      a.statusText = '';
      a.responseHeaders = [];
      a.chunks = [];
      a.text = '';
      a.sent = false;
      this.#fire('readystatechange');
      if (!a.uploadDone) {
        a.uploadDone = true;
        this.#fireUpload(kind, 0, 0, false);
        this.#fireUpload('loadend', 0, 0, false);
      }
      this.#fire(kind, 0, 0, false);
      this.#fire('loadend', 0, 0, false);
    }

    // Stop an app request without events (open() called again).
    #terminate() {
      const a = this.#app;
      if (a.timer) clearTimeout(a.timer);
      a.error = 'terminated';
      if (a.controller) a.controller.abort();
    }

    abort() {
      const a = this.#app;
      if (!a) return super.abort();
      if ((a.state === OPENED && a.sent) || a.state === HEADERS_RECEIVED || a.state === LOADING) {
        this.#requestError(a, 'abort');
      }
      if (a.state === DONE) {
        a.state = UNSENT; // no readystatechange (XHR standard)
        a.status = 0;
      }
    }

    #fire(type, loaded, total, computable) {
      const ev = loaded === undefined ? new Event(type) : progressEvent(type, loaded, total, computable);
      this.dispatchEvent(ev);
    }

    #fireUpload(type, loaded, total, computable) {
      this.upload.dispatchEvent(progressEvent(type, loaded, total, computable));
    }

    #header(a, name) {
      const values = a.responseHeaders.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
      return values.length ? values.join(', ') : null;
    }

    get readyState() { return this.#app ? this.#app.state : super.readyState; }
    get status() { return this.#app ? this.#app.status : super.status; }
    get statusText() { return this.#app ? this.#app.statusText : super.statusText; }
    get responseURL() { return this.#app ? (this.#app.state >= HEADERS_RECEIVED ? this.#app.responseURL : '') : super.responseURL; }
    get responseXML() { return this.#app ? null : super.responseXML; }

    getResponseHeader(name) {
      const a = this.#app;
      if (!a) return super.getResponseHeader(name);
      if (a.state < HEADERS_RECEIVED || a.error) return null;
      const lower = String(name).toLowerCase();
      if (lower === 'set-cookie' || lower === 'set-cookie2') return null;
      return this.#header(a, lower);
    }

    getAllResponseHeaders() {
      const a = this.#app;
      if (!a) return super.getAllResponseHeaders();
      if (a.state < HEADERS_RECEIVED || a.error) return '';
      const map = new Map();
      for (const [n, v] of a.responseHeaders) {
        const lower = n.toLowerCase();
        if (lower === 'set-cookie' || lower === 'set-cookie2') continue;
        map.set(lower, map.has(lower) ? `${map.get(lower)}, ${v}` : v);
      }
      return [...map.keys()].sort().map((k) => `${k}: ${map.get(k)}\r\n`).join('');
    }

    overrideMimeType(mime) {
      if (!this.#app) return super.overrideMimeType(mime);
      if (this.#app.state === LOADING || this.#app.state === DONE) throw new DOMException('The object\'s state must not be LOADING or DONE.', 'InvalidStateError');
      this.#mime = String(mime);
    }

    get responseType() { return this.#app ? this.#responseType : super.responseType; }
    set responseType(v) {
      if (!['', 'text', 'json', 'arraybuffer', 'blob', 'document'].includes(v)) return;
      if (this.#app) {
        if (this.#app.state === LOADING || this.#app.state === DONE) throw new DOMException('The response type cannot be set when the state is LOADING or DONE.', 'InvalidStateError');
        this.#responseType = v;
        return;
      }
      super.responseType = v;
      this.#responseType = v;
    }

    get timeout() { return this.#app ? this.#timeout : super.timeout; }
    set timeout(v) {
      this.#timeout = Math.max(0, Number(v) || 0);
      try { super.timeout = v; } catch { /* native refuses in some states */ }
      const a = this.#app;
      if (a && a.sent && !a.error && a.state !== DONE) {
        if (a.timer) clearTimeout(a.timer);
        a.timer = this.#timeout > 0 ? setTimeout(() => this.#requestError(a, 'timeout'), this.#timeout) : null;
      }
    }

    get responseText() {
      const a = this.#app;
      if (!a) return super.responseText;
      if (this.#responseType !== '' && this.#responseType !== 'text') {
        throw new DOMException('The value is only accessible if the object\'s responseType is \'\' or \'text\'.', 'InvalidStateError');
      }
      if (a.state !== LOADING && a.state !== DONE) return '';
      return a.text;
    }

    get response() {
      const a = this.#app;
      if (!a) return super.response;
      const t = this.#responseType;
      if (t === '' || t === 'text') return this.responseText;
      if (a.state !== DONE || a.error) return null;
      if (a.response !== undefined) return a.response;
      const bytes = concat(a.chunks);
      a.chunks = [bytes];
      if (t === 'arraybuffer') a.response = bytes.buffer;
      else if (t === 'blob') a.response = new Blob([bytes], { type: mimeOf(this.#mime || this.#header(a, 'content-type')) || '' });
      else if (t === 'json') {
        try {
          a.response = JSON.parse(fromUtf8(bytes));
        } catch {
          a.response = null;
        }
      } else a.response = null; // 'document' is not supported for app URLs
      return a.response;
    }
  }
  return XMLHttpRequest;
}

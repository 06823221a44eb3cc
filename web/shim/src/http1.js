// HTTP/1.1 over a stream (RFC 9112): a request-head writer and an incremental response parser.
import { HttpParseError } from './errors.js';
import { latin1, utf8, concat } from './bytes.js';

export const MAX_HEAD = 65536;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// field-value: visible ASCII, obs-text, SP and HTAB; no CR, LF or NUL
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** True if `s` is an HTTP token (method, header name). */
export function isToken(s) {
  return typeof s === 'string' && TOKEN.test(s);
}

/**
 * Serialize a request head.
 * @param {string} method
 * @param {string} target origin-form (`/path?query`)
 * @param {Array<[string, string]>} headers in order
 * @returns {Uint8Array}
 * @throws {TypeError} for a method, target, header name or value that would break the framing
 */
export function writeRequestHead(method, target, headers) {
  if (!isToken(method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(method)}`);
  if (typeof target !== 'string' || !/^\/[\x21-\x7e]*$/.test(target)) {
    throw new TypeError(`invalid request target ${JSON.stringify(target)}`);
  }
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of headers) {
    if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    const v = String(value).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(v)) throw new TypeError(`invalid value for header ${name}`);
    head += `${name}: ${v}\r\n`;
  }
  head += '\r\n';
  // header values are ByteStrings: one byte per char
  const out = new Uint8Array(head.length);
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c > 0xff) throw new TypeError('header value is not a ByteString');
    out[i] = c;
  }
  return out;
}

/** The size line that starts a chunk of `n` bytes (n > 0). */
export function chunkHead(n) {
  return utf8(n.toString(16) + '\r\n');
}

export const CRLF = utf8('\r\n');

/** The last chunk of a chunked body, with no trailers. */
export const LAST_CHUNK = utf8('0\r\n\r\n');

// Parser states
export const S_HEAD = 'head';
export const S_BODY_LENGTH = 'body-length';
export const S_BODY_EOF = 'body-eof';
export const S_CHUNK_SIZE = 'chunk-size';
export const S_CHUNK_DATA = 'chunk-data';
export const S_CHUNK_DATA_END = 'chunk-data-end';
export const S_TRAILERS = 'trailers';
export const S_UPGRADED = 'upgraded';
export const S_DONE = 'done';
export const S_FAILED = 'failed';

const MAX_CHUNK_LINE = 4096;

/**
 * @typedef {{status: number, statusText: string, version: string, headers: Array<[string,string]>}} ResponseHead
 * @typedef {{
 *   head(h: ResponseHead): void,
 *   data(bytes: Uint8Array): void,
 *   end(): void,
 * }} ResponseSink
 */

/**
 * Incremental HTTP/1.1 response parser. Feed it bytes with `push` and tell it about the end
 * of the stream with `finish`. It calls the sink's `head` once (interim 1xx responses other
 * than 101 are skipped), `data` for body bytes (de-chunked), and `end` once the framed body
 * is complete. Every failure is an HttpParseError and leaves the parser in the terminal
 * `failed` state; after a failure or completion further input is ignored.
 */
export class ResponseParser {
  /**
   * @param {ResponseSink} sink
   * @param {{method?: string, upgrade?: boolean, maxHead?: number}} [options]
   *   method: the request method (HEAD responses have no body);
   *   upgrade: a 101 response switches to `upgraded`, where all later bytes are `data`.
   */
  constructor(sink, options = {}) {
    this.sink = sink;
    this.method = (options.method || 'GET').toUpperCase();
    this.upgrade = !!options.upgrade;
    this.maxHead = options.maxHead || MAX_HEAD;
    this.state = S_HEAD;
    this.error = null;
    this._buf = new Uint8Array(0); // unparsed bytes in head/chunk-line/trailer states
    this._remaining = 0; // body-length / chunk-data bytes left
    this._headBytes = 0;
    this._trailerBytes = 0;
  }

  /** Feed received bytes. @throws {HttpParseError} */
  push(bytes) {
    if (this.state === S_FAILED) throw this.error;
    if (this.state === S_DONE) return; // bytes after a complete response are ignored
    try {
      this._push(bytes);
    } catch (e) {
      throw this._fail(e);
    }
  }

  /** The stream ended (END). @throws {HttpParseError} if the response is incomplete */
  finish() {
    if (this.state === S_FAILED) throw this.error;
    if (this.state === S_DONE) return;
    if (this.state === S_BODY_EOF || this.state === S_UPGRADED) {
      this.state = S_DONE;
      this.sink.end();
      return;
    }
    throw this._fail(new HttpParseError(
      this.state === S_HEAD ? 'stream ended before the response head was complete' : 'stream ended before the response body was complete'));
  }

  _fail(e) {
    if (!(e instanceof HttpParseError)) e = new HttpParseError(String(e && e.message ? e.message : e), { cause: e });
    if (this.state !== S_FAILED) {
      this.state = S_FAILED;
      this.error = e;
      this._buf = new Uint8Array(0);
    }
    return this.error;
  }

  _append(bytes) {
    this._buf = this._buf.length ? concat([this._buf, bytes]) : bytes;
  }

  _push(bytes) {
    let data = bytes;
    while (data.length > 0 && this.state !== S_DONE && this.state !== S_FAILED) {
      switch (this.state) {
        case S_HEAD:
        case S_TRAILERS:
        case S_CHUNK_SIZE:
        case S_CHUNK_DATA_END: {
          const before = this._buf.length;
          this._append(data);
          data = this._lineState(before);
          break;
        }
        case S_BODY_LENGTH:
        case S_CHUNK_DATA: {
          const n = Math.min(this._remaining, data.length);
          const piece = data.subarray(0, n);
          data = data.subarray(n);
          this._remaining -= n;
          if (n > 0) this.sink.data(piece);
          if (this._remaining === 0) {
            if (this.state === S_BODY_LENGTH) this._done();
            else this.state = S_CHUNK_DATA_END;
          }
          break;
        }
        case S_BODY_EOF:
        case S_UPGRADED:
          this.sink.data(data);
          data = data.subarray(data.length);
          break;
        default:
          throw new HttpParseError(`bad state ${this.state}`);
      }
    }
  }

  _done() {
    this.state = S_DONE;
    this.sink.end();
  }

  // Handles the states that consume whole lines from this._buf. Returns unconsumed input
  // (as a fresh array) once the state changes to a byte-counting state; otherwise empty.
  _lineState(before) {
    for (;;) {
      const buf = this._buf;
      if (this.state === S_HEAD) {
        const end = findHeadEnd(buf, Math.max(0, before - 3));
        if (end < 0) {
          if (buf.length > this.maxHead) throw new HttpParseError('response head larger than 64 KiB');
          return new Uint8Array(0);
        }
        if (end.headEnd > this.maxHead) throw new HttpParseError('response head larger than 64 KiB');
        const head = buf.subarray(0, end.headEnd);
        this._buf = new Uint8Array(0);
        const rest = buf.subarray(end.bodyStart);
        const interim = this._onHead(head);
        if (interim) {
          before = 0;
          this._buf = rest.slice();
          if (this._buf.length === 0) return new Uint8Array(0);
          continue;
        }
        return rest;
      }
      if (this.state === S_CHUNK_SIZE || this.state === S_CHUNK_DATA_END) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (buf.length > MAX_CHUNK_LINE) throw new HttpParseError('chunk size line too long');
          return new Uint8Array(0);
        }
        let line = buf.subarray(0, nl);
        if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
        const rest = buf.subarray(nl + 1);
        this._buf = new Uint8Array(0);
        if (this.state === S_CHUNK_DATA_END) {
          if (line.length !== 0) throw new HttpParseError('missing CRLF after chunk data');
          this.state = S_CHUNK_SIZE;
          this._buf = rest.slice();
          before = 0;
          continue;
        }
        const size = parseChunkSize(latin1(line));
        if (size === 0) {
          this.state = S_TRAILERS;
          this._trailerBytes = 0;
          this._buf = rest.slice();
          before = 0;
          continue;
        }
        this.state = S_CHUNK_DATA;
        this._remaining = size;
        return rest;
      }
      if (this.state === S_TRAILERS) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (this._trailerBytes + buf.length > this.maxHead) throw new HttpParseError('trailer section too large');
          return new Uint8Array(0);
        }
        let line = buf.subarray(0, nl);
        if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
        this._trailerBytes += nl + 1;
        if (this._trailerBytes > this.maxHead) throw new HttpParseError('trailer section too large');
        const rest = buf.subarray(nl + 1);
        this._buf = new Uint8Array(0);
        if (line.length === 0) {
          this._done();
          return new Uint8Array(0);
        }
        parseHeaderLine(latin1(line)); // validate, then ignore trailers
        this._buf = rest.slice();
        before = 0;
        continue;
      }
      return new Uint8Array(0);
    }
  }

  // Returns true for an interim (1xx, not 101) response that is skipped.
  _onHead(bytes) {
    const text = latin1(bytes);
    const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    if (lines.some((l) => l.includes('\r'))) throw new HttpParseError('bare CR in response head');
    const m = /^HTTP\/1\.([01]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/.exec(lines[0]);
    if (!m) throw new HttpParseError('malformed status line');
    const version = '1.' + m[1];
    const status = Number(m[2]);
    if (status < 100) throw new HttpParseError('status code out of range');
    const statusText = m[3] || '';
    const headers = [];
    for (let i = 1; i < lines.length; i++) headers.push(parseHeaderLine(lines[i]));

    if (status >= 100 && status < 200 && !(status === 101 && this.upgrade)) {
      if (status === 101) throw new HttpParseError('unexpected 101 Switching Protocols');
      return true; // 100 Continue, 103 Early Hints...: wait for the final response
    }
    const get = (name) => headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

    let next;
    const te = get('transfer-encoding');
    const cl = get('content-length');
    if (status === 101) {
      next = S_UPGRADED;
    } else if (this.method === 'HEAD' || status === 204 || status === 304) {
      next = S_DONE;
    } else if (te.length > 0) {
      const codings = te.join(',').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      if (version === '1.1' && codings.length && codings[codings.length - 1] === 'chunked') {
        if (codings.indexOf('chunked') !== codings.length - 1) throw new HttpParseError('chunked applied more than once');
        next = S_CHUNK_SIZE;
      } else {
        next = S_BODY_EOF;
      }
    } else if (cl.length > 0) {
      const values = cl.join(',').split(',').map((s) => s.trim());
      if (!values.every((v) => /^[0-9]{1,15}$/.test(v)) || new Set(values.map(Number)).size !== 1) {
        throw new HttpParseError('invalid Content-Length');
      }
      this._remaining = Number(values[0]);
      next = this._remaining === 0 ? S_DONE : S_BODY_LENGTH;
    } else {
      next = S_BODY_EOF;
    }
    this.head = { status, statusText, version, headers };
    this.state = next === S_DONE ? S_HEAD : next; // keep a non-terminal state during the callback
    this.sink.head(this.head);
    if (this.state === S_FAILED) return false;
    if (next === S_DONE) this._done();
    else this.state = next;
    return false;
  }
}

function findHeadEnd(buf, from) {
  // The head ends at the first empty line: CRLF CRLF, or LF LF / CRLF LF / LF CRLF leniently.
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (i + 1 < buf.length && buf[i + 1] === 0x0a) return { headEnd: i, bodyStart: i + 2 };
    if (i + 2 < buf.length && buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headEnd: i, bodyStart: i + 3 };
  }
  return -1;
}

function parseHeaderLine(line) {
  if (line.length === 0) throw new HttpParseError('empty header line');
  if (line[0] === ' ' || line[0] === '\t') throw new HttpParseError('obsolete line folding in header');
  const colon = line.indexOf(':');
  if (colon <= 0) throw new HttpParseError('header line without a name');
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) throw new HttpParseError('invalid header name');
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (!FIELD_VALUE.test(value)) throw new HttpParseError('invalid character in header value');
  return [name, value];
}

function parseChunkSize(line) {
  const semi = line.indexOf(';');
  const hex = (semi >= 0 ? line.slice(0, semi) : line).replace(/[ \t]+$/, '');
  if (!/^[0-9A-Fa-f]{1,13}$/.test(hex)) throw new HttpParseError('invalid chunk size');
  const size = parseInt(hex, 16);
  if (!Number.isSafeInteger(size)) throw new HttpParseError('chunk size too large');
  return size;
}

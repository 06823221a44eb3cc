// Request bodies: the BodyInit kinds of the Fetch standard, turned into bytes with a known
// length where there is one (string, BufferSource, Blob, URLSearchParams, FormData), or a
// stream sent with chunked transfer coding (ReadableStream).
import { asBytes, utf8, randomBytes } from './bytes.js';

const CHUNK = 64 * 1024;
const BLOB_SLICE = 1024 * 1024;

/**
 * @typedef {{
 *   length: number|null,           // null: unknown, send chunked
 *   contentType: string|null,      // default Content-Type, when the caller set none
 *   replayable: boolean,           // can be sent again (redirect 307/308)
 *   chunks(): AsyncIterable<Uint8Array>,
 * }} RequestBody
 */

function bytesBody(bytes, contentType) {
  return {
    length: bytes.length,
    contentType,
    replayable: true,
    async *chunks() {
      for (let i = 0; i < bytes.length; i += CHUNK) yield bytes.subarray(i, Math.min(i + CHUNK, bytes.length));
    },
  };
}

function blobBody(blob, contentType) {
  return {
    length: blob.size,
    contentType,
    replayable: true,
    async *chunks() {
      // Read 1 MiB slices, so a large Blob is never held in memory at once, and start reading
      // the next slice before handing out the current one: a Blob read is an IPC round trip to
      // the browser's blob store, and waiting for it between slices idled the link.
      const read = (at) => blob.slice(at, Math.min(at + BLOB_SLICE, blob.size)).arrayBuffer();
      let pending = blob.size > 0 ? read(0) : null;
      for (let i = 0; i < blob.size; i += BLOB_SLICE) {
        const part = new Uint8Array(await pending);
        pending = i + BLOB_SLICE < blob.size ? read(i + BLOB_SLICE) : null;
        for (let j = 0; j < part.length; j += CHUNK) yield part.subarray(j, Math.min(j + CHUNK, part.length));
      }
    },
  };
}

function streamBody(stream) {
  let used = false;
  return {
    length: null,
    contentType: null,
    replayable: false,
    async *chunks() {
      if (used) throw new TypeError('a ReadableStream body cannot be sent twice');
      used = true;
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          let bytes;
          try {
            bytes = asBytes(value);
          } catch {
            throw new TypeError('a ReadableStream request body must yield Uint8Array chunks');
          }
          for (let j = 0; j < bytes.length; j += CHUNK) yield bytes.subarray(j, Math.min(j + CHUNK, bytes.length));
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}

/** Escape a multipart/form-data name or filename as the HTML standard does. */
function escapeFormName(name) {
  return name.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

/** Encode FormData as multipart/form-data (HTML standard), returning a Blob and its type. */
export function encodeFormData(form) {
  const boundary = '----IntrustdFormBoundary' + Array.from(randomBytes(12), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'[b % 62]).join('');
  const parts = [];
  for (const [name, value] of form.entries()) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeFormName(name.replace(/\r\n|\r|\n/g, '\r\n'))}"`;
    if (typeof value === 'string') {
      parts.push(utf8(head + '\r\n\r\n'), utf8(value.replace(/\r\n|\r|\n/g, '\r\n')), utf8('\r\n'));
    } else {
      const filename = value.name ?? 'blob';
      head += `; filename="${escapeFormName(filename)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
      parts.push(utf8(head), value, utf8('\r\n'));
    }
  }
  parts.push(utf8(`--${boundary}--\r\n`));
  return { blob: new Blob(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/**
 * Turn a fetch/XHR body into a RequestBody; null/undefined → null.
 * @param {*} body
 * @returns {RequestBody|null}
 */
export function toRequestBody(body) {
  if (body === null || body === undefined) return null;
  if (typeof body === 'string') return bytesBody(utf8(body), 'text/plain;charset=UTF-8');
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return bytesBody(asBytes(body).slice(), null);
  if (typeof SharedArrayBuffer !== 'undefined' && body instanceof SharedArrayBuffer) return bytesBody(new Uint8Array(body).slice(), null);
  if (typeof Blob !== 'undefined' && body instanceof Blob) return blobBody(body, body.type || null);
  if (typeof URLSearchParams !== 'undefined' && body instanceof URLSearchParams) {
    return bytesBody(utf8(body.toString()), 'application/x-www-form-urlencoded;charset=UTF-8');
  }
  if (typeof FormData !== 'undefined' && body instanceof FormData) {
    const { blob, contentType } = encodeFormData(body);
    return blobBody(blob, contentType);
  }
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) {
    if (body.locked) throw new TypeError('the request body stream is locked');
    return streamBody(body);
  }
  if (typeof Document !== 'undefined' && body instanceof Document) {
    const xml = new XMLSerializer().serializeToString(body);
    return bytesBody(utf8(xml), body.contentType && body.contentType !== 'text/html' ? `${body.contentType};charset=UTF-8` : 'text/html;charset=UTF-8');
  }
  return bytesBody(utf8(String(body)), 'text/plain;charset=UTF-8');
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ResponseParser, writeRequestHead, chunkHead, CRLF, LAST_CHUNK, S_FAILED, S_DONE, S_UPGRADED } from '../src/http1.js';
import { HttpParseError } from '../src/errors.js';

const enc = (s) => new Uint8Array(Buffer.from(s, 'latin1'));
const dec = (b) => Buffer.from(b).toString('latin1');

/** Feed `pieces`, then finish if `finish`; returns what the sink saw. */
function run(pieces, { finish = true, ...opts } = {}) {
  const seen = { heads: [], body: [], ended: 0, error: null };
  const p = new ResponseParser({
    head: (h) => seen.heads.push(h),
    data: (b) => { assert.equal(seen.ended, 0, 'data after end'); seen.body.push(dec(b)); },
    end: () => seen.ended++,
  }, opts);
  try {
    for (const piece of pieces) p.push(typeof piece === 'string' ? enc(piece) : piece);
    if (finish) p.finish();
  } catch (e) {
    if (!(e instanceof HttpParseError)) throw e;
    seen.error = e;
  }
  seen.text = seen.body.join('');
  seen.state = p.state;
  return seen;
}

function everySplit(text, check, opts) {
  const bytes = enc(text);
  check(run([bytes], opts), 'whole');
  for (let i = 0; i <= bytes.length; i++) {
    check(run([bytes.subarray(0, i), bytes.subarray(i)], opts), `split at ${i}`);
  }
  for (let i = 0; i < bytes.length; i++) {
    for (let j = i; j <= bytes.length; j += 7) {
      check(run([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)], opts), `split at ${i},${j}`);
    }
  }
  check(run(Array.from(bytes, (b) => Uint8Array.of(b)), opts), 'byte by byte');
}

test('Content-Length body, every split', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nX-Empty:\r\n\r\nhello world';
  everySplit(text, (s, where) => {
    assert.equal(s.error, null, where);
    assert.equal(s.heads.length, 1);
    assert.equal(s.heads[0].status, 200);
    assert.equal(s.heads[0].statusText, 'OK');
    assert.deepEqual(s.heads[0].headers, [['Content-Type', 'text/plain'], ['Content-Length', '11'], ['X-Empty', '']]);
    assert.equal(s.text, 'hello world', where);
    assert.equal(s.ended, 1);
  });
});

test('the body is complete at Content-Length even before the stream ends', () => {
  const s = run(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'], { finish: false });
  assert.equal(s.ended, 1);
  assert.equal(s.state, S_DONE);
  // bytes after a complete response are ignored
  const t = run(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA']);
  assert.equal(t.text, 'ok');
  assert.equal(t.error, null);
});

test('chunked body with extensions and trailers, every split', () => {
  const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 999\r\n\r\n' +
    '5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n000\r\nTrailer: x\r\n\r\n';
  everySplit(text, (s, where) => {
    assert.equal(s.error, null, where + ' ' + (s.error && s.error.message));
    assert.equal(s.text, 'hello 0123456789', where);
    assert.equal(s.ended, 1, where);
  });
});

test('body until end of stream, every split', () => {
  everySplit('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', (s, where) => {
    assert.equal(s.error, null, where);
    assert.equal(s.text, 'until the end', where);
    assert.equal(s.ended, 1);
  });
});

test('LF-only line endings are accepted', () => {
  const s = run(['HTTP/1.1 404 Not Found\nContent-Length: 3\n\nnop']);
  assert.equal(s.heads[0].status, 404);
  assert.equal(s.text, 'nop');
});

test('no body for HEAD, 204 and 304', () => {
  for (const [text, method] of [
    ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'HEAD'],
    ['HTTP/1.1 204 No Content\r\n\r\n', 'GET'],
    ['HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', 'GET'],
  ]) {
    const s = run([text], { method, finish: false });
    assert.equal(s.error, null);
    assert.equal(s.ended, 1);
    assert.equal(s.text, '');
  }
});

test('interim 1xx responses are skipped, every split', () => {
  everySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx', (s, where) => {
    assert.equal(s.error, null, where);
    assert.equal(s.heads.length, 1);
    assert.equal(s.heads[0].status, 201);
    assert.equal(s.text, 'x');
  });
});

test('101 upgrade passes the rest of the stream through', () => {
  everySplit('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi', (s, where) => {
    assert.equal(s.error, null, where);
    assert.equal(s.heads[0].status, 101);
    assert.equal(s.text, '\x81\x02hi');
  }, { upgrade: true });
  const s = run(['HTTP/1.1 101 Switching Protocols\r\n\r\n'], { finish: false, upgrade: true });
  assert.equal(s.state, S_UPGRADED);
  assert.ok(run(['HTTP/1.1 101 Switching Protocols\r\n\r\n']).error, '101 without upgrade requested');
});

test('malformed responses are rejected with HttpParseError and a failed state', () => {
  const bad = {
    'not HTTP': 'HTTP/2.0 200 OK\r\n\r\n',
    'garbage': 'hello\r\n\r\n',
    'two-digit status': 'HTTP/1.1 20 OK\r\n\r\n',
    'status 099': 'HTTP/1.1 099 x\r\n\r\n',
    'space before colon': 'HTTP/1.1 200 OK\r\nName : v\r\n\r\n',
    'no colon': 'HTTP/1.1 200 OK\r\nNameValue\r\n\r\n',
    'obs-fold': 'HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n',
    'NUL in value': 'HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n',
    'bare CR': 'HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n',
    'conflicting Content-Length': 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx',
    'negative Content-Length': 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'Content-Length with junk': 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n',
    'bad chunk size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'huge chunk size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
    'missing CRLF after chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n',
    'double chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
    'bad trailer': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n',
    'truncated Content-Length body': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc',
    'truncated chunked body': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc',
    'chunked without last chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n',
    'truncated head': 'HTTP/1.1 200 OK\r\nA: b\r\n',
    'empty stream': '',
  };
  for (const [why, text] of Object.entries(bad)) {
    const s = run([text]);
    assert.ok(s.error instanceof HttpParseError, why);
    assert.equal(s.state, S_FAILED, why);
  }
});

test('a failed parser stays failed', () => {
  const p = new ResponseParser({ head() {}, data() {}, end() {} });
  assert.throws(() => p.push(enc('nonsense\r\n\r\n')), HttpParseError);
  assert.throws(() => p.push(enc('HTTP/1.1 200 OK\r\n\r\n')), HttpParseError);
  assert.throws(() => p.finish(), HttpParseError);
});

test('the head is limited to 64 KiB', () => {
  const big = 'HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(70000);
  const s = run([big], { finish: false });
  assert.ok(s.error instanceof HttpParseError);
  const s2 = run(['HTTP/1.1 200 OK\r\n', ...Array(700).fill('X-Long: ' + 'b'.repeat(90) + '\r\n')], { finish: false });
  assert.ok(s2.error instanceof HttpParseError);
  const ok = run(['HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(60000) + '\r\nContent-Length: 0\r\n\r\n']);
  assert.equal(ok.error, null);
});

test('request heads: serialisation and refusal of injections', () => {
  const h = writeRequestHead('POST', '/echo?x=1', [['Host', 'hello'], ['Content-Length', '2']]);
  assert.equal(dec(h), 'POST /echo?x=1 HTTP/1.1\r\nHost: hello\r\nContent-Length: 2\r\n\r\n');
  assert.throws(() => writeRequestHead('GET /x HTTP/1.1\r\n', '/', []), TypeError);
  assert.throws(() => writeRequestHead('GET', '/a b', []), TypeError);
  assert.throws(() => writeRequestHead('GET', 'http://x/', []), TypeError);
  assert.throws(() => writeRequestHead('GET', '/', [['A', 'b\r\nHost: evil']]), TypeError);
  assert.throws(() => writeRequestHead('GET', '/', [['A:B', 'c']]), TypeError);
  assert.throws(() => writeRequestHead('GET', '/', [['A', 'caf\u20ac']]), TypeError);
  assert.equal(dec(chunkHead(5)) + 'hello' + dec(CRLF), '5\r\nhello\r\n');
  assert.equal(dec(chunkHead(65527)), 'fff7\r\n');
  assert.equal(dec(LAST_CHUNK), '0\r\n\r\n');
});

// A model of valid responses: random body, framing, chunk sizes and split points.
const validResponse = fc.record({
  body: fc.uint8Array({ maxLength: 300 }),
  framing: fc.constantFrom('length', 'chunked', 'eof'),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
  splits: fc.array(fc.nat(), { maxLength: 8 }),
});

test('property: valid responses parse to their body for any split', () => {
  fc.assert(fc.property(validResponse, ({ body, framing, chunkSizes, splits }) => {
    let text = 'HTTP/1.1 200 OK\r\n';
    let wire;
    if (framing === 'length') wire = Buffer.concat([Buffer.from(text + `Content-Length: ${body.length}\r\n\r\n`), body]);
    else if (framing === 'eof') wire = Buffer.concat([Buffer.from(text + '\r\n'), body]);
    else {
      const parts = [Buffer.from(text + 'Transfer-Encoding: chunked\r\n\r\n')];
      let off = 0, i = 0;
      while (off < body.length) {
        const n = Math.min(chunkSizes[i++ % chunkSizes.length], body.length - off);
        parts.push(Buffer.from(n.toString(16) + '\r\n'), body.subarray(off, off + n), Buffer.from('\r\n'));
        off += n;
      }
      parts.push(Buffer.from('0\r\n\r\n'));
      wire = Buffer.concat(parts);
    }
    const cuts = [...new Set(splits.map((s) => s % (wire.length + 1)))].sort((a, b) => a - b);
    const pieces = [];
    let prev = 0;
    for (const c of cuts) { pieces.push(new Uint8Array(wire.subarray(prev, c))); prev = c; }
    pieces.push(new Uint8Array(wire.subarray(prev)));
    const s = run(pieces);
    assert.equal(s.error, null);
    assert.equal(s.text, Buffer.from(body).toString('latin1'));
    assert.equal(s.ended, 1);
  }), { numRuns: 500 });
});

test('property: random bytes never throw anything but HttpParseError', () => {
  const prefix = fc.constantFrom('', 'HTTP/1.1 200 OK\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HTTP/1.1 101 X\r\n\r\n');
  fc.assert(fc.property(prefix, fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), fc.boolean(), fc.constantFrom('GET', 'HEAD'),
    (pre, chunks, upgrade, method) => {
      // run() rethrows anything that is not an HttpParseError
      run([pre, ...chunks], { upgrade, method });
    }), { numRuns: 3000 });
});

test('property: random text made of HTTP-ish tokens never throws anything else', () => {
  const token = fc.constantFrom('HTTP/1.1 ', 'HTTP/1.0 ', '200', '101', '100', ' OK', '\r\n', '\n', '\r', ':', ' ', 'Content-Length', 'Transfer-Encoding',
    'chunked', '0', '5', 'ff', ';x=y', 'a', '\t', '\0', '\xff', '-1', ',');
  fc.assert(fc.property(fc.array(token, { maxLength: 40 }), fc.nat(200), (tokens, cut) => {
    const bytes = Buffer.from(tokens.join(''), 'latin1');
    const c = cut % (bytes.length + 1);
    run([new Uint8Array(bytes.subarray(0, c)), new Uint8Array(bytes.subarray(c))]);
  }), { numRuns: 3000 });
});

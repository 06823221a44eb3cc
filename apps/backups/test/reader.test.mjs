// web/reader.mjs against docs/spec/vectors/backup-repository.json: the whole small repository
// there opens with its password and gives back the files its "snapshot" describes. Damage is
// made by hand (a flipped byte), and trees the vectors lack are written here with node:crypto,
// straight from the spec, so the test does not lean on the reader's own code to make its input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { decompress } from 'fzstd';
import { RepositoryReader, WrongPassword, Corrupt, httpStore } from '../web/reader.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const V = JSON.parse(fs.readFileSync(path.join(here, '../../../docs/spec/vectors/backup-repository.json'), 'utf8'));
const EXPECT = V.snapshot;

const codecs = {
  argon2id: ({ password, salt, memoryKiB, iterations, parallelism, length }) => argon2id({
    password, salt, parallelism, iterations, memorySize: memoryKiB, hashLength: length, outputType: 'binary',
  }),
  zstdDecompress: (bytes) => decompress(bytes),
};

// ---------------------------------------------------------------------------------------------
// Stores

/** The vectors' repository as path → bytes (a fresh copy each time, for tests to damage). */
function vectorFiles() {
  return new Map(Object.entries(V.repository).map(([p, b64]) => [p, new Uint8Array(Buffer.from(b64, 'base64url'))]));
}

/** Where a (kind, name) lives in the repository's layout: packs under data/<name[0:2]>/. */
function layoutPath(kind, name) {
  if (kind === 'config') return 'config';
  if (kind === 'data') return `data/${name.slice(0, 2)}/${name}`;
  return `${kind}/${name}`;
}

function memoryStore(files, reads = []) {
  const find = (kind, name) => {
    const bytes = files.get(layoutPath(kind, name));
    if (!bytes) throw new Error(`no such file: ${layoutPath(kind, name)}`);
    return bytes;
  };
  return {
    async get(kind, name) {
      return find(kind, name).slice();
    },
    async read(kind, name, offset, length) {
      reads.push({ kind, name, offset, length });
      return find(kind, name).slice(offset, offset + length);
    },
    async getAll(kind) {
      const out = new Map();
      for (const [p, bytes] of files) {
        if (p.startsWith(`${kind}/`)) out.set(p.slice(p.lastIndexOf('/') + 1), bytes.slice());
      }
      return out;
    },
  };
}

const open = (files, password = V.password) => RepositoryReader.open(memoryStore(files), password, codecs);

// ---------------------------------------------------------------------------------------------
// Helpers

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Every node under tree `hex`, by path from it. */
async function walk(reader, hex, prefix = '', out = new Map()) {
  for (const node of await reader.tree(hex)) {
    const p = prefix ? `${prefix}/${node.name}` : node.name;
    out.set(p, node);
    if (node.type === 'dir') await walk(reader, node.subtree, p, out);
  }
  return out;
}

async function onlySnapshotNodes(reader) {
  const snapshots = await reader.snapshots();
  assert.equal(snapshots.length, 1);
  return walk(reader, snapshots[0].tree);
}

// A writer, straight from the spec, for objects the vectors do not have.

function seal(key, plain, ad) {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce).setAAD(ad);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function unsealWith(key, sealed, ad) {
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12)).setAAD(ad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
}

/** The vectors' master key, from their key file and password: { encryption, id }. */
async function masterKey() {
  const [, b64] = Object.entries(V.repository).find(([p]) => p.startsWith('keys/'));
  const key = JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
  const kek = await argon2id({
    password: V.password, salt: Buffer.from(key.kdf.salt, 'base64url'), parallelism: key.kdf.parallelism,
    iterations: key.kdf.iterations, memorySize: key.kdf.memoryKiB, hashLength: 32, outputType: 'binary',
  });
  const master = unsealWith(Buffer.from(kek), Buffer.from(key.sealed, 'base64url'), Buffer.from('intrustd-backup key v1'));
  return { encryption: master.subarray(0, 32), id: master.subarray(32, 64) };
}

const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/**
 * Adds to `files` a pack of uncompressed tree blobs and an index file listing it (superseding
 * `supersedes`); returns the blobs' ids.
 */
function addTrees(files, master, trees, supersedes = [], { wrongIds = false } = {}) {
  const blobs = [];
  const entries = [];
  let offset = 0;
  const ids = [];
  for (const tree of trees) {
    const plain = Buffer.from(JSON.stringify(tree));
    // wrongIds: each blob sealed as it should be, but under the id of other bytes.
    const id = createHmac('sha256', master.id).update(wrongIds ? Buffer.concat([plain, Buffer.of(0x20)]) : plain).digest();
    const stored = seal(master.encryption, Buffer.concat([Buffer.of(0), plain]), Buffer.concat([Buffer.of(2), id]));
    entries.push(Buffer.concat([Buffer.of(2), id, u32(offset), u32(stored.length), u32(plain.length)]));
    blobs.push(stored);
    offset += stored.length;
    ids.push(id.toString('hex'));
  }
  const header = seal(master.encryption, Buffer.concat(entries), Buffer.from('intrustd-backup pack header v1'));
  const pack = Buffer.concat([...blobs, header, u32(header.length)]);
  const packName = sha256(pack);
  files.set(`data/${packName.slice(0, 2)}/${packName}`, new Uint8Array(pack));
  const index = Buffer.concat([
    Buffer.of(1), u32(supersedes.length), ...supersedes.map((s) => Buffer.from(s, 'hex')),
    Buffer.from(packName, 'hex'), u32(entries.length), ...entries,
  ]);
  const sealedIndex = seal(master.encryption, index, Buffer.from('intrustd-backup index v1'));
  files.set(`index/${sha256(sealedIndex)}`, new Uint8Array(sealedIndex));
  return ids;
}

const fileNode = (name) => ({ name, type: 'file', mode: 0o100644, uid: 0, gid: 0, mtime: 0, size: 0, content: [] });

// ---------------------------------------------------------------------------------------------
// Tests

test('the vector repository opens and holds the files its snapshot describes', async () => {
  const reader = await open(vectorFiles());
  assert.equal(reader.config.version, 1);
  const snapshots = await reader.snapshots();
  assert.equal(snapshots.length, 1);
  const [s] = snapshots;
  assert.equal(s.host, EXPECT.host);
  assert.equal(s.time, EXPECT.time);
  assert.equal(s.id, Object.keys(V.repository).find((p) => p.startsWith('snapshots/')).split('/')[1]);
  assert.match(s.tree, /^[0-9a-f]{64}$/);

  const nodes = await walk(reader, s.tree);
  const root = EXPECT.rootName;
  assert.equal(nodes.get(root)?.type, 'dir');
  const files = [...nodes].filter(([, n]) => n.type === 'file').map(([p]) => p).sort();
  assert.deepEqual(files, Object.keys(EXPECT.files).map((f) => `${root}/${f}`).sort());
  for (const [rel, hash] of Object.entries(EXPECT.files)) {
    const node = nodes.get(`${root}/${rel}`);
    const bytes = await reader.readFile(node);
    assert.equal(sha256(bytes), hash, rel);
    assert.equal(bytes.length, node.size, `${rel}: size`);
    // chunks() gives the same bytes, chunk by chunk, one per blob id.
    const parts = [];
    for await (const part of reader.chunks(node)) parts.push(part);
    assert.equal(parts.length, (node.content ?? []).length, `${rel}: chunks`);
    assert.equal(sha256(Buffer.concat(parts)), hash, `${rel}: chunks`);
    assert.equal(node.mtimeMs, Math.floor(node.mtime / 1e6));
    assert.ok(node.mtimeMs > Date.UTC(2000, 0, 1), `${rel}: mtimeMs is milliseconds`);
  }
  const link = nodes.get(`${root}/link`);
  assert.equal(link?.type, 'symlink');
  assert.equal(link.target, EXPECT.link);
});

test('a wrong password opens no key file', async () => {
  await assert.rejects(open(vectorFiles(), `${V.password}!`), WrongPassword);
});

test('a key file asking for too much memory or time is refused before any derivation', async () => {
  for (const [field, value] of [['memoryKiB', (4 << 20) + 1], ['iterations', 65], ['salt', 'AAAAAAA']]) {
    const files = vectorFiles();
    const keyPath = [...files.keys()].find((p) => p.startsWith('keys/'));
    const key = JSON.parse(Buffer.from(files.get(keyPath)).toString('utf8'));
    key.kdf[field] = value;
    files.set(keyPath, new Uint8Array(Buffer.from(JSON.stringify(key))));
    let derived = 0;
    const counting = { ...codecs, argon2id: (a) => (derived++, codecs.argon2id(a)) };
    await assert.rejects(RepositoryReader.open(memoryStore(files), V.password, counting), Corrupt, field);
    assert.equal(derived, 0, field);
  }
});

test('a flipped byte in a pack fails the file whose chunk it is in, and only that file', async () => {
  // Where hello.txt's chunks are, as the reader reads them.
  const reads = [];
  const clean = await RepositoryReader.open(memoryStore(vectorFiles(), reads), V.password, codecs);
  const nodes = await onlySnapshotNodes(clean);
  const hello = nodes.get(`${EXPECT.rootName}/hello.txt`);
  const dataBin = nodes.get(`${EXPECT.rootName}/data.bin`);
  reads.length = 0;
  await clean.readFile(hello);
  assert.ok(reads.length >= 1 && reads.every((r) => r.kind === 'data'));
  const hit = reads[0];

  const files = vectorFiles();
  const packPath = layoutPath('data', hit.name);
  const pack = files.get(packPath);
  pack[hit.offset + Math.floor(hit.length / 2)] ^= 0x01;
  const damaged = await open(files);
  await assert.rejects(damaged.readFile(hello), (e) => e instanceof Corrupt && /chunk 1 of .*hello\.txt/.test(e.message));
  // data.bin's chunks are elsewhere in the pack: they still read.
  reads.length = 0;
  await clean.readFile(dataBin);
  const flipped = hit.offset + Math.floor(hit.length / 2);
  assert.ok(reads.every((r) => flipped < r.offset || flipped >= r.offset + r.length));
  assert.equal(sha256(await damaged.readFile(dataBin)), EXPECT.files['data.bin']);
});

test('a flipped byte in a snapshot, the config or an index file is Corrupt', async () => {
  for (const prefix of ['snapshots/', 'config', 'index/']) {
    const files = vectorFiles();
    const p = [...files.keys()].find((k) => k.startsWith(prefix));
    files.get(p)[20] ^= 0x80;
    const attempt = (async () => {
      const reader = await open(files);
      const nodes = await onlySnapshotNodes(reader);
      return reader.readFile(nodes.get(`${EXPECT.rootName}/hello.txt`));
    })();
    await assert.rejects(attempt, Corrupt, prefix);
  }
});

test('trees with unsafe or repeated names are refused; a safe one reads', async () => {
  const master = await masterKey();
  const unsafe = ['', '.', '..', 'a/b', 'a\0b'].map((name) => ({ nodes: [fileNode(name)] }));
  const repeated = { nodes: [fileNode('twice'), fileNode('twice')] };
  const safe = { nodes: [fileNode('fine'), { ...fileNode('..fine.'), type: 'fifo' }] };
  const files = vectorFiles();
  const ids = addTrees(files, master, [...unsafe, repeated, safe]);
  const reader = await open(files);
  for (const [i, tree] of unsafe.entries()) {
    await assert.rejects(reader.tree(ids[i]), (e) => e instanceof Corrupt && /unsafe name/.test(e.message),
      JSON.stringify(tree.nodes[0].name));
  }
  await assert.rejects(reader.tree(ids[unsafe.length]), (e) => e instanceof Corrupt && /two nodes/.test(e.message));
  const ok = await reader.tree(ids.at(-1));
  assert.deepEqual(ok.map((n) => n.name), ['fine', '..fine.']);
  // An empty file has no chunks.
  assert.equal((await reader.readFile(ok[0])).length, 0);
});

test('a blob whose plaintext does not have its id is Corrupt', async () => {
  const master = await masterKey();
  const files = vectorFiles();
  const [good] = addTrees(files, master, [{ nodes: [fileNode('a')] }]);
  const [bad] = addTrees(files, master, [{ nodes: [fileNode('b')] }], [], { wrongIds: true });
  const reader = await open(files);
  assert.equal((await reader.tree(good))[0].name, 'a');
  await assert.rejects(reader.tree(bad), (e) => e instanceof Corrupt && /does not match its id/.test(e.message));
});

test('the index is the union of the index files that no other supersedes', async () => {
  const master = await masterKey();
  const oldIndex = [...vectorFiles().keys()].find((p) => p.startsWith('index/')).split('/')[1];
  const tree = { nodes: [fileNode('new')] };

  // Alongside the old index: both are live.
  let files = vectorFiles();
  let [id] = addTrees(files, master, [tree]);
  let reader = await open(files);
  let nodes = await onlySnapshotNodes(reader);
  assert.equal(sha256(await reader.readFile(nodes.get(`${EXPECT.rootName}/hello.txt`))), EXPECT.files['hello.txt']);
  assert.equal((await reader.tree(id))[0].name, 'new');

  // Superseding it: what only the old one listed is in no index any more.
  files = vectorFiles();
  [id] = addTrees(files, master, [tree], [oldIndex]);
  reader = await open(files);
  assert.equal((await reader.tree(id))[0].name, 'new');
  const [s] = await reader.snapshots();
  await assert.rejects(reader.tree(s.tree), (e) => e instanceof Corrupt && /in no index/.test(e.message));
});

// ---------------------------------------------------------------------------------------------
// httpStore

const BASE = 'intrustd+app://backups/api/repos/laptop';

/**
 * The backups app's file API over the vector files, as BackupsApi answers it: listings with
 * ?contents=1, ranges, problem+json errors. `contents: false` refuses the contents (413) and
 * `ranges: false` ignores Range, so that the fallbacks are used.
 */
function fakeFetch(files, { contents = true, ranges = true, log = [] } = {}) {
  const problem = (status, detail) => new Response(JSON.stringify({ status, detail }),
    { status, headers: { 'content-type': 'application/problem+json' } });
  return async (url, init = {}) => {
    const u = new URL(url);
    const range = new Headers(init.headers).get('range');
    log.push({ url, range });
    const prefix = '/api/repos/laptop/files/';
    if (u.host !== 'backups' || !u.pathname.startsWith(prefix)) return problem(404, 'no such route');
    const [kind, name, ...more] = u.pathname.slice(prefix.length).split('/');
    if (name === undefined || more.length) return problem(404, 'no such route');
    if (name === '') {
      const folder = kind === 'data' ? (p) => p.startsWith('data/') : (p) => p.startsWith(`${kind}/`);
      const names = [...files.keys()].filter(folder).map((p) => p.slice(p.lastIndexOf('/') + 1));
      const body = { names };
      if (u.searchParams.get('contents') === '1') {
        if (!contents) return problem(413, 'read them one by one');
        body.files = Object.fromEntries(names.map((n) => [n, Buffer.from(files.get(layoutPath(kind, n))).toString('base64url')]));
      }
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    if (kind === 'config' ? name !== 'config' : !/^[0-9a-f]{64}$/.test(name)) return problem(400, 'a repository file is named by its SHA-256');
    const bytes = files.get(layoutPath(kind, name));
    if (!bytes) return problem(404, 'no such file');
    const m = ranges && range && /^bytes=(\d+)-(\d+)$/.exec(range);
    if (m) return new Response(bytes.slice(Number(m[1]), Number(m[2]) + 1), { status: 206 });
    return new Response(bytes.slice(), { status: 200 });
  };
}

async function readHelloOverHttp(options) {
  const log = [];
  const store = httpStore(fakeFetch(vectorFiles(), { ...options, log }), BASE);
  const reader = await RepositoryReader.open(store, V.password, codecs);
  const nodes = await onlySnapshotNodes(reader);
  const bytes = await reader.readFile(nodes.get(`${EXPECT.rootName}/data.bin`));
  assert.equal(sha256(bytes), EXPECT.files['data.bin']);
  return log;
}

test('httpStore reads the repository over the backups app API, with ranges and ?contents=1', async () => {
  const log = await readHelloOverHttp({});
  assert.ok(log.some((l) => l.url === `${BASE}/files/config/config`));
  assert.ok(log.some((l) => l.url === `${BASE}/files/keys/?contents=1`));
  assert.ok(log.some((l) => l.url === `${BASE}/files/index/?contents=1`));
  assert.ok(!log.some((l) => l.url === `${BASE}/files/keys/`), 'no listing needed');
  const packReads = log.filter((l) => l.url.includes('/files/data/'));
  assert.ok(packReads.length > 0 && packReads.every((l) => /^bytes=\d+-\d+$/.test(l.range)));
});

test('httpStore falls back to listing and one GET per file, and to cutting a whole file', async () => {
  const log = await readHelloOverHttp({ contents: false, ranges: false });
  assert.ok(log.some((l) => l.url === `${BASE}/files/keys/`));
  assert.ok(log.some((l) => /\/files\/snapshots\/[0-9a-f]{64}$/.test(l.url)));
});

test('httpStore errors carry the status and the problem detail', async () => {
  const store = httpStore(fakeFetch(vectorFiles()), BASE);
  await assert.rejects(store.get('snapshots', '0'.repeat(64)), (e) => e.status === 404 && /no such file/.test(e.message));
  assert.equal((await store.read('config', 'config', 2, 5)).length, 5);
});

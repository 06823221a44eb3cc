// Reads an intrustd backup repository (docs/spec/backup-repository.md, format version 1) in the
// browser or in Node: opens it with a password, lists its snapshots, walks their trees and reads
// files, checking every object it reads against its seal and its id.
//
// It imports nothing: Argon2id and zstd come in `codecs` (the page passes its vendored hash-wasm
// and fzstd, Node tests the packages), the rest is WebCrypto (globalThis.crypto.subtle) and plain
// JS. It only reads, and takes no lock: a prune that runs meanwhile may delete a pack it is
// reading, which shows as an error from the store.

const NONCE = 12;
const TAG = 16;
const OVERHEAD = NONCE + TAG;
const KEY = 32;
const DATA = 1;
const TREE = 2;
/** A pack header entry, also in index files: type u8 ‖ id (32) ‖ offset u32 ‖ stored length u32 ‖ plain length u32. */
const ENTRY = 1 + 32 + 4 + 4 + 4;
/** A hostile key file must not take all memory or hours: the spec's bounds (m ≤ 4 GiB, t ≤ 64, salt ≥ 8 bytes)… */
const MAX_MEMORY_KIB = 4 << 20;
const MAX_ITERATIONS = 64;
const MIN_SALT = 8;
/** …and the writer's bound on lanes (KeyFile.Kdf), which the spec does not state. */
const MAX_PARALLELISM = 16;
/** Chunks of a file read ahead of the one being consumed: a link's round trips overlap. */
const READ_AHEAD = 3;

const ascii = (s) => new TextEncoder().encode(s);
const AD = {
  key: ascii('intrustd-backup key v1'),
  config: ascii('intrustd-backup config v1'),
  index: ascii('intrustd-backup index v1'),
  snapshot: ascii('intrustd-backup snapshot v1'),
};

/** A wrong password: no key file opens with it. */
export class WrongPassword extends Error {
  constructor(message = 'wrong password: no key file of this repository opens with it', options) {
    super(message, options);
    this.name = 'WrongPassword';
  }
}

/** The repository is damaged or not a version-1 repository (message says what). */
export class Corrupt extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'Corrupt';
  }
}

// ---------------------------------------------------------------------------------------------
// Encodings

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64URL_VALUE[B64URL.charCodeAt(i)] = i;

/** Base64url as the protocol writes it (no padding; padding is tolerated, as Java's decoder does). */
function fromBase64url(s) {
  if (typeof s !== 'string') throw new Error('not a base64url string');
  const text = s.replace(/={1,2}$/, '');
  if (text.length % 4 === 1) throw new Error('base64url of an impossible length');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64URL_VALUE[c] : -1;
    if (v < 0) throw new Error(`not base64url: ${JSON.stringify(text[i])} at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** A blob id from its 64 lowercase hex digits. */
function parseId(hex, what) {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
    throw new Corrupt(`${what} is not a blob id (64 hex digits): ${JSON.stringify(hex)}`);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function parseJson(bytes, what) {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new Corrupt(`${what} is not valid JSON: ${e.message}`, { cause: e });
  }
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** The entries of what getAll gives: a Map (or, leniently, a plain object). */
function entriesOf(all) {
  return all instanceof Map ? [...all.entries()] : Object.entries(all ?? {});
}

const short = (name) => String(name).slice(0, 16);

// ---------------------------------------------------------------------------------------------
// WebCrypto

function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto is not available here (a page needs a secure context: https or localhost)');
  return s;
}

const importAes = (raw) => subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
const importHmac = (raw) => subtle().importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);

/**
 * Opens seal(key, plaintext, ad) = nonce (12) ‖ ciphertext ‖ tag (16); WebCrypto takes the
 * ciphertext with its tag appended, which is how it is stored. A failed tag is Corrupt naming `what`.
 */
async function unseal(key, sealed, ad, what) {
  if (sealed.length < OVERHEAD) throw new Corrupt(`${what} is too short to be sealed (${sealed.length} bytes)`);
  try {
    const plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: sealed.subarray(0, NONCE), additionalData: ad, tagLength: TAG * 8 },
      key,
      sealed.subarray(NONCE),
    );
    return new Uint8Array(plain);
  } catch (e) {
    if (e?.name === 'OperationError') {
      throw new Corrupt(`${what} fails its authentication: damaged, or not from this repository`);
    }
    throw e;
  }
}

async function sha256Hex(bytes) {
  return toHex(new Uint8Array(await subtle().digest('SHA-256', bytes)));
}

// ---------------------------------------------------------------------------------------------
// Key files

/** A key file's KDF parameters, salt and sealed master key; Corrupt when malformed or too costly. */
function readKeyFile(bytes, name) {
  const what = `key file ${short(name)}`;
  const k = parseJson(bytes, what);
  const kdf = k?.kdf;
  if (k?.version !== 1 || kdf?.algorithm !== 'argon2id' || typeof kdf.salt !== 'string' || typeof k.sealed !== 'string') {
    throw new Corrupt(`${what} is not a version 1 Argon2id key`);
  }
  const { memoryKiB, iterations, parallelism } = kdf;
  if (![memoryKiB, iterations, parallelism].every(Number.isInteger) || parallelism < 1 || parallelism > MAX_PARALLELISM
      || memoryKiB < 8 * parallelism || memoryKiB > MAX_MEMORY_KIB || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new Corrupt(`${what}: Argon2id parameters out of bounds: m=${memoryKiB} KiB, t=${iterations}, p=${parallelism}`);
  }
  let salt;
  let sealed;
  try {
    salt = fromBase64url(kdf.salt);
    sealed = fromBase64url(k.sealed);
  } catch (e) {
    throw new Corrupt(`${what} has bad base64url: ${e.message}`, { cause: e });
  }
  if (salt.length < MIN_SALT) throw new Corrupt(`${what} has a salt of ${salt.length} bytes`);
  return { memoryKiB, iterations, parallelism, salt, sealed };
}

// ---------------------------------------------------------------------------------------------
// The index

/** One index file: the names it supersedes and, for each pack it lists, that pack's raw header entries. */
function parseIndexFile(plain, name) {
  const what = `index ${short(name)}`;
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  if (plain.length < 5 || plain[0] !== 1) throw new Corrupt(`${what} is not a version 1 index`);
  const k = view.getUint32(1, true);
  let at = 5;
  if (k * 32 > plain.length - at) throw new Corrupt(`${what} is cut short`);
  const supersedes = [];
  for (let i = 0; i < k; i++, at += 32) supersedes.push(toHex(plain.subarray(at, at + 32)));
  const packs = [];
  while (at < plain.length) {
    if (plain.length - at < 36) throw new Corrupt(`${what} is cut short`);
    const pack = toHex(plain.subarray(at, at + 32));
    const count = view.getUint32(at + 32, true);
    at += 36;
    if (count * ENTRY > plain.length - at) throw new Corrupt(`${what} claims ${count} blobs of pack ${short(pack)} that it does not hold`);
    for (let i = 0; i < count; i++) {
      const e = at + i * ENTRY;
      const type = plain[e];
      if ((type !== DATA && type !== TREE) || view.getUint32(e + 37, true) < OVERHEAD + 1) {
        throw new Corrupt(`${what} has a malformed entry ${i} for pack ${short(pack)}`);
      }
    }
    packs.push({ pack, entries: plain.subarray(at, at + count * ENTRY), count });
    at += count * ENTRY;
  }
  return { supersedes, packs };
}

/**
 * Where every blob is. The entries are kept as their raw 45 bytes in one array, found through
 * an open-addressing table on the id, not as a Map of objects: a repository of 1 TiB in 1 MiB
 * chunks lists a million blobs, which a page should hold in tens of MB, not hundreds. A blob
 * stored in several packs has its copies chained, so a damaged copy can give way to another.
 */
class BlobIndex {
  constructor(total) {
    this.packs = [];
    this.entries = new Uint8Array(total * ENTRY);
    this.view = new DataView(this.entries.buffer);
    this.packOf = new Uint32Array(total);
    this.next = new Int32Array(total).fill(-1);
    this.size = 0;
    let capacity = 16;
    while (capacity < total * 2) capacity *= 2;
    this.slots = new Int32Array(capacity).fill(-1);
  }

  /** The effective index of parsed index files: the union of those no other one supersedes. */
  static of(files) {
    const superseded = new Set(files.flatMap((f) => f.supersedes.filter((s) => s !== f.name)));
    const live = files.filter((f) => !superseded.has(f.name));
    const index = new BlobIndex(live.reduce((n, f) => n + f.packs.reduce((m, p) => m + p.count, 0), 0));
    const packNumbers = new Map();
    for (const f of live) {
      for (const { pack, entries, count } of f.packs) {
        if (!packNumbers.has(pack)) {
          packNumbers.set(pack, index.packs.length);
          index.packs.push(pack);
        }
        for (let i = 0; i < count; i++) index.add(packNumbers.get(pack), entries.subarray(i * ENTRY, (i + 1) * ENTRY));
      }
    }
    return index;
  }

  add(packNo, entry) {
    const n = this.size;
    this.entries.set(entry, n * ENTRY);
    this.packOf[n] = packNo;
    const slot = this.slot(entry.subarray(1, 33));
    if (this.slots[slot] < 0) {
      this.slots[slot] = n;
      this.size++;
      return;
    }
    for (let i = this.slots[slot]; ; i = this.next[i]) {
      // The same place listed twice (two live index files naming one pack) is one copy.
      if (this.packOf[i] === packNo && this.offset(i) === this.offset(n)) return;
      if (this.next[i] < 0) {
        this.next[i] = n;
        this.size++;
        return;
      }
    }
  }

  offset(i) {
    return this.view.getUint32(i * ENTRY + 33, true);
  }

  /** The slot of `id`: where it is, or the empty one where it would go (linear probing). */
  slot(id) {
    const mask = this.slots.length - 1;
    // Ids are MAC outputs: their first bytes are as good a hash as any.
    let s = (((id[0] << 24) | (id[1] << 16) | (id[2] << 8) | id[3]) >>> 0) & mask;
    for (;;) {
      const i = this.slots[s];
      if (i < 0 || sameBytes(this.entries.subarray(i * ENTRY + 1, i * ENTRY + 33), id)) return s;
      s = (s + 1) & mask;
    }
  }

  /** Every copy of blob `id`: [{pack, type, offset, length, rawLength}], empty when it is in no index. */
  find(id) {
    const out = [];
    for (let i = this.slots[this.slot(id)]; i >= 0; i = this.next[i]) {
      const e = i * ENTRY;
      out.push({
        pack: this.packs[this.packOf[i]],
        type: this.entries[e],
        offset: this.view.getUint32(e + 33, true),
        length: this.view.getUint32(e + 37, true),
        rawLength: this.view.getUint32(e + 41, true),
      });
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Trees and snapshots

/** A name a restore can use as one path segment, as the spec requires of every tree node. */
function safeName(name) {
  return typeof name === 'string' && name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function checkNode(node, what, seen) {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) throw new Corrupt(`${what} has a node that is not an object`);
  if (!safeName(node.name)) throw new Corrupt(`${what} has a node with an unsafe name: ${JSON.stringify(node.name)}`);
  if (seen.has(node.name)) throw new Corrupt(`${what} has two nodes named ${JSON.stringify(node.name)}`);
  seen.add(node.name);
  if (typeof node.type !== 'string') throw new Corrupt(`${what}: node ${JSON.stringify(node.name)} has no type`);
  if (node.mtime !== undefined && typeof node.mtime !== 'number') {
    throw new Corrupt(`${what}: node ${JSON.stringify(node.name)} has an mtime that is not a number`);
  }
  // mtime is nanoseconds, beyond a Number's exact range: milliseconds are what dates and ZIPs want.
  return { ...node, mtimeMs: typeof node.mtime === 'number' ? Math.floor(node.mtime / 1e6) : undefined };
}

/** A snapshot time as [whole seconds in ms, fraction as 9 digits]: ISO strings do not sort by time when their fractions differ in length. */
function timeKey(time) {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/.exec(time);
  return m ? [Date.parse(m[1] + m[3]), (m[2] ?? '').padEnd(9, '0')] : [NaN, ''];
}

function byTime(a, b) {
  const [sa, fa] = timeKey(a.time);
  const [sb, fb] = timeKey(b.time);
  if (sa !== sb && !Number.isNaN(sa) && !Number.isNaN(sb)) return sa - sb;
  if (fa !== fb) return fa < fb ? -1 : 1;
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// The reader

/**
 * An open repository. Make one with RepositoryReader.open.
 *
 * store: { get(kind, name) → Promise<Uint8Array>, read(kind, name, offset, length) → Promise<Uint8Array>,
 *          getAll(kind) → Promise<Map<string, Uint8Array>> }   (kind: 'config' | 'keys' | 'data' | 'index' | 'snapshots';
 *          for 'config' the name is 'config')
 * codecs: { argon2id: async ({ password: Uint8Array, salt: Uint8Array, memoryKiB, iterations, parallelism, length }) => Uint8Array,
 *           zstdDecompress: (Uint8Array) => Uint8Array }
 */
export class RepositoryReader {
  #store;
  #codecs;
  #encryption;
  #idKey;
  /** Promise of the BlobIndex, read once at first need (null again after a failed read, to retry). */
  #index = null;

  /** Internal: use RepositoryReader.open. */
  constructor({ store, codecs, encryption, idKey, config, keyName }) {
    this.#store = store;
    this.#codecs = codecs;
    this.#encryption = encryption;
    this.#idKey = idKey;
    /** The repository's settings (its sealed config). */
    this.config = config;
    /** The name of the key file that opened it. */
    this.keyName = keyName;
  }

  /**
   * Opens the repository with `password`: tries every key file; WrongPassword when none opens,
   * Corrupt when the repository is damaged or not version 1 (or has only key files it refuses).
   */
  static async open(store, password, codecs) {
    if (typeof codecs?.argon2id !== 'function' || typeof codecs?.zstdDecompress !== 'function') {
      throw new TypeError('codecs must have argon2id and zstdDecompress');
    }
    const [sealedConfig, keys] = await Promise.all([store.get('config', 'config'), store.getAll('keys')]);
    const secret = new TextEncoder().encode(password);
    let tried = 0;
    let refused = null;
    for (const [name, bytes] of entriesOf(keys)) {
      let key;
      try {
        key = readKeyFile(bytes, name);
      } catch (e) {
        // A damaged key file must not hide a good one: it is refused only if no other opens.
        if (!(e instanceof Corrupt)) throw e;
        refused ??= e;
        continue;
      }
      tried++;
      const kek = await codecs.argon2id({
        password: secret, salt: key.salt, memoryKiB: key.memoryKiB, iterations: key.iterations,
        parallelism: key.parallelism, length: KEY,
      });
      if (!(kek instanceof Uint8Array) || kek.length !== KEY) throw new TypeError('codecs.argon2id must give 32 bytes');
      let master;
      try {
        master = await unseal(await importAes(kek), key.sealed, AD.key, `key file ${short(name)}`);
      } catch (e) {
        if (e instanceof Corrupt) continue; // another password's key (or a damaged one: no way to tell)
        throw e;
      } finally {
        kek.fill(0);
      }
      if (master.length !== 3 * KEY) throw new Corrupt(`a master key is 96 bytes, not ${master.length} (key file ${short(name)})`);
      // encryption key ‖ id key ‖ chunker seed; a reader needs no chunker.
      const [encryption, idKey] = await Promise.all([importAes(master.subarray(0, KEY)), importHmac(master.subarray(KEY, 2 * KEY))]);
      master.fill(0);
      const config = parseJson(await unseal(encryption, sealedConfig, AD.config, 'the config'), 'the config');
      if (config === null || typeof config !== 'object') throw new Corrupt('the config is not a JSON object');
      if (config.version !== 1) {
        throw new Corrupt(`this repository is format version ${config.version}; this reader reads version 1`);
      }
      return new RepositoryReader({ store, codecs, encryption, idKey, config, keyName: name });
    }
    if (tried === 0) throw refused ?? new Corrupt('this repository has no key file');
    throw new WrongPassword();
  }

  /** Every snapshot, oldest first: [{ id, time, host, user, paths, tags, tree, parent, summary }]. */
  async snapshots() {
    const stored = await this.#store.getAll('snapshots');
    const out = await Promise.all(entriesOf(stored).map(async ([name, sealed]) => {
      const what = `snapshot ${short(name)}`;
      // The id is the SHA-256 of the stored file: a store that renames one cannot pass it off as another.
      if (await sha256Hex(sealed) !== name) throw new Corrupt(`${what} is not named by the SHA-256 of its bytes`);
      const s = parseJson(await unseal(this.#encryption, sealed, AD.snapshot, what), what);
      if (s === null || typeof s !== 'object' || typeof s.time !== 'string' || typeof s.tree !== 'string') {
        throw new Corrupt(`${what} is not valid: it needs a time and a tree`);
      }
      return {
        id: name,
        time: s.time,
        host: s.host ?? null,
        user: s.user ?? null,
        paths: s.paths ?? [],
        tags: s.tags ?? [],
        tree: s.tree,
        parent: s.parent ?? null,
        summary: s.summary ?? null,
      };
    }));
    return out.sort(byTime);
  }

  /** The nodes of tree blob `idHex`, each with `mtimeMs` added; Corrupt for an unsafe or repeated name. */
  async tree(idHex) {
    const what = `tree ${short(idHex)}`;
    const t = parseJson(await this.#blob(parseId(idHex, what), TREE, what), what);
    if (t === null || typeof t !== 'object' || !Array.isArray(t.nodes)) throw new Corrupt(`${what} is not a valid tree: no "nodes" list`);
    const seen = new Set();
    return t.nodes.map((n) => checkNode(n, what, seen));
  }

  /** A file node's plaintext, chunk by chunk in order; Corrupt naming the chunk when one does not check. */
  async *chunks(node) {
    if (node?.type !== 'file') throw new TypeError(`${JSON.stringify(node?.name)} is not a file`);
    const content = node.content ?? [];
    if (!Array.isArray(content)) throw new Corrupt(`file ${JSON.stringify(node.name)}: its content is not a list of blob ids`);
    const chunk = async (i) => {
      const what = `chunk ${i + 1} of ${content.length} of ${JSON.stringify(node.name)} (blob ${short(content[i])})`;
      return this.#blob(parseId(content[i], what), DATA, what);
    };
    const pending = [];
    let next = 0;
    while (next < content.length || pending.length > 0) {
      while (next < content.length && pending.length < READ_AHEAD) {
        const p = chunk(next++);
        // Handled here so a consumer that stops early leaves no unhandled rejection; awaited below all the same.
        p.catch(() => {});
        pending.push(p);
      }
      yield await pending.shift();
    }
  }

  /** A file node's whole plaintext. */
  async readFile(node) {
    const parts = [];
    let length = 0;
    for await (const part of this.chunks(node)) {
      parts.push(part);
      length += part.length;
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  #loadIndex() {
    this.#index ??= (async () => {
      const stored = entriesOf(await this.#store.getAll('index'));
      const files = await Promise.all(stored.map(async ([name, sealed]) => ({
        name,
        ...parseIndexFile(await unseal(this.#encryption, sealed, AD.index, `index ${short(name)}`), name),
      })));
      return BlobIndex.of(files);
    })().catch((e) => {
      this.#index = null;
      throw e;
    });
    return this.#index;
  }

  /** A blob's plaintext, from any copy that checks (one of the wanted type first). */
  async #blob(id, type, what) {
    const copies = (await this.#loadIndex()).find(id);
    if (copies.length === 0) throw new Corrupt(`${what} is in no index`);
    copies.sort((a, b) => (a.type !== type) - (b.type !== type));
    let first;
    for (const at of copies) {
      try {
        return await this.#readBlob(id, at, `${what} in pack ${short(at.pack)}`);
      } catch (e) {
        first ??= e;
      }
    }
    throw first;
  }

  async #readBlob(id, at, what) {
    const sealed = await this.#store.read('data', at.pack, at.offset, at.length);
    if (sealed.length !== at.length) throw new Corrupt(`${what}: the pack is shorter than its index says`);
    const ad = new Uint8Array(1 + 32);
    ad[0] = at.type;
    ad.set(id, 1);
    const payload = await unseal(this.#encryption, sealed, ad, what);
    let plain;
    if (payload[0] === 0 && payload.length - 1 === at.rawLength) {
      plain = payload.subarray(1);
    } else if (payload[0] === 1) {
      try {
        plain = this.#codecs.zstdDecompress(payload.subarray(1));
      } catch (e) {
        throw new Corrupt(`${what} does not decompress: ${e.message}`, { cause: e });
      }
      if (plain.length !== at.rawLength) throw new Corrupt(`${what} does not decompress to its length`);
    } else {
      throw new Corrupt(`${what} has an unknown compression or the wrong length`);
    }
    const mac = new Uint8Array(await subtle().sign('HMAC', this.#idKey, plain));
    if (!sameBytes(mac, id)) throw new Corrupt(`${what} does not match its id`);
    return plain;
  }
}

// ---------------------------------------------------------------------------------------------
// A store over the backups app's HTTP API

const KINDS = new Set(['config', 'keys', 'data', 'index', 'snapshots', 'locks']);
/** Files fetched at once when a listing's contents come one by one. */
const PARALLEL_GETS = 6;

async function httpError(res, method, url) {
  let detail = '';
  try {
    const body = JSON.parse(await res.text());
    if (typeof body?.detail === 'string') detail = body.detail;
  } catch {
    // not problem+json: the status says it all
  }
  const e = new Error(`the backups app answered ${res.status} to ${method} ${url}${detail ? `: ${detail}` : ''}`);
  e.status = res.status;
  if (detail) e.detail = detail;
  return e;
}

/**
 * A store over the backups app's HTTP API, through any fetch (in the page: the shim's patched
 * fetch). `base` is a repository's URL, e.g. 'intrustd+app://backups/api/repos/laptop'; files are
 * at `${base}/files/${kind}/${name}` (as in HttpBackend.target(): the config at
 * `${base}/files/config/config`). Non-2xx answers throw an Error with `status` and the body's
 * problem+json `detail`.
 */
export function httpStore(fetchFn, base) {
  const root = String(base).replace(/\/+$/, '');
  const folder = (kind) => {
    if (!KINDS.has(kind)) throw new TypeError(`no kind of repository file ${JSON.stringify(kind)}`);
    return `${root}/files/${kind}/`;
  };
  const fileUrl = (kind, name) => folder(kind) + encodeURIComponent(name);

  async function call(url, headers) {
    const res = await fetchFn(url, { method: 'GET', headers });
    if (res.status < 200 || res.status > 299) throw await httpError(res, 'GET', url);
    return res;
  }
  const bytes = async (res) => new Uint8Array(await res.arrayBuffer());

  async function get(kind, name) {
    return bytes(await call(fileUrl(kind, name), {}));
  }

  async function read(kind, name, offset, length) {
    if (length === 0) return new Uint8Array(0);
    const url = fileUrl(kind, name);
    const res = await fetchFn(url, { method: 'GET', headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
    if (res.status === 416) return new Uint8Array(0); // the range starts past the end: nothing there
    if (res.status < 200 || res.status > 299) throw await httpError(res, 'GET', url);
    const body = await bytes(res);
    // 206 is the part; a server that ignores ranges sends the whole file: cut the part out.
    return res.status === 206 ? body : body.slice(Math.min(offset, body.length), Math.min(offset + length, body.length));
  }

  /** One by one, after a listing (a store that would not send the contents: too many bytes, or packs). */
  async function getEach(kind) {
    const listing = await (await call(folder(kind), {})).json();
    const names = Array.isArray(listing?.names) ? listing.names : [];
    const got = new Array(names.length);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        try {
          got[i] = await get(kind, names[i]);
        } catch (e) {
          if (e.status !== 404) throw e; // 404: deleted since the listing
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_GETS, names.length) }, worker));
    const out = new Map();
    names.forEach((name, i) => got[i] && out.set(name, got[i]));
    return out;
  }

  async function getAll(kind) {
    const url = `${folder(kind)}?contents=1`;
    const res = await fetchFn(url, { method: 'GET', headers: {} });
    if (res.status !== 200) return getEach(kind);
    const files = (await res.json())?.files;
    if (files === null || typeof files !== 'object' || Array.isArray(files)) return getEach(kind);
    const out = new Map();
    for (const [name, b64] of Object.entries(files)) {
      try {
        out.set(name, fromBase64url(b64));
      } catch (e) {
        throw new Error(`the backups app sent bad base64url for ${kind}/${name}: ${e.message}`, { cause: e });
      }
    }
    return out;
  }

  return { get, read, getAll };
}

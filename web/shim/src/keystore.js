// Where the shim keeps its device key and the secrets it must remember across page loads:
// IndexedDB, which can hold non-extractable CryptoKeys, so the page's own script can use the
// device key but never read it. Secrets (session and token) are stored encrypted with a
// non-extractable AES-GCM key kept beside it, never in clear text and never in localStorage.
// Without IndexedDB (Node, some private modes) everything lives in memory for the page's life.

const DB_NAME = 'intrustd-shim';
const STORE = 'records';

/** A key-value store of structured-cloneable values. */
export class MemoryStore {
  constructor() { this.map = new Map(); }
  async get(key) { return this.map.get(key); }
  async put(key, value) { this.map.set(key, value); }
  async delete(key) { this.map.delete(key); }
}

export class IndexedDbStore {
  constructor(indexedDB) {
    this.db = new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }

  async _run(mode, fn) {
    const db = await this.db;
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  get(key) { return this._run('readonly', (s) => s.get(key)); }
  put(key, value) { return this._run('readwrite', (s) => s.put(value, key)); }
  delete(key) { return this._run('readwrite', (s) => s.delete(key)); }
}

/** The best store this environment has. */
export function defaultStore() {
  const idb = globalThis.indexedDB;
  return idb ? new IndexedDbStore(idb) : new MemoryStore();
}

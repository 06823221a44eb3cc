// Puts what the page loads where a static host serves it, in web/vendor/ (not committed):
// Argon2id (hash-wasm, MIT: only its argon2 build, 30 KB, a classic script that sets
// globalThis.hashwasm), zstd decompression (fzstd, MIT) and ZIP streams (client-zip, MIT).
// Run by ./intrustd's build step.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const vendor = path.join(here, 'web', 'vendor');
fs.mkdirSync(vendor, { recursive: true });
const copies = {
  'hash-wasm/dist/argon2.umd.min.js': 'argon2.js',
  'fzstd/esm/index.mjs': 'fzstd.mjs',
  'client-zip/index.js': 'client-zip.mjs',
};
for (const [from, to] of Object.entries(copies)) {
  fs.copyFileSync(path.join(here, 'node_modules', from), path.join(vendor, to));
}

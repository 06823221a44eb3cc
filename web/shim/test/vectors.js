// Loads the spec's test vectors (docs/spec/vectors); a missing file skips its tests.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const VECTORS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/spec/vectors');

export function loadVectors(name) {
  const p = join(VECTORS_DIR, name);
  if (!existsSync(p)) return null;
  return JSON.parse(readFileSync(p, 'utf8'));
}

export function hex(s) {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

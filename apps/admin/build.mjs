// Puts the one dependency the page imports where a static host serves it: vendor/qrcode.mjs
// (qrcode-generator, MIT). Run by ./intrustd's build step; vendor/ is not committed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
fs.mkdirSync(path.join(here, 'vendor'), { recursive: true });
fs.copyFileSync(path.join(here, 'node_modules/qrcode-generator/dist/qrcode.mjs'), path.join(here, 'vendor/qrcode.mjs'));

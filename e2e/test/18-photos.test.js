// 18. The photo album app in real Chromium: its owner logs in to the gallery, uploads photos
// (one of them large enough for two resumable parts, with a lost answer to resume from) by the
// file picker and a video by drag and drop, and sees them by day under month headings, loaded
// page by page with the cursor API; looks at one in the lightbox (details from its EXIF,
// favourite, tags, ←/→/Esc, the original downloaded), plays the video; finds photos by tag,
// camera and date; makes an album, shares it, and a visitor with no login sees exactly that
// album through the link (and downloads it as a ZIP) until the owner revokes the link; on a
// phone-sized screen, the owner moves a photo to the trash, restores it, and empties the trash.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fixture, ARTIFACTS, HELLO_APPS, LAUNCHER, PHOTOS_APP, runCli, screenshot, startBrowser, tempDir } from '../lib/harness.js';

const PASSWORD = 'the photos test password';
const fx = fixture({ applianceOptions: { name: 'Photos test box', apps: [HELLO_APPS, PHOTOS_APP], publicApps: [] } });
let media; // the files uploaded: name → {file, bytes}
let owner; // the owner's page, kept from test to test
let link; // the album's share link
let visitorBrowser;

// ---------------------------------------------------------------------------------------------
// Test media, made here: JPEGs (ffmpeg's test pattern, a vips-made portrait, a 10 MB noise image
// that needs two 8 MiB parts, one with hand-made EXIF: date, camera, lens, GPS) and an MP4.

/** A TIFF IFD (big-endian) at offset `at`: its entries, then the values that do not fit in them. */
function ifd(entries, at) {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const head = Buffer.alloc(2 + 12 * sorted.length + 4);
  head.writeUInt16BE(sorted.length, 0);
  let dataAt = at + head.length;
  const data = [];
  sorted.forEach((e, i) => {
    const o = 2 + 12 * i;
    head.writeUInt16BE(e.tag, o);
    head.writeUInt16BE(e.type, o + 2);
    head.writeUInt32BE(e.count, o + 4);
    if (e.data.length <= 4) {
      e.data.copy(head, o + 8);
    } else {
      head.writeUInt32BE(dataAt, o + 8);
      const d = e.data.length % 2 ? Buffer.concat([e.data, Buffer.alloc(1)]) : e.data;
      data.push(d);
      dataAt += d.length;
    }
  });
  return Buffer.concat([head, ...data]);
}

const ASCII = 2;
const LONG = 4;
const RATIONAL = 5;
const ascii = (tag, s) => ({ tag, type: ASCII, count: Buffer.byteLength(s, 'latin1') + 1, data: Buffer.from(`${s}\0`, 'latin1') });
const long = (tag, n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return { tag, type: LONG, count: 1, data: b }; };
function dms(tag, degrees) {
  const d = Math.floor(degrees);
  const m = Math.floor((degrees - d) * 60);
  const s = Math.round(((degrees - d) * 60 - m) * 60 * 10000);
  const b = Buffer.alloc(24);
  [[d, 1], [m, 1], [s, 10000]].forEach(([n, q], i) => { b.writeUInt32BE(n, i * 8); b.writeUInt32BE(q, i * 8 + 4); });
  return { tag, type: RATIONAL, count: 3, data: b };
}

/** `jpeg` with an EXIF segment (after its JFIF one) saying when, with what and where it was taken. */
function withExif(jpeg, { make, model, lens, date, lat, lon }) {
  const exif = [ascii(0x9003, date), ascii(0xa434, lens)];
  const gps = [ascii(0x0001, lat >= 0 ? 'N' : 'S'), dms(0x0002, Math.abs(lat)), ascii(0x0003, lon >= 0 ? 'E' : 'W'), dms(0x0004, Math.abs(lon))];
  const ifd0 = (exifAt, gpsAt) => [ascii(0x010f, make), ascii(0x0110, model), long(0x8769, exifAt), long(0x8825, gpsAt)];
  const exifAt = 8 + ifd(ifd0(0, 0), 8).length;
  const gpsAt = exifAt + ifd(exif, exifAt).length;
  const tiff = Buffer.concat([Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]), ifd(ifd0(exifAt, gpsAt), 8), ifd(exif, exifAt), ifd(gps, gpsAt)]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(2 + 6 + tiff.length, 2);
  assert.equal(jpeg.readUInt16BE(0), 0xffd8, 'a JPEG');
  const after = jpeg.readUInt16BE(2) === 0xffe0 ? 4 + jpeg.readUInt16BE(4) : 2; // after SOI and JFIF's APP0
  return Buffer.concat([jpeg.subarray(0, after), app1, Buffer.from('Exif\0\0', 'latin1'), tiff, jpeg.subarray(after)]);
}

function makeMedia(dir) {
  const ff = (...args) => execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-y', ...args]);
  const vips = (...args) => execFileSync('vips', args);
  const at = (file, iso) => { const t = new Date(iso); fs.utimesSync(file, t, t); return file; };
  const out = {};
  const keep = (name, file) => { out[name] = { file, bytes: fs.readFileSync(file) }; };

  const colours = path.join(dir, 'colours.jpg');
  ff('-f', 'lavfi', '-i', 'testsrc=size=640x480', '-frames:v', '1', colours);
  keep('colours.jpg', at(colours, '2023-03-10T12:00:00Z'));

  const portrait = path.join(dir, 'portrait.jpg');
  vips('black', path.join(dir, 'p.v'), '300', '450', '--bands', '3');
  vips('linear', path.join(dir, 'p.v'), portrait, '1 1 1', '40 160 90', '--uchar');
  keep('portrait.jpg', at(portrait, '2023-03-10T15:00:00Z'));

  const noise = path.join(dir, 'noise.jpg'); // incompressible: over one 8 MiB part
  ff('-f', 'lavfi', '-i', 'nullsrc=s=4000x3000,geq=random(1)*255:random(2)*255:128', '-frames:v', '1', '-q:v', '1', noise);
  keep('noise.jpg', at(noise, '2022-12-24T12:00:00Z'));
  assert.ok(out['noise.jpg'].bytes.length > 8 * 1024 * 1024, `noise.jpg is ${out['noise.jpg'].bytes.length} bytes`);

  const plain = path.join(dir, 'plain.jpg');
  ff('-f', 'lavfi', '-i', 'testsrc2=size=640x480', '-frames:v', '1', plain);
  const sunrise = path.join(dir, 'sunrise.jpg');
  fs.writeFileSync(sunrise, withExif(fs.readFileSync(plain), { make: 'Intrustd', model: 'TestCam 1', lens: 'TestLens 35mm',
    date: '2021:06:15 10:20:30', lat: 48.8584, lon: 2.2945 }));
  keep('sunrise.jpg', at(sunrise, '2024-01-01T12:00:00Z')); // the EXIF date wins over the file's

  const clip = path.join(dir, 'clip.mp4');
  let codec = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'];
  try { execFileSync('sh', ['-c', 'ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libx264']); } catch { codec = ['-c:v', 'mpeg4']; }
  ff('-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25', ...codec, clip);
  keep('clip.mp4', at(clip, '2023-03-11T09:30:00Z'));
  return out;
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  await fx.setup();
  execFileSync(LAUNCHER, ['persona', 'add', 'ana', '--role', 'owner', '--display-name', 'Ana', '--password-stdin',
    '--state', fx.appliance.stateDir], { env: { ...process.env, INTRUSTD_NO_BUILD: '1' }, input: `${PASSWORD}\n` });
  media = makeMedia(tempDir('intrustd-e2e-photos-'));
});
after(async () => {
  // for a post-mortem: the processes' output, the browsers' consoles, the appliance's access log
  const log = fx.appliance ? await runCli(['access-log', '--app', 'photos', '--limit', '300', '--state', fx.appliance.stateDir]) : null;
  fs.writeFileSync(path.join(ARTIFACTS, 'photos-diagnostics.txt'), `${fx.diagnostics()}\n--- visitor console ---\n`
    + `${visitorBrowser?.logs.join('\n') || ''}\n--- access log ---\n${log?.stdout}${log?.stderr}\n`);
  if (visitorBrowser) await visitorBrowser.close();
  try { fs.copyFileSync(path.join(fx.appliance.stateDir, 'logs', 'photos.log'), path.join(ARTIFACTS, 'logs', 'photos-app.log')); } catch { /* none */ }
  await fx.teardown();
});

/** The gallery's address; `limit=2`: two photos a request, so that the timeline comes in pages. */
function galleryUrl(hash = '') {
  return `${fx.flock.http}/photos/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}&limit=2${hash}`;
}

function onPage(page, name, timeout = 30000) {
  return page.waitForFunction((n) => document.body.dataset.page === n, name, { timeout });
}

/** The names of the photos a feed shows, in order. */
function tileNames(page, feed) {
  return page.locator(`${feed} .tile .open`).evaluateAll((els) => els.map((e) => /^(?:Photo|Video) (.+?), /.exec(e.getAttribute('aria-label'))[1]));
}

/** Until every tile of `feed` shows a real thumbnail (not the placeholder of one being made). */
function thumbnailsShown(page, feed, n, timeout = 120000) {
  return page.waitForFunction(({ feed: f, n: count }) => {
    const tiles = document.querySelectorAll(`${f} .tile`);
    return tiles.length === count && [...tiles].every((t) => t.classList.contains('loaded') && !t.classList.contains('placeholder')
      && t.querySelector('img').src.startsWith('blob:') && t.querySelector('img').naturalWidth > 0);
  }, { feed, n }, { timeout });
}

function sha256(bytes) { return crypto.createHash('sha256').update(bytes).digest('hex'); }

async function status(page, text, timeout = 30000) {
  await page.getByRole('status').filter({ hasText: text }).waitFor({ timeout });
}

test('the owner logs in, uploads photos and a video, and sees them by day, page by page', async () => {
  owner = await fx.browser.newPage();
  await owner.goto(galleryUrl());
  const dialog = owner.locator('dialog.intrustd-login');
  await dialog.waitFor({ timeout: 30000 });
  assert.equal(await dialog.getByRole('heading').textContent(), 'Log in to your photos');
  await dialog.getByLabel('Name').fill('ana');
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Log in' }).click();
  await onPage(owner, 'photos');
  assert.equal(await owner.locator('#who').textContent(), 'Ana');
  await owner.getByRole('heading', { name: 'No photos yet' }).waitFor();
  await screenshot(owner, 'photos-empty');

  // Every progress value shown, by bar; and the answer to the noise image's first part lost on
  // the way (the part did arrive): the page must ask how much arrived and go on from there.
  await owner.evaluate(() => {
    window.progressSeen = [];
    const desc = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value');
    Object.defineProperty(HTMLProgressElement.prototype, 'value', {
      configurable: true,
      get() { return desc.get.call(this); },
      set(v) { desc.set.call(this, v); window.progressSeen.push([this.getAttribute('aria-label'), v]); },
    });
    window.faults = [];
    window.requests = [];
    const real = window.fetch;
    window.fetch = async function (url, init = {}) {
      const method = init.method || 'GET';
      const offset = init.headers?.['Upload-Offset'];
      window.requests.push(`${method} ${String(url).replace('intrustd+app://photos', '')}${offset ? ` @${offset}` : ''}`);
      const res = await real.call(this, url, init);
      if (method === 'PATCH' && offset === '0' && !window.faults.length && res.status === 200) {
        const answer = await res.clone().json();
        if (!answer.photo) {
          window.faults.push(answer);
          throw new TypeError('Failed to fetch (the test lost this answer)');
        }
      }
      return res;
    };
  });

  // the picker, from the Upload button
  const [chooser] = await Promise.all([owner.waitForEvent('filechooser'), owner.getByRole('button', { name: 'Upload', exact: true }).click()]);
  assert.equal(chooser.isMultiple(), true);
  await chooser.setFiles(['colours.jpg', 'portrait.jpg', 'noise.jpg', 'sunrise.jpg'].map((n) => media[n].file));
  // the video dropped on the page
  const clip = media['clip.mp4'];
  const files = await owner.evaluateHandle(({ b64, lastModified }) => {
    const dt = new DataTransfer();
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], 'clip.mp4', { type: 'video/mp4', lastModified }));
    return dt;
  }, { b64: clip.bytes.toString('base64'), lastModified: fs.statSync(clip.file).mtimeMs });
  await owner.dispatchEvent('main', 'dragenter', { dataTransfer: files });
  await owner.locator('#drop').waitFor({ state: 'visible' });
  await owner.dispatchEvent('main', 'drop', { dataTransfer: files });
  assert.equal(await owner.locator('#drop').isHidden(), true);

  const panel = owner.getByRole('region', { name: /^Upload/ });
  await owner.locator('#uploads-summary').filter({ hasText: /^5 uploaded$/ }).waitFor({ timeout: 120000 }).catch(async (e) => {
    const states = await owner.locator('.upload').evaluateAll((ls) => ls.map((l) => l.textContent));
    throw new Error(`${e.message}\nuploads: ${states.join(' | ')}\nrequests:\n${(await owner.evaluate(() => window.requests)).join('\n')}`);
  });
  await status(owner, 'Upload finished: 5 uploaded.');
  assert.equal(await panel.locator('.upload[data-state="done"]').count(), 5);
  assert.deepEqual(await panel.locator('.up-state').allTextContents(), Array(5).fill('Uploaded'));
  assert.equal(await owner.locator('#uploads-progress').evaluate((p) => p.value), 1);
  const seen = await owner.evaluate(() => window.progressSeen);
  const noiseBar = seen.filter(([label]) => label === 'Upload progress of noise.jpg').map(([, v]) => v);
  assert.ok(noiseBar.some((v) => v > 0.5 && v < 1), `the noise image's bar showed its first part: ${noiseBar}`);
  assert.equal(Math.max(...noiseBar), 1);
  const overall = seen.filter(([label]) => label === 'Overall upload progress').map(([, v]) => v);
  assert.ok(overall.some((v) => v > 0 && v < 1) && overall.at(-1) === 1, `overall progress: ${overall.slice(0, 12)}`);
  // resumed: the lost answer, then the offset asked, then the second part from 8 MiB on
  const requests = await owner.evaluate(() => window.requests);
  assert.equal((await owner.evaluate(() => window.faults)).length, 1, `${requests.join('\n')}\n${fx.diagnostics()}`);
  const asked = requests.filter((r) => /^GET \/api\/uploads\/[^/]+$/.test(r));
  assert.equal(asked.length, 1, `how much arrived asked once: ${requests.join('\n')}`);
  const uploadPath = asked[0].slice(4);
  assert.ok(requests.indexOf(`PATCH ${uploadPath} @0`) < requests.indexOf(asked[0]), requests.join('\n'));
  assert.ok(requests.includes(`PATCH ${uploadPath} @${8 * 1024 * 1024}`), requests.join('\n'));
  assert.equal(requests.filter((r) => r === `PATCH ${uploadPath} @0`).length, 1, 'the first part was not sent again');

  // newest first, by day under month headings (the EXIF date of sunrise.jpg, the files' dates of the others)
  await thumbnailsShown(owner, '#photos-feed', 5);
  const order = ['clip.mp4', 'portrait.jpg', 'colours.jpg', 'noise.jpg', 'sunrise.jpg'];
  const days = ['2023-03-11', '2023-03-10', '2022-12-24', '2021-06-15'];
  const months = ['March 2023 · 3 items', 'December 2022 · 1 item', 'June 2021 · 1 item'];
  const check = async () => {
    assert.deepEqual(await tileNames(owner, '#photos-feed'), order);
    assert.deepEqual(await owner.locator('#photos-feed .day time').evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime'))), days);
    assert.deepEqual((await owner.locator('#photos-feed .month-head').allTextContents()).map((t) => t.trim()), months);
    assert.deepEqual(await owner.locator('#photos-feed .day').evaluateAll((ds) => ds.map((d) => d.querySelectorAll('.tile').length)), [1, 2, 1, 1]);
    assert.equal(await owner.locator('#photos-feed .tile[data-kind="video"] .badge.video').textContent(), '0:02');
  };
  await check();
  await screenshot(owner, 'photos-uploaded');

  // again from the appliance, two at a time: three pages through the cursor
  await owner.reload();
  await onPage(owner, 'photos');
  await thumbnailsShown(owner, '#photos-feed', 5);
  await check();
  assert.equal(await owner.locator('#photos-summary').textContent(), '5 items');
  assert.equal(await owner.locator('.more').textContent(), '', 'nothing more to load');
  // portrait tiles are laid out narrower than landscape ones, rows as high as each other
  const box = async (name) => owner.locator('#photos-feed .tile').filter({ has: owner.getByRole('button', { name: new RegExp(`^Photo ${name}`) }) }).boundingBox();
  const [p, c] = [await box('portrait.jpg'), await box('colours.jpg')];
  assert.ok(Math.abs(p.height - c.height) < 2 && p.width < c.width * 0.7, `portrait ${JSON.stringify(p)}, landscape ${JSON.stringify(c)}`);
  await screenshot(owner, 'photos-timeline');
});

test('the lightbox shows a photo large with its details, favourite, tags and download; ←/→/Esc; a video plays', async () => {
  await owner.getByRole('button', { name: /^Photo sunrise\.jpg/ }).click();
  const lb = owner.getByRole('dialog', { name: 'sunrise.jpg' });
  await lb.waitFor();
  // the large preview (the grid's is 360 px on its long side)
  await owner.waitForFunction(() => {
    const img = document.querySelector('#lb-media img');
    return img && !img.classList.contains('soft') && img.complete && img.naturalWidth > 360;
  }, null, { timeout: 30000 });
  const facts = async () => Object.fromEntries(await owner.locator('#lb-facts dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  await owner.locator('#lb-facts dt', { hasText: 'Camera' }).waitFor();
  const f = await facts();
  assert.equal(f.Camera, 'Intrustd TestCam 1');
  assert.equal(f.Lens, 'TestLens 35mm');
  assert.match(f.Dimensions, /^640 × 480 \(0\.3 MP\)$/);
  assert.equal(f.Location, '48.85840, 2.29450');
  assert.match(f.Taken, /2021/);
  assert.match(f.Taken, /10:20/);
  assert.equal(f.File, 'sunrise.jpg');
  assert.match(await lb.getByRole('link', { name: '48.85840, 2.29450' }).getAttribute('href'), /openstreetmap\.org\/\?mlat=48\.85840&mlon=2\.29450/);

  await lb.getByRole('button', { name: 'Add to favourites' }).click();
  await status(owner, 'Added to favourites.');
  assert.equal(await owner.locator('#lb-favourite').getAttribute('aria-pressed'), 'true');
  await lb.getByLabel('Add a tag').fill('holiday');
  await lb.getByLabel('Add a tag').press('Enter');
  await lb.locator('#lb-tags').getByRole('link', { name: 'holiday' }).waitFor();
  assert.equal(await lb.getByRole('button', { name: 'Remove the tag holiday' }).count(), 1);

  const [download] = await Promise.all([owner.waitForEvent('download'), lb.getByRole('button', { name: 'Download the original' }).click()]);
  assert.equal(download.suggestedFilename(), 'sunrise.jpg');
  assert.equal(sha256(fs.readFileSync(await download.path())), sha256(media['sunrise.jpg'].bytes), 'the original, byte for byte');
  await screenshot(owner, 'photos-lightbox');

  // the keyboard: ← the one before (newer), → back, → at the end stays, Esc closes onto its tile
  await owner.locator('#lb-close').focus();
  await owner.keyboard.press('ArrowLeft');
  await owner.getByRole('dialog', { name: 'noise.jpg' }).waitFor();
  await owner.keyboard.press('ArrowRight');
  await owner.getByRole('dialog', { name: 'sunrise.jpg' }).waitFor();
  assert.equal(await owner.locator('#lb-next').isDisabled(), true);
  await owner.keyboard.press('ArrowRight');
  assert.equal(await owner.locator('#lb-title').textContent(), 'sunrise.jpg');
  await owner.keyboard.press('Escape');
  await owner.locator('#lightbox').waitFor({ state: 'hidden' });
  assert.match(await owner.evaluate(() => document.activeElement.getAttribute('aria-label')), /^Photo sunrise\.jpg/);
  const sunriseTile = owner.locator('#photos-feed .tile').filter({ has: owner.getByRole('button', { name: /^Photo sunrise\.jpg/ }) });
  assert.equal(await sunriseTile.locator('.badge.fav').count(), 1, 'the tile says it is a favourite');

  // the video: fetched as a Blob over the link, played
  await owner.getByRole('button', { name: /^Video clip\.mp4/ }).click();
  await owner.getByRole('dialog', { name: 'clip.mp4' }).waitFor();
  const video = owner.locator('#lb-media video');
  await video.waitFor({ timeout: 60000 });
  assert.match(await video.getAttribute('src'), /^blob:/);
  await owner.waitForFunction(() => {
    const v = document.querySelector('#lb-media video');
    return v && v.readyState >= 2 && v.currentTime > 0.3;
  }, null, { timeout: 30000 });
  const v = await video.evaluate((el) => ({ duration: el.duration, width: el.videoWidth, height: el.videoHeight, paused: el.paused }));
  assert.ok(v.duration > 1.5 && v.duration < 2.5, JSON.stringify(v));
  assert.deepEqual([v.width, v.height], [320, 240]);
  assert.match((await facts()).Duration, /^0:02$/);
  await screenshot(owner, 'photos-lightbox-video');
  await owner.keyboard.press('Escape');
  await owner.locator('#lightbox').waitFor({ state: 'hidden' });
  assert.equal(await owner.locator('#lb-media video').count(), 0, 'the video is let go');

  // favourites and search
  await owner.getByRole('navigation', { name: 'Sections', exact: true }).getByRole('link', { name: 'Favourites' }).click();
  await onPage(owner, 'favourites');
  assert.deepEqual(await tileNames(owner, '#favourites-feed'), ['sunrise.jpg']);
  await owner.getByRole('navigation', { name: 'Sections', exact: true }).getByRole('link', { name: 'Search' }).click();
  await onPage(owner, 'search');
  const search = async (fill, expected) => {
    await owner.getByRole('button', { name: 'Clear' }).click();
    await owner.waitForFunction(() => location.hash === '#search' && document.body.dataset.page === 'search'
      && document.getElementById('search-summary').textContent.startsWith('Choose'));
    await fill();
    await owner.getByRole('button', { name: 'Search', exact: true }).click();
    await owner.locator('#search-summary').filter({ hasText: `${expected.length} item${expected.length === 1 ? '' : 's'} found.` }).waitFor();
    assert.deepEqual(await tileNames(owner, '#search-feed'), expected);
  };
  await search(() => owner.getByLabel('Tag', { exact: true }).fill('holiday'), ['sunrise.jpg']);
  await search(() => owner.getByLabel('Camera', { exact: true }).selectOption({ label: 'Intrustd TestCam 1 (1)' }), ['sunrise.jpg']);
  await search(async () => { await owner.getByLabel('From', { exact: true }).fill('2023-03-01'); await owner.getByLabel('To', { exact: true }).fill('2023-03-31'); },
    ['clip.mp4', 'portrait.jpg', 'colours.jpg']);
  await search(() => owner.getByLabel('Kind', { exact: true }).selectOption('video'), ['clip.mp4']);
  await screenshot(owner, 'photos-search');
});

test('the owner makes an album, shares it; a visitor sees exactly it with no login, until the link is revoked', async () => {
  const nav = owner.getByRole('navigation', { name: 'Sections', exact: true });
  await nav.getByRole('link', { name: 'Albums' }).click();
  await onPage(owner, 'albums');
  await owner.getByRole('heading', { name: 'No albums yet' }).waitFor();
  await owner.getByRole('button', { name: 'New album' }).click();
  await owner.getByRole('dialog', { name: 'New album' }).getByLabel('Album name').fill('Summer 2023');
  await owner.getByRole('button', { name: 'Create' }).click();
  await onPage(owner, 'album');
  assert.equal(await owner.locator('#album-title').textContent(), 'Summer 2023');
  await owner.getByRole('heading', { name: 'This album is empty' }).waitFor();

  // two photos selected in the timeline, added to it
  await nav.getByRole('link', { name: 'Photos' }).click();
  await onPage(owner, 'photos');
  await owner.getByRole('checkbox', { name: 'Select colours.jpg' }).click();
  await owner.getByRole('checkbox', { name: 'Select portrait.jpg' }).click();
  const bar = owner.getByRole('toolbar', { name: 'Selected photos' });
  assert.equal(await bar.locator('#sel-count').textContent(), '2 selected');
  assert.equal(await owner.getByRole('checkbox', { name: 'Select colours.jpg' }).getAttribute('aria-checked'), 'true');
  await bar.getByRole('button', { name: 'Add to album' }).click();
  const choose = owner.getByRole('dialog', { name: 'Add 2 items to an album' });
  await choose.getByLabel('Summer 2023').check();
  await choose.getByRole('button', { name: 'Add' }).click();
  await status(owner, 'Added 2 items to “Summer 2023”.');
  assert.equal(await bar.isHidden(), true, 'the selection is cleared');

  await nav.getByRole('link', { name: 'Albums' }).click();
  await onPage(owner, 'albums');
  const card = owner.getByRole('link', { name: /Summer 2023/ });
  assert.match(await card.textContent(), /Summer 2023\s*2 items/);
  await card.click();
  await onPage(owner, 'album');
  await thumbnailsShown(owner, '#album-feed', 2);
  assert.deepEqual(new Set(await tileNames(owner, '#album-feed')), new Set(['colours.jpg', 'portrait.jpg']));
  await owner.getByRole('button', { name: 'Rename' }).click();
  const rename = owner.getByRole('dialog', { name: 'Rename the album' });
  assert.equal(await rename.getByLabel('Album name').inputValue(), 'Summer 2023');
  await rename.getByLabel('Album name').fill('Summer by the sea');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await status(owner, 'Renamed to “Summer by the sea”.');
  assert.equal(await owner.locator('#album-title').textContent(), 'Summer by the sea');
  await owner.getByRole('button', { name: /^Photo colours\.jpg/ }).click();
  await owner.getByRole('button', { name: 'Use as the album cover' }).click();
  await status(owner, '“colours.jpg” is now the cover of “Summer by the sea”.');
  await owner.keyboard.press('Escape');

  // shared: a link to this page with the token in its fragment, shown once with a Copy button
  await owner.getByRole('button', { name: 'Share album' }).click();
  const share = owner.getByRole('dialog', { name: 'Share the album “Summer by the sea”' });
  assert.equal(await share.getByLabel('Label (for you, in the list of links)').inputValue(), 'Summer by the sea');
  await share.getByLabel('Expires').selectOption('7d');
  await share.getByRole('button', { name: 'Create link' }).click();
  const field = share.getByLabel('Share link');
  await field.waitFor();
  link = await field.inputValue();
  const base = `${fx.flock.http}/photos/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}#`;
  assert.ok(link.startsWith(base), link);
  assert.match(link.slice(base.length), /^intrustd-appliance=[^&]+&intrustd-token=it1_[A-Za-z0-9_-]{43}$/);
  assert.match(await share.locator('#share-expiry').textContent(), /^It works until .+; it is shown only now/);
  await share.getByRole('button', { name: 'Copy' }).click();
  await status(owner, /Copied the link\.|Select the link and copy it\./);
  await screenshot(owner, 'photos-share-link');
  await share.getByRole('button', { name: 'Done' }).click();

  await nav.getByRole('link', { name: 'Share links' }).click();
  await onPage(owner, 'shares');
  const row = owner.locator('#share-rows tr');
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /^Summer by the seaAlbum “Summer by the sea”\d+.*20\d\d/);

  // the visitor: another browser, no login
  visitorBrowser = await startBrowser();
  const visitor = await visitorBrowser.newPage();
  await visitor.goto(link);
  await onPage(visitor, 'shared');
  assert.doesNotMatch(visitor.url(), /intrustd-token/, 'the token is taken out of the address bar');
  assert.equal(await visitor.locator('#shared-title').textContent(), 'Summer by the sea');
  assert.equal(await visitor.locator('#shared-summary').textContent(), '2 items');
  await thumbnailsShown(visitor, '#shared-feed', 2);
  assert.deepEqual(new Set(await tileNames(visitor, '#shared-feed')), new Set(['colours.jpg', 'portrait.jpg']));
  assert.equal(await visitor.locator('dialog.intrustd-login').count(), 0, 'no login asked');
  assert.equal(await visitor.getByRole('button', { name: 'Upload', exact: true }).isVisible(), false);
  assert.equal(await visitor.getByRole('link', { name: 'Photos' }).count() + await visitor.getByRole('checkbox').count(), 0, 'read-only: no sections, no selecting');
  await visitor.getByRole('button', { name: /^Photo portrait\.jpg/ }).click();
  await visitor.getByRole('dialog', { name: 'portrait.jpg' }).waitFor();
  for (const name of ['Add to favourites', 'Share this photo', 'Move to trash', 'Remove from this album', 'Use as the album cover']) {
    assert.equal(await visitor.getByRole('button', { name }).isVisible(), false, `${name} is not for visitors`);
  }
  assert.equal(await visitor.getByRole('button', { name: 'Download the original' }).isVisible(), true);
  await screenshot(visitor, 'photos-visitor-lightbox');
  await visitor.keyboard.press('Escape');

  const [zip] = await Promise.all([visitor.waitForEvent('download', { timeout: 60000 }), visitor.getByRole('button', { name: 'Download album (ZIP)' }).click()]);
  assert.equal(zip.suggestedFilename(), 'Summer by the sea.zip');
  const listing = JSON.parse(execFileSync('python3', ['-c',
    'import hashlib, json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}))',
    await zip.path()], { encoding: 'utf8' }));
  assert.deepEqual(listing, { 'colours.jpg': sha256(media['colours.jpg'].bytes), 'portrait.jpg': sha256(media['portrait.jpg'].bytes) });
  await screenshot(visitor, 'photos-visitor');
  await visitor.setViewportSize({ width: 390, height: 844 });
  assert.ok(await visitor.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on a phone');
  await screenshot(visitor, 'photos-visitor-phone');

  // revoked by the owner: refused at once, with a message that says so
  owner.once('dialog', (d) => d.accept());
  await owner.getByRole('button', { name: 'Revoke Summer by the sea' }).click();
  await status(owner, 'Revoked “Summer by the sea”: the link no longer works.');
  assert.equal(await owner.locator('#shares-empty').isVisible(), true);
  await visitor.reload();
  await onPage(visitor, 'revoked');
  assert.match(await visitor.getByRole('alert').first().textContent(), /This share link no longer works: it was revoked or it expired/);
  assert.equal(await visitor.locator('.tile').count(), 0);
  assert.equal(await visitor.getByRole('heading', { name: 'This link no longer works' }).isVisible(), true);
  await screenshot(visitor, 'photos-visitor-revoked');
});

test('on a phone: the timeline in square tiles, the lightbox, the trash (restore, empty)', async () => {
  await owner.setViewportSize({ width: 390, height: 844 });
  await owner.goto(galleryUrl('#photos'));
  await onPage(owner, 'photos');
  await thumbnailsShown(owner, '#photos-feed', 5);
  const phoneNav = owner.getByRole('navigation', { name: 'Sections (phone)' });
  assert.equal(await phoneNav.isVisible(), true);
  assert.equal(await owner.getByRole('navigation', { name: 'Sections', exact: true }).isVisible(), false);
  assert.ok(await owner.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling');
  const first = await owner.locator('#photos-feed .tile').first().boundingBox();
  assert.ok(Math.abs(first.width - first.height) < 1.5 && first.width > 80 && first.width < 140, JSON.stringify(first));
  const upload = await owner.getByRole('button', { name: 'Upload', exact: true }).boundingBox();
  assert.ok(upload && upload.x + upload.width <= 390, 'the Upload button is on the screen');
  await screenshot(owner, 'photos-phone-timeline');

  await owner.getByRole('button', { name: /^Photo portrait\.jpg/ }).click();
  await owner.getByRole('dialog', { name: 'portrait.jpg' }).waitFor();
  await owner.waitForFunction(() => { const i = document.querySelector('#lb-media img'); return i && !i.classList.contains('soft') && i.naturalWidth > 0; });
  for (const name of ['Close (Esc)', 'Add to favourites', 'Download the original', 'Move to trash', 'Details']) {
    const b = await owner.getByRole('button', { name }).boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 390, `${name} is on the screen: ${JSON.stringify(b)}`);
  }
  await screenshot(owner, 'photos-phone-lightbox');
  await owner.keyboard.press('Escape');

  // to the trash and back
  await owner.getByRole('checkbox', { name: 'Select noise.jpg' }).click();
  await owner.getByRole('toolbar', { name: 'Selected photos' }).getByRole('button', { name: 'Move to trash' }).click();
  await status(owner, 'Moved it to the trash.');
  assert.deepEqual(await tileNames(owner, '#photos-feed'), ['clip.mp4', 'portrait.jpg', 'colours.jpg', 'sunrise.jpg']);
  assert.equal(await owner.locator('#photos-feed .month-head', { hasText: 'December 2022' }).count(), 0);
  await phoneNav.getByRole('link', { name: 'Trash' }).click();
  await onPage(owner, 'trash');
  await thumbnailsShown(owner, '#trash-feed', 1);
  assert.deepEqual(await tileNames(owner, '#trash-feed'), ['noise.jpg']);
  await screenshot(owner, 'photos-phone-trash');
  await owner.getByRole('checkbox', { name: 'Select noise.jpg' }).click();
  await owner.getByRole('toolbar', { name: 'Selected photos' }).getByRole('button', { name: 'Restore' }).click();
  await status(owner, 'Restored 1 item.');
  await owner.getByRole('heading', { name: 'The trash is empty' }).waitFor();
  await phoneNav.getByRole('link', { name: 'Photos' }).click();
  await onPage(owner, 'photos');
  await owner.waitForFunction(() => document.querySelectorAll('#photos-feed .tile').length === 5); // the pages follow each other

  // for good: from the lightbox to the trash, then the trash emptied
  await owner.getByRole('button', { name: /^Photo noise\.jpg/ }).click();
  await owner.getByRole('dialog', { name: 'noise.jpg' }).waitFor();
  await owner.getByRole('button', { name: 'Move to trash' }).click();
  await status(owner, 'Moved it to the trash.');
  await owner.getByRole('dialog', { name: 'sunrise.jpg' }).waitFor(); // the next one is shown
  await owner.keyboard.press('Escape');
  await phoneNav.getByRole('link', { name: 'Trash' }).click();
  await onPage(owner, 'trash');
  assert.equal(await owner.locator('#trash-feed .tile').count(), 1);
  owner.once('dialog', (d) => d.accept());
  await owner.getByRole('button', { name: 'Empty trash' }).click();
  await status(owner, 'Deleted 1 item for good.');
  await owner.getByRole('heading', { name: 'The trash is empty' }).waitFor();
  // one photo shared by itself, listed with the album's (revoked) link gone, then revoked too
  await phoneNav.getByRole('link', { name: 'Photos' }).click();
  await onPage(owner, 'photos');
  await owner.getByRole('button', { name: /^Photo sunrise\.jpg/ }).click();
  await owner.getByRole('button', { name: 'Share this photo' }).click();
  const share = owner.getByRole('dialog', { name: 'Share sunrise.jpg' });
  await share.getByLabel('Expires').selectOption({ label: 'never' });
  await share.getByRole('button', { name: 'Create link' }).click();
  await share.getByLabel('Share link').waitFor();
  assert.match(await share.getByLabel('Share link').inputValue(), /#intrustd-appliance=[^&]+&intrustd-token=it1_/);
  assert.match(await share.locator('#share-expiry').textContent(), /^It works until you revoke it/);
  await share.getByRole('button', { name: 'Done' }).click();
  await owner.keyboard.press('Escape');
  await phoneNav.getByRole('link', { name: 'Links' }).click();
  await onPage(owner, 'shares');
  assert.equal(await owner.locator('#share-rows tr').count(), 1);
  assert.match(await owner.locator('#share-rows tr').textContent(), /^sunrise\.jpgPhoto sunrise\.jpg\d+never/);
  owner.once('dialog', (d) => d.accept());
  await owner.getByRole('button', { name: 'Revoke sunrise.jpg' }).click();
  await status(owner, 'Revoked “sunrise.jpg”: the link no longer works.');

  // the album: its cover, a photo taken out of it, then the album deleted (its photos stay)
  await phoneNav.getByRole('link', { name: 'Albums' }).click();
  await onPage(owner, 'albums');
  const card = owner.getByRole('link', { name: /Summer by the sea/ });
  assert.match(await card.textContent(), /2 items/);
  await owner.waitForFunction(() => document.querySelector('.album-card .cover img')?.naturalWidth > 0);
  await screenshot(owner, 'photos-phone-albums');
  await card.click();
  await onPage(owner, 'album');
  await owner.getByRole('checkbox', { name: 'Select portrait.jpg' }).click();
  await owner.getByRole('toolbar', { name: 'Selected photos' }).getByRole('button', { name: 'Remove from album' }).click();
  await status(owner, 'Removed 1 item from “Summer by the sea”; it stays in your library.');
  assert.deepEqual(await tileNames(owner, '#album-feed'), ['colours.jpg']);
  assert.equal(await owner.locator('#album-summary').textContent().then((t) => t.split(' · ')[0]), '1 item');
  owner.once('dialog', (d) => d.accept());
  await owner.getByRole('button', { name: 'Delete album' }).click();
  await onPage(owner, 'albums');
  await status(owner, 'Deleted the album “Summer by the sea”.');
  await owner.getByRole('heading', { name: 'No albums yet' }).waitFor();
  await phoneNav.getByRole('link', { name: 'Photos' }).click();
  await onPage(owner, 'photos');
  await owner.waitForFunction(() => document.querySelectorAll('#photos-feed .tile').length === 4);
  await owner.close();
});

test('a member who may open photos shares an album of their own; the link dies when the owner takes photos away', async () => {
  const cli = (...args) => execFileSync(LAUNCHER, [...args, '--state', fx.appliance.stateDir],
    { env: { ...process.env, INTRUSTD_NO_BUILD: '1' }, input: `${PASSWORD}\n` });
  const open = 'intrustd+perm://intrustd/open?app=photos';
  cli('persona', 'add', 'ben', '--role', 'member', '--display-name', 'Ben', '--password-stdin');
  cli('grant', 'add', 'persona:ben', open);
  const memberBrowser = await startBrowser();
  try {
    const member = await memberBrowser.newPage();
    await member.goto(galleryUrl());
    const dialog = member.locator('dialog.intrustd-login');
    await dialog.waitFor({ timeout: 30000 });
    await dialog.getByLabel('Name').fill('ben');
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Log in' }).click();
    await onPage(member, 'photos');
    assert.equal(await member.locator('#who').textContent(), 'Ben');
    // ben holds open?app=photos only; the manifest lets anyone who may open photos share it
    const shared = await member.evaluate(async () => {
      const post = (path, body) => fetch(`intrustd+app://photos${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body) });
      const album = await (await post('/api/albums', { name: 'Ben’s trip' })).json();
      const mine = await post(`/api/albums/${album.id}/shares`, { label: 'for Ana' });
      const hers = await post('/api/albums/1/shares', {}); // an album of Ana's: not his to share
      return { status: mine.status, body: await mine.json(), hers: hers.status };
    });
    assert.equal(shared.status, 201, JSON.stringify(shared.body));
    assert.equal(shared.hers, 404);
    const visitor = await visitorBrowser.newPage();
    await visitor.goto(galleryUrl(`#${shared.body.fragment}`));
    await onPage(visitor, 'shared');
    assert.equal(await visitor.locator('#shared-title').textContent(), 'Ben’s trip');
    // what ben shared never outlives his right to open photos
    cli('grant', 'revoke', 'persona:ben', open);
    await visitor.reload();
    await onPage(visitor, 'revoked');
    await visitor.close();
  } finally {
    await memberBrowser.close();
  }
});

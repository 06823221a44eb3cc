// 24. The webmail (apps/mail/web) in real Chromium, on one appliance with two personas. Bob
// finds a hostile HTML message in his Inbox (written into his Maildir before the mail app first
// starts, as mail from outside would be): it shows in a sandboxed iframe with no script, no
// handler, no javascript: link, the tracking pixel gone and the remote image held back behind
// "Show them" — and no request for either leaves the browser until he asks. Alice writes to Bob;
// Bob sees it with the verified badge and answers with `r`; the answer reaches Alice in the same
// thread, and she finds it by a word of it. Keyboard: j, o, e archive a message, # deletes one
// (undone); flag, mark unread; the inline image and the attachment come over the link. c composes;
// a message to an ordinary address shows the app's 422 about the external account; with an account
// (whose servers cannot be reached) it waits in the outbox, with its last error, and "Retry now";
// what she had written, left for the settings, was kept in Drafts. A draft saved, opened again
// with its fields and file, edited (saved by itself, replacing the draft) and sent; a forward keeps
// the message's attachments; To suggests addresses from /api/contacts. On a phone the folders fold into a menu and one pane shows at a time. No browser logs an error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixture, ARTIFACTS, MAIL_APP, runCli, screenshot, startBrowser, tempDir } from '../lib/harness.js';

const PASSWORD = 'the mail test password';
// The state directory is made here so that Bob's message is in his Maildir before the appliance,
// let alone the mail app, ever starts: the app indexes it when it opens the mailboxes.
const stateDir = tempDir('intrustd-e2e-state-');
const fx = fixture({ applianceOptions: { name: 'Mail test box', apps: MAIL_APP, publicApps: [], stateDir } });
let bobBrowser;
let alice; // pages, kept from test to test
let bob;
const remoteRequests = []; // every request the browsers made for the hostile message's hosts
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const HOSTILE = /^https?:\/\/(tracker|images)\.example\//;

const address = (persona) => `${persona}@${fx.appliance.id.toLowerCase()}.intrustd`;

/**
 * The hostile message, as it would come from outside: HTML with a script, a handler, a
 * javascript: link, a tracking pixel and a remote image; an inline image (cid:) and an attachment.
 */
function hostileMessage() {
  return [
    'Return-Path: <news@shop.example>',
    'From: Shop Offers <news@shop.example>',
    'To: bob@somewhere.example',
    'Subject: Your weekly offers',
    'Date: Tue, 14 Nov 2023 22:13:20 +0000',
    'Message-ID: <offers-1@shop.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mix"',
    '',
    '--mix',
    'Content-Type: multipart/related; boundary="rel"',
    '',
    '--rel',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello Bob, the text version.',
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><head><script>window.pwned=1</script></head><body>',
    '<script>window.pwned=1</script>',
    '<img src="https://tracker.example/pixel.gif" width=1 height=1>',
    '<img src="https://images.example/photo.jpg" alt="A photo">',
    '<img src="cid:logo@shop.example" alt="Logo">',
    '<a href="javascript:alert(1)">x</a>',
    '<p onclick="window.pwned=2">Hello Bob</p>',
    '</body></html>',
    '--alt--',
    '--rel',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <logo@shop.example>',
    'Content-Disposition: inline',
    '',
    PNG.toString('base64'),
    '--rel--',
    '--mix',
    'Content-Type: text/plain; charset=utf-8; name="offers.txt"',
    'Content-Disposition: attachment; filename="offers.txt"',
    '',
    'Ten percent off everything.',
    '--mix--',
    '',
  ].join('\r\n');
}

function writeBobsMaildir() {
  const mail = path.join(stateDir, 'data', 'mail');
  const box = path.join(mail, 'mailboxes', 'bob');
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(box, sub), { recursive: true });
  const file = path.join(box, 'new', '1700000000.M1R00.intrustd');
  fs.writeFileSync(file, hostileMessage());
  fs.utimesSync(file, 1700000000, 1700000000);
}

function mailUrl() {
  return `${fx.flock.http}/mail/?appliance=${fx.appliance.id}&flock=${encodeURIComponent(fx.flock.url)}`;
}

async function logIn(page, persona) {
  await page.goto(mailUrl());
  const dialog = page.locator('dialog.intrustd-login');
  await dialog.waitFor({ timeout: 30000 });
  assert.equal(await dialog.getByRole('heading').textContent(), 'Log in to your mail');
  await dialog.getByLabel('Name').fill(persona);
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Log in' }).click();
  // the mail app starts at its first request
  await page.waitForFunction(() => document.body.dataset.mode === 'mail', null, { timeout: 60000 });
  await page.locator('#list-loading').waitFor({ state: 'hidden' });
}

const folderLink = (page, name) => page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: new RegExp(`^${name}\\b`) });
const rows = (page) => page.locator('#list li');
const row = (page, subject) => rows(page).filter({ has: page.locator('.subject', { hasText: subject }) });

async function openFolder(page, name) {
  await folderLink(page, name).click();
  await page.locator('#list-title', { hasText: name }).waitFor();
  await page.locator('#list-loading').waitFor({ state: 'hidden' });
}

async function status(page, text, timeout = 30000) {
  await page.getByRole('status').filter({ hasText: text }).waitFor({ timeout });
}

before(async () => {
  writeBobsMaildir();
  await fx.setup();
  const cli = async (args, input = '') => {
    const r = await runCli([...args, '--state', fx.appliance.stateDir], { input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  await cli(['persona', 'add', 'alice', '--role', 'owner', '--display-name', 'Alice', '--password-stdin'], `${PASSWORD}\n`);
  await cli(['persona', 'add', 'bob', '--role', 'member', '--display-name', 'Bob', '--password-stdin'], `${PASSWORD}\n`);
  await cli(['grant', 'add', 'persona:bob', 'intrustd+perm://intrustd/open?app=mail']);
  // Chromium puts a sandboxed iframe in a process of its own, whose requests playwright neither
  // sees nor routes: kept in the page's process, every request of the message's frame is seen
  // (what the frame may do is the same: no scripts, an opaque origin, its own CSP).
  bobBrowser = await startBrowser({ args: ['--disable-features=IsolateSandboxedIframes'] });
  // Nothing for the hostile hosts ever leaves a browser: asked for, answered here (the network
  // namespace has no way out anyway).
  for (const b of [fx.browser, bobBrowser]) {
    await b.context.route(HOSTILE, (route) => {
      if (!remoteRequests.includes(route.request().url())) remoteRequests.push(route.request().url());
      route.fulfill({ status: 200, contentType: 'image/png', body: PNG });
    });
    b.context.on('request', (r) => { if (HOSTILE.test(r.url()) && !remoteRequests.includes(r.url())) remoteRequests.push(r.url()); });
  }
});

after(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS, 'mail-web-diagnostics.txt'), `${fx.diagnostics()}\n--- bob's console ---\n`
    + `${bobBrowser?.logs.join('\n') || ''}\n`);
  try { fs.copyFileSync(path.join(stateDir, 'logs', 'mail.log'), path.join(ARTIFACTS, 'logs', 'mail-web-app.log')); } catch { /* none */ }
  if (bobBrowser) await bobBrowser.close();
  await fx.teardown();
});

test('Bob reads hostile HTML mail safely: sandboxed, no script, remote images held back until he asks', async () => {
  bob = await bobBrowser.newPage();
  // a second witness, whatever the process model: a load that failed (no DNS in the namespace) is logged with its URL
  const failedLoads = [];
  bob.on('console', (m) => { if (HOSTILE.test(m.location()?.url || '')) failedLoads.push(m.location().url); });
  await logIn(bob, 'bob');
  assert.equal(await bob.locator('#who').textContent(), address('bob'));
  await row(bob, 'Your weekly offers').waitFor();
  assert.equal(await rows(bob).count(), 1);
  const offers = row(bob, 'Your weekly offers');
  assert.match(await offers.getAttribute('class'), /\bunread\b/);
  assert.equal(await offers.locator('.badge').textContent(), 'unverified');
  assert.equal(await folderLink(bob, 'Inbox').getAttribute('aria-current'), 'page');
  await bob.locator('#folder-list a[data-folder="inbox"] .count', { hasText: /^1$/ }).waitFor();

  await offers.getByRole('button').click();
  await bob.locator('#msg-subject', { hasText: 'Your weekly offers' }).waitFor();
  const iframe = bob.locator('#msg-body iframe');
  assert.equal(await iframe.getAttribute('sandbox'), '', 'a sandbox with nothing allowed');
  const frame = bob.frameLocator('#msg-body iframe');
  await frame.locator('p', { hasText: 'Hello Bob' }).waitFor();
  assert.equal(await frame.locator('script').count(), 0);
  assert.equal(await frame.locator('[onclick]').count(), 0);
  assert.match(await frame.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content'),
    /^default-src 'none'; img-src data: https: cid:; style-src 'unsafe-inline'$/);
  const link = frame.locator('a', { hasText: 'x' });
  assert.ok(!/javascript:/i.test((await link.getAttribute('href')) || ''), 'no javascript: link');
  assert.equal(await frame.locator('img[src*="tracker.example"], img[data-blocked-src*="tracker.example"]').count(), 0,
    'the tracking pixel is gone');
  const photo = frame.locator('img[data-blocked-src="https://images.example/photo.jpg"]');
  assert.equal(await photo.count(), 1);
  assert.equal(await photo.getAttribute('src'), null);
  await bob.getByRole('status').filter({ hasText: 'Remote images are blocked.' }).waitFor();
  assert.equal(await bob.evaluate(() => window.pwned), undefined);
  // the inline image, fetched over the link into a data: URL; the attachment, downloaded over the link
  assert.match(await frame.locator('img[alt="Logo"]').getAttribute('src'), /^data:image\/png;base64,/);
  const attachments = bob.getByRole('region', { name: 'Attachments' });
  assert.equal(await attachments.getByRole('button').count(), 1, 'the inline image is not listed again');
  const [download] = await Promise.all([bob.waitForEvent('download'),
    attachments.getByRole('button', { name: /^Download offers\.txt/ }).click()]);
  assert.equal(download.suggestedFilename(), 'offers.txt');
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), 'Ten percent off everything.');
  await bob.waitForTimeout(1000); // whatever would have loaded, would have by now
  assert.deepEqual(remoteRequests, [], 'nothing asked of the remote hosts');
  assert.deepEqual(failedLoads, []);
  // opened: seen
  assert.doesNotMatch(await offers.getAttribute('class'), /\bunread\b/);
  await screenshot(bob, 'mail-read');

  // asked for: the image (answered by the test, never by the network), never the pixel
  await bob.getByRole('button', { name: 'Show them' }).click();
  await frame.locator('img[src="https://images.example/photo.jpg"]').waitFor();
  assert.equal(await bob.locator('#remote-bar').isHidden(), true);
  for (let i = 0; i < 50 && !remoteRequests.length; i++) await bob.waitForTimeout(100);
  assert.deepEqual(remoteRequests, ['https://images.example/photo.jpg']);
  assert.deepEqual(failedLoads, [], 'answered by the test, not by the network');
  assert.equal(await frame.locator('script').count(), 0);
  assert.equal(await bob.evaluate(() => window.pwned), undefined);
});

test('Alice writes to Bob: delivered at once, verified; he answers with r; she sees it in the same thread', async () => {
  alice = await fx.browser.newPage();
  await logIn(alice, 'alice');
  assert.equal(await alice.locator('#who').textContent(), address('alice'));
  await alice.locator('#list-empty', { hasText: 'No messages' }).waitFor();

  await alice.getByRole('button', { name: 'Compose' }).click();
  const dialog = alice.getByRole('dialog', { name: 'New message' });
  await dialog.getByLabel('To').fill(address('bob'));
  await dialog.getByLabel('Subject').fill('Lunch on Friday?');
  await dialog.getByLabel('Message').fill('Shall we meet at noon? I know a place.');
  // A file attached, uploaded over the link when she sends; one picked by mistake taken off again.
  const menu = Buffer.from('%PDF-1.4 the menu of the bakery\n'.repeat(2000));
  await dialog.locator('#c-files').setInputFiles([{ name: 'menu.pdf', mimeType: 'application/pdf', buffer: menu },
    { name: 'oops.txt', mimeType: 'text/plain', buffer: Buffer.from('not this one') }]);
  await dialog.getByRole('button', { name: 'Remove oops.txt' }).click();
  assert.equal(await dialog.getByRole('list', { name: 'Attached files' }).getByRole('listitem').count(), 1);
  await screenshot(alice, 'mail-compose');
  await dialog.getByRole('button', { name: 'Send' }).click();
  await status(alice, `Sent: delivered to ${address('bob')}.`);
  assert.equal(await dialog.isHidden(), true);
  await openFolder(alice, 'Sent');
  await row(alice, 'Lunch on Friday?').waitFor();
  assert.match(await rows(alice).first().locator('.who').textContent(), /^To: /);

  // Bob: in his Inbox (the same appliance), proved by the appliance
  await openFolder(bob, 'Inbox');
  const lunch = row(bob, 'Lunch on Friday?');
  await lunch.waitFor();
  assert.equal(await rows(bob).count(), 2);
  assert.equal(await rows(bob).first().locator('.subject').textContent(), 'Lunch on Friday?', 'newest first');
  assert.match(await lunch.getAttribute('class'), /\bunread\b/);
  assert.equal(await lunch.locator('.badge').textContent(), '✓ verified');
  await screenshot(bob, 'mail-inbox');
  await lunch.getByRole('button').click();
  await bob.locator('#msg-subject', { hasText: 'Lunch on Friday?' }).waitFor();
  assert.match(await bob.locator('#msg-from').textContent(), new RegExp(`${address('alice').replace(/[.]/g, '\\.')}.*✓ verified`));
  assert.match(await bob.locator('#msg-body .text-body').textContent(), /Shall we meet at noon\?/);
  const attached = bob.getByRole('region', { name: 'Attachments' });
  assert.equal(await attached.getByRole('button').count(), 1);
  const [menuDownload] = await Promise.all([bob.waitForEvent('download'),
    attached.getByRole('button', { name: /^Download menu\.pdf/ }).click()]);
  assert.ok(fs.readFileSync(await menuDownload.path()).equals(menu), 'the attachment comes out byte for byte');

  await bob.keyboard.press('r');
  const reply = bob.getByRole('dialog', { name: 'Reply' });
  await reply.waitFor();
  assert.equal(await reply.getByLabel('To').inputValue(), address('alice'));
  assert.equal(await reply.getByLabel('Subject').inputValue(), 'Re: Lunch on Friday?');
  assert.match(await reply.getByLabel('Message').inputValue(), /wrote:\n> Shall we meet at noon\? I know a place\./);
  await bob.keyboard.type('Noon works. See you at the bakery.');
  await reply.getByRole('button', { name: 'Send' }).click();
  await status(bob, `Sent: delivered to ${address('alice')}.`);

  // Alice: the answer, verified, in the thread of what she sent
  await openFolder(alice, 'Inbox');
  const answer = row(alice, 'Re: Lunch on Friday?');
  await answer.waitFor();
  assert.equal(await answer.locator('.badge').textContent(), '✓ verified');
  await answer.getByRole('button').click();
  await alice.locator('#msg-subject', { hasText: 'Re: Lunch on Friday?' }).waitFor();
  assert.match(await alice.locator('#msg-body .text-body').textContent(), /^Noon works\. See you at the bakery\./);
  await alice.locator('#thread-title', { hasText: '1 other message in this conversation' }).waitFor();
  const earlier = alice.locator('#thread-items details');
  assert.equal(await earlier.count(), 1);
  assert.match(await earlier.locator('summary').textContent(), /Lunch on Friday\?.*Sent/);
  await earlier.locator('summary').click();
  await earlier.locator('.thread-text', { hasText: 'Shall we meet at noon?' }).waitFor();
  await screenshot(alice, 'mail-thread');
});

test('Alice finds the answer by a word of it', async () => {
  await alice.getByRole('searchbox', { name: 'Search mail' }).fill('bakery');
  await alice.keyboard.press('Enter');
  await alice.locator('#list-title', { hasText: 'Search: “bakery”' }).waitFor();
  await alice.locator('#list-loading').waitFor({ state: 'hidden' });
  await row(alice, 'Re: Lunch on Friday?').waitFor();
  assert.equal(await rows(alice).count(), 1);
  assert.equal(await rows(alice).locator('.in-folder').textContent(), 'Inbox');
  await alice.getByRole('button', { name: 'Clear search' }).click();
  await alice.locator('#list-title', { hasText: 'Inbox' }).waitFor();
});

test('keyboard: ? lists the shortcuts; j, o and e archive a message; flag, mark unread, # and undo', async () => {
  await bob.keyboard.press('?');
  const help = bob.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  assert.match(await help.textContent(), /archive/);
  await bob.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden' });

  // the cursor is at the message open (Alice's, the newest); j: the next one, the offers
  await bob.keyboard.press('j');
  await bob.locator('#list li.cursor .subject', { hasText: 'Your weekly offers' }).waitFor();
  await bob.keyboard.press('o');
  await bob.locator('#msg-subject', { hasText: 'Your weekly offers' }).waitFor();
  await bob.keyboard.press('e');
  await status(bob, 'Archived.');
  await bob.locator('#message').waitFor({ state: 'hidden' });
  assert.equal(await rows(bob).count(), 1);
  assert.equal(await rows(bob).locator('.subject').textContent(), 'Lunch on Friday?');
  await openFolder(bob, 'Archive');
  await row(bob, 'Your weekly offers').waitFor();
  assert.equal(await rows(bob).count(), 1);

  // the Inbox again: flag, mark unread, then # on the message at the cursor, and undo
  await openFolder(bob, 'Inbox');
  const lunch = row(bob, 'Lunch on Friday?');
  await lunch.getByRole('button').click();
  await bob.locator('#msg-subject', { hasText: 'Lunch on Friday?' }).waitFor();
  await bob.getByRole('button', { name: 'Flag', exact: true }).click();
  await status(bob, 'Flagged.');
  await lunch.locator('.flagged').waitFor();
  assert.equal(await bob.locator('#act-flag').getAttribute('aria-pressed'), 'true');
  await bob.getByRole('button', { name: 'Mark unread' }).click();
  await status(bob, 'Marked unread.');
  assert.match(await lunch.getAttribute('class'), /\bunread\b/);
  await bob.locator('#folder-list a[data-folder="inbox"] .count', { hasText: /^1$/ }).waitFor();
  await bob.locator('#list').focus();
  await bob.keyboard.press('#');
  await status(bob, 'Moved to Trash.');
  assert.equal(await rows(bob).count(), 0);
  await bob.getByRole('button', { name: 'Undo' }).click();
  await status(bob, 'Moved back to Inbox.');
  await lunch.waitFor();
  assert.match(await lunch.getAttribute('class'), /\bunread\b/);
});

test('c composes; mail to an ordinary address needs an external account (the page says so); with one, it waits in the outbox', async () => {
  await alice.locator('#list').focus();
  await alice.keyboard.press('c');
  const dialog = alice.getByRole('dialog', { name: 'New message' });
  await dialog.waitFor();
  await dialog.getByLabel('To').fill('x@example.org');
  await dialog.getByLabel('Subject').fill('Outside');
  await dialog.getByLabel('Message').fill('Does this get out?');
  await dialog.getByRole('button', { name: 'Send' }).click();
  const problem = dialog.getByRole('alert');
  await problem.filter({ hasText: 'goes through an external account: set one up first' }).waitFor();
  assert.match(await problem.textContent(), /x@example\.org/);
  assert.equal(await dialog.getByRole('button', { name: 'Set up an external account' }).isVisible(), true);
  await screenshot(alice, 'mail-compose-error');
  await dialog.getByRole('button', { name: 'Set up an external account' }).click();
  const settings = alice.getByRole('dialog', { name: 'Settings' });
  await settings.locator('#account-state', { hasText: 'No external account' }).waitFor();
  assert.equal(await alice.locator('#outbox-button').isHidden(), true, 'nothing waits in the outbox');

  // an account (at servers this namespace cannot reach): saved without its passwords shown again
  await settings.getByLabel('Address').fill('alice@example.org');
  for (const [group, host] of [['Sending (SMTP submission)', 'smtp.example.org'], ['Receiving (IMAP)', 'imap.example.org']]) {
    const server = settings.getByRole('group', { name: group });
    await server.getByLabel('Server').fill(host);
    await server.getByLabel('User name').fill('alice');
    await server.getByLabel('Password').fill('a provider password');
  }
  await settings.getByRole('button', { name: 'Save account' }).click();
  await settings.locator('#account-state', { hasText: 'goes out as alice@example.org' }).waitFor();
  assert.equal(await settings.getByRole('group', { name: 'Receiving (IMAP)' }).getByLabel('Password').inputValue(), '');
  await settings.getByRole('button', { name: 'Fetch now' }).click();
  await settings.getByRole('alert').filter({ hasText: 'Fetching failed: the provider could not be reached' }).waitFor({ timeout: 60000 });
  await screenshot(alice, 'mail-settings');
  await settings.getByRole('button', { name: 'Close' }).click();
  await settings.waitFor({ state: 'hidden' });

  // now it is taken, and waits in the outbox
  await alice.locator('#list').focus();
  await alice.keyboard.press('c');
  await dialog.getByLabel('To').fill('x@example.org');
  await dialog.getByLabel('Subject').fill('Outside');
  await dialog.getByLabel('Message').fill('Does this get out?');
  await dialog.getByRole('button', { name: 'Send' }).click();
  await status(alice, 'Sent: queued for x@example.org');
  const waiting = alice.getByRole('button', { name: '1 message waiting to be sent' });
  await waiting.waitFor();
  assert.equal((await waiting.textContent()).trim(), '1 waiting');
  await waiting.click();
  const outbox = alice.getByRole('dialog', { name: 'Waiting to be sent' });
  await outbox.getByText('x@example.org').waitFor();
  await outbox.getByRole('button', { name: 'Retry now' }).click();
  await status(alice, 'Trying again now');
  await outbox.getByText(/^Last error: the provider could not be reached/).waitFor({ timeout: 45000 });
  assert.match(await outbox.textContent(), /\d+ attempts?/);
  await outbox.getByRole('button', { name: 'Close' }).click();
  await openFolder(alice, 'Sent');
  assert.equal(await rows(alice).count(), 2);
});

test('drafts: kept on closing, saved, opened again with the file, edited, sent; a forward keeps its attachments; addresses suggested', async () => {
  const re = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const attachedNames = (dialog) => dialog.getByRole('list', { name: 'Attached files' }).locator('.name').allTextContents();
  const saved = (dialog) => dialog.getByRole('status').filter({ hasText: /^Draft saved at / });

  // What Alice wrote to x@example.org before she left for the settings was kept in Drafts; she discards it.
  await openFolder(alice, 'Drafts');
  const outside = row(alice, 'Outside');
  await outside.waitFor();
  assert.equal(await rows(alice).count(), 1);
  assert.equal(await outside.locator('.who').textContent(), 'To: x@example.org');
  await outside.getByRole('button').click();
  const old = alice.getByRole('dialog', { name: 'Draft' });
  await old.waitFor();
  assert.equal(await old.getByLabel('To').inputValue(), 'x@example.org');
  assert.equal(await old.getByLabel('Message').inputValue(), 'Does this get out?');
  await old.getByRole('button', { name: 'Discard' }).click();
  await status(alice, 'Draft discarded.');
  await alice.locator('#list-empty', { hasText: 'No drafts.' }).waitFor();

  // A new message: Bob is suggested as she types (GET /api/contacts), a file attached, Save draft.
  await alice.getByRole('button', { name: 'Compose' }).click();
  const dialog = alice.getByRole('dialog', { name: 'New message' });
  const to = dialog.getByLabel('To');
  await to.fill('bo');
  const suggestion = dialog.getByRole('listbox', { name: 'Suggestions' }).getByRole('option', { name: new RegExp(re(address('bob'))) });
  await suggestion.waitFor();
  assert.equal(await to.getAttribute('aria-expanded'), 'true');
  await screenshot(alice, 'mail-suggest');
  await suggestion.click();
  assert.match(await to.inputValue(), new RegExp(`^(\\w+ <)?${re(address('bob'))}>?, $`));
  assert.equal(await to.getAttribute('aria-expanded'), 'false');
  await dialog.getByLabel('Bcc').fill(address('alice'));
  await dialog.getByLabel('Subject').fill('Plans for the weekend');
  await dialog.getByLabel('Message').fill('A walk by the river?');
  const map = Buffer.from('the path along the river, then the bridge\n'.repeat(500));
  await dialog.locator('#c-files').setInputFiles([{ name: 'map.txt', mimeType: 'text/plain', buffer: map }]);
  await dialog.getByRole('button', { name: 'Save draft' }).click();
  await saved(dialog).waitFor();
  const plans = row(alice, 'Plans for the weekend');
  await plans.waitFor(); // the Drafts list behind the dialog
  await alice.keyboard.press('Escape'); // nothing changed since: nothing saved again
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await rows(alice).count(), 1);
  assert.equal(await plans.locator('[title="Has attachments"]').count(), 1);
  assert.match(await plans.locator('.who').textContent(), /^To: /);

  // Opened again: every field as it was, Bcc too, and the file, kept from the draft.
  await plans.getByRole('button').click();
  const draft = alice.getByRole('dialog', { name: 'Draft' });
  await draft.waitFor();
  assert.match(await draft.getByLabel('To').inputValue(), new RegExp(`^(\\w+ <)?${re(address('bob'))}>?$`));
  assert.equal(await draft.getByLabel('Bcc').inputValue(), address('alice'));
  assert.equal(await draft.getByLabel('Subject').inputValue(), 'Plans for the weekend');
  assert.equal(await draft.getByLabel('Message').inputValue(), 'A walk by the river?');
  assert.deepEqual(await attachedNames(draft), ['map.txt']);

  // Edited: saved by itself after a few seconds without typing, replacing the draft (never two).
  await draft.getByLabel('Message').fill('A walk by the river? Then lunch at the bakery.');
  await draft.getByLabel('Bcc').fill('');
  await draft.locator('#c-files').setInputFiles([{ name: 'times.txt', mimeType: 'text/plain', buffer: Buffer.from('10:00 at the bridge') }]);
  assert.deepEqual(await attachedNames(draft), ['map.txt', 'times.txt']);
  await saved(draft).waitFor({ timeout: 20000 });
  await plans.locator('.snippet', { hasText: 'Then lunch' }).waitFor();
  assert.equal(await rows(alice).count(), 1);
  assert.deepEqual(await attachedNames(draft), ['map.txt', 'times.txt']);
  await screenshot(alice, 'mail-draft');
  await draft.getByRole('button', { name: 'Send' }).click();
  await status(alice, `Sent: delivered to ${address('bob')}.`); // no longer Bcc to herself
  await draft.waitFor({ state: 'hidden' });
  await alice.locator('#list-empty', { hasText: 'No drafts.' }).waitFor();
  assert.equal(await rows(alice).count(), 0);

  // Bob has it, with both files.
  await openFolder(bob, 'Inbox');
  const got = row(bob, 'Plans for the weekend');
  await got.waitFor();
  await got.getByRole('button').click();
  await bob.locator('#msg-subject', { hasText: 'Plans for the weekend' }).waitFor();
  assert.match(await bob.locator('#msg-body .text-body').textContent(), /^A walk by the river\? Then lunch at the bakery\./);
  const files = bob.getByRole('region', { name: 'Attachments' });
  assert.equal(await files.getByRole('button').count(), 2);
  const [mapDownload] = await Promise.all([bob.waitForEvent('download'),
    files.getByRole('button', { name: /^Download map\.txt/ }).click()]);
  assert.ok(fs.readFileSync(await mapDownload.path()).equals(map), 'the file kept from draft to draft, byte for byte');
  assert.match(await bob.locator('#msg-to').textContent(), new RegExp(re(address('bob'))));

  // Forwarding keeps the attachments (one taken off here); the image shown in a message's text is not one.
  await openFolder(bob, 'Archive');
  await row(bob, 'Your weekly offers').getByRole('button').click();
  await bob.locator('#msg-subject', { hasText: 'Your weekly offers' }).waitFor();
  await bob.keyboard.press('f');
  let fwd = bob.getByRole('dialog', { name: 'Forward' });
  await fwd.waitFor();
  assert.deepEqual(await attachedNames(fwd), ['offers.txt']);
  await bob.keyboard.press('Escape'); // nothing written: nothing kept
  await fwd.waitFor({ state: 'hidden' });

  await openFolder(bob, 'Inbox');
  await got.getByRole('button').click();
  await bob.locator('#msg-subject', { hasText: 'Plans for the weekend' }).waitFor();
  await bob.keyboard.press('f');
  fwd = bob.getByRole('dialog', { name: 'Forward' });
  await fwd.waitFor();
  assert.equal(await fwd.getByLabel('Subject').inputValue(), 'Fwd: Plans for the weekend');
  assert.deepEqual(await attachedNames(fwd), ['map.txt', 'times.txt']);
  await fwd.getByRole('button', { name: 'Remove times.txt' }).click();
  assert.deepEqual(await attachedNames(fwd), ['map.txt']);
  await fwd.getByLabel('To').focus();
  await bob.keyboard.type('ali');
  const alicePick = fwd.getByRole('option', { name: new RegExp(re(address('alice'))) });
  await alicePick.waitFor();
  await bob.keyboard.press('ArrowDown');
  assert.equal(await alicePick.getAttribute('aria-selected'), 'true');
  await bob.keyboard.press('Enter'); // picks the suggestion: does not send
  assert.match(await fwd.getByLabel('To').inputValue(), new RegExp(`${re(address('alice'))}>?, $`));
  assert.equal(await fwd.isVisible(), true);
  await fwd.getByRole('button', { name: 'Send' }).click();
  await status(bob, `Sent: delivered to ${address('alice')}.`);
  await openFolder(bob, 'Drafts');
  await bob.locator('#list-empty', { hasText: 'No drafts.' }).waitFor();

  await openFolder(alice, 'Inbox');
  const forwarded = row(alice, 'Fwd: Plans for the weekend');
  await forwarded.waitFor();
  await forwarded.getByRole('button').click();
  await alice.locator('#msg-subject', { hasText: 'Fwd: Plans for the weekend' }).waitFor();
  assert.match(await alice.locator('#msg-body .text-body').textContent(), /Forwarded message[\s\S]*Then lunch at the bakery/);
  const fwdFiles = alice.getByRole('region', { name: 'Attachments' });
  assert.equal(await fwdFiles.getByRole('button').count(), 1);
  const [fwdDownload] = await Promise.all([alice.waitForEvent('download'),
    fwdFiles.getByRole('button', { name: /^Download map\.txt/ }).click()]);
  assert.ok(fs.readFileSync(await fwdDownload.path()).equals(map), 'the forward carries the part, byte for byte');
});

test('on a phone: the folders in a menu, one pane at a time', async () => {
  await alice.setViewportSize({ width: 390, height: 844 });
  const menu = alice.getByRole('button', { name: 'Folders' });
  await menu.waitFor();
  await alice.locator('#folders').waitFor({ state: 'hidden' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await menu.click();
  await alice.locator('#folders').waitFor({ state: 'visible' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await alice.waitForTimeout(300); // slid in
  await screenshot(alice, 'mail-phone-menu');
  await folderLink(alice, 'Inbox').click();
  await alice.locator('#folders').waitFor({ state: 'hidden' });
  const answer = row(alice, 'Re: Lunch on Friday?');
  await answer.waitFor();
  assert.equal(await alice.locator('#reader').isVisible(), false);
  await answer.getByRole('button').click();
  await alice.locator('#msg-subject', { hasText: 'Re: Lunch on Friday?' }).waitFor();
  assert.equal(await alice.locator('#list-pane').isVisible(), false);
  assert.ok(await alice.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on a phone');
  await screenshot(alice, 'mail-phone');
  await alice.getByRole('button', { name: 'Back to the list' }).click();
  await alice.locator('#list-pane').waitFor({ state: 'visible' });
  assert.equal(await alice.locator('#reader').isVisible(), false);

  // writing on a phone: the dialog fits, its close button is there (no Esc key)
  await menu.click();
  await alice.getByRole('button', { name: 'Compose' }).click();
  const dialog = alice.getByRole('dialog', { name: 'New message' });
  await dialog.waitFor();
  assert.ok(await dialog.evaluate((d) => d.scrollWidth <= d.clientWidth && d.getBoundingClientRect().right <= 390),
    'no sideways scrolling in the compose dialog');
  await screenshot(alice, 'mail-phone-compose');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'hidden' });
});

test('no errors in either browser', () => {
  const errors = [...fx.browser.logs, ...bobBrowser.logs].filter((l) => /^\[(console\.error|pageerror)\]/.test(l));
  assert.deepEqual(errors, []);
});

// 23. Mail between two appliances over a link (docs/mail.md): A's owner writes to B's owner at
// B's Intrustd address; the message crosses the end-to-end link (no MX, no port 25). The two
// appliances are not paired. While B's owner has not let mail meet such appliances, A's owner
// gets a bounce saying so; once they have, B's mail app records the sender its daemon proved and,
// as B's owner has never written to A, files it under Requests. B's owner answers, and the
// answer lands straight in A's Inbox, in the same thread. Once the two are paired, A's mail goes
// straight to B's Inbox. Personas reach their mail through the link, as the webmail does. Then a
// 100 MiB attachment makes the same trip, streamed all the way. Last, B's owner reads the same
// mailbox with a desktop IMAP client (Python's imaplib) through `intrustd forward --upgrade imap`:
// what it flags and files shows in the webmail's API, and the proved sender survives; and sends
// to A with Python's smtplib through `--upgrade smtp`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startFlock, startAppliance, removeTempDir, requireNetwork, runCli, sleep, MAIL_APP, LAUNCHER, Proc } from '../lib/harness.js';

const PASSWORD = 'the owner password of both boxes';
let flock;
const boxes = {};

const on = (box, args, o) => runCli([...args, '--state', boxes[box].stateDir], o);

/** A request to a box's mail app, as its owner, over the link. */
async function mail(box, target, { method = 'GET', body } = {}) {
  const args = ['request', 'mail', target, '-X', method, '--appliance', boxes[box].id, '--flock', flock.url, '--login', 'owner'];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(body));
  const r = await runCli(args, { env: { INTRUSTD_PASSWORD: PASSWORD } });
  assert.equal(r.code, 0, `${method} ${target}: ${r.stderr}`);
  return r.stdout.length ? JSON.parse(r.stdout) : null;
}

/** Polls a folder until it holds `count` messages; a failure shows what the sender still has queued. */
async function folder(box, name, count, sender, ms = 20000) {
  let last;
  for (const end = Date.now() + ms; Date.now() < end; await sleep(500)) {
    last = (await mail(box, `/api/messages?folder=${name}`)).messages;
    if (last.length >= count) return last;
  }
  const queued = await mail(sender, '/api/outbox');
  const bounces = (await mail(sender, '/api/messages?folder=inbox')).messages.filter((m) => m.subject.startsWith('Undelivered'));
  const why = await Promise.all(bounces.map((m) => mail(sender, `/api/messages/${m.id}?peek=1`)));
  assert.fail(`${name} of ${box} never held ${count}: ${JSON.stringify(last)}; ${sender}'s outbox: ${JSON.stringify(queued)};`
    + ` bounces: ${why.map((m) => m.text).join(' | ')}`);
}

before(async () => {
  requireNetwork();
  flock = await startFlock();
  boxes.a = await startAppliance({ flock: flock.url, name: "Alice's box", apps: MAIL_APP, publicApps: [] });
  boxes.b = await startAppliance({ flock: flock.url, name: "Bob's box", apps: MAIL_APP, publicApps: [] });
  for (const box of ['a', 'b']) {
    const owner = await on(box, ['persona', 'add', 'owner', '--role', 'owner', '--password-stdin'], { input: `${PASSWORD}\n` });
    assert.equal(owner.code, 0, owner.stderr);
  }
  const grant = await on('a', ['app', 'grant', 'mail', 'strangers']);
  assert.equal(grant.code, 0, grant.stderr);
});
after(async () => {
  for (const b of Object.values(boxes)) await b.stop();
  if (flock) await flock.stop();
  for (const b of Object.values(boxes)) removeTempDir(b.stateDir);
});

/** Polls a box's Inbox for a bounce; its text. */
async function bounce(box, ms = 20000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(500)) {
    const [b] = (await mail(box, '/api/messages?folder=inbox')).messages.filter((m) => m.subject.startsWith('Undelivered'));
    if (b) return (await mail(box, `/api/messages/${b.id}`)).text;
  }
  assert.fail(`no bounce reached ${box}; its outbox: ${JSON.stringify(await mail(box, '/api/outbox'))}`);
}

test('mail goes from A to B, not paired, over the link, waits in Requests, and the answer comes back to the Inbox', async () => {
  const alice = (await mail('a', '/api/me')).address;
  const bob = (await mail('b', '/api/me')).address;
  assert.match(alice, new RegExp(`^owner@${boxes.a.id.toLowerCase()}\\.intrustd$`));

  // B's owner has not let mail meet appliances B is not paired with: A's owner learns it at once.
  await mail('a', '/api/send', { method: 'POST', body: { to: [bob], subject: 'Too early', text: 'Refused.' } });
  assert.match(await bounce('a'), /not paired with this one, and the app does not meet appliances/);

  const grant = await on('b', ['app', 'grant', 'mail', 'strangers']);
  assert.equal(grant.code, 0, grant.stderr);
  const sent = await mail('a', '/api/send', { method: 'POST', body: { to: [bob], subject: 'Hello from A', text: 'Over the link, no MX.' } });
  assert.deepEqual(sent.queued, [bob]);

  const [request] = await folder('b', 'requests', 1, 'a');
  assert.equal(request.subject, 'Hello from A');
  assert.equal(request.verifiedSender, alice);
  const full = await mail('b', `/api/messages/${request.id}`);
  assert.match(full.text, /Over the link, no MX\./);

  await mail('b', '/api/send', { method: 'POST', body: { to: [alice], subject: 'Re: Hello from A', text: 'Got it.', inReplyTo: full.messageId } });
  const [answer] = (await folder('a', 'inbox', 1, 'b')).filter((m) => m.subject === 'Re: Hello from A');
  assert.ok(answer, 'the answer is in A\'s Inbox');
  assert.equal(answer.verifiedSender, bob);
  const mine = (await folder('a', 'sent', 2, 'a')).find((m) => m.subject === 'Hello from A');
  assert.equal(answer.thread, mine.thread);
  assert.equal((await mail('a', '/api/outbox')).outbox.length, 0);
});

test('once the appliances are paired, mail goes straight to the Inbox', async () => {
  const invite = await on('b', ['peer', 'invite', '--allow', 'mail', '--json']);
  assert.equal(invite.code, 0, invite.stderr);
  const pair = await on('a', ['peer', 'pair', JSON.parse(invite.stdout).link, '--allow', 'mail', '--json']);
  assert.equal(pair.code, 0, pair.stderr);
  const bob = (await mail('b', '/api/me')).address;
  await mail('a', '/api/send', { method: 'POST', body: { to: [bob], subject: 'As friends', text: 'Paired now.' } });
  const inbox = await folder('b', 'inbox', 1, 'a');
  assert.ok(inbox.some((m) => m.subject === 'As friends'), JSON.stringify(inbox));
});

test('a 100 MiB attachment crosses the link in a message, streamed all the way, and comes out byte for byte', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mail-big-'));
  try {
    const big = path.join(dir, 'big.bin');
    const out = fs.openSync(big, 'w');
    for (let i = 0; i < 100; i++) fs.writeSync(out, crypto.randomBytes(1 << 20));
    fs.closeSync(out);
    const sha = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

    // Streamed from the laptop into an upload, then into the message, over the link to B, and out
    // again: the mail app's heap is 192 MiB, less than the message in base64 (137 MiB) and its copies.
    const up = await runCli(['request', 'mail', '/api/uploads?name=big.bin', '-X', 'POST', '--data-file', big,
      '-H', 'Content-Type: application/octet-stream', '--appliance', boxes.a.id, '--flock', flock.url, '--login', 'owner'],
    { env: { INTRUSTD_PASSWORD: PASSWORD }, timeoutMs: 180000 });
    assert.equal(up.code, 0, up.stderr);
    const upload = JSON.parse(up.stdout);
    assert.equal(upload.size, 100 << 20);
    const bob = (await mail('b', '/api/me')).address;
    await mail('a', '/api/send', { method: 'POST', body: { to: [bob], subject: 'The big file', text: 'Here it is.', attachments: [upload.id] } });

    const [received] = (await folder('b', 'inbox', 2, 'a', 180000)).filter((m) => m.subject === 'The big file');
    assert.ok(received, 'the big message is in B\'s Inbox');
    const full = await mail('b', `/api/messages/${received.id}?peek=1`);
    assert.equal(full.parts.length, 1);
    assert.equal(full.parts[0].size, 100 << 20);
    const copy = path.join(dir, 'copy.bin');
    const down = await runCli(['request', 'mail', `/api/messages/${received.id}/parts/${full.parts[0].index}`, '-o', copy,
      '--appliance', boxes.b.id, '--flock', flock.url, '--login', 'owner'], { env: { INTRUSTD_PASSWORD: PASSWORD }, timeoutMs: 180000 });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(sha(copy), sha(big));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A desktop mail client's session (Python's imaplib), through the forward on `port`: what it saw, as JSON. */
const IMAP_CLIENT = `
import imaplib, json, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
out = {'state': m.state}
typ, boxes = m.list()
out['folders'] = sorted(b.decode().split(' "/" ')[-1].strip('"') for b in boxes)
m.select('INBOX')
typ, ids = m.search(None, 'ALL')
out['subjects'] = []
for i in ids[0].split():
    typ, data = m.fetch(i, '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
    subject = data[0][1].decode().strip()
    out['subjects'].append(subject)
    if subject == 'Subject: As friends':
        m.store(i, '+FLAGS', '\\Flagged')
m.append('Sent', '\\Seen', None, b'From: desktop@example.org\\r\\nSubject: Written on the desktop\\r\\n\\r\\nHello over IMAP\\r\\n')
m.logout()
print(json.dumps(out))
`;

test('a desktop mail client reads and files the same mailbox over IMAP, through intrustd forward', async () => {
  const forward = new Proc('forward-imap', LAUNCHER, ['forward', 'mail', '0', '--upgrade', 'imap', '--appliance', boxes.b.id,
    '--flock', flock.url, '--login', 'owner'], { env: { INTRUSTD_PASSWORD: PASSWORD } });
  try {
    const [, port] = await forward.waitForLine((l) => /forwarding imap:\/\/127\.0\.0\.1:(\d+)\//.exec(l), 60000, 'the port');
    const session = spawnSync('python3', ['-c', IMAP_CLIENT, port], { encoding: 'utf8', timeout: 30000 });
    const appLog = () => fs.readFileSync(path.join(boxes.b.stateDir, 'logs', 'mail.log'), 'utf8').split('\n').slice(-30).join('\n');
    assert.equal(session.status, 0, `${session.stderr}\n${forward.tail()}\nthe mail app's log:\n${appLog()}`);
    const seen = JSON.parse(session.stdout);
    assert.equal(seen.state, 'AUTH', 'the server greets PREAUTH: the link is the login');
    for (const f of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Archive', 'Requests']) assert.ok(seen.folders.includes(f), JSON.stringify(seen));
    assert.ok(seen.subjects.includes('Subject: As friends'), JSON.stringify(seen));

    const inbox = (await mail('b', '/api/messages?folder=inbox')).messages;
    const friends = inbox.find((m) => m.subject === 'As friends');
    assert.ok(friends.flags.includes('flagged'), JSON.stringify(friends));
    assert.equal(friends.verifiedSender, (await mail('a', '/api/me')).address, 'a flag set over IMAP keeps the proof');
    const sent = (await mail('b', '/api/messages?folder=sent')).messages;
    assert.ok(sent.some((m) => m.subject === 'Written on the desktop'), JSON.stringify(sent));
  } finally {
    await forward.stop();
  }
});

test('a desktop mail client sends over SMTP through intrustd forward, only from its own address', async () => {
  const forward = new Proc('forward-smtp', LAUNCHER, ['forward', 'mail', '0', '--upgrade', 'smtp', '--appliance', boxes.b.id,
    '--flock', flock.url, '--login', 'owner'], { env: { INTRUSTD_PASSWORD: PASSWORD } });
  try {
    const [, port] = await forward.waitForLine((l) => /forwarding smtp:\/\/127\.0\.0\.1:(\d+)\//.exec(l), 60000, 'the port');
    const alice = (await mail('a', '/api/me')).address;
    const bob = (await mail('b', '/api/me')).address;
    const client = `
import smtplib, sys
from email.message import EmailMessage
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60)
s.login('anyone', 'anything')
m = EmailMessage()
m['From'] = sys.argv[2]; m['To'] = sys.argv[3]; m['Subject'] = 'Sent from the desktop'
m.set_content('.A line that starts with a dot\\nand the rest')
s.send_message(m)
try:
    forged = EmailMessage(); forged['From'] = 'someone@else.example'; forged['To'] = sys.argv[3]; forged['Subject'] = 'x'
    s.send_message(forged)
    print('forged: accepted')
except smtplib.SMTPSenderRefused as e:
    print('forged: refused', e.smtp_code)
s.quit()
`;
    const session = spawnSync('python3', ['-c', client, port, bob, alice], { encoding: 'utf8', timeout: 60000 });
    assert.equal(session.status, 0, `${session.stderr}\n${forward.tail()}`);
    assert.match(session.stdout, /forged: refused 550/);
    let got;
    for (const end = Date.now() + 20000; !got && Date.now() < end; await sleep(500)) {
      got = (await mail('a', '/api/messages?folder=inbox')).messages.find((m) => m.subject === 'Sent from the desktop');
    }
    assert.ok(got, `it reached A; B's outbox: ${JSON.stringify(await mail('b', '/api/outbox'))}`);
    assert.equal(got.verifiedSender, bob);
    assert.match((await mail('a', `/api/messages/${got.id}?peek=1`)).text, /^\.A line that starts with a dot/);
  } finally {
    await forward.stop();
  }
});

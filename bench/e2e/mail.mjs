#!/usr/bin/env node
// Mail delivery latency between two appliances: over a warm peer link (the link is up) against a
// cold one (the sender has just started, so the delivery dials the flock, links, proves itself
// and then delivers), measured in the same run (bench/README.md, "Mail").
//
//   cd /work/main && scripts/netns-run node bench/e2e/mail.mjs [--warm 40] [--cold 5] [--out FILE]
//
// A flock and two appliances A and B with the mail app, paired both ways with `mail` allowed,
// an owner on each. Every message is sent by A's owner through `intrustd request` and timed by
// A's mail app itself (GET /api/outbox: `callMillis`, the call that delivered it, and
// `latencyMillis`, from being queued to B's answer), so the CLI's own start does not count.
// Cold: A is restarted before each message. Needs ./intrustd --version run first.
// Writes bench/results/mail-latest.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFlock, startAppliance, runCli, removeTempDir, requireNetwork, sleep, tempDir } from '../../e2e/lib/harness.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIL_APP = path.join(HERE, '..', '..', 'apps', 'mail', 'target');
const PASSWORD = 'the mail bench password';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const WARM = Number(opt('warm', 40));
const COLD = Number(opt('cold', 5));
const OUT = opt('out', path.join(HERE, '..', 'results', 'mail-latest.json'));

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

requireNetwork();
const flock = await startFlock();
const boxes = {};
const states = { a: tempDir('mail-bench-a'), b: tempDir('mail-bench-b') };
const start = async (box, name) => {
  boxes[box] = await startAppliance({ flock: flock.url, stateDir: states[box], name, apps: MAIL_APP, publicApps: [] });
};
const on = async (box, cliArgs, o) => {
  const r = await runCli([...cliArgs, '--state', states[box]], o);
  if (r.code !== 0) throw new Error(`${cliArgs.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const mail = async (box, target, body) => {
  const a = ['request', 'mail', target, '--appliance', boxes[box].id, '--flock', flock.url, '--login', 'owner'];
  if (body) a.push('-X', 'POST', '-H', 'Content-Type: application/json', '-d', JSON.stringify(body));
  const r = await runCli(a, { env: { INTRUSTD_PASSWORD: PASSWORD } });
  if (r.code !== 0) throw new Error(`${target}: ${r.stderr}`);
  return r.stdout ? JSON.parse(r.stdout) : null;
};

/** Sends one message from A to B and waits for A's record of its delivery. */
async function deliverOne(to, n) {
  const before = (await mail('a', '/api/outbox')).recent.length;
  await mail('a', '/api/send', { to: [to], subject: `bench ${n}`, text: 'x'.repeat(2000) });
  for (let i = 0; i < 600; i++) {
    const recent = (await mail('a', '/api/outbox')).recent;
    if (recent.length > before) {
      if (recent[0].outcome !== 'delivered') throw new Error(`not delivered: ${JSON.stringify(recent[0])}`);
      return recent[0];
    }
    await sleep(100);
  }
  throw new Error('a delivery never finished');
}

try {
  await start('a', 'Bench A');
  await start('b', 'Bench B');
  for (const box of ['a', 'b']) {
    await on(box, ['persona', 'add', 'owner', '--role', 'owner', '--password-stdin'], { input: `${PASSWORD}\n` });
    await on(box, ['app', 'grant', 'mail', 'peer']);
  }
  const invite = JSON.parse(await on('b', ['peer', 'invite', '--allow', 'mail', '--json']));
  await on('a', ['peer', 'pair', invite.link, '--allow', 'mail', '--json']);
  const to = (await mail('b', '/api/me')).address;

  const cold = [];
  for (let i = 0; i < COLD; i++) {
    await boxes.a.stop();
    await start('a', 'Bench A');
    cold.push(await deliverOne(to, `cold ${i}`));
    console.log(`cold ${i + 1}/${COLD}: call ${cold.at(-1).callMillis} ms, queued to delivered ${cold.at(-1).latencyMillis} ms`);
  }
  const warm = [];
  await deliverOne(to, 'warm-up');
  for (let i = 0; i < WARM; i++) warm.push(await deliverOne(to, `warm ${i}`));

  const summary = (xs, field) => ({ median: quantile(xs.map((x) => x[field]), 0.5), p99: quantile(xs.map((x) => x[field]), 0.99) });
  const result = {
    warm: { n: warm.length, call: summary(warm, 'callMillis'), latency: summary(warm, 'latencyMillis') },
    cold: { n: cold.length, call: summary(cold, 'callMillis'), latency: summary(cold, 'latencyMillis') },
  };
  result.ratioColdOverWarm = result.cold.call.median / result.warm.call.median;
  console.log(`warm link: call median ${result.warm.call.median} ms, p99 ${result.warm.call.p99} ms;`
    + ` queued→delivered median ${result.warm.latency.median} ms, p99 ${result.warm.latency.p99} ms (${warm.length} messages)`);
  console.log(`cold link: call median ${result.cold.call.median} ms, p99 ${result.cold.call.p99} ms;`
    + ` queued→delivered median ${result.cold.latency.median} ms (${cold.length} messages)`);
  console.log(`ratio cold/warm (call, median): ${result.ratioColdOverWarm.toFixed(1)}`);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(result, null, 2));
} finally {
  for (const b of Object.values(boxes)) await b.stop();
  await flock.stop();
  for (const s of Object.values(states)) removeTempDir(s);
}

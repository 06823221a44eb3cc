// Demo page: link to an appliance through the flock that serves this page, then exercise
// fetch, XMLHttpRequest and WebSocket against the `hello` app.
import { install } from '/shim/intrustd-shim.js';

const $ = (id) => document.getElementById(id);
const PATHS = { 'direct-lan': 'direct (LAN)', 'direct-nat': 'direct (through NAT)', relay: 'relayed (TURN)', unknown: 'unknown' };

function show(id, text, state) {
  const el = $(id);
  el.textContent = text;
  el.className = el.className.replace(/\b(ok|bad|pending)\b/g, '').trim() + ' ' + state;
}

function describe(err) {
  if (!err) return 'unknown error';
  let msg = `${err.name || 'Error'}: ${err.message}`;
  for (let c = err.cause, depth = 0; c && depth < 3; c = c.cause, depth++) msg += ` ← ${c.name || 'Error'}: ${c.message}`;
  return msg;
}

function fail(where, err) {
  const message = `${where}: ${describe(err)}`;
  document.body.dataset.error = message;
  const box = $('error');
  box.hidden = false;
  box.textContent = message;
  return message;
}

function defaultFlock() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}

function showLink(info) {
  $('appliance-id').textContent = info.applianceId;
  show('link-status', info.verified ? 'end-to-end verified' : 'NOT verified', info.verified ? 'ok' : 'bad');
  $('link-path').textContent = PATHS[info.path] || info.path;
  $('link-path').dataset.path = info.path;
  $('link-setup').textContent = `${info.setupMs} ms`;
}

async function checkFetch() {
  const res = await fetch('intrustd+app://hello/echo', { method: 'POST', body: 'hi' });
  const text = await res.text();
  if (res.status !== 200 || text !== 'hi') throw new Error(`expected 200 "hi", got ${res.status} ${JSON.stringify(text)}`);
  return `${res.status} ${res.headers.get('content-type') || ''} → ${JSON.stringify(text)}`;
}

function checkXhr() {
  const msg = 'hello from XHR';
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', `/hello/echo?msg=${encodeURIComponent(msg)}`);
    xhr.timeout = 15000;
    xhr.onload = () => {
      if (xhr.status === 200 && xhr.responseText === msg) resolve(`${xhr.status} → ${JSON.stringify(xhr.responseText)}`);
      else reject(new Error(`expected 200 ${JSON.stringify(msg)}, got ${xhr.status} ${JSON.stringify(xhr.responseText)}`));
    };
    xhr.onerror = () => reject(new Error('XHR network error'));
    xhr.ontimeout = () => reject(new Error('XHR timed out'));
    xhr.send();
  });
}

function checkWebSocket() {
  const msg = `ping ${Date.now()}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket('intrustd+app://hello/ws');
    const timer = setTimeout(() => { reject(new Error('no echo within 15 s')); ws.close(); }, 15000);
    ws.onopen = () => ws.send(msg);
    ws.onmessage = (ev) => {
      clearTimeout(timer);
      if (ev.data === msg) resolve(`sent ${JSON.stringify(msg)} → echoed ${JSON.stringify(ev.data)}`);
      else reject(new Error(`echo mismatch: ${JSON.stringify(ev.data)}`));
      ws.close(1000, 'done');
    };
    ws.onclose = (ev) => {
      clearTimeout(timer);
      reject(new Error(`closed with ${ev.code}${ev.reason ? ' ' + ev.reason : ''} before the echo`));
    };
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  const appliance = params.get('appliance');
  const flock = params.get('flock') || defaultFlock();
  if (!appliance) {
    show('link-status', 'no appliance given', 'bad');
    fail('setup', new Error('add ?appliance=<appliance ID> to the URL'));
    return;
  }
  $('appliance-id').textContent = appliance;

  let handle;
  try {
    handle = install({ flock, appliance, apps: { '/hello/': 'hello' } });
  } catch (e) {
    show('link-status', 'invalid appliance ID', 'bad');
    fail('install', e);
    return;
  }
  // Logins happen inside the link (docs/sharing.md); `hello` is public in the demo, so they are optional here.
  const visitor = (info) => {
    const who = info && info.persona;
    document.getElementById('visitor').textContent = who ? `${who.displayName} (${who.role})`
      : info && info.tokens.length ? `share link: ${info.tokens.map((t) => t.label).join(', ')}` : 'not logged in';
    document.getElementById('login').textContent = who ? 'Log out' : 'Log in';
  };
  handle.addEventListener('session', (ev) => visitor(ev.detail));
  document.getElementById('login').addEventListener('click', async () => {
    try {
      if (handle.currentSession && handle.currentSession.persona) await handle.logout();
      else await handle.showLogin({ claim: !(await handle.session()).claimed });
    } catch (e) {
      fail('login', e);
    }
  });
  handle.addEventListener('status', (ev) => {
    const { state, info } = ev.detail;
    if (state === 'up' && info) showLink(info);
    else if (state === 'connecting') show('link-status', 'connecting…', 'pending');
    else if (state === 'down') show('link-status', 'link down', 'bad');
  });

  try {
    showLink(await handle.link());
  } catch (e) {
    show('link-status', e.name === 'IntrustdVerificationError' ? 'verification FAILED' : 'no link', 'bad');
    const message = fail('link', e);
    for (const id of ['fetch-result', 'xhr-result', 'ws-result']) show(id, message, 'bad');
    return;
  }

  const checks = [['fetch-result', checkFetch], ['xhr-result', checkXhr], ['ws-result', checkWebSocket]];
  const results = await Promise.allSettled(checks.map(async ([id, run]) => {
    try {
      const text = await run();
      show(id, text, 'ok');
    } catch (e) {
      show(id, describe(e), 'bad');
      throw e;
    }
  }));
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) fail(checks[failed][0].replace('-result', ''), results[failed].reason);
  else document.body.dataset.ready = 'true';
}

main().catch((e) => fail('demo', e));

// The admin app: the owner runs the appliance from any browser, through the shim's verified
// link, with the appliance's control API (handle.admin, docs/spec/access.md). Pages: overview,
// apps, people, share links, access log, settings. ?appliance=<ID>[&flock=ws://…] as for the demo page.
import { install } from '/shim/intrustd-shim.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const flock = params.get('flock') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
let handle;

function status(text) { $('status').textContent = text; $('status').hidden = !text; }
function error(e) {
  const box = $('error');
  box.hidden = !e;
  box.textContent = e ? (e.message || String(e)) : '';
}
function cell(text) { const td = document.createElement('td'); td.textContent = text; return td; }
function mib(bytes) { return bytes == null ? '—' : `${(bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0)} MiB`; }
function when(iso) { return iso ? new Date(iso).toLocaleString() : 'never'; }

/**
 * A table row's action button (“Remove Nan”, “Revoke for gran” to a screen reader). `act`
 * returns false when the person thought better of it; a failure shows and re-enables the button.
 */
function rowAction(verb, what, act, style = 'secondary') {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = style;
  b.textContent = verb;
  b.setAttribute('aria-label', `${verb} ${what}`);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      if (!(await act())) b.disabled = false;
    } catch (e) {
      error(e);
      b.disabled = false;
    }
  });
  return b;
}

const PAGES = {
  async overview() {
    const s = await handle.admin('GET', '/v1/status');
    $('o-name').textContent = s.name;
    $('o-id').textContent = s.appliance;
    $('o-flock').textContent = `${s.flock.registered ? 'registered' : 'not registered'} · ${s.flock.url}`;
    $('o-lan').textContent = s.lan ? `announced; reachable with no internet (port ${s.lan.port})` : 'off';
    const info = handle.status;
    $('o-link').textContent = info ? `${info.verified ? 'verified' : 'NOT verified'} · ${info.path}` : '—';
    $('o-data').textContent = mib(s.storage.dataBytes);
    $('o-free').textContent = mib(s.storage.freeBytes);
    $('o-personas').textContent = String(s.personas);
    $('o-apps').replaceChildren(...s.apps.map((a) => {
      const tr = document.createElement('tr');
      const state = cell('');
      const badge = document.createElement('span');
      badge.className = `badge ${a.running ? 'ok' : ''}`;
      badge.textContent = a.running ? 'running' : 'stopped';
      state.append(badge);
      tr.append(cell(a.id), cell(a.version), state);
      return tr;
    }));
  },

  async apps() {
    const { apps } = await handle.admin('GET', '/v1/apps');
    $('a-empty').hidden = apps.length > 0;
    const path = (app, more = '') => `/v1/apps/${encodeURIComponent(app.id)}${more}`;
    const reload = async (message) => { await PAGES.apps(); status(message); };
    $('a-rows').replaceChildren(...apps.map((a) => {
      const tr = document.createElement('tr');
      const name = cell(a.name);
      name.append(Object.assign(document.createElement('div'), { className: 'muted', textContent: a.id }));
      const state = cell('');
      const badge = document.createElement('span');
      // Why a stopped app is not running, when that is news (it exited or failed to start).
      const why = !a.running && a.status && !['not started', 'stopped'].includes(a.status) ? a.status : '';
      badge.className = `badge ${a.running ? 'ok' : why ? 'bad' : ''}`;
      badge.textContent = a.running ? 'running' : why ? `stopped: ${why}` : 'stopped';
      state.append(badge);
      // What it may do: granted permissions (revocable), and what it asks for but lacks.
      const allowed = cell('');
      const list = document.createElement('ul');
      list.className = 'grants';
      for (const g of a.grants) {
        const li = document.createElement('li');
        const hosts = g === 'internet' && a.internetHosts ? ` (${a.internetHosts.join(', ')})` : '';
        li.append(Object.assign(document.createElement('span'), { textContent: g + hosts }), rowAction('Revoke', `${g} from ${a.name}`, async () => {
          await handle.admin('DELETE', path(a, `/grants/${encodeURIComponent(g)}`));
          await reload(`${a.name} no longer has ${g}.`);
          return true;
        }));
        list.append(li);
      }
      for (const r of a.requests.filter((x) => !a.grants.includes(x))) {
        const li = document.createElement('li');
        li.append(Object.assign(document.createElement('span'), { className: 'muted', textContent: `asks for ${r}` }), rowAction('Allow', `${r} for ${a.name}`, async () => {
          const body = { permission: r };
          if (r === 'internet') {
            const hosts = prompt(`Which hosts may ${a.name} reach? (host:port, separated by commas)`);
            if (!hosts) return false;
            body.hosts = hosts.split(',').map((h) => h.trim()).filter(Boolean);
          }
          await handle.admin('POST', path(a, '/grants'), body);
          await reload(`${a.name} now has ${r}.`);
          return true;
        }, 'quiet'));
        list.append(li);
      }
      if (!list.children.length) list.append(Object.assign(document.createElement('li'), { className: 'muted', textContent: 'nothing beyond its own data' }));
      allowed.append(list);
      const actions = cell('');
      const box = document.createElement('div');
      box.className = 'actions';
      box.append(a.running
        ? rowAction('Stop', a.name, async () => { await handle.admin('POST', path(a, '/stop')); await reload(`Stopped ${a.name}.`); return true; }, 'quiet')
        : rowAction('Start', a.name, async () => { await handle.admin('POST', path(a, '/start')); await reload(`Started ${a.name}.`); return true; }, 'quiet'),
      rowAction('Log', a.name, async () => {
        const { lines } = await handle.admin('GET', path(a, '/logs?lines=200'));
        $('a-log-title').textContent = `Log of ${a.name} (${lines.length === 1 ? 'last line' : `last ${lines.length} lines`})`;
        $('a-log-lines').textContent = lines.length ? lines.join('\n') : '(empty)';
        $('a-log').hidden = false;
        $('a-log-lines').focus();
        return false;
      }, 'quiet'));
      if (a.removable) {
        box.append(rowAction('Remove', a.name, async () => {
          if (!confirm(`Remove ${a.name}? Its data is kept, and installing it again brings it back.`)) return false;
          await handle.admin('DELETE', path(a));
          await reload(`Removed ${a.name}; its data is kept.`);
          return true;
        }));
      }
      actions.append(box);
      tr.append(name, cell(a.version), state, allowed, actions);
      return tr;
    }));
  },

  async settings() {
    const s = await handle.admin('GET', '/v1/settings');
    const form = $('settings-form');
    form.elements.namedItem('name').value = s.name;
    form.elements.namedItem('flock').value = s.flock;
    $('s-state').textContent = s.storage.stateDir;
    $('s-data').textContent = s.storage.dataDir;
    $('s-lan').textContent = s.lan ? `announced; reachable with no internet (port ${s.lan.port})` : 'off';
  },

  async people() {
    const { personas } = await handle.admin('GET', '/v1/personas');
    $('pw-name').replaceChildren(...personas.map((p) => Object.assign(document.createElement('option'),
      { value: p.name, textContent: `${p.displayName} (${p.name})` })));
    $('p-rows').replaceChildren(...personas.map((p) => {
      const tr = document.createElement('tr');
      const actions = cell('');
      if (p.role !== 'owner') {
        actions.append(rowAction('Remove', p.displayName, async () => {
          if (!confirm(`Remove ${p.displayName}? Their sessions end and the links they made stop working.`)) return false;
          await handle.admin('DELETE', `/v1/personas/${encodeURIComponent(p.name)}`);
          await PAGES.people();
          status(`Removed ${p.displayName}.`);
          return true;
        }));
      }
      tr.append(cell(p.displayName), cell(p.name), cell(p.role), actions);
      return tr;
    }));
  },

  async tokens() {
    const { tokens } = await handle.admin('GET', '/v1/tokens');
    $('t-empty').hidden = tokens.length > 0;
    $('t-rows').replaceChildren(...tokens.map((t) => {
      const tr = document.createElement('tr');
      const actions = cell('');
      actions.append(rowAction('Revoke', t.label, async () => {
        await handle.admin('DELETE', `/v1/tokens/${encodeURIComponent(t.id)}`);
        await PAGES.tokens();
        status(`Revoked “${t.label}”: every open connection made with it has been closed.`);
        return true;
      }));
      tr.append(cell(t.label), cell(t.permissions.join('\n')), cell(`${t.uses}${t.maxUses ? ` / ${t.maxUses}` : ''}`),
        cell(when(t.expires)), actions);
      return tr;
    }));
  },

  async log() {
    const f = $('log-filter').elements;
    const q = new URLSearchParams({ limit: '100' });
    for (const k of ['app', 'persona']) if (f.namedItem(k).value.trim()) q.set(k, f.namedItem(k).value.trim());
    const seconds = Number(f.namedItem('since').value);
    if (seconds) q.set('since', new Date(Date.now() - seconds * 1000).toISOString());
    const wanted = f.namedItem('result').value;
    const { entries } = await handle.admin('GET', `/v1/access-log?${q}`);
    const shown = entries.filter((e) => !wanted || e.result === wanted);
    $('l-empty').hidden = shown.length > 0;
    $('l-rows').replaceChildren(...shown.map((e) => {
      const tr = document.createElement('tr');
      const who = e.persona || (e.tokens.length ? `link ${e.tokens[0]}` : 'anyone');
      const grant = cell(e.grant || '—');
      const revoke = revoker(e.grant);
      if (revoke) grant.append(document.createElement('br'), rowAction('Revoke', `the grant “${e.grant}”`, revoke));
      tr.append(cell(when(e.at)), cell(who), cell(e.app), cell(`${e.method} ${e.target}`.trim()),
        cell(`${e.status || ''} ${e.result}`.trim()), grant);
      return tr;
    }));
  },
};

/**
 * How to take back the grant an access-log entry names (spec/access.md): a share link, or a
 * permission granted to a person or to anyone; null for what is not a grant (an owner's role,
 * an app made public on the command line).
 */
function revoker(grant) {
  const token = /^token:(.+)$/.exec(grant || '');
  if (token) {
    return async () => {
      if (!confirm('Revoke this share link? Everyone using it loses access at once.')) return false;
      await handle.admin('DELETE', `/v1/tokens/${encodeURIComponent(token[1])}`);
      await PAGES.log();
      status('Share link revoked.');
      return true;
    };
  }
  const held = /^(persona:\S+|anyone) (\S+)$/.exec(grant || '');
  if (!held) return null;
  return async () => {
    if (!confirm(`Take back ${held[2]} from ${held[1]}?`)) return false;
    await handle.admin('DELETE', `/v1/grants?${new URLSearchParams({ subject: held[1], permission: held[2] })}`);
    await PAGES.log();
    status(`Took back ${held[2]} from ${held[1]}.`);
    return true;
  };
}

/** The share link as a QR code, for a phone's camera; without the library the link alone is shown. */
async function showQr(url) {
  const box = $('mint-qr');
  box.replaceChildren();
  box.hidden = true;
  let qrcode;
  try {
    ({ qrcode } = await import('./vendor/qrcode.mjs'));
  } catch {
    return; // not built (./intrustd build makes vendor/): the link is still there to copy
  }
  const qr = qrcode(0, 'M'); // the smallest version that holds it, 15 % of it recoverable
  qr.addData(url, 'Byte');
  qr.make();
  // The library's own SVG for the modules; labelled here for screen readers.
  box.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 16, scalable: true }); // a quiet zone of 4 modules
  const svg = box.querySelector('svg');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code of the share link');
  box.hidden = false;
}

async function show() {
  const page = (location.hash || '#overview').slice(1);
  const name = PAGES[page] ? page : 'overview';
  for (const el of document.querySelectorAll('.page')) el.hidden = el.id !== `page-${name}`;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  error(null);
  status('Loading…');
  try {
    await PAGES[name]();
    status('');
    document.body.dataset.page = name;
  } catch (e) {
    status('');
    error(e);
  }
}

async function signIn() {
  let info = await handle.session();
  while (!info.persona || !['owner', 'admin'].includes(info.persona.role)) {
    status(info.persona ? 'This page is for the appliance’s owner and admins.' : '');
    info = await handle.showLogin({ claim: !info.claimed, title: info.claimed ? 'Log in to administer your appliance' : undefined });
    if (!info) { status('Log in to administer this appliance.'); return false; }
  }
  $('who').textContent = `${info.persona.displayName} (${info.persona.role})`;
  $('logout').hidden = false;
  return true;
}

async function main() {
  const appliance = params.get('appliance');
  if (!appliance) { status(''); error(new Error('Open this page with ?appliance=<your appliance ID>.')); return; }
  handle = install({ flock, appliance });
  $('logout').addEventListener('click', async () => { await handle.logout(); location.reload(); });
  $('mint').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const body = { permissions: [form.permission.value.trim()], label: form.label.value.trim() || 'share link' };
    if (form.expires.value) body.expiresIn = form.expires.value;
    try {
      const t = await handle.admin('POST', '/v1/tokens', body);
      const url = `${location.origin}/demo/?appliance=${encodeURIComponent(params.get('appliance'))}#${t.fragment}`;
      $('mint-result').textContent = 'Link created (shown once): ';
      const a = document.createElement('a');
      a.href = url;
      a.textContent = url;
      $('mint-result').append(a);
      await showQr(url);
      form.reset();
      await PAGES.tokens();
    } catch (e) { error(e); }
  });
  $('add-app').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const file = form.elements.namedItem('bundle').files[0];
    if (!file) return;
    const bar = $('bundle-progress');
    const button = form.querySelector('button');
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    try {
      status(`Uploading ${file.name}…`);
      const added = await handle.admin('POST', '/v1/apps/bundle', file, {
        onUploadProgress: (sent, total, done) => {
          bar.value = total ? sent / total : 0;
          if (done) status(`Checking the signature and starting ${file.name}…`);
        },
      });
      form.reset();
      await PAGES.apps();
      status(`${added.action === 'updated' ? 'Updated' : 'Installed'} ${added.name} ${added.version}.`);
    } catch (e) {
      status('');
      error(e);
    } finally {
      bar.hidden = true;
      button.disabled = false;
    }
  });
  $('settings-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    if (!form.reportValidity()) return;
    try {
      const s = await handle.admin('PUT', '/v1/settings', {
        name: form.elements.namedItem('name').value.trim(), flock: form.elements.namedItem('flock').value.trim(),
      });
      await PAGES.settings();
      status(`Saved: “${s.name}”, registering with ${s.flock}.`);
    } catch (e) { error(e); }
  });
  $('log-filter').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await PAGES.log(); } catch (e) { error(e); }
  });
  $('add-person').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const el = f.elements;
    if (!f.reportValidity()) return;
    try {
      const name = el.namedItem('name').value.trim();
      await handle.admin('POST', '/v1/personas', { name, displayName: el.namedItem('displayName').value.trim() || name,
        role: el.namedItem('role').value, password: el.namedItem('password').value });
      f.reset();
      await PAGES.people();
      status(`Added ${name}.`);
    } catch (e) { error(e); }
  });
  $('set-password').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const who = f.elements.namedItem('name').value;
    if (!f.reportValidity()) return;
    try {
      await handle.admin('POST', `/v1/personas/${encodeURIComponent(who)}/password`,
        { password: f.elements.namedItem('password').value });
      f.elements.namedItem('password').value = '';
      status(`New password set for ${who}; their sessions have ended.`);
    } catch (e) { error(e); }
  });
  try {
    status('Connecting to your appliance…');
    await handle.link();
    if (!(await signIn())) return;
  } catch (e) { status(''); error(e); return; }
  window.addEventListener('hashchange', show);
  await show();
}

main();

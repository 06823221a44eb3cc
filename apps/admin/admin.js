// The admin app: the owner runs the appliance from any browser, through the shim's verified
// link, with the appliance's control API (handle.admin, docs/spec/access.md). Pages: overview,
// apps, people, devices, paired appliances, share links, access log, settings. ?appliance=<ID>[&flock=ws://…] as for the demo page.
import { install } from '/shim/intrustd-shim.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const flock = params.get('flock') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
let handle;
let me; // the login name of whoever uses the page (signIn)
const installedApps = new Set(); // app ids as the Apps page last listed them
let applianceFacts; // {id, flock} from GET /v1/status, for what the Devices page tells a laptop to run
const deviceChoices = new Map(); // request id → the persona picked for it, kept across a refresh

/** What the appliance accepts as a picture (PersonaStore): a small image for a login screen, not a photo. */
const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const MAX_AVATAR = 48 * 1024;
/** What each daemon permission lets an app do, shown on hover in the Apps list. */
const GRANT_MEANINGS = {
  internet: 'reach the internet through the egress proxy: the hosts in brackets, or any public host',
  peer: 'call apps on appliances paired with this one',
  strangers: 'meet the app of the same name on any appliance, paired or not (mail from anyone needs it)',
};

function status(text) { $('status').textContent = text; $('status').hidden = !text; }
function error(e) {
  const box = $('error');
  box.hidden = !e;
  box.textContent = e ? (e.message || String(e)) : '';
}
function cell(text) { const td = document.createElement('td'); td.textContent = text; return td; }
function mib(bytes) { return bytes == null ? '—' : `${(bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0)} MiB`; }
function files(n) { return `${n} ${n === 1 ? 'file' : 'files'}`; }
function when(iso) { return iso ? new Date(iso).toLocaleString() : 'never'; }
function kib(bytes) { return `${Math.ceil(bytes / 1024)} KiB`; }

/** The options of a person picker, keeping the one chosen across a reload of the page's data. */
function fillPeople(select, personas) {
  const chosen = select.value;
  select.replaceChildren(...personas.map((p) => Object.assign(document.createElement('option'),
    { value: p.name, textContent: `${p.displayName} (${p.name})` })));
  if (personas.some((p) => p.name === chosen)) select.value = chosen;
}

/**
 * A person's picture (`src`, a data: URL), or their initials when they have none or the page
 * cannot know (the initials are hidden from screen readers: the name follows them).
 */
function avatar(p, src) {
  if (src) {
    return Object.assign(document.createElement('img'), { className: 'avatar', src, alt: `Picture of ${p.displayName}` });
  }
  const words = p.displayName.trim().split(/\s+/).filter(Boolean).map((w) => [...w]); // by code point: names may be emoji
  const letters = words.length > 1 ? [words[0][0], words.at(-1)[0]] : [(words[0] || ['?'])[0]];
  const span = Object.assign(document.createElement('span'), { className: 'avatar initials', textContent: letters.join('').toUpperCase() });
  span.setAttribute('aria-hidden', 'true');
  return span;
}

/** Why `file` cannot be a picture, or '' when it can: said here, before an upload the appliance would refuse. */
function avatarProblem(file) {
  if (!AVATAR_TYPES.includes(file.type)) return `${file.name} is not a PNG, JPEG or WebP image.`;
  if (file.size > MAX_AVATAR) return `${file.name} is ${kib(file.size)}: a picture is at most ${kib(MAX_AVATAR)}. Crop or shrink it first.`;
  return '';
}

/** A file's bytes in base64, as the control API takes a picture ({"data": …}). */
function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(',') + 1)); // after "data:<type>;base64,"
    reader.onerror = () => reject(new Error(`Cannot read ${file.name}: ${reader.error?.message || 'unknown error'}`));
    reader.readAsDataURL(file);
  });
}

/** A list of app ids for a sentence: “hello, mail”, or “nothing”. */
function appList(ids) { return ids && ids.length ? ids.join(', ') : 'nothing'; }

/** An appliance ID shortened for a table (`F2EGSN4…KZPXHQP`); the full one goes in its tooltip. */
function shortId(id) { return id.length > 16 ? `${id.slice(0, 7)}…${id.slice(-7)}` : id; }

/** Checkboxes of apps (`apps`: [{id, name}]), those whose ids are in `ticked` ticked. */
function appChecks(apps, ticked) {
  if (!apps.length) return [Object.assign(document.createElement('span'), { className: 'muted', textContent: 'No apps are installed.' })];
  return apps.map((a) => {
    const label = document.createElement('label');
    label.append(Object.assign(document.createElement('input'), { type: 'checkbox', value: a.id, checked: ticked.has(a.id) }),
      document.createTextNode(a.name));
    if (a.name !== a.id) label.append(Object.assign(document.createElement('span'), { className: 'muted', textContent: `(${a.id})` }));
    return label;
  });
}

/** The ids of the apps ticked among `el`'s checkboxes. */
function ticked(el) { return [...el.querySelectorAll('input[type="checkbox"]:checked')].map((b) => b.value); }

/**
 * The Settings page's off-site card: the plan, how the last run went (a failure with its
 * reason, an overdue warning), and the paired appliances to choose from.
 */
async function showOffsite() {
  const [s, { peers }] = await Promise.all([handle.admin('GET', '/v1/offsite'), handle.admin('GET', '/v1/peers')]);
  const select = $('bk-peer');
  select.replaceChildren(...peers.map((p) => Object.assign(document.createElement('option'), {
    value: p.id, textContent: `${p.name} (${p.id.slice(0, 7)}…)`,
  })));
  if (!peers.length) {
    select.append(Object.assign(document.createElement('option'), { value: '', textContent: 'No paired appliance yet (Peers page)' }));
  }
  const problem = $('bk-problem');
  problem.hidden = true;
  if (!s.plan) {
    $('bk-state').textContent = 'Off: nothing is backed up off site.';
    return;
  }
  select.value = s.plan.peer;
  $('bk-every').value = s.plan.everyHours;
  const name = peers.find((p) => p.id === s.plan.peer)?.name || s.plan.peer;
  const parts = [`Every ${s.plan.everyHours} hours to ${name}.`];
  if (s.running) parts.push('Backing up now…');
  parts.push(s.lastSuccessAt ? `Last success ${when(s.lastSuccessAt)}.` : 'No success yet.');
  if (s.nextAt && !s.running) parts.push(`Next ${when(s.nextAt)}.`);
  $('bk-state').textContent = parts.join(' ');
  const failed = s.last && !s.last.ok ? `The last backup failed (${when(s.last.endedAt)}): ${s.last.error}` : '';
  const overdue = s.overdue ? 'Overdue: no backup has succeeded for more than two periods.' : '';
  if (failed || overdue) {
    problem.textContent = [overdue, failed].filter(Boolean).join(' ');
    problem.hidden = false;
  }
}

/**
 * The snapshots the friend keeps (read back with the key), newest first, each with a button
 * that puts its app's data back as it was then.
 */
async function showOffsiteSnapshots() {
  const { snapshots } = await handle.admin('GET', '/v1/offsite/snapshots');
  const rows = snapshots.slice().reverse().flatMap((s) => {
    const tag = (s.tags || []).find((t) => t.startsWith('app:'));
    if (!tag) return [];
    const app = tag.slice(4);
    const tr = document.createElement('tr');
    const act = cell('');
    act.append(rowAction('Put back', `${app} as of ${when(s.time)}`, async () => {
      if (!confirm(`Put ${app}'s data back as it was ${when(s.time)}? The app stops for the swap; its data now is kept beside it.`)) return false;
      status(`Putting ${app}'s data back…`);
      const r = await handle.admin('POST', '/v1/offsite/restore', { app, snapshot: s.id }).catch((e) => { status(''); throw e; });
      status(`Put ${app}'s data back as of ${when(r.time)} (${files(r.files)}).${r.previous ? ` What it replaced is kept in ${r.previous}.` : ''}`);
      return false;
    }, 'quiet'));
    tr.append(cell(app), cell(when(s.time)), cell(String(s.files ?? '')), act);
    return [tr];
  });
  if (!rows.length) rows.push(Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="4" class="muted">None yet.</td>' }));
  $('bk-rows').replaceChildren(...rows);
  $('bk-snapshots').hidden = false;
}

/** A form's buttons off (and the form marked busy) while a request it made is under way. */
function busy(form, on) {
  form.setAttribute('aria-busy', String(on));
  for (const b of form.querySelectorAll('button')) b.disabled = on;
}

/** Runs `work` with `form` busy and old errors cleared; a failure empties the status line and shows. */
async function whileBusy(form, work) {
  busy(form, true);
  error(null);
  try {
    await work();
  } catch (e) {
    status('');
    error(e);
  } finally {
    busy(form, false);
  }
}

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

/** The link paths (web/shim/src/link.js, docs/relay.md) in words. */
const PATH_NAMES = { 'direct-lan': 'direct (LAN)', 'direct-nat': 'direct (through NAT)', relay: 'relayed (TURN)', unknown: 'unknown' };

/** This page's own link: verified, and which way it goes (kept current by the shim's status events). */
function showOwnLink(info) {
  $('o-link').textContent = info ? `${info.verified ? 'verified' : 'NOT verified'} · ${PATH_NAMES[info.path] || info.path}` : '—';
  $('o-link').dataset.path = info ? info.path : '';
}

const PAGES = {
  async overview() {
    const s = await handle.admin('GET', '/v1/status');
    applianceFacts = { id: s.appliance, flock: s.flock.url };
    $('o-name').textContent = s.name;
    $('o-id').textContent = s.appliance;
    $('o-flock').textContent = `${s.flock.registered ? 'registered' : 'not registered'} · ${s.flock.url}`;
    $('o-lan').textContent = s.lan ? `announced; reachable with no internet (port ${s.lan.port})` : 'off';
    showOwnLink(handle.status);
    // How every connected link reaches the appliance, as the appliance sees it (docs/relay.md).
    const paths = Object.entries(s.linkPaths || {});
    $('o-links').textContent = `${s.links} open` + (paths.length ? ` · ${paths.map(([p, n]) => `${n} ${PATH_NAMES[p] || p}`).join(', ')}` : '');
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
    installedApps.clear();
    for (const a of apps) installedApps.add(a.id);
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
      const meaning = (g) => GRANT_MEANINGS[g] || (g.startsWith('app:') ? `open the app ${g.slice(4)}` : g);
      const allowed = cell('');
      const list = document.createElement('ul');
      list.className = 'grants';
      for (const g of a.grants) {
        const li = document.createElement('li');
        const hosts = g === 'internet' && a.internetHosts ? ` (${a.internetHosts.join(', ')})` : '';
        li.append(Object.assign(document.createElement('span'), { textContent: g + hosts, title: meaning(g) }), rowAction('Revoke', `${g} from ${a.name}`, async () => {
          await handle.admin('DELETE', path(a, `/grants/${encodeURIComponent(g)}`));
          await reload(`${a.name} no longer has ${g}.`);
          return true;
        }));
        list.append(li);
      }
      for (const r of a.requests.filter((x) => !a.grants.includes(x))) {
        const li = document.createElement('li');
        li.append(Object.assign(document.createElement('span'), { className: 'muted', textContent: `asks for ${r}`, title: meaning(r) }), rowAction('Allow', `${r} for ${a.name}`, async () => {
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
    await showOffsite();
  },

  async people() {
    const { personas } = await handle.admin('GET', '/v1/personas');
    fillPeople($('pw-name'), personas);
    fillPeople($('av-name'), personas);
    const pictures = await picturesOf(personas);
    $('p-rows').replaceChildren(...personas.map((p) => {
      const tr = document.createElement('tr');
      const name = cell('');
      const who = document.createElement('div');
      who.className = 'person';
      who.append(avatar(p, pictures.get(p.name)), Object.assign(document.createElement('span'), { textContent: p.displayName }));
      name.append(who);
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
      tr.append(name, cell(p.name), cell(p.role), actions);
      return tr;
    }));
  },

  /**
   * Trusted devices (docs/devices.md): the laptops that ran `intrustd device enroll` and wait for
   * approval, each with the code it printed, and the enrolled ones, each revocable at once.
   */
  async devices() {
    const [{ requests, devices }, { personas }, facts] = await Promise.all([
      handle.admin('GET', '/v1/devices'), handle.admin('GET', '/v1/personas'),
      applianceFacts || handle.admin('GET', '/v1/status').then((s) => ({ id: s.appliance, flock: s.flock.url }))]);
    applianceFacts = facts;
    const personaOf = (login) => personas.find((x) => x.name === login);
    const nameOf = (login) => (personaOf(login) ? `${personaOf(login).displayName} (${login})` : login);
    $('d-id').textContent = facts.id;
    $('d-flock').textContent = facts.flock;
    for (const id of deviceChoices.keys()) if (!requests.some((r) => r.id === id)) deviceChoices.delete(id);
    $('d-requests-empty').hidden = requests.length > 0;
    $('d-requests-table').hidden = requests.length === 0;
    $('d-requests').replaceChildren(...requests.map((r) => {
      const tr = document.createElement('tr');
      const what = `${r.label} (${r.code})`;
      const code = cell('');
      code.append(Object.assign(document.createElement('code'), { className: 'device-code', textContent: r.code }));
      const asked = cell(when(r.requested));
      asked.append(Object.assign(document.createElement('div'), { className: 'muted', textContent: `waits until ${when(r.expires)}` }));
      // who it will act as: no default, as a device approved for the owner can do all the owner can
      const pick = document.createElement('select');
      pick.required = true;
      pick.setAttribute('aria-label', `Acts as: ${what}`);
      pick.append(Object.assign(document.createElement('option'), { value: '', textContent: 'Choose who…' }),
        ...personas.map((p) => Object.assign(document.createElement('option'),
          { value: p.name, textContent: `${p.displayName} (${p.name}, ${p.role})` })));
      if (personas.some((p) => p.name === deviceChoices.get(r.id))) pick.value = deviceChoices.get(r.id);
      pick.addEventListener('change', () => { deviceChoices.set(r.id, pick.value); error(null); });
      const actsAs = cell('');
      actsAs.append(pick);
      const actions = cell('');
      const box = document.createElement('div');
      box.className = 'actions';
      box.append(rowAction('Approve', what, async () => {
        error(null);
        if (!pick.value) {
          error(new Error(`Choose who “${r.label}” acts as, then approve it.`));
          pick.reportValidity();
          pick.focus();
          return false;
        }
        const persona = pick.value;
        await answerDevice('POST', r, { persona });
        status(`Approved “${r.label}” (${r.code}): it acts as ${nameOf(persona)}, with no password, until you revoke it.`);
        $('d-devices-title').focus();
        return true;
      }, 'compact'), rowAction('Turn down', what, async () => {
        error(null);
        await answerDevice('DELETE', r);
        status(`Turned down “${r.label}” (${r.code}).`);
        $('d-requests-title').focus();
        return true;
      }));
      actions.append(box);
      tr.append(code, cell(r.label), asked, actsAs, actions);
      return tr;
    }));
    $('d-devices-empty').hidden = devices.length > 0;
    $('d-devices-table').hidden = devices.length === 0;
    $('d-devices').replaceChildren(...devices.map((d) => {
      const tr = document.createElement('tr');
      const actions = cell('');
      actions.append(rowAction('Revoke', `${d.label} (as ${personaOf(d.persona)?.displayName || d.persona})`, async () => {
        if (!confirm(`Revoke “${d.label}”? It stops acting as ${nameOf(d.persona)} at once; to use it again, enrol it anew.`)) return false;
        error(null);
        await handle.admin('DELETE', `/v1/devices/${encodeURIComponent(d.id)}`);
        await PAGES.devices();
        status(`Revoked “${d.label}”: it can no longer reach this appliance.`);
        $('d-devices-title').focus();
        return true;
      }));
      tr.append(cell(d.label), cell(nameOf(d.persona)), cell(when(d.created)), cell(when(d.lastUsed)), actions);
      return tr;
    }));
    return { requests, devices };
  },

  /**
   * Paired appliances (docs/peers.md): pairing links made here and links pasted from another
   * owner, and the appliances paired, with the apps of this one that each may open.
   */
  async peers() {
    const [{ peers, invites }, { apps }] = await Promise.all([handle.admin('GET', '/v1/peers'), handle.admin('GET', '/v1/apps')]);
    // the forms' choices are kept across a reload of the list
    for (const box of [$('pi-apps'), $('pp-apps')]) box.replaceChildren(...appChecks(apps, new Set(ticked(box))));
    const n = invites.length;
    $('pe-invites').hidden = n === 0;
    $('pe-invites').textContent = n === 0 ? '' : `${n === 1 ? 'One pairing link made here has' : `${n} pairing links made here have`} not been used yet; each works once, until it expires.`;
    $('pe-empty').hidden = peers.length > 0;
    $('pe-table').hidden = peers.length === 0;
    $('pe-rows').replaceChildren(...peers.map((p) => {
      const tr = document.createElement('tr');
      tr.dataset.peer = p.id;
      const name = cell(p.name);
      name.append(Object.assign(document.createElement('div'), { className: 'muted', textContent: `paired ${when(p.paired)}` }));
      const id = cell('');
      id.append(Object.assign(document.createElement('code'), { textContent: shortId(p.id), title: p.id }));
      // what it may open here: the installed apps, and any it is allowed that are no longer installed
      const known = [...apps, ...p.allow.filter((x) => !apps.some((a) => a.id === x)).map((x) => ({ id: x, name: x }))];
      const set = Object.assign(document.createElement('fieldset'), { className: 'peer-allow' });
      const boxes = Object.assign(document.createElement('div'), { className: 'checks' });
      boxes.append(...appChecks(known, new Set(p.allow)));
      set.append(Object.assign(document.createElement('legend'), { className: 'sr', textContent: `Apps ${p.name} may open here` }), boxes);
      const allow = cell('');
      allow.append(set, rowAction('Save', `what ${p.name} may open here`, async () => {
        error(null);
        const saved = await handle.admin('PUT', `/v1/peers/${encodeURIComponent(p.id)}`, { allow: ticked(boxes) });
        await PAGES.peers();
        status(`“${saved.name}” may now open here: ${appList(saved.allow)}.`);
        document.querySelector(`#pe-rows tr[data-peer="${p.id}"] button`)?.focus(); // its Save button, in the new row
        return true;
      }, 'compact'));
      const actions = cell('');
      actions.append(rowAction('Unpair', p.name, async () => {
        if (!confirm(`Unpair “${p.name}”? Neither appliance can open the other's apps any more, and it is told.`)) return false;
        error(null);
        await handle.admin('DELETE', `/v1/peers/${encodeURIComponent(p.id)}`);
        await PAGES.peers();
        status(`Unpaired “${p.name}”.`);
        $('pe-title').focus();
        return true;
      }));
      tr.append(name, id, allow, cell(when(p.lastSeen)), actions);
      return tr;
    }));
    return { peers, invites };
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

/** Each person's picture (a data: URL, or null for none) by login name: the control API's list carries them. */
function picturesOf(personas) {
  return new Map(personas.map((p) => [p.name, p.avatar ?? null]));
}

/**
 * Approves (POST, with the persona) or turns down (DELETE) a waiting device, then lists the
 * devices again; when the appliance says no (the request expired, or was answered elsewhere),
 * the list is brought up to date too, and its reason shown.
 */
async function answerDevice(method, request, body) {
  try {
    await handle.admin(method, `/v1/devices/requests/${encodeURIComponent(request.id)}`, body);
  } catch (e) {
    await PAGES.devices().catch(() => {});
    throw e;
  }
  deviceChoices.delete(request.id);
  await PAGES.devices();
}

/** Lists the paired appliances again, on the Refresh button; says how many there are. */
async function refreshPeers() {
  const button = $('pe-refresh');
  if (button.getAttribute('aria-disabled') === 'true') return; // aria-disabled keeps the keyboard's focus
  button.setAttribute('aria-disabled', 'true');
  error(null);
  status('Checking for paired appliances…');
  try {
    const { peers } = await PAGES.peers();
    const n = peers.length;
    status(`${n === 0 ? 'No appliance is' : n === 1 ? 'One appliance is' : `${n} appliances are`} paired with this one.`);
  } catch (e) {
    status('');
    error(e);
  } finally {
    button.removeAttribute('aria-disabled');
  }
}

/** Lists the devices again, on the Refresh button; says how many wait, for those who do not see the list. */
async function refreshDevices() {
  const button = $('d-refresh');
  // aria-disabled, not disabled: a disabled button would drop the keyboard's focus
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  error(null);
  status('Checking for devices…');
  try {
    const { requests } = await PAGES.devices();
    const n = requests.length;
    status(`${n === 0 ? 'No device waits' : n === 1 ? 'One device waits' : `${n} devices wait`} for approval.`);
  } catch (e) {
    status('');
    error(e);
  } finally {
    button.removeAttribute('aria-disabled');
  }
}

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

/** A link as a QR code (in `box`), for a phone's camera; without the library the link alone is shown. */
async function showQr(url, box = $('mint-qr'), label = 'QR code of the share link') {
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
  svg.setAttribute('aria-label', label);
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
  me = info.persona.name;
  $('who').textContent = `${info.persona.displayName} (${info.persona.role})`;
  $('logout').hidden = false;
  return true;
}

/**
 * The repository last installed from, remembered by this browser for this appliance (which keeps
 * none of its own), so that the owner types it once; with `url`, remembers that one instead.
 */
function rememberRepository(url) {
  const key = `intrustd-admin-repository:${params.get('appliance')}`;
  try {
    if (url) localStorage.setItem(key, url);
    return localStorage.getItem(key) || '';
  } catch {
    return ''; // storage turned off: the field starts empty
  }
}

async function main() {
  const appliance = params.get('appliance');
  if (!appliance) { status(''); error(new Error('Open this page with ?appliance=<your appliance ID>.')); return; }
  handle = install({ flock, appliance });
  handle.addEventListener('status', (ev) => { if (ev.detail.state === 'up') showOwnLink(ev.detail.info); });
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
  $('repo-app').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    if (!form.reportValidity()) return;
    const repository = form.elements.namedItem('repository').value.trim();
    const id = form.elements.namedItem('app').value.trim();
    const updating = installedApps.has(id); // the answer is the app, without saying which it was
    const bar = $('repo-progress');
    bar.hidden = false;
    await whileBusy(form, async () => {
      status(`Fetching ${id} from ${repository} and checking its signature…`);
      const app = await handle.admin('POST', '/v1/apps', { repository, app: id });
      rememberRepository(repository);
      form.elements.namedItem('app').value = '';
      await PAGES.apps();
      status(`${updating ? 'Updated' : 'Installed'} ${app.name} ${app.version} from the repository.`);
    });
    bar.hidden = true;
  });
  $('repo-url').value = rememberRepository();
  $('av-file').addEventListener('change', (ev) => {
    // said as soon as the file is chosen, and kept on the field so that submitting says it again
    const file = ev.target.files[0];
    const problem = file ? avatarProblem(file) : '';
    ev.target.setCustomValidity(problem);
    error(problem ? new Error(problem) : null);
  });
  $('set-avatar').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const who = form.elements.namedItem('name').value;
    const input = form.elements.namedItem('picture');
    const file = input.files[0];
    const problem = file ? avatarProblem(file) : '';
    input.setCustomValidity(problem);
    if (problem) error(new Error(problem));
    if (!form.reportValidity()) return;
    await whileBusy(form, async () => {
      status(`Uploading the picture of ${who}…`);
      await handle.admin('PUT', `/v1/personas/${encodeURIComponent(who)}/avatar`, { data: await base64Of(file) });
      input.value = '';
      await PAGES.people();
      status(`New picture set for ${who}.`);
    });
  });
  $('av-remove').addEventListener('click', async () => {
    const form = $('set-avatar');
    const who = form.elements.namedItem('name').value;
    if (!who) return;
    await whileBusy(form, async () => {
      await handle.admin('DELETE', `/v1/personas/${encodeURIComponent(who)}/avatar`);
      await PAGES.people();
      status(`Removed the picture of ${who}.`);
    });
  });
  $('settings-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    if (!form.reportValidity()) return;
    try {
      const s = await handle.admin('PUT', '/v1/settings', {
        name: form.elements.namedItem('name').value.trim(), flock: form.elements.namedItem('flock').value.trim(),
      });
      applianceFacts = null; // the Devices page's --flock hint: asked again
      await PAGES.settings();
      status(`Saved: “${s.name}”, registering with ${s.flock}.`);
    } catch (e) { error(e); }
  });
  $('offsite-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    if (!form.reportValidity()) return;
    await whileBusy(form, async () => {
      await handle.admin('PUT', '/v1/offsite', {
        peer: form.elements.namedItem('peer').value, everyHours: Number(form.elements.namedItem('every').value),
      });
      await showOffsite();
      status('Off-site backups saved; a first one has started.');
    });
  });
  $('bk-run').addEventListener('click', () => whileBusy($('offsite-form'), async () => {
    const s = await handle.admin('POST', '/v1/offsite/run');
    await showOffsite();
    status(s.started ? 'A backup has started.' : 'A backup is running already.');
  }));
  $('bk-off').addEventListener('click', () => whileBusy($('offsite-form'), async () => {
    if (!confirm('Stop off-site backups? What the friend keeps stays there.')) return;
    await handle.admin('DELETE', '/v1/offsite');
    await showOffsite();
    status('Off-site backups are off.');
  }));
  $('bk-list').addEventListener('click', () => whileBusy($('offsite-form'), async () => {
    status('Reading the snapshots the friend keeps…');
    await showOffsiteSnapshots();
    status('');
  }));
  $('recover-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    await whileBusy(form, async () => {
      status('Recovering: the friend hands the backups over, then each app gets its data back…');
      const r = await handle.admin('POST', '/v1/offsite/recover', { kit: form.elements.namedItem('kit').value });
      form.elements.namedItem('kit').value = '';
      const lines = [`The backups of ${r.from} are now this appliance's (kept by ${r.peer}), with a new key: keep its recovery kit (Off-site backups, above).`,
        ...r.restored.map((x) => `${x.app}: data put back as of ${when(x.time)} (${files(x.files)}).`),
        ...r.notInstalled.map((a) => `${a}: not installed here. Install it, then put its data back from the snapshots list before its next backup.`),
        ...r.failed.map((f) => `Could not put back ${f}. Backups stay off until every app is back: recover again.`),
        ...r.warnings];
      $('rc-result').replaceChildren(...lines.map((t) => Object.assign(document.createElement('li'), { textContent: t })));
      $('rc-result').hidden = false;
      await showOffsite();
      status(r.failed.length ? 'Recovered in part.' : `Recovered: ${r.restored.length} ${r.restored.length === 1 ? 'app' : 'apps'} put back.`);
    });
  });
  $('bk-key').addEventListener('click', () => whileBusy($('offsite-form'), async () => {
    const { kit } = await handle.admin('GET', '/v1/offsite/key');
    $('bk-key-text').textContent = kit;
    $('bk-key-text').hidden = false;
  }));
  $('d-refresh').addEventListener('click', refreshDevices);
  $('pe-refresh').addEventListener('click', refreshPeers);
  $('peer-invite').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await whileBusy(ev.target, async () => {
      const invite = await handle.admin('POST', '/v1/peers/invites', { allow: ticked($('pi-apps')) });
      $('pi-link').value = invite.link;
      $('pi-expires').textContent = `It works once, until ${when(invite.expires)}, and the other appliance may open here: ${appList(invite.allow)}. Give it to the other owner now: it is not shown again.`;
      $('pi-result').hidden = false;
      await showQr(invite.link, $('pi-qr'), 'QR code of the pairing link');
      await PAGES.peers();
      status('Pairing link made.');
      $('pi-link').focus();
      $('pi-link').select();
    });
  });
  $('pi-copy').addEventListener('click', async () => {
    const field = $('pi-link');
    try {
      await navigator.clipboard.writeText(field.value);
      status('Copied the pairing link.');
    } catch {
      field.focus(); // no clipboard API here (or not allowed): copy the selection
      field.select();
      status(document.execCommand('copy') ? 'Copied the pairing link.' : 'Select the link and copy it.');
    }
  });
  $('peer-pair').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    if (!form.reportValidity()) return;
    const input = form.elements.namedItem('link');
    const bar = $('pp-progress');
    bar.hidden = false;
    $('pp-result').textContent = '';
    await whileBusy(form, async () => {
      status('Pairing: linking to the other appliance through the flock…');
      const peer = await handle.admin('POST', '/v1/peers', { link: input.value.trim(), allow: ticked($('pp-apps')) });
      input.value = '';
      await PAGES.peers();
      status('');
      $('pp-result').textContent = `Paired with “${peer.name}”; this appliance may open there: ${appList(peer.allowedThere)}.`;
    });
    bar.hidden = true;
    if (document.activeElement === document.body) form.querySelector('button[type="submit"]').focus(); // it was disabled
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

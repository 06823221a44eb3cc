// Debian's avahi as an independent mDNS/DNS-SD implementation for the LAN tests: a private
// D-Bus system bus and an avahi-daemon of our own, inside the test's network namespace and a
// mount namespace of their own (so that avahi's /run directory never touches the host's), and
// avahi-browse / avahi-publish against them.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Proc, tempDir, removeTempDir } from './harness.js';

const TOOLS = ['dbus-daemon', 'avahi-daemon', 'avahi-browse', 'avahi-publish', 'unshare'];

/** Throws a clear message when a tool is missing (./intrustd test installs them). */
export function requireAvahi() {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: apt-get install -y avahi-daemon avahi-utils dbus`);
}

const BUS_CONF = (socket) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
`;

const AVAHI_CONF = `[server]
use-ipv4=yes
use-ipv6=no
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
publish-domain=no
`;

/** Starts the bus and avahi-daemon; `stop()` them when done. */
export async function startAvahi() {
  requireAvahi();
  const dir = tempDir('intrustd-avahi-');
  const socket = path.join(dir, 'bus.sock');
  fs.writeFileSync(path.join(dir, 'bus.conf'), BUS_CONF(socket));
  fs.writeFileSync(path.join(dir, 'avahi.conf'), AVAHI_CONF);
  const env = { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` };
  const bus = new Proc('dbus', 'dbus-daemon', ['--nofork', '--nopidfile', '--print-address', `--config-file=${path.join(dir, 'bus.conf')}`]);
  await bus.waitForLine((l) => l.startsWith('unix:path='), 10000, 'bus address');
  // avahi-daemon keeps its pid file and socket in /run/avahi-daemon: a private tmpfs there.
  const daemon = new Proc('avahi-daemon', 'unshare', ['--mount', '--', 'sh', '-c',
    'mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && ' +
    `exec avahi-daemon -f ${path.join(dir, 'avahi.conf')} --no-drop-root --no-chroot --no-rlimits`], { env });
  try {
    await daemon.waitForLine((l) => /Server startup complete/.test(l), 15000, 'avahi start-up');
  } catch (e) {
    await daemon.stop({ signal: 'SIGKILL' });
    await bus.stop({ signal: 'SIGKILL' });
    throw e;
  }
  return {
    env,
    /** Runs `avahi-publish -s` with these TXT entries until `stop()`. */
    async publish(name, type, port, txt) {
      const p = new Proc('avahi-publish', 'avahi-publish', ['-s', name, type, String(port), ...txt], { env });
      await p.waitForLine((l) => /Established under name/.test(l), 10000, 'publication');
      return p;
    },
    /**
     * Runs `avahi-browse -rp TYPE` until `until(events)` is true or `timeoutMs` passes, and
     * returns the parsed events: {event: '+'|'='|'-', interface, name, type, host, address,
     * port, txt: {key: value}}.
     */
    async browse(type, until, timeoutMs = 15000) {
      const p = new Proc('avahi-browse', 'avahi-browse', ['-rp', type], { env });
      const events = [];
      try {
        await p.waitForLine((line) => {
          const e = parseBrowseLine(line);
          if (e) events.push(e);
          return until(events);
        }, timeoutMs, 'the expected records');
      } catch (e) {
        throw new Error(`${e.message}\nseen: ${JSON.stringify(events)}`, { cause: e });
      } finally {
        await p.stop({ signal: 'SIGKILL' });
      }
      return events;
    },
    async stop() {
      await daemon.stop();
      await bus.stop();
      removeTempDir(dir);
    },
  };
}

/** avahi-browse -p escapes a label's dots, backslashes and non-printables as \DDD (decimal). */
function unescape(s) {
  return s.replace(/\\(\d{3})/g, (_, d) => String.fromCharCode(Number(d))).replace(/\\(.)/g, '$1');
}

/** One line of `avahi-browse -rp` output; null for lines that are not records. */
export function parseBrowseLine(line) {
  const f = line.split(';');
  if (f[0] === '+' || f[0] === '-') {
    return { event: f[0], interface: f[1], protocol: f[2], name: unescape(f[3] || ''), type: f[4] };
  }
  if (f[0] !== '=' || f.length < 10) return null;
  const txt = {};
  for (const m of f.slice(9).join(';').matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const entry = m[1].replace(/\\(.)/g, '$1');
    const eq = entry.indexOf('=');
    if (eq > 0) txt[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { event: '=', interface: f[1], protocol: f[2], name: unescape(f[3]), type: f[4], host: f[6], address: f[7], port: Number(f[8]), txt };
}

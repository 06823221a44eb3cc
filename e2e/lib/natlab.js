// A small internet on one machine (natlab-style), for tests of links between sites behind NAT:
// the test's own network namespace is the "public" segment (198.18.0.1, where the flock and the
// STUN server listen); each site is a LAN namespace behind a router namespace that masquerades
// (nftables) like a home router: endpoint-independent mapping, and nothing comes in that was not
// answered to first. Every address is in 198.18.0.0/15 or 10.0.0.0/8 and lives only in the
// namespaces made here; they are all removed by close().
import { execFileSync } from 'node:child_process';

export const PUBLIC_IP = '198.18.0.1';

function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function inNs(ns, cmd, args, input) {
  execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { input, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Whether this process may build namespaces (root, with ip and nft). */
export function natLabAvailable() {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return process.getuid() === 0 && process.env.INTRUSTD_IN_NETNS === '1';
  } catch {
    return false;
  }
}

/**
 * Builds sites `names` (e.g. ['a', 'b']), each a LAN 10.<n>.0.0/24 behind its router, whose
 * WAN side 198.18.<10n>.2 is on the public segment. Returns {sites: {name: {lan, router, lanIp,
 * wanIp, exec}}, close()}; `exec` is the prefix that runs a command on the site's LAN.
 */
export function natLab(names) {
  const tag = `itd${process.pid % 100000}`;
  const sites = {};
  const made = [];
  const close = () => {
    for (const ns of made.splice(0)) {
      try { ip('netns', 'del', ns); } catch { /* gone */ }
    }
    for (const s of Object.values(sites)) {
      try { ip('link', 'del', s.publicLink); } catch { /* went with its peer */ }
    }
  };
  try {
    execFileSync('sysctl', ['-qw', 'net.ipv4.ip_forward=1']); // the public segment routes between sites
    names.forEach((name, i) => {
      const n = i + 1;
      const router = `${tag}-${name}-r`;
      const lan = `${tag}-${name}-l`;
      ip('netns', 'add', router);
      made.push(router);
      ip('netns', 'add', lan);
      made.push(lan);
      const site = { router, lan, lanIp: `10.${n}.0.2`, wanIp: `198.18.${10 * n}.2`, publicLink: `pub${name}`,
        exec: ['ip', 'netns', 'exec', lan] };
      sites[name] = site;
      // public segment <-> router WAN
      ip('link', 'add', site.publicLink, 'type', 'veth', 'peer', 'name', 'wan', 'netns', router);
      ip('addr', 'add', `198.18.${10 * n}.1/24`, 'dev', site.publicLink);
      ip('link', 'set', site.publicLink, 'up');
      ip('-n', router, 'link', 'set', 'lo', 'up');
      ip('-n', router, 'addr', 'add', `${site.wanIp}/24`, 'dev', 'wan');
      ip('-n', router, 'link', 'set', 'wan', 'up');
      ip('-n', router, 'route', 'add', 'default', 'via', `198.18.${10 * n}.1`);
      // router LAN <-> the site's LAN
      ip('-n', router, 'link', 'add', 'gw', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lan);
      ip('-n', router, 'addr', 'add', `10.${n}.0.1/24`, 'dev', 'gw');
      ip('-n', router, 'link', 'set', 'gw', 'up');
      ip('-n', lan, 'link', 'set', 'lo', 'up');
      ip('-n', lan, 'addr', 'add', `${site.lanIp}/24`, 'dev', 'eth0');
      ip('-n', lan, 'link', 'set', 'eth0', 'up');
      ip('-n', lan, 'route', 'add', 'default', 'via', `10.${n}.0.1`);
      inNs(router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      inNs(router, 'nft', ['-f', '-'], [
        'table ip nat {', '  chain outbound {', '    type nat hook postrouting priority 100;', '    oifname "wan" masquerade',
        '  }', '}',
        'table inet filter {', '  chain guard {', '    type filter hook forward priority 0; policy drop;',
        '    ct state established,related accept', '    iifname "gw" accept', '  }',
        // Unsolicited packets to the router itself are dropped before conntrack confirms them, as
        // a home router's firewall does: an unconfirmed entry would otherwise clash with the
        // mapping of the LAN's own later packet to that sender, and masquerade would move its port.
        '  chain wall {', '    type filter hook input priority 0; policy drop;',
        '    ct state established,related accept', '    iifname "gw" accept', '    iifname "lo" accept', '  }', '}', ''].join('\n'));
    });
  } catch (e) {
    close();
    throw new Error(`cannot build the NAT lab: ${e.stderr ? e.stderr.toString() : e.message}`);
  }
  return { sites, close };
}

// A small internet on one machine (natlab-style), for tests of links between sites behind NAT:
// the test's own network namespace is the "public" segment (198.18.0.1, where the flock and the
// STUN/TURN server listen); each site is a LAN namespace (one host, 10.<n>.0.2) behind a router
// namespace whose nftables rules make it one of the NAT kinds below. Every address is in
// 198.18.0.0/15 or 10.0.0.0/8 and lives only in the namespaces made here; they are all removed
// by close().
//
// NAT kinds (RFC 4787 terms: how the router maps a LAN socket to a public port, and which
// outside packets it lets in to that port):
// - 'none': no NAT at all; the site's LAN is routed, its host reachable at its own address.
// - 'full-cone': endpoint-independent mapping and filtering: one public port per LAN socket,
//   and anyone may send to it.
// - 'address-restricted': endpoint-independent mapping; only hosts the LAN host has sent to
//   (any of their ports) may send in.
// - 'port-restricted' (the default, a usual home router): endpoint-independent mapping; only the
//   exact address and port the LAN host sent to may answer.
// - 'symmetric': endpoint-dependent mapping: a new public port for every destination, so the
//   port a STUN server saw is of no use to anyone else; filtering as port-restricted.
// - 'udp-blocked': a firewall that passes no UDP at all, only TCP (masqueraded): WebRTC gets
//   through only over TURN/TCP.
import { execFileSync } from 'node:child_process';

export const PUBLIC_IP = '198.18.0.1';
export const NAT_KINDS = ['none', 'full-cone', 'address-restricted', 'port-restricted', 'symmetric', 'udp-blocked'];

/**
 * The router's nftables rules for NAT `kind` ('wan' faces the public segment, 'gw' the LAN;
 * `lanIp` is the one LAN host).
 */
export function natRules(kind, lanIp) {
  // Linux masquerade keeps a socket's source port whenever that port is free for the new
  // flow's 5-tuple, which with one LAN host it always is: so plain masquerade is already an
  // endpoint-independent mapping (the same public port towards every destination).
  const masquerade = '    oifname "wan" masquerade';
  // Conntrack lets in only replies to a flow the LAN started, from the address and port it was
  // sent to: address-and-port-dependent filtering, unless a rule below lets more in.
  const guard = (extra = []) => [
    'table inet filter {', '  chain guard {', '    type filter hook forward priority 0; policy drop;',
    ...extra,
    '    ct state established,related accept',
    // Packets a prerouting rule below chose to let in (and sent on to the LAN host).
    '    ct status dnat accept',
    '    iifname "gw" accept', '  }',
    // Unsolicited packets to the router itself are dropped before conntrack confirms them, as
    // a home router's firewall does: an unconfirmed entry would otherwise clash with the
    // mapping of the LAN's own later packet to that sender, and masquerade would move its port.
    '  chain wall {', '    type filter hook input priority 0; policy drop;',
    '    ct state established,related accept', '    iifname "gw" accept', '    iifname "lo" accept', '  }', '}'];
  const nat = (outbound, inbound = [], sets = []) => [
    'table ip nat {', ...sets,
    '  chain outbound {', '    type nat hook postrouting priority 100;', ...outbound, '  }',
    '  chain inbound {', '    type nat hook prerouting priority -100;', ...inbound, '  }', '}'];
  switch (kind) {
    case 'none':
      // Routed, not translated; the firewall lets everything through (the public segment has a
      // route to the LAN: see natLab).
      return ['table inet filter {', '  chain guard {', '    type filter hook forward priority 0; policy accept;', '  }', '}'];
    case 'full-cone':
      // Endpoint-independent filtering: any UDP packet to the router's public address goes to
      // the LAN host on the same port, that is, to the socket masquerade mapped there (the
      // mapping keeps ports, above). Conntrack then sees the LAN's answers as replies.
      return [...nat([masquerade], ['    iifname "wan" meta l4proto udp dnat to ' + lanIp]), ...guard()];
    case 'address-restricted':
      // Every destination the LAN host starts a flow to (the first packet of a flow passes the
      // nat chain) goes into `contacted`; UDP from any port of a contacted host is let in to
      // the same port on the LAN host.
      return [...nat(['    oifname "wan" update @contacted { ip daddr }', masquerade],
        ['    iifname "wan" meta l4proto udp ip saddr @contacted dnat to ' + lanIp],
        ['  set contacted {', '    type ipv4_addr; flags dynamic,timeout; timeout 10m;', '  }']), ...guard()];
    case 'port-restricted':
      return [...nat([masquerade]), ...guard()];
    case 'symmetric':
      // `random`: a random public port for every new flow (a new destination address or port),
      // instead of keeping the socket's port: endpoint-dependent mapping.
      return [...nat(['    oifname "wan" masquerade random']), ...guard()];
    case 'udp-blocked':
      // No UDP crosses the router either way; TCP is masqueraded as by a usual home router.
      return [...nat([masquerade]), ...guard(['    meta l4proto udp drop'])];
    default:
      throw new Error(`unknown NAT kind ${JSON.stringify(kind)} (one of ${NAT_KINDS.join(', ')})`);
  }
}

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
 * WAN side 198.18.<10n>.2 is on the public segment; `kinds` gives a site's NAT kind (default
 * 'port-restricted'). Returns {sites: {name: {lan, router, lanIp, wanIp, kind, exec}}, close()};
 * `exec` is the prefix that runs a command on the site's LAN.
 */
export function natLab(names, { kinds = {} } = {}) {
  const tag = `itd${process.pid % 100000}`;
  const sites = {};
  const made = [];
  const close = () => {
    for (const ns of made.splice(0)) {
      try { ip('netns', 'del', ns); } catch { /* gone */ }
    }
    for (const s of Object.values(sites)) {
      try { ip('link', 'del', s.publicLink); } catch { /* went with its peer */ }
      if (s.publicRoute) { try { ip('route', 'del', s.publicRoute); } catch { /* went with the link */ } }
    }
  };
  try {
    execFileSync('sysctl', ['-qw', 'net.ipv4.ip_forward=1']); // the public segment routes between sites
    // The internet drops packets to private addresses without a word. Without this sink the
    // public segment would answer them "network unreachable", and coturn closes an allocation
    // whose relay socket gets that error (a relayed browser tries the appliance's LAN address
    // first): packets to 10/8 that no site routes go to a namespace that forwards nothing.
    const sink = `${tag}-sink`;
    ip('netns', 'add', sink);
    made.push(sink);
    ip('link', 'add', 'sinkhole', 'type', 'veth', 'peer', 'name', 'in', 'netns', sink);
    ip('addr', 'add', '198.18.250.1/30', 'dev', 'sinkhole');
    ip('link', 'set', 'sinkhole', 'up');
    ip('-n', sink, 'addr', 'add', '198.18.250.2/30', 'dev', 'in');
    ip('-n', sink, 'link', 'set', 'in', 'up');
    ip('route', 'add', '10.0.0.0/8', 'via', '198.18.250.2');
    names.forEach((name, i) => {
      const n = i + 1;
      const router = `${tag}-${name}-r`;
      const lan = `${tag}-${name}-l`;
      ip('netns', 'add', router);
      made.push(router);
      ip('netns', 'add', lan);
      made.push(lan);
      const kind = kinds[name] || 'port-restricted';
      const site = { router, lan, lanIp: `10.${n}.0.2`, wanIp: `198.18.${10 * n}.2`, publicLink: `pub${name}`, kind,
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
      inNs(router, 'nft', ['-f', '-'], [...natRules(kind, site.lanIp), ''].join('\n'));
      if (kind === 'none') {
        // Nothing translates this LAN's addresses: the public segment routes to it.
        site.publicRoute = `10.${n}.0.0/24`;
        ip('route', 'add', site.publicRoute, 'via', site.wanIp);
      }
    });
  } catch (e) {
    close();
    throw new Error(`cannot build the NAT lab: ${e.stderr ? e.stderr.toString() : e.message}`);
  }
  return { sites, close };
}

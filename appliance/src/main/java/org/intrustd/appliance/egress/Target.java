package org.intrustd.appliance.egress;

import java.util.Objects;

/**
 * What a CONNECT request asks for: {@code host:port} in authority form (RFC 9110 §9.3.6,
 * RFC 9112 §3.2.3), a name or an address, never a pattern.
 */
record Target(HostRule.Host host, int port) {
  Target {
    Objects.requireNonNull(host, "host");
    if (!(host instanceof HostRule.Host.Name || host instanceof HostRule.Host.Address)) {
      throw new IllegalArgumentException("a CONNECT target is a name or an address, not " + host);
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("the port " + port + " is not from 1 to 65535");
    }
  }

  /** Parses {@code name:port}, {@code 1.2.3.4:port} or {@code [v6]:port}; a message says what is wrong. */
  static Target parse(String authority) {
    HostSyntax.Split s = HostSyntax.split(authority);
    if (s.host().contains("*")) {
      throw new IllegalArgumentException("'" + HostSyntax.printable(s.host()) + "' is a pattern, not a host");
    }
    return new Target(HostSyntax.host(s.host()), HostSyntax.port(s.port(), false).getAsInt());
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}

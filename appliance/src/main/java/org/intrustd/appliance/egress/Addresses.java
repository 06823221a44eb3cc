package org.intrustd.appliance.egress;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Which addresses count as "the internet". An app granted {@code internet} must not reach the
 * appliance itself or the owner's LAN by way of a name that resolves there, so everything
 * that is not globally routable unicast is "special" here. The IPv4 table follows the IANA
 * special-purpose registry (RFC 6890 and updates); for IPv6 only 2000::/3 is global, less the
 * documentation prefixes and the tunnelling forms that embed an IPv4 address (Teredo; 6to4 is
 * judged by the IPv4 address it carries).
 */
final class Addresses {
  private Addresses() {}

  /** IPv4 special ranges: address, prefix length, what to call it. */
  private record Range(int base, int prefix, String kind) {
    boolean contains(int a) {
      int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
      return (a & mask) == (base & mask);
    }
  }

  private static final Range[] V4_SPECIAL = {
    new Range(ip(0, 0, 0, 0), 8, "unspecified"),
    new Range(ip(10, 0, 0, 0), 8, "private"),
    new Range(ip(100, 64, 0, 0), 10, "shared (carrier-grade NAT)"),
    new Range(ip(127, 0, 0, 0), 8, "loopback"),
    new Range(ip(169, 254, 0, 0), 16, "link-local"),
    new Range(ip(172, 16, 0, 0), 12, "private"),
    new Range(ip(192, 0, 0, 0), 24, "IETF protocol assignment"),
    new Range(ip(192, 0, 2, 0), 24, "documentation"),
    new Range(ip(192, 88, 99, 0), 24, "6to4 relay anycast"),
    new Range(ip(192, 168, 0, 0), 16, "private"),
    new Range(ip(198, 18, 0, 0), 15, "benchmarking"),
    new Range(ip(198, 51, 100, 0), 24, "documentation"),
    new Range(ip(203, 0, 113, 0), 24, "documentation"),
    new Range(ip(224, 0, 0, 0), 4, "multicast"),
    new Range(ip(240, 0, 0, 0), 4, "reserved or broadcast"),
  };

  /** Whether {@code a} is a globally routable unicast address. */
  static boolean isPublic(InetAddress a) {
    return special(a).isEmpty();
  }

  /** What kind of non-public address {@code a} is ("loopback", "private", ...), or empty when it is public. */
  static Optional<String> special(InetAddress a) {
    byte[] b = a.getAddress();
    return switch (a) {
      case Inet4Address v4 -> v4Special(toInt(b, 0));
      case Inet6Address v6 -> v6Special(v6, b);
      default -> Optional.of("unknown");
    };
  }

  private static Optional<String> v4Special(int a) {
    for (Range r : V4_SPECIAL) {
      if (r.contains(a)) {
        return Optional.of(r.kind());
      }
    }
    return Optional.empty();
  }

  private static Optional<String> v6Special(Inet6Address v6, byte[] b) {
    if (v6.isLoopbackAddress()) {
      return Optional.of("loopback");
    }
    if (v6.isAnyLocalAddress()) {
      return Optional.of("unspecified");
    }
    if (v6.isLinkLocalAddress()) {
      return Optional.of("link-local");
    }
    if (v6.isMulticastAddress()) {
      return Optional.of("multicast");
    }
    if ((b[0] & 0xfe) == 0xfc || v6.isSiteLocalAddress()) {
      return Optional.of("private");
    }
    if ((b[0] & 0xe0) != 0x20) {
      return Optional.of("not global unicast");
    }
    int first32 = toInt(b, 0);
    if (first32 == 0x20010db8 || (first32 & 0xfffff000) == 0x3fff0000) {
      return Optional.of("documentation");
    }
    if (first32 == 0x20010000) {
      return Optional.of("Teredo tunnel");
    }
    if ((first32 >>> 16) == 0x2002) {
      return v4Special(toInt(b, 2)).map(kind -> "6to4 of a " + kind + " address");
    }
    return Optional.empty();
  }

  private static int toInt(byte[] b, int at) {
    return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
  }

  private static int ip(int a, int b, int c, int d) {
    return a << 24 | b << 16 | c << 8 | d;
  }

  /** An address from its bytes (tests and tables). */
  static InetAddress of(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not 4 or 16 bytes", e);
    }
  }
}

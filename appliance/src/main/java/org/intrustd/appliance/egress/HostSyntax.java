package org.intrustd.appliance.egress;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * The text of hosts and ports, shared by the owner's rules and the app's CONNECT targets. Strict
 * and canonical, so that one host has one spelling and a rule cannot be matched by a
 * differently written name or address:
 *
 * <ul>
 *   <li>names: LDH labels (RFC 1123 §2.1) of 1-63 characters, 253 in all, lower-cased, one
 *       trailing dot dropped; a name whose last label is a number (decimal or {@code 0x} hex)
 *       is refused, since resolvers read {@code 127.1}, {@code 2130706433} or
 *       {@code 0x7f000001} as addresses;
 *   <li>IPv4: dotted quad only, decimal, no leading zeros (no octal or hex forms);
 *   <li>IPv6: in brackets (RFC 3986 §3.2.2), without a zone; written back in RFC 5952 form.
 *       IPv4-mapped addresses ({@code [::ffff:1.2.3.4]}) are the IPv4 address;
 *   <li>ports: 1-65535 in decimal, no leading zeros; {@code *} (any port) where allowed.
 * </ul>
 *
 * <p>Nothing here resolves a name: addresses are parsed from their text only.
 */
final class HostSyntax {
  static final int MAX_NAME = 253;
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  /** A last label that inet_aton(3) reads as a number: decimal, octal or hex. */
  private static final Pattern NUMBER = Pattern.compile("[0-9]+|0x[0-9a-f]*");
  private static final Pattern DOTTED = Pattern.compile("[0-9.]+");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9a-fA-F:.]{2,45}");
  private static final Pattern PORT = Pattern.compile("[1-9][0-9]{0,4}");

  private HostSyntax() {}

  /** A host and a port, split at the last colon outside brackets. */
  record Split(String host, String port) {}

  static Split split(String authority) {
    int colon;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("'" + printable(authority) + "' opens a bracket and does not close it");
      }
      colon = close + 1;
      if (colon == authority.length() || authority.charAt(colon) != ':') {
        throw new IllegalArgumentException("'" + printable(authority) + "' has no port after the IPv6 address: write e.g. "
            + authority.substring(0, close + 1) + ":443");
      }
    } else {
      colon = authority.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("'" + printable(authority) + "' has no port: write e.g. " + printable(authority)
            + ":443, or " + printable(authority) + ":* for any port");
      }
      if (authority.indexOf(':') != colon) {
        throw new IllegalArgumentException("'" + printable(authority) + "' has more than one ':' (IPv6 addresses go in"
            + " brackets: [2001:db8::1]:443)");
      }
    }
    return new Split(authority.substring(0, colon), authority.substring(colon + 1));
  }

  /** A port: 1-65535, or empty for {@code *} when {@code anyAllowed}. */
  static OptionalInt port(String text, boolean anyAllowed) {
    if (anyAllowed && text.equals("*")) {
      return OptionalInt.empty();
    }
    if (!PORT.matcher(text).matches() || Integer.parseInt(text) > 65_535) {
      throw new IllegalArgumentException("the port '" + printable(text) + "' is not a number from 1 to 65535"
          + (anyAllowed ? " (or * for any port)" : ""));
    }
    return OptionalInt.of(Integer.parseInt(text));
  }

  /** A host: an address in its text form, or a DNS name. Never resolves anything. */
  static HostRule.Host host(String text) {
    if (text.isEmpty()) {
      throw new IllegalArgumentException("the host is empty");
    }
    if (text.startsWith("[")) {
      if (!text.endsWith("]") || text.length() < 3) {
        throw new IllegalArgumentException("'" + printable(text) + "' is not a bracketed IPv6 address");
      }
      return new HostRule.Host.Address(ipv6(text.substring(1, text.length() - 1)));
    }
    if (DOTTED.matcher(text).matches()) {
      return new HostRule.Host.Address(ipv4(text));
    }
    return new HostRule.Host.Name(name(text));
  }

  static String name(String text) {
    String n = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    n = n.toLowerCase(Locale.ROOT);
    if (n.isEmpty() || n.length() > MAX_NAME) {
      throw new IllegalArgumentException("'" + printable(text) + "' is not a host name (1 to " + MAX_NAME + " characters)");
    }
    String[] labels = n.split("\\.", -1);
    for (String label : labels) {
      if (!LABEL.matcher(label).matches()) {
        throw new IllegalArgumentException("'" + printable(text) + "' is not a host name: each dot-separated part must be"
            + " 1 to 63 letters, digits or '-', not starting or ending with '-'");
      }
    }
    if (NUMBER.matcher(labels[labels.length - 1]).matches()) {
      throw new IllegalArgumentException("'" + printable(text) + "' ends in a number, so it reads as an address: write"
          + " IPv4 addresses as four decimal numbers (198.51.100.7)");
    }
    return n;
  }

  static InetAddress ipv4(String text) {
    String[] parts = text.split("\\.", -1);
    byte[] b = new byte[4];
    boolean ok = parts.length == 4;
    for (int i = 0; ok && i < 4; i++) {
      String p = parts[i];
      ok = !p.isEmpty() && p.length() <= 3 && (p.length() == 1 || p.charAt(0) != '0') && Integer.parseInt(p) <= 255;
      if (ok) {
        b[i] = (byte) Integer.parseInt(p);
      }
    }
    if (!ok) {
      throw new IllegalArgumentException("'" + printable(text) + "' is not an IPv4 address (four decimal numbers from 0"
          + " to 255, without leading zeros)");
    }
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new AssertionError("four bytes are an IPv4 address", e);
    }
  }

  static InetAddress ipv6(String inner) {
    if (!IPV6_CHARS.matcher(inner).matches() || inner.indexOf(':') < 0) {
      throw new IllegalArgumentException("'[" + printable(inner) + "]' is not an IPv6 address (no zone ids)");
    }
    try {
      // Brackets make getByName parse a literal or fail: it never resolves a bracketed host.
      return InetAddress.getByName("[" + inner + "]");
    } catch (UnknownHostException | RuntimeException e) {
      throw new IllegalArgumentException("'[" + printable(inner) + "]' is not an IPv6 address", e);
    }
  }

  /** An address as rules and logs write it: dotted quad, or bracketed RFC 5952 IPv6. */
  static String address(InetAddress a) {
    return switch (a) {
      case Inet4Address v4 -> v4.getHostAddress();
      case Inet6Address v6 -> "[" + rfc5952(v6.getAddress()) + "]";
      default -> throw new IllegalArgumentException("not an IP address: " + a);
    };
  }

  /** host:port with an IPv6 address in brackets. */
  static String authority(HostRule.Host host, int port) {
    return host + ":" + port;
  }

  /** RFC 5952 §4: lower case, no leading zeros, the first longest run of two or more zero groups as "::". */
  static String rfc5952(byte[] b) {
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = (b[2 * i] & 0xff) << 8 | b[2 * i + 1] & 0xff;
    }
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8;) {
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        s.append("::");
        i += bestLength - 1;
        continue;
      }
      if (!s.isEmpty() && s.charAt(s.length() - 1) != ':') {
        s.append(':');
      }
      s.append(Integer.toHexString(g[i]));
    }
    return s.toString();
  }

  /** Text from the app or the owner, safe to put in a message or a log line. */
  static String printable(String s) {
    String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }
}

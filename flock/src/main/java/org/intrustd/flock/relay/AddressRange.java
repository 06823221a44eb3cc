package org.intrustd.flock.relay;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * A block of IP addresses written as CIDR ({@code 10.0.0.0/8}, {@code fc00::/7}) or one address,
 * as coturn's {@code allowed-peer-ip} and {@code denied-peer-ip} want it: {@code FIRST-LAST}
 * (coturn 4.6 takes no CIDR there).
 *
 * @param first the lowest address of the block
 * @param last the highest
 */
public record AddressRange(InetAddress first, InetAddress last) {
  /**
   * Where a relay must not forward to unless told: this host, its private networks and every
   * special-purpose block (RFC 6890), so that a credential for the relay is no key to the
   * flock host's LAN. Multicast goes by coturn's own {@code no-multicast-peers}.
   */
  public static final List<AddressRange> PRIVATE_AND_SPECIAL = List.of(
      parse("0.0.0.0/8"), parse("10.0.0.0/8"), parse("100.64.0.0/10"), parse("127.0.0.0/8"),
      parse("169.254.0.0/16"), parse("172.16.0.0/12"), parse("192.0.0.0/24"), parse("192.0.2.0/24"),
      parse("192.88.99.0/24"), parse("192.168.0.0/16"), parse("198.18.0.0/15"), parse("198.51.100.0/24"),
      parse("203.0.113.0/24"), parse("240.0.0.0/4"), parse("::/128"), parse("::1/128"), parse("::ffff:0:0/96"),
      parse("64:ff9b::/96"), parse("100::/64"), parse("2001::/23"), parse("2001:db8::/32"), parse("2002::/16"),
      parse("fc00::/7"), parse("fe80::/10"));

  /**
   * An address or CIDR block; a literal only (never a name to resolve).
   *
   * @throws IllegalArgumentException with what is wrong
   */
  public static AddressRange parse(String text) {
    String s = text.strip();
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    byte[] bytes = literal(addr, text);
    int bits = bytes.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      String p = s.substring(slash + 1);
      if (!p.matches("[0-9]{1,3}")) {
        throw new IllegalArgumentException("'" + text + "': the prefix length after / must be a number");
      }
      prefix = Integer.parseInt(p);
      if (prefix > bits) {
        throw new IllegalArgumentException("'" + text + "': a prefix is at most /" + bits);
      }
    }
    BigInteger value = new BigInteger(1, bytes);
    BigInteger hostMask = BigInteger.ONE.shiftLeft(bits - prefix).subtract(BigInteger.ONE);
    BigInteger first = value.andNot(hostMask);
    return new AddressRange(address(first, bytes.length), address(first.or(hostMask), bytes.length));
  }

  /** coturn's form: {@code FIRST-LAST}, or the address alone for a single one. */
  public String coturn() {
    String a = first.getHostAddress();
    return first.equals(last) ? a : a + "-" + last.getHostAddress();
  }

  private static byte[] literal(String addr, String text) {
    boolean v4 = addr.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    boolean v6 = addr.contains(":") && addr.matches("[0-9A-Fa-f:.]{2,45}");
    if (!v4 && !v6) {
      throw new IllegalArgumentException("'" + text + "' is no IP address or CIDR block");
    }
    if (v4) {
      for (String part : addr.split("\\.")) {
        if (Integer.parseInt(part) > 255) {
          throw new IllegalArgumentException("'" + text + "' is no IPv4 address");
        }
      }
    }
    try {
      // A literal: getByName parses it and never asks DNS (the patterns above exclude names).
      byte[] bytes = InetAddress.getByName(addr).getAddress();
      if (v6 && bytes.length == 4) {
        // ::ffff:a.b.c.d comes back as IPv4; a range written in IPv6 stays IPv6.
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(bytes, 0, mapped, 12, 4);
        return mapped;
      }
      return bytes;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + text + "' is no IP address: " + e.getMessage());
    }
  }

  private static InetAddress address(BigInteger value, int length) {
    byte[] raw = value.toByteArray();
    byte[] out = new byte[length];
    int copy = Math.min(raw.length, length);
    System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
    try {
      // Inet6Address keeps ::ffff:a.b.c.d IPv6; InetAddress.getByAddress would turn it into IPv4.
      return length == 4 ? InetAddress.getByAddress(out) : java.net.Inet6Address.getByAddress(null, out, -1);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 or 16 bytes are an address", e);
    }
  }
}

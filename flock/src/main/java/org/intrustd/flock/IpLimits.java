package org.intrustd.flock;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Objects;

/**
 * What one remote address may hold of the public listener (docs/flock.md, "Limits"): TCP
 * connections at once, and new connections per second (a token bucket). A connection over
 * either limit gets {@code 429 Too Many Requests} to its first request and is closed; it never
 * reaches a WebSocket endpoint. The per-connection message limits are {@link Limits}. IPv6
 * addresses count per /64, the block one host usually has to itself. Immutable.
 *
 * @param maxConnections TCP connections one address may have open at once; 0: no limit
 * @param newPerSecond sustained rate of new connections from one address; 0: no limit
 * @param burst new connections one address may open at once before the rate applies
 * @param exempt addresses or CIDR blocks ({@code 127.0.0.0/8}, {@code ::1/128}) that no limit
 *     applies to: a reverse proxy on the same host, which limits per client itself
 */
public record IpLimits(int maxConnections, int newPerSecond, int burst, List<String> exempt) {
  /** No limits: for a flock embedded in a program or a test. */
  public static final IpLimits NONE = new IpLimits(0, 0, 1, List.of());

  /** The defaults of {@code intrustd flock}. */
  public static final IpLimits SERVER_DEFAULTS = new IpLimits(128, 20, 100, List.of("127.0.0.0/8", "::1/128"));

  public IpLimits {
    if (maxConnections < 0 || newPerSecond < 0 || burst < 1) {
      throw new IllegalArgumentException("per-address limits are 0 (none) or positive, and the burst at least 1");
    }
    exempt = List.copyOf(exempt);
    exempt.forEach(IpLimits::parseBlock);
  }

  public IpLimits withExempt(List<String> blocks) {
    return new IpLimits(maxConnections, newPerSecond, burst, blocks);
  }

  boolean any() {
    return maxConnections > 0 || newPerSecond > 0;
  }

  /** An address block as its network address bytes and prefix length. */
  record Block(byte[] network, int bits) {
    boolean contains(InetAddress address) {
      byte[] a = address.getAddress();
      if (a.length != network.length) {
        return false;
      }
      for (int i = 0; i < bits; i++) {
        int mask = 0x80 >>> (i % 8);
        if ((a[i / 8] & mask) != (network[i / 8] & mask)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code ADDRESS} or {@code ADDRESS/BITS}, numeric only (no name is ever looked up). */
  static Block parseBlock(String text) {
    Objects.requireNonNull(text);
    int slash = text.indexOf('/');
    String host = slash < 0 ? text : text.substring(0, slash);
    if (!host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}|\\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*]?")) {
      throw new IllegalArgumentException("'" + text + "' is not an address or ADDRESS/BITS block");
    }
    byte[] network;
    try {
      network = InetAddress.getByName(host.replace("[", "").replace("]", "")).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + text + "' is not an address or ADDRESS/BITS block");
    }
    int bits = network.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(text.substring(slash + 1));
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (bits < 0 || bits > network.length * 8) {
        throw new IllegalArgumentException("'" + text + "': the prefix length is 0-" + network.length * 8);
      }
    }
    return new Block(network, bits);
  }
}

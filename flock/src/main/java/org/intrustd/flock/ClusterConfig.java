package org.intrustd.flock;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a flock node joins a cluster of flock nodes (docs/flock-cluster.md). Immutable; start from
 * {@link #of} and change what you need with the {@code with…} methods. A flock started without
 * one is a single node and never starts Hazelcast.
 *
 * <p>Defaults: cluster name {@code intrustd-flock}, member port {@value #DEFAULT_PORT} on
 * loopback (a real cluster binds a private address), a heartbeat every second and a node
 * declared dead after {@link #DEFAULT_MAX_SILENCE} without one, 2 s to connect to a listed
 * member while joining.
 *
 * @param name only members with the same name form a cluster (a guard against mistakes, not
 *     a secret: Hazelcast open source does not authenticate members)
 * @param bindAddress the IP address the member listens on and tells the others
 * @param port the member's TCP port
 * @param members {@code HOST:PORT} of the other nodes (this node's own address may be listed)
 * @param heartbeat how often members tell each other they are alive
 * @param maxSilence a member silent this long is removed and its appliances forgotten
 * @param joinTimeout how long to try each listed member while joining
 */
public record ClusterConfig(String name, String bindAddress, int port, List<String> members, Duration heartbeat,
    Duration maxSilence, Duration joinTimeout) {
  public static final int DEFAULT_PORT = 5701;
  /**
   * Hazelcast's own default is 60 s; appliances must be reachable again within 10 s of a node's
   * death. A dead process is noticed at once (its sockets close); this bounds a hung or
   * unplugged node, and must stay well above a GC pause.
   */
  public static final Duration DEFAULT_MAX_SILENCE = Duration.ofSeconds(6);
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern MEMBER = Pattern.compile("[A-Za-z0-9.\\-]+:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}");

  public ClusterConfig {
    if (!NAME.matcher(Objects.requireNonNull(name, "name")).matches()) {
      throw new IllegalArgumentException("a cluster name is 1-64 of [A-Za-z0-9._-], not '" + name + "'");
    }
    if (!isIpLiteral(Objects.requireNonNull(bindAddress, "bindAddress"))) {
      throw new IllegalArgumentException("the cluster bind address must be an IP address, not '" + bindAddress + "'");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("the cluster port must be 1-65535, not " + port);
    }
    members = List.copyOf(members);
    for (String member : members) {
      if (!MEMBER.matcher(member).matches()) {
        throw new IllegalArgumentException("a cluster member is HOST:PORT, not '" + member + "'");
      }
    }
    requireWholeSeconds("heartbeat", heartbeat);
    requireWholeSeconds("maxSilence", maxSilence);
    requireWholeSeconds("joinTimeout", joinTimeout);
    if (maxSilence.compareTo(heartbeat.multipliedBy(2)) < 0) {
      throw new IllegalArgumentException("maxSilence must be at least two heartbeats");
    }
  }

  /** A node on {@code bindAddress:port} that joins {@code members}, with the defaults above. */
  public static ClusterConfig of(String bindAddress, int port, List<String> members) {
    return new ClusterConfig("intrustd-flock", bindAddress, port, members, Duration.ofSeconds(1), DEFAULT_MAX_SILENCE,
        Duration.ofSeconds(2));
  }

  public ClusterConfig withName(String newName) {
    return new ClusterConfig(newName, bindAddress, port, members, heartbeat, maxSilence, joinTimeout);
  }

  /** Failure detection: heartbeats every {@code every}, a member dead after {@code deadAfter}. */
  public ClusterConfig withFailureDetection(Duration every, Duration deadAfter) {
    return new ClusterConfig(name, bindAddress, port, members, every, deadAfter, joinTimeout);
  }

  public ClusterConfig withJoinTimeout(Duration timeout) {
    return new ClusterConfig(name, bindAddress, port, members, heartbeat, maxSilence, timeout);
  }

  /** {@code HOST:PORT} of this node as the others list it. */
  public String address() {
    return (bindAddress.contains(":") ? "[" + bindAddress + "]" : bindAddress) + ":" + port;
  }

  private static void requireWholeSeconds(String what, Duration d) {
    Objects.requireNonNull(d, what);
    if (d.toMillis() < 1000 || d.toMillis() % 1000 != 0 || d.toSeconds() > 3600) {
      throw new IllegalArgumentException(what + " must be whole seconds, 1 to 3600, not " + d);
    }
  }

  private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}"
      + "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])");

  private static boolean isIpLiteral(String s) {
    if (IPV4.matcher(s).matches()) {
      return true;
    }
    if (!s.matches("[0-9A-Fa-f:.]+") || !s.contains(":")) {
      return false;
    }
    try {
      InetAddress.getByName(s); // with a ':' it is parsed as an IPv6 literal, never looked up
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}

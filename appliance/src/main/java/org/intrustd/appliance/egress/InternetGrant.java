package org.intrustd.appliance.egress;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What an app granted {@code internet} may reach. An empty list of hosts means any public
 * address (never loopback, private, link-local, multicast or otherwise special: see
 * {@code Addresses}); a non-empty list limits the app to the hosts and ports its rules name.
 *
 * <p>A request is judged twice. Before resolving, the name or address the app asked for must
 * match a rule (any, when the list is empty). After resolving, each address the daemon would
 * connect to must be public, or be named exactly by an IP-literal rule for that port: so
 * {@code localhost:*} alone does not reach the appliance's own loopback, while
 * {@code 127.0.0.1:8080} does, and {@code localhost:8080} with {@code 127.0.0.1:8080} lets the
 * app ask for it by name too. Immutable.
 */
public record InternetGrant(List<HostRule> hosts) {

  public InternetGrant {
    hosts = List.copyOf(hosts);
  }

  /** Any public host, any port. */
  public static InternetGrant anyPublicHost() {
    return new InternetGrant(List.of());
  }

  /**
   * Parses a list of {@code host:port} rules (see {@link HostRule}).
   *
   * @throws IllegalArgumentException naming the first bad rule and what is wrong with it
   */
  public static InternetGrant parse(List<String> rules) {
    List<HostRule> parsed = new ArrayList<>(rules.size());
    for (String rule : rules) {
      parsed.add(HostRule.parse(Objects.requireNonNull(rule, "rule")));
    }
    return new InternetGrant(parsed);
  }

  /** {@link #parse(List)} of its arguments. */
  public static InternetGrant parse(String... rules) {
    return parse(List.of(rules));
  }

  /** Whether the app may ask for {@code target} at all (before any resolution). */
  boolean admits(Target target) {
    return hosts.isEmpty() || hosts.stream().anyMatch(r -> r.matches(target.host(), target.port()));
  }

  /** Whether, having asked for {@code target}, the app may be connected to {@code address}. */
  boolean admits(Target target, InetAddress address) {
    return admits(target)
        && (Addresses.isPublic(address) || hosts.stream().anyMatch(r -> r.namesAddress(address, target.port())));
  }

  /** The rules as the owner writes them. */
  public List<String> rules() {
    return hosts.stream().map(HostRule::toString).toList();
  }

  @Override
  public String toString() {
    return hosts.isEmpty() ? "any public host" : String.join(", ", rules());
  }
}

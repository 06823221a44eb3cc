package org.intrustd.appliance.egress;

import java.net.InetAddress;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One entry of an app's internet allow-list: a host pattern and a port (or any port). Written
 * {@code host:port}:
 *
 * <table>
 *   <caption>Rule syntax</caption>
 *   <tr><th>text</th><th>allows</th></tr>
 *   <tr><td>{@code example.com:443}</td><td>the name {@code example.com} (not its subdomains), port 443</td></tr>
 *   <tr><td>{@code *.example.org:443}</td><td>any name strictly below {@code example.org} (not {@code example.org} itself)</td></tr>
 *   <tr><td>{@code *:443}</td><td>any name or address, port 443</td></tr>
 *   <tr><td>{@code 198.18.0.5:*}</td><td>that address (asked for by address), any port</td></tr>
 *   <tr><td>{@code [::1]:8080}</td><td>that IPv6 address, port 8080</td></tr>
 * </table>
 *
 * <p>A rule names what the app may ask for; it does not by itself let a name reach a loopback,
 * private or link-local address: see {@link InternetGrant}. Names are compared lower-cased;
 * the syntax is strict and canonical ({@code toString()} gives it back, and parses to an
 * equal rule). Immutable.
 */
public record HostRule(Host host, OptionalInt port) {

  /** What a rule, or a CONNECT request, names. */
  public sealed interface Host {
    /** One DNS name, lower-cased, without a trailing dot (the constructor checks and normalises it). */
    record Name(String name) implements Host {
      public Name {
        name = HostSyntax.name(Objects.requireNonNull(name, "name"));
      }

      @Override
      public String toString() {
        return name;
      }
    }

    /** Any name strictly below {@code suffix}: {@code *.example.org}. */
    record Subdomains(String suffix) implements Host {
      public Subdomains {
        suffix = HostSyntax.name(Objects.requireNonNull(suffix, "suffix"));
      }

      @Override
      public String toString() {
        return "*." + suffix;
      }
    }

    /** Any name or address: {@code *}. */
    record Any() implements Host {
      @Override
      public String toString() {
        return "*";
      }
    }

    /** One IP address, as a literal. */
    record Address(InetAddress address) implements Host {
      public Address {
        Objects.requireNonNull(address, "address");
      }

      @Override
      public String toString() {
        return HostSyntax.address(address);
      }
    }
  }

  public HostRule {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(port, "port");
    if (port.isPresent() && (port.getAsInt() < 1 || port.getAsInt() > 65_535)) {
      throw new IllegalArgumentException("the port " + port.getAsInt() + " is not from 1 to 65535");
    }
  }

  /**
   * Parses {@code host:port} (see the class comment).
   *
   * @throws IllegalArgumentException naming the rule and what is wrong with it
   */
  public static HostRule parse(String text) {
    Objects.requireNonNull(text, "text");
    try {
      HostSyntax.Split s = HostSyntax.split(text);
      OptionalInt port = HostSyntax.port(s.port(), true);
      String h = s.host();
      Host host;
      if (h.equals("*")) {
        host = new Host.Any();
      } else if (h.startsWith("*.")) {
        host = new Host.Subdomains(HostSyntax.name(h.substring(2)));
      } else if (h.contains("*")) {
        throw new IllegalArgumentException("'*' may only stand alone or as the first label ('*.example.org')");
      } else {
        host = HostSyntax.host(h);
      }
      return new HostRule(host, port);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad host rule '" + HostSyntax.printable(text) + "': " + e.getMessage(), e);
    }
  }

  /** Whether this rule lets the app ask for {@code target} (a name or an address) on {@code targetPort}. */
  public boolean matches(Host target, int targetPort) {
    if (port.isPresent() && port.getAsInt() != targetPort) {
      return false;
    }
    return switch (host) {
      case Host.Any any -> true;
      case Host.Name n -> target.equals(n);
      case Host.Subdomains s -> target instanceof Host.Name n && n.name().endsWith("." + s.suffix());
      case Host.Address a -> target.equals(a);
    };
  }

  /** Whether this rule names {@code address} itself (as a literal) for {@code targetPort}. */
  boolean namesAddress(InetAddress address, int targetPort) {
    return host instanceof Host.Address a && a.address().equals(address)
        && (port.isEmpty() || port.getAsInt() == targetPort);
  }

  @Override
  public String toString() {
    return host + ":" + (port.isPresent() ? Integer.toString(port.getAsInt()) : "*");
  }
}

package org.intrustd.flock;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.signal.SignalMessage.IceServer;

/**
 * How to run a {@link Flock}. Immutable; start from {@link #defaults()} and change what you need
 * with the {@code with…} methods.
 *
 * <p>Defaults: loopback ({@code 127.0.0.1}), an ephemeral port, no ICE servers (links then use
 * host candidates only: no public STUN server is ever assumed), no static files,
 * {@link Limits#DEFAULTS}, the system clock.
 *
 * @param host address to bind
 * @param port TCP port, 0 for an ephemeral one
 * @param iceServers sent to every appliance ({@code registered}) and client ({@code hello})
 * @param staticMounts URL prefix ({@code /} or {@code /name}, no trailing slash) → directory of
 *     plain files served under it
 * @param limits per-connection limits
 * @param clock time source for rate limits, challenge expiry and idle detection
 * @param admitted the only appliances that may register (an appliance's own LAN flock admits
 *     itself); empty: any appliance
 * @param turn a TURN relay whose time-limited credentials the flock mints for each end of each
 *     introduction (docs/spec/flock.md, "TURN credentials"); empty: none
 * @param serving TLS, per-address limits, the operations listener and the handshake and shutdown
 *     timings ({@link Serving#DEFAULTS}: plain, unlimited, none, 10 s, none)
 */
public record FlockConfig(
    String host,
    int port,
    List<IceServer> iceServers,
    Map<String, Path> staticMounts,
    Limits limits,
    InstantSource clock,
    Set<ApplianceId> admitted,
    java.util.Optional<TurnRelay> turn,
    Serving serving) {

  public FlockConfig {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0-65535, not " + port);
    }
    iceServers = List.copyOf(iceServers);
    staticMounts.keySet().forEach(FlockConfig::checkPrefix);
    staticMounts = Map.copyOf(staticMounts);
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(clock, "clock");
    admitted = Set.copyOf(admitted);
    Objects.requireNonNull(turn, "turn");
    Objects.requireNonNull(serving, "serving");
  }

  public static FlockConfig defaults() {
    return new FlockConfig("127.0.0.1", 0, List.of(), Map.of(), Limits.DEFAULTS, InstantSource.system(), Set.of(),
        java.util.Optional.empty(), Serving.DEFAULTS);
  }

  public FlockConfig withHost(String newHost) {
    return new FlockConfig(newHost, port, iceServers, staticMounts, limits, clock, admitted, turn, serving);
  }

  public FlockConfig withPort(int newPort) {
    return new FlockConfig(host, newPort, iceServers, staticMounts, limits, clock, admitted, turn, serving);
  }

  public FlockConfig withIceServers(List<IceServer> servers) {
    return new FlockConfig(host, port, servers, staticMounts, limits, clock, admitted, turn, serving);
  }

  /** Adds (or replaces) one static mount. */
  public FlockConfig withStatic(String urlPrefix, Path dir) {
    Map<String, Path> mounts = new LinkedHashMap<>(staticMounts);
    mounts.put(urlPrefix, dir);
    return new FlockConfig(host, port, iceServers, mounts, limits, clock, admitted, turn, serving);
  }

  public FlockConfig withLimits(Limits newLimits) {
    return new FlockConfig(host, port, iceServers, staticMounts, newLimits, clock, admitted, turn, serving);
  }

  public FlockConfig withClock(InstantSource newClock) {
    return new FlockConfig(host, port, iceServers, staticMounts, limits, newClock, admitted, turn, serving);
  }

  /** A TURN relay to mint credentials for. */
  public FlockConfig withTurn(TurnRelay relay) {
    return new FlockConfig(host, port, iceServers, staticMounts, limits, clock, admitted, java.util.Optional.of(relay),
        serving);
  }

  /** How the listeners serve: TLS, per-address limits, the operations listener, timeouts. */
  public FlockConfig withServing(Serving newServing) {
    return new FlockConfig(host, port, iceServers, staticMounts, limits, clock, admitted, turn, newServing);
  }

  /** Only these appliances may register. */
  public FlockConfig admitting(Set<ApplianceId> appliances) {
    return new FlockConfig(host, port, iceServers, staticMounts, limits, clock, appliances, turn, serving);
  }

  private static void checkPrefix(String prefix) {
    boolean wellFormed = prefix.equals("/")
        || (prefix.startsWith("/") && !prefix.endsWith("/") && !prefix.contains("//"));
    if (!wellFormed) {
      throw new IllegalArgumentException("a static prefix is '/' or '/name' without a trailing slash, not '" + prefix + "'");
    }
    // The WebSocket endpoints are matched first, so files there could never be served.
    if (prefix.equals("/appliance") || prefix.equals("/client")) {
      throw new IllegalArgumentException("static prefix '" + prefix + "' is a WebSocket endpoint");
    }
    if (prefix.equals("/healthz") || prefix.equals("/readyz")) {
      throw new IllegalArgumentException("static prefix '" + prefix + "' is the flock's own health check");
    }
  }
}

package org.intrustd.flock;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a flock's listeners serve, beside the protocol (docs/flock.md). Immutable.
 *
 * @param tls a certificate for {@code wss://} on the public listener; empty: plain {@code ws://}
 *     (behind a reverse proxy that terminates TLS, or on a LAN)
 * @param ipLimits per-address connection limits on the public listener
 * @param ops the operations listener ({@code /metrics}, {@code /healthz}, {@code /readyz}):
 *     host and port (0: ephemeral); empty: none. The public listener answers {@code /healthz}
 *     and {@code /readyz} too, never {@code /metrics}
 * @param handshakeTimeout time a new connection has to send its first request head (TLS
 *     handshake included) before it is closed
 * @param shutdownGrace how long {@link Flock#close} keeps serving while {@code /readyz} already
 *     answers 503, so that a load balancer stops sending new peers first
 */
public record Serving(
    Optional<Tls> tls, IpLimits ipLimits, Optional<Listener> ops, Duration handshakeTimeout, Duration shutdownGrace) {

  /** A host and port to listen on. */
  public record Listener(String host, int port) {
    public Listener {
      Objects.requireNonNull(host, "host");
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0-65535, not " + port);
      }
    }
  }

  /** Plain, no per-address limits, no operations listener, 10 s handshakes, no grace. */
  public static final Serving DEFAULTS =
      new Serving(Optional.empty(), IpLimits.NONE, Optional.empty(), Duration.ofSeconds(10), Duration.ZERO);

  public Serving {
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(ipLimits, "ipLimits");
    Objects.requireNonNull(ops, "ops");
    if (!handshakeTimeout.isPositive()) {
      throw new IllegalArgumentException("handshakeTimeout must be positive, not " + handshakeTimeout);
    }
    if (shutdownGrace.isNegative()) {
      throw new IllegalArgumentException("shutdownGrace must not be negative, not " + shutdownGrace);
    }
  }

  public Serving withTls(Tls newTls) {
    return new Serving(Optional.of(newTls), ipLimits, ops, handshakeTimeout, shutdownGrace);
  }

  public Serving withIpLimits(IpLimits limits) {
    return new Serving(tls, limits, ops, handshakeTimeout, shutdownGrace);
  }

  public Serving withOps(String host, int port) {
    return new Serving(tls, ipLimits, Optional.of(new Listener(host, port)), handshakeTimeout, shutdownGrace);
  }

  public Serving withHandshakeTimeout(Duration timeout) {
    return new Serving(tls, ipLimits, ops, timeout, shutdownGrace);
  }

  public Serving withShutdownGrace(Duration grace) {
    return new Serving(tls, ipLimits, ops, handshakeTimeout, grace);
  }
}

package org.intrustd.flock;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.intrustd.core.signal.ErrorCode;

/**
 * What one flock counts, in Prometheus' text format on the operations listener's
 * {@code /metrics} (docs/flock.md, "Metrics"). Each flock has its own registry, so that several
 * in one JVM (tests) do not mix their counts. A flock without an operations listener (an
 * appliance's LAN flock, most tests) counts nothing: {@link #none()} makes no registry, which
 * would cost it some 0.2 s of class loading at start. Thread-safe.
 */
final class FlockMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry; // null: counting nothing
  private final AtomicInteger clients = new AtomicInteger();
  private final AtomicInteger applianceConnections = new AtomicInteger();
  private final AtomicInteger registered = new AtomicInteger();
  private final JvmGcMetrics gc;

  private FlockMetrics(boolean served) {
    if (!served) {
      registry = null;
      gc = null;
      return;
    }
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    gc = new JvmGcMetrics();
    Gauge.builder("flock.appliances.registered", registered, AtomicInteger::get)
        .description("Appliances registered on this flock process").register(registry);
    Gauge.builder("flock.clients.connected", clients, AtomicInteger::get)
        .description("Open /client WebSocket connections").register(registry);
    Gauge.builder("flock.appliance.connections", applianceConnections, AtomicInteger::get)
        .description("Open /appliance WebSocket connections, registered or not yet").register(registry);
    // Every series exists from the start, so that rate() and increase() see the first event.
    count("flock.introductions", "Offers relayed from a client to an appliance");
    count("flock.registrations", "Appliances that proved their key and registered");
    count("flock.turn.credentials.minted", "TURN credentials minted for one end of a link (TurnRelay)");
    count("flock.handshake.timeouts", "Connections closed for not sending their request in time");
    for (ErrorCode code : List.of(ErrorCode.INVALID_APPLIANCE_ID, ErrorCode.APPLIANCE_OFFLINE, ErrorCode.SESSION_EXISTS,
        ErrorCode.TOO_MANY_SESSIONS)) {
      registry.counter("flock.introduction.failures", "reason", code.wire());
    }
    for (ErrorCode code : List.of(ErrorCode.BAD_MESSAGE, ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.RATE_LIMITED,
        ErrorCode.BAD_SIGNATURE, ErrorCode.CHALLENGE_EXPIRED, ErrorCode.NOT_ADMITTED)) {
      registry.counter("flock.protocol.errors", "code", code.wire());
    }
    for (String reason : List.of("connections-per-ip", "connection-rate-per-ip")) {
      registry.counter("flock.connections.refused", "reason", reason);
    }
    for (MeterBinder binder : List.of(new JvmMemoryMetrics(), new JvmThreadMetrics(), new ClassLoaderMetrics(),
        new ProcessorMetrics(), new UptimeMetrics(), new FileDescriptorMetrics(), gc)) {
      binder.bindTo(registry);
    }
  }

  /** Counts, for an operations listener to serve. */
  static FlockMetrics served() {
    return new FlockMetrics(true);
  }

  /** Counts nothing. */
  static FlockMetrics none() {
    return new FlockMetrics(false);
  }

  private void count(String name, String description) {
    io.micrometer.core.instrument.Counter.builder(name).description(description).register(registry);
  }

  private void increment(String name, String... tags) {
    if (registry != null) {
      registry.counter(name, tags).increment();
    }
  }

  /** Open TCP connections on the public listener (HTTP, WebSocket, or not past the handshake yet). */
  void tcpConnections(IntSupplier open) {
    if (registry != null) {
      Gauge.builder("flock.tcp.connections", open::getAsInt)
          .description("Open TCP connections on the public listener, in any state").register(registry);
    }
  }

  /** Relay allocations granted by the flock's own relay ({@code --relay}), as it counts them. */
  void relayAllocations(java.util.function.LongSupplier count) {
    if (registry != null) {
      io.micrometer.core.instrument.FunctionCounter.builder("flock.relay.allocations", count, c -> c.getAsLong())
          .description("Relay allocations granted by the flock's own TURN relay").register(registry);
    }
  }

  /** A WebSocket connection on either endpoint opened. */
  void connectionOpened(Endpoint endpoint) {
    (endpoint instanceof ClientEndpoint ? clients : applianceConnections).incrementAndGet();
  }

  /** An opened WebSocket connection ended; once per {@link #connectionOpened}. */
  void connectionClosed(Endpoint endpoint) {
    (endpoint instanceof ClientEndpoint ? clients : applianceConnections).decrementAndGet();
  }

  void registered() {
    increment("flock.registrations");
    registered.incrementAndGet();
  }

  /** A registered appliance's connection ended (or was replaced by a newer one). */
  void unregistered() {
    registered.decrementAndGet();
  }

  void introduced() {
    increment("flock.introductions");
  }

  /** An introduction refused with {@code code} (the client's connection stays open). */
  void introductionFailed(ErrorCode code) {
    increment("flock.introduction.failures", "reason", code.wire());
  }

  /** A connection closed by the flock for a protocol error (rate-limited, bad-message, …). */
  void protocolError(ErrorCode code) {
    increment("flock.protocol.errors", "code", code.wire());
  }

  /** A TCP connection refused before any WebSocket, for {@code reason} ({@link IpGuard}). */
  void connectionRefused(String reason) {
    increment("flock.connections.refused", "reason", reason);
  }

  /** A connection closed because its request head did not arrive in time ({@link IpGuard}). */
  void handshakeTimedOut() {
    increment("flock.handshake.timeouts");
  }

  void turnCredentialMinted() {
    increment("flock.turn.credentials.minted");
  }

  /** Every meter in the Prometheus text format (version 0.0.4). */
  String scrape() {
    return registry == null ? "" : registry.scrape();
  }

  @Override
  public void close() {
    if (registry != null) {
      gc.close();
      registry.close();
    }
  }
}

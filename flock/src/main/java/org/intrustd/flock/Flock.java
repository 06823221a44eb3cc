package org.intrustd.flock;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.VirtualThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A running flock: the signalling server of docs/spec/flock.md ({@code /appliance},
 * {@code /client}) plus optional static files, on Jetty with virtual threads, and optionally an
 * operations listener for {@code /metrics} (docs/flock.md). Start with {@link #start};
 * {@link #close} stops it and closes every connection. Thread-safe.
 */
public final class Flock implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Flock.class.getName());
  /**
   * Jetty buffers text up to this much more than the protocol limit so that our own check sees
   * a slightly oversized message and can answer {@code message-too-large}; beyond it Jetty
   * closes with 1009 by itself.
   */
  private static final int JETTY_SLACK_BYTES = 16 * 1024;
  /**
   * Transport backstop for connections that went silent without closing (the protocol's own
   * 45 s rule covers registered appliances; clients need not ping).
   */
  private static final Duration TRANSPORT_IDLE = Duration.ofMinutes(10);
  /**
   * Idle timeout of a connection before it upgrades to a WebSocket (the upgraded one has
   * {@link #TRANSPORT_IDLE}): an HTTP keep-alive connection between static files. Jetty's
   * default too, said here because it is not what stops a slow-loris peer: every byte resets
   * it. The handshake deadline ({@link Serving#handshakeTimeout}, {@link IpGuard}) does.
   */
  private static final Duration HTTP_IDLE = Duration.ofSeconds(30);
  /** Frames queued to a peer that does not read before its connection is dropped. */
  private static final int MAX_OUTGOING_FRAMES = 1024;
  /**
   * TCP connections the kernel holds for us before we accept them (capped by net.core.somaxconn).
   * Jetty passes 0, which the JDK turns into a backlog of 50: when many appliances reconnect at
   * once (a flock restart), the rest of their SYNs were dropped and retried after 1, 3, 7, 15 s.
   * Measured with bench's FlockLoadBench, 512 registrations in flight: 30,960 listen overflows
   * and registration stalled ~30 s at 4,980 of 5,000.
   */
  private static final int ACCEPT_BACKLOG = 1024;

  private final FlockConfig config;
  private final Server server;
  private final ServerConnector connector;
  private final Housekeeper housekeeper;
  private final FlockMetrics metrics;
  private final Readiness readiness;
  private final Optional<OpsListener> ops;
  private final ApplianceRegistry registry;
  private volatile boolean started;

  /** The operations listener: its own server, so that it answers while the public one starts and stops. */
  private record OpsListener(Server server, ServerConnector connector) {}

  private Flock(FlockConfig config, Server server, ServerConnector connector, Housekeeper housekeeper,
      FlockMetrics metrics, Readiness readiness, Optional<OpsListener> ops, ApplianceRegistry registry) {
    this.config = config;
    this.server = server;
    this.connector = connector;
    this.housekeeper = housekeeper;
    this.metrics = metrics;
    this.readiness = readiness;
    this.ops = ops;
    this.registry = registry;
  }

  /** Binds and starts serving as a single node; throws {@link FlockException} when it cannot. */
  public static Flock start(FlockConfig config) {
    return start(config, new LocalApplianceRegistry());
  }

  /**
   * Joins (or forms) a cluster of flock nodes, then binds and starts serving as one node of it
   * (docs/flock-cluster.md); throws {@link FlockException} when it cannot.
   */
  public static Flock start(FlockConfig config, ClusterConfig cluster) {
    ClusteredRegistry registry = new ClusteredRegistry(ClusterMember.start(cluster), config.limits());
    try {
      return start(config, registry);
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  private static Flock start(FlockConfig config, ApplianceRegistry registry) {
    Serving serving = config.serving();
    Optional<KeyStore> keys;
    try {
      keys = serving.tls().map(PemKeyStore::load);
    } catch (IllegalArgumentException e) {
      throw new FlockException("TLS: " + e.getMessage(), e);
    }
    FlockMetrics metrics = serving.ops().isPresent() ? FlockMetrics.served() : FlockMetrics.none();
    Readiness readiness = new Readiness();
    Readiness.Hold starting = readiness.hold("starting");

    VirtualThreadPool threads = new VirtualThreadPool();
    threads.setName("flock");
    Server server = new Server(threads);
    IpGuard guard = new IpGuard(serving.ipLimits(), serving.handshakeTimeout(), config.clock(), metrics);
    ServerConnector connector = guard.connector(server, connectionFactories(keys));
    connector.setHost(config.host());
    connector.setPort(config.port());
    connector.setIdleTimeout(HTTP_IDLE.toMillis());
    connector.setAcceptQueueSize(ACCEPT_BACKLOG);
    server.addConnector(connector);
    metrics.tcpConnections(guard::openConnections);

    Housekeeper housekeeper = new Housekeeper(config.clock(), Housekeeper.periodFor(config.limits()));
    Hub hub = new Hub(config, registry, housekeeper, metrics);
    long maxMessage = config.limits().maxMessageBytes() + (long) JETTY_SLACK_BYTES;
    WebSocketUpgradeHandler webSockets = WebSocketUpgradeHandler.from(server, container -> {
      container.setMaxTextMessageSize(maxMessage);
      container.setMaxBinaryMessageSize(maxMessage);
      container.setMaxFrameSize(maxMessage);
      container.setIdleTimeout(TRANSPORT_IDLE);
      container.setMaxOutgoingFrames(MAX_OUTGOING_FRAMES);
      container.addMapping("/appliance", (request, response, callback) -> new ApplianceEndpoint(hub));
      container.addMapping("/client", (request, response, callback) -> new ClientEndpoint(hub));
    });
    webSockets.setHandler(StaticFiles.handler(config.staticMounts()));
    server.setHandler(guard.gate(new OpsHandler(readiness, null, webSockets)));

    Optional<OpsListener> ops = serving.ops().map(listener -> opsListener(listener, readiness, metrics));
    Flock flock = new Flock(config, server, connector, housekeeper, metrics, readiness, ops, registry);
    try {
      if (ops.isPresent()) {
        ops.get().server().start();
      }
      server.start();
    } catch (Exception e) {
      flock.close();
      String where = ops.isPresent() && !ops.get().server().isStarted()
          ? "an operations listener on " + serving.ops().get().host() + ":" + serving.ops().get().port()
          : "a flock on " + config.host() + ":" + config.port();
      throw new FlockException("cannot start " + where, e);
    }
    flock.started = true;
    starting.release();
    LOG.log(Level.INFO, "flock serving " + flock.uri() + " static " + config.staticMounts().keySet()
        + flock.opsPort().stream().mapToObj(p -> ", operations on " + serving.ops().get().host() + ":" + p)
            .findFirst().orElse(""));
    return flock;
  }

  private static ConnectionFactory[] connectionFactories(Optional<KeyStore> keys) {
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    if (keys.isEmpty()) {
      return new ConnectionFactory[] {new HttpConnectionFactory(http)};
    }
    SslContextFactory.Server tls = new SslContextFactory.Server();
    tls.setKeyStore(keys.get());
    tls.setKeyStorePassword(PemKeyStore.PASSWORD);
    tls.setKeyManagerPassword(PemKeyStore.PASSWORD);
    SecureRequestCustomizer secure = new SecureRequestCustomizer();
    // Peers reach a flock by whatever name (or address) they were given; whether the
    // certificate fits that name is the client's check, and a 400 here would only hide it.
    secure.setSniHostCheck(false);
    http.addCustomizer(secure);
    return new ConnectionFactory[] {new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(http)};
  }

  private static OpsListener opsListener(Serving.Listener listener, Readiness readiness, FlockMetrics metrics) {
    VirtualThreadPool threads = new VirtualThreadPool();
    threads.setName("flock-ops");
    Server server = new Server(threads);
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(listener.host());
    connector.setPort(listener.port());
    server.addConnector(connector);
    server.setHandler(new OpsHandler(readiness, metrics, null));
    return new OpsListener(server, connector);
  }

  /** The bound TCP port (the real one when the configuration asked for 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /**
   * Counts the allocations of the relay this flock hands credentials for in its metrics
   * ({@code flock_relay_allocations_total}), when it has an operations listener.
   */
  public void countRelayAllocations(java.util.function.LongSupplier allocations) {
    metrics.relayAllocations(allocations);
  }

  /** The bound port of the operations listener, if there is one. */
  public OptionalInt opsPort() {
    return ops.map(o -> OptionalInt.of(o.connector().getLocalPort())).orElse(OptionalInt.empty());
  }

  /**
   * Whether this flock accepts registrations ({@code /readyz}); take a {@link Readiness#hold}
   * to keep it not ready until something else is done.
   */
  public Readiness readiness() {
    return readiness;
  }

  /**
   * The WebSocket base URI, e.g. {@code ws://127.0.0.1:8080/} ({@code wss://} with TLS);
   * endpoints are relative to it.
   */
  public URI uri() {
    String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
    String scheme = config.serving().tls().isPresent() ? "wss" : "ws";
    return URI.create(scheme + "://" + host + ":" + port() + "/");
  }

  /**
   * Stops serving and closes every connection. {@code /readyz} answers 503 at once; the
   * listeners close after {@link Serving#shutdownGrace}. Idempotent.
   */
  @Override
  public void close() {
    boolean wasReady = readiness.isReady();
    readiness.shutDown();
    Duration grace = config.serving().shutdownGrace();
    if (started && wasReady && grace.isPositive()) {
      LOG.log(Level.INFO, "flock not ready; closing in " + grace);
      try {
        Thread.sleep(grace);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      server.stop();
    } catch (Exception e) {
      LOG.log(Level.WARNING, "flock did not stop cleanly", e);
    } finally {
      housekeeper.close();
      ops.ifPresent(o -> {
        try {
          o.server().stop();
        } catch (Exception e) {
          LOG.log(Level.WARNING, "operations listener did not stop cleanly", e);
        }
      });
      metrics.close();
      registry.close(); // a cluster node leaves the cluster after its connections have closed
    }
  }

  /** The registry, for tests that look into the cluster. */
  ApplianceRegistry registry() {
    return registry;
  }

  /** Dies as a crashed process would: out of the cluster first, with no goodbye, then offline. */
  void crash() {
    if (registry instanceof ClusteredRegistry cluster) {
      cluster.crash();
    }
    close();
  }
}

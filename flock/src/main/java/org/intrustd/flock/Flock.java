package org.intrustd.flock;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.time.Duration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.VirtualThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A running flock: the signalling server of docs/spec/flock.md ({@code /appliance},
 * {@code /client}) plus optional static files, on Jetty with virtual threads. Start with
 * {@link #start}; {@link #close} stops it and closes every connection. Thread-safe.
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
  /** Frames queued to a peer that does not read before its connection is dropped. */
  private static final int MAX_OUTGOING_FRAMES = 1024;

  private final FlockConfig config;
  private final Server server;
  private final ServerConnector connector;
  private final Housekeeper housekeeper;
  private final ApplianceRegistry registry;

  private Flock(FlockConfig config, Server server, ServerConnector connector, Housekeeper housekeeper,
      ApplianceRegistry registry) {
    this.config = config;
    this.server = server;
    this.connector = connector;
    this.housekeeper = housekeeper;
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
    VirtualThreadPool threads = new VirtualThreadPool();
    threads.setName("flock");
    Server server = new Server(threads);
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(config.host());
    connector.setPort(config.port());
    server.addConnector(connector);

    Housekeeper housekeeper = new Housekeeper(config.clock(), Housekeeper.periodFor(config.limits()));
    Hub hub = new Hub(config, registry, housekeeper);
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
    server.setHandler(webSockets);

    Flock flock = new Flock(config, server, connector, housekeeper, registry);
    try {
      server.start();
    } catch (Exception e) {
      flock.close();
      throw new FlockException("cannot start a flock on " + config.host() + ":" + config.port(), e);
    }
    LOG.log(Level.INFO, "flock serving " + flock.uri() + " static " + config.staticMounts().keySet());
    return flock;
  }

  /** The bound TCP port (the real one when the configuration asked for 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** The WebSocket base URI, e.g. {@code ws://127.0.0.1:8080/}; endpoints are relative to it. */
  public URI uri() {
    String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
    return URI.create("ws://" + host + ":" + port() + "/");
  }

  /** Stops serving and closes every connection. Idempotent. */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      LOG.log(Level.WARNING, "flock did not stop cleanly", e);
    } finally {
      housekeeper.close();
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

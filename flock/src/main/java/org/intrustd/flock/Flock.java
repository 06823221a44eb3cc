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

  private Flock(FlockConfig config, Server server, ServerConnector connector, Housekeeper housekeeper) {
    this.config = config;
    this.server = server;
    this.connector = connector;
    this.housekeeper = housekeeper;
  }

  /** Binds and starts serving; throws {@link FlockException} when it cannot. */
  public static Flock start(FlockConfig config) {
    VirtualThreadPool threads = new VirtualThreadPool();
    threads.setName("flock");
    Server server = new Server(threads);
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(config.host());
    connector.setPort(config.port());
    connector.setAcceptQueueSize(ACCEPT_BACKLOG);
    server.addConnector(connector);

    Housekeeper housekeeper = new Housekeeper(config.clock(), Housekeeper.periodFor(config.limits()));
    Hub hub = new Hub(config, new LocalApplianceRegistry(), housekeeper);
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

    Flock flock = new Flock(config, server, connector, housekeeper);
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
    }
  }
}

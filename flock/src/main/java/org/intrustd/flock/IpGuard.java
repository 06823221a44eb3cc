package org.intrustd.flock;

import java.lang.System.Logger.Level;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Guards the public listener per TCP connection, before any WebSocket exists:
 * <ul>
 *   <li>{@link IpLimits}: connections at once and new connections per second from one address.
 *       A connection over a limit is refused with {@code 429} and a problem body to its first
 *       request, then closed; it never reaches an endpoint, and it costs its address, never
 *       anyone else's: every address has its own count and its own bucket.
 *   <li>The handshake deadline: a connection must deliver its first request head (after the
 *       TLS handshake, if any) within {@code handshakeTimeout}, or it is closed. Without it a
 *       slow-loris peer that sends a header byte every few seconds keeps resetting Jetty's idle
 *       timeout and holds its socket for as long as it likes.
 * </ul>
 * Connections are counted where Jetty opens and closes each TCP end point ({@link Connector}),
 * so every connection is counted once, whether it is plain, TLS, HTTP or upgraded to a
 * WebSocket, and uncounted when it closes, however that happens. Thread-safe.
 */
final class IpGuard {
  private static final System.Logger LOG = System.getLogger(IpGuard.class.getName());
  private static final int SWEEP_ABOVE = 4096;

  private final IpLimits limits;
  private final List<IpLimits.Block> exempt;
  private final Duration handshakeTimeout;
  private final InstantSource clock;
  private final FlockMetrics metrics;
  private final ConcurrentMap<String, PerAddress> byAddress = new ConcurrentHashMap<>();
  /** Every open connection, by its end point (closing) and by its peer's address (requests). */
  private final ConcurrentMap<EndPoint, Conn> byEndPoint = new ConcurrentHashMap<>();
  private final ConcurrentMap<SocketAddress, Conn> byRemote = new ConcurrentHashMap<>();
  private final AtomicLong opened = new AtomicLong();

  /** One address's open connections and new-connection bucket; guarded by the map's compute. */
  private static final class PerAddress {
    final TokenBucket bucket;
    int open;
    Instant lastOpened;

    PerAddress(TokenBucket bucket) {
      this.bucket = bucket;
    }
  }

  /** One open TCP connection. */
  private static final class Conn {
    final SocketAddress remote;
    final String address;
    final String refused; // null: admitted; otherwise the reason, a metrics tag
    volatile boolean requested;
    volatile Scheduler.Task deadline;

    Conn(SocketAddress remote, String address, String refused) {
      this.remote = remote;
      this.address = address;
      this.refused = refused;
    }
  }

  IpGuard(IpLimits limits, Duration handshakeTimeout, InstantSource clock, FlockMetrics metrics) {
    this.limits = limits;
    this.exempt = limits.exempt().stream().map(IpLimits::parseBlock).toList();
    this.handshakeTimeout = handshakeTimeout;
    this.clock = clock;
    this.metrics = metrics;
  }

  /** The public listener's connector, with this guard on each connection's open and close. */
  ServerConnector connector(Server server, ConnectionFactory... factories) {
    return new Connector(server, this, factories);
  }

  /** The first handler of the public listener: answers refused connections, passes the rest on. */
  Handler gate(Handler next) {
    return new Handler.Wrapper(next) {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Conn conn = byRemote.get(request.getConnectionMetaData().getRemoteSocketAddress());
        if (conn != null) {
          conn.requested = true;
          Scheduler.Task deadline = conn.deadline;
          if (deadline != null) {
            deadline.cancel();
          }
          if (conn.refused != null) {
            refuse(conn, response, callback);
            return true;
          }
        }
        return super.handle(request, response, callback);
      }
    };
  }

  int openConnections() {
    return byEndPoint.size();
  }

  private static final class Connector extends ServerConnector {
    private final IpGuard guard;

    Connector(Server server, IpGuard guard, ConnectionFactory... factories) {
      super(server, factories);
      this.guard = guard;
    }

    @Override
    protected void onEndPointOpened(EndPoint endPoint) {
      super.onEndPointOpened(endPoint);
      guard.opened(endPoint, getScheduler());
    }

    @Override
    protected void onEndPointClosed(EndPoint endPoint) {
      guard.closed(endPoint);
      super.onEndPointClosed(endPoint);
    }
  }

  private void opened(EndPoint endPoint, Scheduler scheduler) {
    SocketAddress remote = endPoint.getRemoteSocketAddress();
    InetAddress ip = remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
    boolean limited = limits.any() && ip != null && exempt.stream().noneMatch(b -> b.contains(ip));
    Conn conn;
    if (limited) {
      String key = key(ip);
      String[] refused = new String[1];
      Instant now = clock.instant();
      byAddress.compute(key, (k, per) -> {
        PerAddress p = per != null ? per
            : new PerAddress(new TokenBucket(clock, Math.max(1, limits.newPerSecond()), limits.burst()));
        p.open++;
        p.lastOpened = now;
        if (limits.maxConnections() > 0 && p.open > limits.maxConnections()) {
          refused[0] = "connections-per-ip";
        } else if (limits.newPerSecond() > 0 && !p.bucket.tryTake()) {
          refused[0] = "connection-rate-per-ip";
        }
        return p;
      });
      conn = new Conn(remote, key, refused[0]);
      if (refused[0] != null) {
        metrics.connectionRefused(refused[0]);
        LOG.log(Level.DEBUG, () -> "refusing a connection from " + remote + ": " + refused[0]);
      }
      if (opened.incrementAndGet() % 1024 == 0 && byAddress.size() > SWEEP_ABOVE) {
        sweep();
      }
    } else {
      conn = new Conn(remote, null, null);
    }
    byEndPoint.put(endPoint, conn);
    if (remote != null) {
      byRemote.put(remote, conn);
    }
    conn.deadline = scheduler.schedule(() -> {
      if (!conn.requested && endPoint.isOpen()) {
        metrics.handshakeTimedOut();
        LOG.log(Level.DEBUG, () -> "closing " + remote + ": no request within " + handshakeTimeout);
        endPoint.close();
      }
    }, handshakeTimeout);
  }

  private void closed(EndPoint endPoint) {
    Conn conn = byEndPoint.remove(endPoint); // its remote address may be gone by now
    if (conn == null) {
      return;
    }
    if (conn.remote != null) {
      byRemote.remove(conn.remote, conn);
    }
    Scheduler.Task deadline = conn.deadline;
    if (deadline != null) {
      deadline.cancel();
    }
    if (conn.address != null) {
      Instant now = clock.instant();
      byAddress.computeIfPresent(conn.address, (k, p) -> {
        p.open--;
        return forgettable(p, now) ? null : p;
      });
    }
  }

  /** An address with no connection whose bucket has refilled since: nothing to remember. */
  private boolean forgettable(PerAddress p, Instant now) {
    if (p.open > 0) {
      return false;
    }
    if (limits.newPerSecond() == 0) {
      return true;
    }
    Duration refill = Duration.ofMillis(1000L * limits.burst() / limits.newPerSecond() + 1);
    return !Duration.between(p.lastOpened, now).minus(refill).isNegative();
  }

  private void sweep() {
    Instant now = clock.instant();
    byAddress.keySet().forEach(k -> byAddress.computeIfPresent(k, (key, p) -> forgettable(p, now) ? null : p));
  }

  private void refuse(Conn conn, Response response, Callback callback) {
    String reason = conn.refused.equals("connections-per-ip")
        ? "more than " + limits.maxConnections() + " connections at once from one address"
        : "more than " + limits.newPerSecond() + " new connections per second from one address";
    byte[] json = ("{\"type\":\"about:blank\",\"title\":\"Too Many Requests\",\"status\":429,\"detail\":\"" + reason
        + "\"}").getBytes(StandardCharsets.UTF_8);
    response.setStatus(429);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/problem+json");
    response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
    response.getHeaders().put(HttpHeader.CONNECTION, "close");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.write(true, ByteBuffer.wrap(json), callback);
  }

  /** The address a limit applies to: IPv4 as is, IPv6 by its /64. */
  static String key(InetAddress ip) {
    if (ip instanceof Inet6Address) {
      return HexFormat.of().formatHex(Arrays.copyOf(ip.getAddress(), 8)) + "::/64";
    }
    return ip.getHostAddress();
  }
}

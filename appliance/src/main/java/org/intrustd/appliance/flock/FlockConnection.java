package org.intrustd.appliance.flock;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.intrustd.core.signal.SignalMessage.Pong;
import org.intrustd.core.signal.SignalMessage.Register;
import org.intrustd.core.signal.SignalMessage.Registered;

/**
 * The appliance's side of the flock's {@code /appliance} endpoint (docs/spec/flock.md): it
 * registers by signing the challenge, sends heartbeats, hands every other message to a
 * {@link Handler}, and reconnects with capped exponential back-off (250 ms doubling to 2 s,
 * ±20 % jitter) whenever the connection drops. Peer links do not depend on it: they keep
 * working while the flock is away. Thread-safe.
 *
 * <p>Given several URLs (the nodes of one clustered flock, docs/flock-cluster.md) it registers
 * with one at a time and moves on to the next, in order and round again, whenever a connection
 * attempt fails or a registered connection drops, so that a dead node's appliances re-register
 * on another one within a second or so.
 */
public final class FlockConnection implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.flock-client");
  private static final Duration HEARTBEAT = Duration.ofSeconds(15);
  private static final Duration SILENCE_LIMIT = Duration.ofSeconds(45);
  private static final long FIRST_BACKOFF_MS = 250;
  private static final long MAX_BACKOFF_MS = 2_000;

  /** Receives what the flock says after registration. Called on the connection's thread. */
  public interface Handler {
    void onRegistered(String canonicalId, List<IceServer> iceServers);

    void onMessage(ApplianceMessage message);

    void onDisconnected();
  }

  private volatile List<URI> endpoints;
  /** Which of {@link #endpoints} the loop uses; changed only by the loop and {@link #retarget}. */
  private volatile int next;
  private volatile URI endpoint;
  private final Identity identity;
  private volatile String name;
  private final Handler handler;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final AtomicReference<WebSocket> socket = new AtomicReference<>();
  private final Object sendLock = new Object();
  // Messages after registration are handled one at a time, in the order the flock sent them
  // (an offer before its candidates), off the WebSocket's own thread.
  private final java.util.concurrent.ExecutorService dispatcher = java.util.concurrent.Executors.newSingleThreadExecutor(
      Thread.ofVirtual().name("flock-dispatch").factory());
  private volatile boolean closed;
  private volatile boolean registered;
  private volatile Session current;
  private Thread loop;

  public FlockConnection(URI flock, Identity identity, String name, Handler handler) {
    this(List.of(flock), identity, name, handler);
  }

  /** Registers with one of {@code flocks} at a time, moving on to the next on failure. */
  public FlockConnection(List<URI> flocks, Identity identity, String name, Handler handler) {
    this.endpoints = applianceEndpoints(flocks);
    this.endpoint = endpoints.getFirst();
    this.identity = identity;
    this.name = name;
    this.handler = handler;
  }

  public void start() {
    loop = Thread.ofVirtual().name("flock-connection").start(this::runForever);
  }

  public boolean isRegistered() {
    return registered;
  }

  /**
   * Registers from now on with {@code flock} under {@code name}: drops the current connection
   * (if either changed) and connects again, with no back-off wait beyond the first step.
   */
  public void retarget(URI flock, String name) {
    retarget(List.of(flock), name);
  }

  /** {@link #retarget(URI, String)} with several flock URLs, tried in turn. */
  public void retarget(List<URI> flocks, String name) {
    List<URI> targets = applianceEndpoints(flocks);
    if (targets.equals(endpoints) && name.equals(this.name)) {
      return;
    }
    endpoints = targets;
    next = 0;
    endpoint = targets.getFirst();
    this.name = name;
    Session session = current;
    if (session != null) {
      session.end(); // connectOnce() returns, and the loop connects to the new endpoint
    }
  }

  /** Sends a message if connected; returns false when there is no connection right now. */
  public boolean send(ApplianceMessage message) {
    WebSocket ws = socket.get();
    if (ws == null || !registered) {
      return false;
    }
    synchronized (sendLock) { // the JDK WebSocket allows one outstanding send
      try {
        ws.sendText(SignalCodec.encode(message), true).get(10, TimeUnit.SECONDS);
        return true;
      } catch (Exception e) {
        ws.abort();
        return false;
      }
    }
  }

  private void runForever() {
    long backoff = FIRST_BACKOFF_MS;
    while (!closed) {
      List<URI> targets = endpoints;
      URI target = targets.get(Math.floorMod(next, targets.size()));
      endpoint = target;
      boolean wasRegistered = connectOnce();
      if (closed) {
        break;
      }
      if (endpoints == targets) { // unless retarget() started over meanwhile: the next node
        next = Math.floorMod(next + 1, targets.size());
      }
      backoff = wasRegistered ? FIRST_BACKOFF_MS : Math.min(backoff * 2, MAX_BACKOFF_MS);
      long jittered = (long) (backoff * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
      try {
        Thread.sleep(jittered);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static List<URI> applianceEndpoints(List<URI> flocks) {
    if (flocks.isEmpty()) {
      throw new IllegalArgumentException("at least one flock URL");
    }
    return flocks.stream().map(f -> f.resolve("/appliance")).distinct().toList();
  }

  /** The flock URL (its {@code /appliance} endpoint) this connection uses or tries now. */
  public URI endpoint() {
    return endpoint;
  }

  /** One connection's life; returns whether it got as far as being registered. */
  private boolean connectOnce() {
    Session session = new Session();
    current = session;
    WebSocket ws;
    try {
      ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
          .buildAsync(endpoint, session).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.log(Level.DEBUG, "flock {0} unreachable: {1}", endpoint, e.getMessage());
      return false;
    }
    socket.set(ws);
    try {
      while (!closed && !session.ended.await(HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() - session.lastHeard > SILENCE_LIMIT.toNanos()) {
          LOG.log(Level.WARNING, "flock {0} silent for {1} s; reconnecting", endpoint, SILENCE_LIMIT.toSeconds());
          break;
        }
        if (registered) {
          send(new Ping());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    boolean wasRegistered = session.wasRegistered;
    registered = false;
    socket.set(null);
    ws.abort();
    if (wasRegistered && !closed) {
      LOG.log(Level.WARNING, "lost the flock {0}; reconnecting", endpoint);
      handler.onDisconnected();
    }
    return wasRegistered;
  }

  /** Receives one connection's messages, reassembling text split into parts. */
  private final class Session implements WebSocket.Listener {
    final CountDownLatch ended = new CountDownLatch(1);
    volatile long lastHeard = System.nanoTime();
    volatile boolean wasRegistered;
    private final StringBuilder text = new StringBuilder();

    /**
     * Ends this connection's life. Registration ends here and now, not when the loop wakes:
     * the loop may be waiting up to 10 s on a ping's send, and nothing may be routed to a
     * connection the flock has dropped.
     */
    void end() {
      if (current == this) {
        registered = false;
      }
      ended.countDown();
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      lastHeard = System.nanoTime();
      text.append(data);
      if (text.length() > SignalCodec.MAX_MESSAGE_BYTES) {
        LOG.log(Level.WARNING, "flock sent an oversize message; reconnecting");
        end();
        return null;
      }
      if (last) {
        String message = text.toString();
        text.setLength(0);
        dispatch(ws, message);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      LOG.log(Level.WARNING, "flock sent a binary message; reconnecting");
      end();
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      LOG.log(Level.INFO, "flock closed the connection: {0} {1}", status, reason);
      end();
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      LOG.log(Level.DEBUG, "flock connection error: {0}", error.toString());
      end();
    }

    private void dispatch(WebSocket ws, String message) {
      switch (SignalCodec.decodeAppliance(message)) {
        case Decoded.Invalid<ApplianceMessage> bad -> {
          LOG.log(Level.WARNING, "flock sent an invalid message ({0}); reconnecting", bad.reason());
          end();
        }
        case Decoded.Ok<ApplianceMessage> ok -> {
          switch (ok.message()) {
            case Challenge c -> {
              String reply = SignalCodec.encode(new Register(identity.publicKey(), name, identity.signRegistration(c.nonce())));
              synchronized (sendLock) {
                ws.sendText(reply, true);
              }
            }
            case Registered r -> {
              if (current != this) {
                end(); // a connection the loop has already left behind
                return;
              }
              wasRegistered = true;
              registered = true;
              LOG.log(Level.INFO, "registered with flock {0} as {1}", endpoint, r.appliance());
              handler.onRegistered(r.appliance(), r.iceServers());
            }
            case Pong p -> { }
            default -> dispatcher.execute(() -> handler.onMessage(ok.message()));
          }
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    WebSocket ws = socket.get();
    if (ws != null) {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "appliance stopping");
      ws.abort();
    }
    if (loop != null) {
      loop.interrupt();
    }
    dispatcher.shutdownNow();
  }
}

package org.intrustd.flock;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.intrustd.core.signal.ErrorCode;
import org.intrustd.core.signal.SignalMessage;

/**
 * The transport half of one WebSocket connection, shared by both endpoints: rate limit, size
 * limit, binary rejection, error replies and the single close path. Subclasses decode and
 * dispatch text messages.
 *
 * <p>Threading: Jetty delivers one message at a time per connection and demands the next only
 * after the handler returns ({@link Session.Listener.AutoDemanding}), so {@link #received} runs
 * sequentially. Other connections' threads and the housekeeper may concurrently send to this
 * connection or close it; Jetty queues concurrent sends in call order, and {@link #over} makes
 * the end of the connection happen once.
 *
 * <p>Public only because Jetty binds the listener methods through a public method-handle lookup
 * in the concrete class, so both endpoint classes must be public too. Sealed, with
 * package-private constructors and no public methods beyond the listener's, they cannot be used
 * outside this package.
 */
public abstract sealed class Endpoint implements Session.Listener.AutoDemanding permits ApplianceEndpoint, ClientEndpoint {
  private static final System.Logger LOG = System.getLogger(Endpoint.class.getName());
  /** Application close status for a registration that a newer one replaced (flock.md). */
  static final int REPLACED = 4001;
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  final Hub hub;
  final String id;
  final Sessions sessions = new Sessions();
  private final TokenBucket bucket;
  private final AtomicBoolean over = new AtomicBoolean();
  private volatile Session session;

  Endpoint(Hub hub, char kind) {
    this.hub = hub;
    this.id = hub.nextConnectionId(kind);
    this.bucket = new TokenBucket(hub.clock(), hub.limits().messagesPerSecond(), hub.limits().burst());
  }

  /** The connection is up: send the greeting. */
  abstract void opened();

  /** One text message within the limits: decode and act on it. */
  abstract void received(String text);

  /** The connection is over (either side closed it): release what it holds. Called once. */
  abstract void ended();

  abstract void send(SignalMessage.Error error);

  @Override
  public final void onWebSocketOpen(Session opened) {
    session = opened;
    hub.metrics().connectionOpened(this);
    log(Level.DEBUG, "open from " + opened.getRemoteSocketAddress());
    opened();
  }

  @Override
  public final void onWebSocketText(String text) {
    if (over.get()) {
      return;
    }
    try {
      if (!bucket.tryTake()) {
        fail(ErrorCode.RATE_LIMITED, "more than " + hub.limits().messagesPerSecond() + " messages/s");
      } else if (tooLarge(text)) {
        fail(ErrorCode.MESSAGE_TOO_LARGE, "a message is at most " + hub.limits().maxMessageBytes() + " bytes");
      } else {
        received(text);
      }
    } catch (RuntimeException e) { // a bug here must cost this connection only, never the flock
      LOG.log(Level.ERROR, "[" + id + "] failed handling a message", e);
      close(StatusCode.SERVER_ERROR, "internal error");
    }
  }

  @Override
  public final void onWebSocketBinary(ByteBuffer payload, Callback callback) {
    callback.succeed();
    if (!over.get()) {
      fail(ErrorCode.BAD_MESSAGE, "binary messages are not part of the protocol");
    }
  }

  @Override
  public final void onWebSocketError(Throwable cause) {
    end("connection lost: " + cause);
  }

  @Override
  public final void onWebSocketClose(int status, String reason, Callback callback) {
    end("closed by peer " + status + (reason == null || reason.isEmpty() ? "" : " " + reason));
    callback.succeed();
  }

  /** A protocol error that ends the connection: tell the peer why, then close. */
  final void fail(ErrorCode code, String message) {
    hub.metrics().protocolError(code);
    send(new SignalMessage.Error(code.wire(), message, Optional.empty()));
    int status = code == ErrorCode.MESSAGE_TOO_LARGE ? StatusCode.MESSAGE_TOO_LARGE : StatusCode.POLICY_VIOLATION;
    terminate(status, code.wire(), code.wire() + ": " + message);
  }

  /** A refused request about one session; the connection stays open. */
  final void refuse(ErrorCode code, String message, String sessionId) {
    send(new SignalMessage.Error(code.wire(), message, Optional.of(sessionId)));
  }

  /** The open session the peer names, or empty after answering {@code unknown-session}. */
  final Optional<Link> openSession(String sessionId) {
    Optional<Link> link = sessions.get(sessionId);
    if (link.isEmpty()) {
      refuse(ErrorCode.UNKNOWN_SESSION, "no open session '" + sessionId + "'", sessionId);
    }
    return link;
  }

  /** Closes with a short ASCII {@code reason} (a close frame holds at most 123 bytes of it). */
  final void close(int status, String reason) {
    terminate(status, reason, reason);
  }

  final void sendText(String json) {
    session.sendText(json, Callback.from(() -> { }, this::sendFailed));
  }

  final boolean isOver() {
    return over.get();
  }

  /** Logs one line; control characters from peer-chosen text cannot forge further lines. */
  final void log(Level level, String message) {
    LOG.log(level, "[" + id + "] " + CONTROL.matcher(message).replaceAll("?"));
  }

  @Override
  public String toString() {
    return "[" + id + "]";
  }

  /** A peer that does not read lets Jetty's outgoing queue fill; it loses its connection. */
  private void sendFailed(Throwable cause) {
    if (end("send failed: " + cause)) {
      session.disconnect();
    }
  }

  private void terminate(int status, String reason, String detail) {
    if (end("closing " + status + " " + detail)) {
      session.close(status, reason, Callback.NOOP);
    }
  }

  private boolean end(String why) {
    if (!over.compareAndSet(false, true)) {
      return false;
    }
    log(Level.INFO, why);
    if (session != null) { // opened, so counted
      hub.metrics().connectionClosed(this);
    }
    ended();
    return true;
  }

  private boolean tooLarge(String text) {
    int max = hub.limits().maxMessageBytes();
    // A UTF-8 byte count is between length() and 3 × length(): measure only when it matters.
    return text.length() > max
        || (text.length() * 3L > max && text.getBytes(StandardCharsets.UTF_8).length > max);
  }
}

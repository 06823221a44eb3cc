package org.intrustd.appliance.proxy;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.intrustd.appliance.access.LinkAccess;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.proxy.RequestHead.BodyFraming;
import org.intrustd.link.Channel;
import org.intrustd.link.LinkException;
import org.intrustd.link.frame.FlowWindow;
import org.intrustd.link.frame.StreamFrame;

/**
 * One HTTP/1.1 exchange between a channel and an app's Unix socket (docs/spec/channels.md).
 *
 * <p>Two threads: the engine's callback thread turns channel messages into {@link Event}s on a
 * queue, and {@link #run} on a virtual thread parses the head, starts the app, writes the
 * request and exactly its body to the socket, while a second virtual thread pumps the app's
 * response back as DATA frames. Both directions are flow-controlled ({@link FlowWindow}): the
 * client gets credit back only for what the app has read, and the pump reads from the app only
 * what the client has credit for. Memory per exchange is bounded by one window and one 64 KiB
 * buffer, and the engine thread never waits for a slow app.
 */
final class Exchange implements Channel.Handler, LinkAccess.Revocable {
  private static final System.Logger LOG = System.getLogger("intrustd.proxy");
  /**
   * Frames waiting for the app. The window bounds their bytes; this bounds their number (and so
   * the memory a flood of 1-byte frames could take), since the engine thread never waits here:
   * all of the link's channels share it. A client that fills it while the app reads nothing is reset.
   */
  private static final int QUEUE_MESSAGES = 16_384;
  private static final long LINGER_SECONDS = 30;
  /** How long a refused channel may take to open before it is closed without a RESET. */
  private static final long REFUSE_PATIENCE_SECONDS = 5;
  private static final long REFUSE_LINGER_MILLIS = 1_000;
  private static final byte[] SWITCHING = "HTTP/1.1 101 ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /** What the channel delivered, in order. */
  private sealed interface Event {
    record Bytes(ByteBuffer data) implements Event {}

    record End() implements Event {}

    record Reset(String reason) implements Event {}

    record Invalid(String reason) implements Event {}

    record Closed() implements Event {}
  }

  /** Ends the exchange early; {@code reset} says whether to tell the client with RESET. */
  private static final class Abort extends Exception {
    final boolean reset;

    Abort(String reason, boolean reset) {
      super(reason, null, false, false);
      this.reset = reset;
    }
  }

  /**
   * How an exchange went, for the access log: {@code status} is the app's (or the daemon's)
   * response status, 0 when there was none; {@code result} is {@code ok}, {@code refused},
   * {@code error} or {@code revoked}.
   */
  record Outcome(String method, String target, int status, long bytesIn, long bytesOut, long millis, String result) {}

  private final String linkId;
  private final String appId;
  private final Channel channel;
  private final Upstream upstream;
  private final Gate gate;
  private volatile Problem refusal;
  private final BlockingQueue<Event> inbound = new ArrayBlockingQueue<>(QUEUE_MESSAGES);
  private final FlowWindow flow = new FlowWindow();
  /** Bytes of the last {@link Event.Bytes} that {@link #next} handed out: consumed once it is asked again. */
  private int lastTaken;
  private final long started = System.nanoTime();
  private volatile boolean channelClosed;
  private volatile boolean overflowed;
  private volatile boolean finished;
  private volatile boolean revoked;
  private volatile RequestHead head;
  private volatile int status;
  private volatile String failure;
  private final AtomicLong bytesIn = new AtomicLong();
  private final AtomicLong bytesOut = new AtomicLong();

  /**
   * Admits a request once its head has arrived (so the decision is as of the request, not of
   * the channel's opening), and hears how it went.
   */
  interface Gate {
    /** The trusted headers to add, or the problem the daemon answers instead. */
    sealed interface Verdict {
      record Enter(Map<String, String> trusted) implements Verdict {}

      record Refuse(Problem problem) implements Verdict {}
    }

    Verdict enter(Exchange exchange);

    /** Runs once, when the exchange has ended. */
    void left(Outcome outcome);
  }

  Exchange(String linkId, Upstream upstream, Channel channel, Gate gate) {
    this.linkId = linkId;
    this.appId = upstream.name();
    this.upstream = upstream;
    this.channel = channel;
    this.gate = gate;
  }

  /** Closes the exchange because its caller lost the right to it (RESET with the reason). */
  @Override
  public void revoke(String reason) {
    revoked = true;
    reset(reason);
    channel.close();
  }

  /**
   * Refuses a channel that is not ours: RESET with a reason once it is open, then close. The
   * close does not wait for the engine's open event: libwebrtc does not always report one for
   * a channel that is closed at once, and a client must never be left with a channel that
   * neither answers nor closes. After the RESET the peer gets a moment to close first: a close
   * right behind it could overtake the client's own open, and libwebrtc then drops the RESET.
   */
  static void refuse(Channel channel, String reason) {
    CompletableFuture<Void> opened = new CompletableFuture<>();
    CompletableFuture<Void> closed = new CompletableFuture<>();
    channel.setHandler(new Channel.Handler() {
      @Override
      public void onOpen() {
        opened.complete(null);
      }

      @Override
      public void onMessage(ByteBuffer data, boolean binary) {}

      @Override
      public void onClose() {
        opened.complete(null);
        closed.complete(null);
      }
    });
    Thread.ofVirtual().start(() -> {
      try {
        opened.get(REFUSE_PATIENCE_SECONDS, TimeUnit.SECONDS);
        if (channel.isOpen()) {
          channel.send(StreamFrame.encode(new StreamFrame.Reset(reason)));
          closed.get(REFUSE_LINGER_MILLIS, TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException | LinkException | ExecutionException | TimeoutException e) {
        // the client left already, or the engine never said "open": close regardless
      }
      channel.close();
    });
  }

  // ------------------------------------------------------------ engine callbacks

  @Override
  public void onOpen() {}

  @Override
  public void onMessage(ByteBuffer data, boolean binary) {
    if (finished) {
      return;
    }
    Event event;
    if (!binary) {
      event = new Event.Invalid("text message on a stream channel");
    } else {
      event = switch (StreamFrame.decode(data)) {
        case StreamFrame.Decoded.Invalid bad -> new Event.Invalid(bad.reason());
        case StreamFrame.Decoded.Ok ok -> switch (ok.frame()) {
          case StreamFrame.Data d -> flow.received(d.payload().remaining())
              ? new Event.Bytes(copy(d.payload()))
              : new Event.Invalid("more DATA than the flow-control window allows");
          case StreamFrame.End e -> new Event.End();
          case StreamFrame.Reset r -> new Event.Reset(r.reason());
          case StreamFrame.Window w -> flow.granted(w.increment())
              ? null
              : new Event.Invalid("WINDOW credit over 2^31-1");
        };
      };
    }
    if (event == null) {
      return; // credit for the response pump, already counted
    }
    if (!inbound.offer(event)) {
      overflowed = true;
    }
  }

  @Override
  public void onClose() {
    channelClosed = true;
    flow.close();
    inbound.offer(new Event.Closed()); // if full, next() notices channelClosed
  }

  private static ByteBuffer copy(ByteBuffer b) {
    ByteBuffer c = ByteBuffer.allocate(b.remaining());
    c.put(b.duplicate()).flip();
    return c;
  }

  /** The next event; the bytes of the one before count as consumed (written to the app, or parsed). */
  private Event next() throws Abort {
    try {
      grant(lastTaken);
      lastTaken = 0;
      if (overflowed) {
        throw new Abort(QUEUE_MESSAGES + " frames waiting while the app reads none of them", true);
      }
      while (true) {
        Event e = inbound.poll(250, TimeUnit.MILLISECONDS);
        if (e instanceof Event.Bytes b) {
          lastTaken = b.data().remaining();
        }
        if (e != null) {
          return e;
        }
        if (channelClosed) {
          return new Event.Closed();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Abort("the appliance is shutting down", true);
    }
  }

  // ------------------------------------------------------------ the exchange

  void run() {
    try {
      RequestHeadParser parser = new RequestHeadParser();
      ByteBuffer rest = null;
      RequestHead head = null;
      while (head == null) {
        switch (next()) {
          case Event.Bytes b -> {
            switch (parser.feed(b.data())) {
              case RequestHeadParser.Result.NeedMore more -> { }
              case RequestHeadParser.Result.Done done -> {
                head = done.head();
                this.head = head;
                rest = b.data();
              }
              case RequestHeadParser.Result.Failed failed -> {
                respond(new Problem(failed.status(), failed.reason()));
                return;
              }
            }
          }
          case Event.End e -> throw new Abort("the request ended before its head did", true);
          case Event.Reset r -> throw new Abort("client reset: " + r.reason(), false);
          case Event.Invalid i -> throw new Abort(i.reason(), true);
          case Event.Closed c -> throw new Abort("channel closed", false);
        }
      }
      Map<String, String> trusted;
      switch (gate.enter(this)) {
        case Gate.Verdict.Refuse r -> {
          refusal = r.problem();
          respond(r.problem());
          return;
        }
        case Gate.Verdict.Enter e -> trusted = e.trusted();
      }
      if (!upstream.exists()) {
        respond(new Problem(404, "no app named '" + appId + "' on this appliance"));
        return;
      }
      proxy(head, rest, trusted);
    } catch (Abort a) {
      LOG.log(Level.DEBUG, "[{0}] {1}: {2}", linkId, appId, a.getMessage());
      failure = a.getMessage();
      if (a.reset) {
        reset(a.getMessage());
      }
      finish();
    }
  }

  private void proxy(RequestHead head, ByteBuffer rest, Map<String, String> trusted) throws Abort {
    Path socket;
    try {
      socket = upstream.acquire();
    } catch (AppException e) {
      respond(new Problem(503, e.getMessage()));
      return;
    }
    try (SocketChannel app = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      try {
        app.connect(UnixDomainSocketAddress.of(socket));
      } catch (IOException e) {
        respond(new Problem(502, "app '" + appId + "' does not accept connections"));
        return;
      }
      CompletableFuture<Boolean> switched = new CompletableFuture<>();
      Thread pump = Thread.ofVirtual().name("response-" + appId).start(() -> pumpResponse(app, switched));
      try {
        writeAll(app, ByteBuffer.wrap(RequestRewriter.rewrite(head, appId, trusted)));
        bytesIn.set(0); // the request's size is the client's body, not the rewritten head
        forwardBody(head.framing(), rest, app, switched);
        pump.join();
      } catch (Abort a) {
        closeQuietly(app); // ends the pump too
        pump.join();
        throw a;
      }
    } catch (IOException e) {
      throw new Abort("app socket: " + e.getMessage(), true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Abort("the appliance is shutting down", true);
    } finally {
      upstream.release(); // before lingering: the app is done, and may be stopped as idle
    }
    try {
      lingerForClientEnd();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    finish();
  }

  /**
   * Forwards exactly the framed body (or, after an upgrade, everything until END, but only once
   * the app has switched protocols: an app that answers an upgrade request with anything but
   * 101 keeps reading HTTP, and would take the bytes after the head for a request the daemon
   * never rewrote).
   */
  private void forwardBody(BodyFraming framing, ByteBuffer rest, SocketChannel app, CompletableFuture<Boolean> switched)
      throws Abort {
    BodyFramer framer = switch (framing) {
      case BodyFraming.None n -> BodyFramer.forLength(0);
      case BodyFraming.Length l -> BodyFramer.forLength(l.bytes());
      case BodyFraming.Chunked c -> BodyFramer.chunked();
      case BodyFraming.Upgrade u -> null;
    };
    ByteBuffer pending = rest;
    while (true) {
      if (pending != null && pending.hasRemaining()) {
        if (framer == null) {
          if (!awaitSwitched(switched)) {
            throw new Abort("data after the end of the request (the app did not switch protocols)", true);
          }
          bytesIn.addAndGet(pending.remaining());
          writeAll(app, pending);
        } else {
          if (framer.isDone()) {
            throw new Abort("data after the end of the request (one request per channel)", true);
          }
          int n = framer.scan(pending);
          if (framer.isFailed()) {
            throw new Abort("malformed request body: " + framer.failure(), true);
          }
          bytesIn.addAndGet(n);
          writeAll(app, pending.slice(pending.position(), n));
          pending.position(pending.position() + n);
          if (pending.hasRemaining()) {
            throw new Abort("data after the end of the request (one request per channel)", true);
          }
        }
      }
      switch (next()) {
        case Event.Bytes b -> pending = b.data();
        case Event.End e -> {
          if (framer != null && !framer.isDone()) {
            throw new Abort("the request body ended early", true);
          }
          shutdownOutput(app);
          return;
        }
        case Event.Reset r -> throw new Abort("client reset: " + r.reason(), false);
        case Event.Invalid i -> throw new Abort(i.reason(), true);
        case Event.Closed c -> throw new Abort("channel closed", false);
      }
    }
  }

  /** Whether the app answered 101; waits for its status line while the client is still there. */
  private boolean awaitSwitched(CompletableFuture<Boolean> switched) throws Abort {
    try {
      while (true) {
        try {
          return switched.get(250, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          if (channelClosed) {
            throw new Abort("channel closed", false);
          }
        }
      }
    } catch (ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Abort("the appliance is shutting down", true);
    }
  }

  /** Sends the app's response as DATA frames; completes {@code switched} once its status line shows whether it is 101. */
  private void pumpResponse(SocketChannel app, CompletableFuture<Boolean> switched) {
    ByteBuffer buf = ByteBuffer.allocateDirect(StreamFrame.MAX_MESSAGE);
    byte[] status = new byte[SWITCHING.length];
    int statusLength = 0;
    try {
      while (true) {
        int credit = flow.awaitCredit(StreamFrame.MAX_PAYLOAD);
        if (credit == 0) {
          closeQuietly(app); // the channel closed: stop the app's side too
          return;
        }
        buf.clear();
        buf.put(StreamFrame.DATA);
        buf.limit(1 + credit); // never read more from the app than the client lets us send
        int n = app.read(buf);
        if (n < 0) {
          break;
        }
        if (n == 0) {
          continue;
        }
        buf.flip();
        int take = Math.min(n, status.length - statusLength);
        if (take > 0) {
          buf.get(1, status, statusLength, take);
          statusLength += take;
          if (statusLength == status.length) {
            switched.complete(java.util.Arrays.equals(status, SWITCHING));
            this.status = statusCode(status);
          }
        }
        bytesOut.addAndGet(n);
        flow.spend(n);
        channel.send(buf);
      }
      channel.send(StreamFrame.encode(new StreamFrame.End()));
    } catch (IOException e) {
      if (app.isOpen()) {
        reset("the app's connection failed: " + e.getMessage());
      }
    } catch (LinkException e) {
      closeQuietly(app); // the client went away: stop the app's side too
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closeQuietly(app);
    } finally {
      switched.complete(false);
    }
  }

  /** Waits briefly for the client's END or close, so nothing of the response is cut off. */
  private void lingerForClientEnd() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LINGER_SECONDS);
    while (!channelClosed && System.nanoTime() < deadline) {
      Event e = inbound.poll(250, TimeUnit.MILLISECONDS);
      if (e instanceof Event.Bytes b) {
        grant(b.data().remaining()); // a body nobody reads after an early answer: let the client reach its END
      }
      if (e instanceof Event.End || e instanceof Event.Closed || e instanceof Event.Reset) {
        return;
      }
    }
  }

  /** The status code of a status line's first 13 bytes ({@code HTTP/1.1 NNN }), or 0. */
  private static int statusCode(byte[] line) {
    int code = 0;
    for (int i = 9; i < 12; i++) {
      if (line[i] < '0' || line[i] > '9') {
        return 0;
      }
      code = code * 10 + (line[i] - '0');
    }
    return code;
  }

  private void respond(Problem problem) {
    LOG.log(Level.DEBUG, "[{0}] {1}: {2} {3}", linkId, appId, problem.status(), problem.detail());
    status = problem.status();
    try {
      byte[] response = problem.toResponse();
      bytesOut.addAndGet(response.length);
      for (int off = 0, n; off < response.length; off += n) {
        n = flow.awaitCredit(Math.min(StreamFrame.MAX_PAYLOAD, response.length - off));
        if (n == 0) {
          break; // the client left
        }
        flow.spend(n);
        channel.send(StreamFrame.encode(new StreamFrame.Data(ByteBuffer.wrap(response, off, n))));
      }
      channel.send(StreamFrame.encode(new StreamFrame.End()));
      lingerForClientEnd();
    } catch (LinkException e) {
      // the client left; nothing to tell
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    finish();
  }

  /** Gives the client credit for {@code consumed} more bytes, once enough have been taken. */
  private void grant(int consumed) throws InterruptedException {
    int increment = flow.consumed(consumed);
    if (increment > 0) {
      try {
        channel.send(StreamFrame.encode(new StreamFrame.Window(increment)));
      } catch (LinkException e) {
        // the client left; the next event says so
      }
    }
  }

  private void reset(String reason) {
    try {
      channel.send(StreamFrame.encode(new StreamFrame.Reset(reason)));
    } catch (LinkException | InterruptedException e) {
      // the client left already
    }
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    flow.close();
    inbound.clear();
    channel.close();
    RequestHead h = head;
    String result = revoked ? "revoked" : refusal != null ? "refused" : failure != null ? "error" : "ok";
    try {
      gate.left(new Outcome(h == null ? "" : h.method(), h == null ? "" : h.target(), status, bytesIn.get(),
          bytesOut.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), result));
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "[{0}] recording an exchange failed: {1}", linkId, e.toString());
    }
  }

  private static void writeAll(SocketChannel app, ByteBuffer data) throws Abort {
    try {
      while (data.hasRemaining()) {
        app.write(data);
      }
    } catch (IOException e) {
      throw new Abort("the app stopped reading the request: " + e.getMessage(), true);
    }
  }

  private static void shutdownOutput(SocketChannel app) {
    try {
      app.shutdownOutput();
    } catch (IOException e) {
      // the app closed first; its response (or its absence) tells the rest
    }
  }

  private static void closeQuietly(SocketChannel app) {
    try {
      app.close();
    } catch (IOException e) {
      // closing is best effort
    }
  }
}

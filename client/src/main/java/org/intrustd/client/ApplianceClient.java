package org.intrustd.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.intrustd.core.access.SessionProof;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.link.Channel;
import org.intrustd.link.ChannelSpec;
import org.intrustd.link.IceCandidate;
import org.intrustd.link.Link;
import org.intrustd.link.LinkConfig;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.LinkListener;
import org.intrustd.link.LinkState;

/**
 * The browser's side of Intrustd, in Java (for the CLI and devices): asks a flock to introduce
 * it to an appliance, refuses the link unless the answer is signed by the key behind the
 * appliance ID ({@link AnswerCheck}), and then runs HTTP exchanges over data channels, one
 * channel each, exactly as the shim does (docs/spec/channels.md). The flock may be the one on
 * the internet or the appliance's own LAN flock: the link is the same end-to-end one.
 */
public final class ApplianceClient implements AutoCloseable {
  /** The label the link's first channel carries (an offer needs one): the session API. */
  private static final String FIRST_CHANNEL = "intrustd/session";
  private static final int MAX_RESPONSE = 16 << 20;

  private final Link link;
  private final WebSocket flock;
  private final Duration timeout;
  private static final java.util.concurrent.ScheduledExecutorService TIMER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("exchange-timer").factory());

  private final String fingerprint;
  // The offer's own channel, until the first request uses it (or, for another label, closes it).
  private ChannelStream first;

  private ApplianceClient(Link link, String fingerprint, WebSocket flock, ChannelStream first, Duration timeout) {
    this.link = link;
    this.fingerprint = fingerprint;
    this.flock = flock;
    this.first = first;
    this.timeout = timeout;
  }

  /** How long after a {@code node-lost} the client keeps introducing itself again, as the shim does. */
  static final Duration FAILOVER = Duration.ofSeconds(10);
  static final Duration FAILOVER_PAUSE = Duration.ofMillis(250);

  /**
   * Connects to {@code appliance} through the flock at {@code flockUri} ({@code ws://} or
   * {@code wss://}), within {@code timeout} for each step. When a flock cluster node that
   * carried the introduction dies ({@code node-lost}), it introduces itself again, for up to
   * {@link #FAILOVER}, while the appliance registers on another node ({@code appliance-offline}
   * until it has).
   */
  public static ApplianceClient connect(URI flockUri, ApplianceId appliance, LinkFactory links, Duration timeout) {
    return throughNodeLoss(() -> connectOnce(flockUri, appliance, links, timeout), System::nanoTime, pause -> {
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ClientException("interrupted", e);
      }
    });
  }

  /** Runs {@code attempt} again after a {@code node-lost}, and after {@code appliance-offline} within {@link #FAILOVER} of one. */
  static <T> T throughNodeLoss(java.util.function.Supplier<T> attempt, java.util.function.LongSupplier nanoTime,
      java.util.function.Consumer<Duration> sleep) {
    long movingSince = 0;
    boolean moving = false;
    for (;;) {
      try {
        return attempt.get();
      } catch (ClientException e) {
        String code = e.flockCode().orElse("");
        if (code.equals("node-lost") && !moving) {
          moving = true;
          movingSince = nanoTime.getAsLong();
        }
        boolean retry = moving && nanoTime.getAsLong() - movingSince < FAILOVER.toNanos()
            && (code.equals("node-lost") || code.equals("appliance-offline"));
        if (!retry) {
          throw e;
        }
        sleep.accept(FAILOVER_PAUSE);
      }
    }
  }

  private static ApplianceClient connectOnce(URI flockUri, ApplianceId appliance, LinkFactory links, Duration timeout) {
    Signalling signalling = new Signalling();
    WebSocket ws;
    try {
      ws = HttpClient.newBuilder().connectTimeout(timeout).build().newWebSocketBuilder()
          .buildAsync(flockUri.resolve("/client"), signalling).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new ClientException("cannot reach the flock at " + flockUri + ": " + rootMessage(e), e);
    }
    try {
      Hello hello = signalling.await(Hello.class, timeout);
      List<LinkConfig.IceServer> ice = hello.iceServers().stream()
          .map(s -> new LinkConfig.IceServer(s.urls(), s.username(), s.credential())).toList();
      String session = "c" + Long.toHexString(System.nanoTime());
      LinkFactory.PendingOffer offer = links.offer(new ChannelSpec(FIRST_CHANNEL, "intrustd/1"), new LinkConfig(ice),
          new LinkListener() {
            @Override
            public void onLocalCandidate(IceCandidate c) {
              signalling.sendWhenIntroduced(ws, new Candidate(session, c.candidate(), c.sdpMid(), c.sdpMLineIndex()));
            }

            @Override
            public void onChannel(Channel channel) {
              channel.close(); // the appliance never opens channels in version 1
            }

            @Override
            public void onStateChange(LinkState state) { }
          });
      ChannelStream first = new ChannelStream(offer.firstChannel()); // its handler must be set before it opens
      send(ws, new Introduce(session, appliance.toString(), offer.sdp()));
      ClientAnswer answer;
      try {
        answer = signalling.await(ClientAnswer.class, timeout);
      } catch (ClientException e) {
        offer.link().close();
        throw e;
      }
      var problem = AnswerCheck.problem(appliance, offer.sdp(), answer);
      if (problem.isPresent()) {
        offer.link().close();
        throw new ClientException("refusing the link: " + problem.get() + " (the flock or the network tampered with it)");
      }
      offer.accept(answer.sdp());
      signalling.introduced(ws, candidate -> offer.link().addRemoteCandidate(candidate));
      String fingerprint = SessionProof.fingerprintOf(offer.sdp())
          .orElseThrow(() -> new IllegalStateException("the engine made an offer with no DTLS fingerprint"));
      return new ApplianceClient(offer.link(), fingerprint, ws, first, timeout);
    } catch (RuntimeException e) {
      ws.abort();
      throw e;
    }
  }

  /**
   * One HTTP exchange on a fresh channel labelled {@code label} ({@code http/<app>},
   * {@code intrustd/session} or {@code intrustd/admin}); the whole response, up to 16 MiB.
   */
  public HttpResult request(String label, String method, String path, Map<String, String> headers, byte[] body) {
    return request(label, method, path, headers, new ByteArrayInputStream(body), body.length, n -> { });
  }

  /**
   * The same with a body of {@code length} bytes streamed from {@code body} (a file to upload,
   * say), reporting the bytes sent so far to {@code progress}. The timeout applies to the
   * channel's opening and to the response after the request, not to a long upload.
   */
  public HttpResult request(String label, String method, String path, Map<String, String> headers,
      InputStream body, long length, LongConsumer progress) {
    Map<String, String> all = new LinkedHashMap<>(headers);
    if (length > 0 || method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
      all.put("Content-Length", Long.toString(length));
    }
    byte[] head = head(label, method, path, all);
    ChannelStream stream = open(label);
    var watchdog = new java.util.concurrent.atomic.AtomicReference<java.util.concurrent.ScheduledFuture<?>>();
    try {
      OutputStream out = stream.out();
      out.write(head);
      byte[] buf = new byte[org.intrustd.link.frame.StreamFrame.MAX_PAYLOAD]; // one DATA frame each
      long sent = 0;
      for (int n; (n = body.read(buf)) > 0; ) {
        out.write(buf, 0, n);
        progress.accept(sent += n);
      }
      out.close();
      watchdog.set(TIMER.schedule(() -> stream.reset("no complete response within " + timeout.toSeconds() + " s"),
          timeout.toMillis(), TimeUnit.MILLISECONDS));
      byte[] response = stream.in().readNBytes(MAX_RESPONSE + 1);
      if (response.length > MAX_RESPONSE) {
        stream.reset("the response is over " + MAX_RESPONSE + " bytes");
        throw new ClientException("the response is over " + MAX_RESPONSE + " bytes");
      }
      return ResponseParser.parse(response);
    } catch (IOException e) {
      throw new ClientException(stream.failure() != null ? stream.failure() : "the exchange failed: " + e.getMessage(), e);
    } finally {
      if (watchdog.get() != null) {
        watchdog.get().cancel(false);
      }
      stream.close();
    }
  }

  /** A request head: {@code Host} (the app, or {@code intrustd}) first, then {@code headers}. */
  private static byte[] head(String label, String method, String path, Map<String, String> headers) {
    StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    Map<String, String> all = new LinkedHashMap<>();
    all.put("Host", label.startsWith("http/") ? label.substring(5) : "intrustd");
    all.putAll(headers);
    all.forEach((k, v) -> {
      if (!k.matches("[A-Za-z0-9-]+") || v.contains("\r") || v.contains("\n")) {
        throw new IllegalArgumentException("a bad header: " + k);
      }
      head.append(k).append(": ").append(v).append("\r\n");
    });
    return head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A fresh stream channel labelled {@code label} ({@code http/<app>}, {@code intrustd/session}
   * or {@code intrustd/admin}), open: the caller writes a request and reads the response, each as
   * long as it likes (docs/spec/channels.md).
   */
  public ChannelStream open(String label) {
    ChannelStream stream;
    synchronized (this) { // not while it opens: other requests open theirs meanwhile
      stream = first != null && label.equals(FIRST_CHANNEL) ? first : null;
      if (first != null && stream == null) {
        first.close();
      }
      first = null;
      if (stream == null) {
        if (link.state().isFinal()) {
          throw new ClientException("the link to the appliance is " + link.state().name().toLowerCase(java.util.Locale.ROOT));
        }
        stream = new ChannelStream(link.openChannel(new ChannelSpec(label, "intrustd/1")));
      }
    }
    try {
      return stream.awaitOpen(timeout);
    } catch (ClientException e) {
      stream.close();
      throw e;
    }
  }

  /** Whether the link still stands (it fails when the appliance goes away, and does not come back). */
  public boolean isUp() {
    return !link.state().isFinal();
  }

  /** This end's DTLS certificate fingerprint, as session proofs name it (docs/spec/access.md). */
  public String fingerprint() {
    return fingerprint;
  }

  /**
   * Resumes an enrolled device's session on this link (docs/spec/devices.md): the appliance's
   * session description, or its refusal (403 while the owner has not approved it yet).
   */
  public HttpResult resume(DeviceCredential device) {
    return json(FIRST_CHANNEL, "POST", "/v1/resume", device.resumption(fingerprint));
  }

  /** A JSON exchange: {@code json} (or null for none) as the body, with its content type. */
  public HttpResult json(String label, String method, String path, String json) {
    return request(label, method, path, json == null ? Map.of() : Map.of("Content-Type", "application/json"),
        json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    link.close();
    flock.sendClose(WebSocket.NORMAL_CLOSURE, "done").orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> null);
    flock.abort();
  }

  private static void send(WebSocket ws, ClientMessage message) {
    synchronized (ws) { // one outstanding send at a time
      ws.sendText(SignalCodec.encode(message), true).orTimeout(10, TimeUnit.SECONDS).join();
    }
  }

  /** The most telling message in a chain of causes. */
  private static String rootMessage(Throwable e) {
    String first = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException || t instanceof java.nio.channels.ClosedChannelException) {
        return "nothing answers there (connection refused)";
      }
      if (t instanceof java.util.concurrent.TimeoutException || t instanceof java.net.http.HttpTimeoutException) {
        return "no answer in time";
      }
      if (first == null && t.getMessage() != null && !(t instanceof java.util.concurrent.ExecutionException)) {
        first = t.getMessage();
      }
    }
    return first == null ? e.getClass().getSimpleName() : first;
  }

  /** The flock connection's messages, for one introduction. */
  private static final class Signalling implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();
    private final java.util.concurrent.LinkedBlockingQueue<ClientMessage> inbox = new java.util.concurrent.LinkedBlockingQueue<>();
    private final List<Candidate> early = new ArrayList<>();
    private java.util.function.Consumer<IceCandidate> remote;
    private boolean introduced;
    private final CompletableFuture<String> closed = new CompletableFuture<>();

    @Override
    public void onOpen(WebSocket ws) {
      ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        switch (SignalCodec.decodeClient(text)) {
          case Decoded.Ok<ClientMessage> ok -> deliver(ok.message());
          case Decoded.Invalid<ClientMessage> bad -> inbox.add(new Error("bad-message",
              "the flock sent an invalid message: " + bad.reason(), java.util.Optional.empty()));
        }
      }
      ws.request(1);
      return null;
    }

    // No call into the engine or onto the socket happens under this object's lock: the engine
    // calls sendWhenIntroduced from its own thread, and addIceCandidate waits on that thread.
    private void deliver(ClientMessage m) {
      java.util.function.Consumer<IceCandidate> toLink;
      synchronized (this) {
        toLink = m instanceof Candidate ? remote : null;
        if (toLink == null) {
          inbox.add(m);
          return;
        }
      }
      Candidate c = (Candidate) m;
      toLink.accept(new IceCandidate(c.candidate(), c.sdpMid(), c.sdpMLineIndex()));
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      closed.complete("the flock closed the connection (" + status + (reason.isEmpty() ? "" : ", " + reason) + ")");
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.complete("the flock connection failed: " + rootMessage(error));
    }

    /** The next message of {@code type}; an error or bye fails with the flock's words. */
    <T extends ClientMessage> T await(Class<T> type, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      try {
        while (System.nanoTime() < deadline) {
          ClientMessage m = inbox.poll(50, TimeUnit.MILLISECONDS);
          if (m == null) {
            if (closed.isDone() && inbox.isEmpty()) {
              throw new ClientException(closed.getNow(""));
            }
            continue;
          }
          if (type.isInstance(m)) {
            return type.cast(m);
          }
          switch (m) {
            case Error e -> throw new ClientException(explain(e), e.code());
            case Bye b -> throw new ClientException("the appliance refused the link: " + b.reason());
            default -> { } // a candidate before the answer is applied is queued below
          }
          if (m instanceof Candidate c) {
            synchronized (this) {
              early.add(c);
            }
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ClientException("interrupted", e);
      }
      throw new ClientException("no " + type.getSimpleName().toLowerCase(java.util.Locale.ROOT) + " from the flock within "
          + timeout.toSeconds() + " s");
    }

    private static String explain(Error e) {
      return switch (e.code()) {
        case "appliance-offline" -> "the appliance is not connected to this flock (offline, or registered elsewhere)";
        case "invalid-appliance-id" -> "the flock says that is not an appliance ID";
        case "node-lost" -> "the flock node that served the appliance went away; it registers again on another node"
            + " within seconds: try again";
        default -> "the flock refused: " + e.code() + ": " + e.message();
      };
    }

    private final List<Candidate> pendingLocal = new ArrayList<>();

    /** Local candidates go out only after the introduction (the flock needs the session first). */
    void sendWhenIntroduced(WebSocket ws, Candidate c) {
      synchronized (this) {
        if (!introduced) {
          pendingLocal.add(c);
          return;
        }
      }
      send(ws, c);
    }

    /** The answer is applied: remote candidates go to the link from now on, local ones to the flock. */
    void introduced(WebSocket ws, java.util.function.Consumer<IceCandidate> toLink) {
      List<Candidate> remoteSoFar;
      List<Candidate> localSoFar;
      synchronized (this) {
        introduced = true;
        remote = toLink;
        remoteSoFar = new ArrayList<>(early);
        early.clear();
        List<Candidate> queued = inbox.stream().filter(Candidate.class::isInstance).map(Candidate.class::cast).toList();
        inbox.removeAll(queued);
        remoteSoFar.addAll(queued);
        localSoFar = new ArrayList<>(pendingLocal);
        pendingLocal.clear();
      }
      remoteSoFar.forEach(c -> toLink.accept(new IceCandidate(c.candidate(), c.sdpMid(), c.sdpMLineIndex())));
      localSoFar.forEach(c -> send(ws, c));
    }
  }
}

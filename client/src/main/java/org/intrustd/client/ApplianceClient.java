package org.intrustd.client;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
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
  // The offer's own channel, until the first request uses it (or, for another label, closes it).
  private Exchange first;

  private ApplianceClient(Link link, WebSocket flock, Exchange first, Duration timeout) {
    this.link = link;
    this.flock = flock;
    this.first = first;
    this.timeout = timeout;
  }

  /**
   * Connects to {@code appliance} through the flock at {@code flockUri} ({@code ws://} or
   * {@code wss://}), within {@code timeout} for each step.
   */
  public static ApplianceClient connect(URI flockUri, ApplianceId appliance, LinkFactory links, Duration timeout) {
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
      Exchange first = new Exchange(offer.firstChannel(), MAX_RESPONSE); // its handler must be set before it opens
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
      return new ApplianceClient(offer.link(), ws, first, timeout);
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
   * say), reporting the bytes sent so far to {@code progress}.
   */
  public synchronized HttpResult request(String label, String method, String path, Map<String, String> headers,
      InputStream body, long length, LongConsumer progress) {
    StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    Map<String, String> all = new LinkedHashMap<>();
    all.put("Host", label.startsWith("http/") ? label.substring(5) : "intrustd");
    all.putAll(headers);
    if (length > 0 || method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
      all.put("Content-Length", Long.toString(length));
    }
    all.forEach((k, v) -> {
      if (!k.matches("[A-Za-z0-9-]+") || v.contains("\r") || v.contains("\n")) {
        throw new IllegalArgumentException("a bad header: " + k);
      }
      head.append(k).append(": ").append(v).append("\r\n");
    });
    head.append("\r\n");
    Exchange exchange = first != null && label.equals(FIRST_CHANNEL) ? first : null;
    if (first != null && exchange == null) {
      first.abandon();
    }
    first = null;
    if (exchange == null) {
      if (link.state().isFinal()) {
        throw new ClientException("the link to the appliance is " + link.state().name().toLowerCase(java.util.Locale.ROOT));
      }
      exchange = new Exchange(link.openChannel(new ChannelSpec(label, "intrustd/1")), MAX_RESPONSE);
    }
    return exchange.run(head.toString().getBytes(StandardCharsets.UTF_8), body, progress, timeout);
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
            case Error e -> throw new ClientException(explain(e));
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

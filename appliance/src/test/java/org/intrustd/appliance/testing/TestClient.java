package org.intrustd.appliance.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
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
 * The browser's side, in Java: a connection to a flock's {@code /client} endpoint, and links to
 * appliances set up through it exactly as the shim must (docs/spec/flock.md): offer, introduce,
 * check that the answer's public key hashes to the ID asked for and that its signature covers
 * our offer and the answer, and only then accept it; candidates trickle both ways.
 */
public final class TestClient implements WebSocket.Listener, AutoCloseable {
  private static final Duration PATIENCE = Duration.ofSeconds(20);
  private static final AtomicInteger SESSIONS = new AtomicInteger();

  private final LinkFactory factory;
  private final BlockingQueue<ClientMessage> inbox = new LinkedBlockingQueue<>();
  private final Map<String, Link> linksBySession = new ConcurrentHashMap<>();
  private final List<TestLink> links = new CopyOnWriteArrayList<>();
  private final StringBuilder partial = new StringBuilder();
  private final Object sendLock = new Object();
  private WebSocket socket;
  private volatile boolean socketOpen = true;

  private TestClient(LinkFactory factory) {
    this.factory = factory;
  }

  /** Connects to the flock at {@code flock} (its base URI) and reads its hello. */
  public static TestClient connect(URI flock, LinkFactory factory) {
    TestClient client = new TestClient(factory);
    client.socket = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(flock.resolve("/client"), client)
        .orTimeout(5, TimeUnit.SECONDS).join();
    client.expect(Hello.class, "");
    return client;
  }

  // ------------------------------------------------------------ the flock connection

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
        case Decoded.Ok<ClientMessage> ok -> dispatch(ok.message());
        case Decoded.Invalid<ClientMessage> bad -> inbox.add(new org.intrustd.core.signal.SignalMessage.Error(
            "test-client", "the flock sent an invalid message: " + bad.reason(), java.util.Optional.empty()));
      }
    }
    ws.request(1);
    return null;
  }

  private void dispatch(ClientMessage message) {
    if (message instanceof Candidate c && linksBySession.containsKey(c.session())) {
      linksBySession.get(c.session()).addRemoteCandidate(new IceCandidate(c.candidate(), c.sdpMid(), c.sdpMLineIndex()));
    } else {
      inbox.add(message);
    }
  }

  @Override
  public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
    socketOpen = false;
    return null;
  }

  @Override
  public void onError(WebSocket ws, Throwable error) {
    socketOpen = false;
  }

  public boolean isFlockConnectionOpen() {
    return socketOpen;
  }

  private void send(ClientMessage message) {
    synchronized (sendLock) {
      socket.sendText(SignalCodec.encode(message), true).orTimeout(5, TimeUnit.SECONDS).join();
    }
  }

  /** The next message for {@code session} of the given type; anything else for it fails the test. */
  private <T extends ClientMessage> T expect(Class<T> type, String session) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    List<ClientMessage> others = new ArrayList<>();
    try {
      while (System.nanoTime() < deadline) {
        ClientMessage m = inbox.poll(50, TimeUnit.MILLISECONDS);
        if (m == null) {
          continue;
        }
        if (type.isInstance(m)) {
          inbox.addAll(others);
          return type.cast(m);
        }
        boolean refusal = switch (m) {
          case org.intrustd.core.signal.SignalMessage.Bye b -> b.session().equals(session);
          case org.intrustd.core.signal.SignalMessage.Error e -> e.session().map(session::equals).orElse(true);
          default -> false;
        };
        if (refusal) {
          throw new AssertionError("expected " + type.getSimpleName() + " for session '" + session + "', got " + m);
        }
        others.add(m);
      }
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("no " + type.getSimpleName() + " within " + PATIENCE);
  }

  // ------------------------------------------------------------ links

  /**
   * Sets up a link to {@code appliance} whose first channel is {@code http/<firstApp>}, and
   * returns once that channel is open.
   */
  public TestLink link(ApplianceId appliance, String firstApp) {
    String session = "s" + SESSIONS.incrementAndGet();
    List<IceCandidate> early = new ArrayList<>();
    boolean[] introduced = {false};
    LinkListener listener = new LinkListener() {
      @Override
      public void onLocalCandidate(IceCandidate c) {
        synchronized (early) {
          if (!introduced[0]) {
            early.add(c);
            return;
          }
        }
        sendCandidate(session, c);
      }

      @Override
      public void onChannel(Channel channel) {
        channel.close(); // the appliance never opens channels in version 1
      }

      @Override
      public void onStateChange(LinkState state) {}
    };
    LinkFactory.PendingOffer offer = factory.offer(new ChannelSpec("http/" + firstApp, "intrustd/1"),
        LinkConfig.hostOnly(), listener);
    StreamChannel first = new StreamChannel(offer.firstChannel());
    send(new Introduce(session, appliance.toString(), offer.sdp()));
    ClientAnswer answer = expect(ClientAnswer.class, session);
    String problem = checkAnswer(appliance, offer.sdp(), answer);
    if (problem != null) {
      offer.link().close();
      throw new AssertionError("a browser must refuse this answer: " + problem);
    }
    linksBySession.put(session, offer.link());
    offer.accept(answer.sdp());
    // Candidates that came before the answer was accepted were queued in the inbox: apply them now.
    for (ClientMessage m : inbox.stream().filter(m -> m instanceof Candidate c && c.session().equals(session)).toList()) {
      inbox.remove(m);
      dispatch(m);
    }
    List<IceCandidate> pending;
    synchronized (early) {
      introduced[0] = true;
      pending = List.copyOf(early);
    }
    pending.forEach(c -> sendCandidate(session, c));
    first.awaitOpen();
    TestLink link = new TestLink(offer.link(), first, offer.sdp());
    links.add(link);
    return link;
  }

  private void sendCandidate(String session, IceCandidate c) {
    if (socketOpen) {
      send(new Candidate(session, c.candidate(), c.sdpMid(), c.sdpMLineIndex()));
    }
  }

  /**
   * What a browser checks before it sets an answer as remote description; null when the answer
   * is acceptable, otherwise why not.
   */
  public static String checkAnswer(ApplianceId expected, String offerSdp, ClientAnswer answer) {
    return org.intrustd.client.AnswerCheck.problem(expected, offerSdp, answer).orElse(null);
  }

  /** Closes the flock connection and every link this client made. */
  @Override
  public void close() {
    links.forEach(TestLink::close);
    if (socketOpen) {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "test over").orTimeout(5, TimeUnit.SECONDS)
          .exceptionally(e -> null).join();
    }
    socket.abort();
  }

  /** One link to an appliance; channels on it are HTTP exchanges. */
  public static final class TestLink implements AutoCloseable {
    private final Link link;
    private final StreamChannel first;
    private final String offerSdp;
    private boolean firstUsed;

    TestLink(Link link, StreamChannel first, String offerSdp) {
      this.link = link;
      this.first = first;
      this.offerSdp = offerSdp;
    }

    /** The offer this link was made from (its fingerprint names this client). */
    public String offerSdp() {
      return offerSdp;
    }

    /** One exchange with the daemon's session API (channel {@code intrustd/session}); {@code json} may be null. */
    public HttpResponse session(String method, String path, String json) {
      return daemon("intrustd/session", method, path, json);
    }

    /** One exchange with the owner's control API through the link (channel {@code intrustd/admin}). */
    public HttpResponse admin(String method, String path, String json) {
      return daemon("intrustd/admin", method, path, json);
    }

    private HttpResponse daemon(String label, String method, String path, String json) {
      byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
      String head = method + " " + path + " HTTP/1.1\r\nHost: intrustd\r\n"
          + (json == null ? "" : "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n") + "\r\n";
      try (StreamChannel ch = open(label, "intrustd/1")) {
        ch.send(head.getBytes(StandardCharsets.ISO_8859_1));
        if (body.length > 0) {
          ch.send(body);
        }
        ch.end();
        return HttpResponse.read(ch);
      }
    }

    public Link link() {
      return link;
    }

    /** Opens a channel and waits until it is open. */
    /** A channel as the link gives it, with no stream framing (a negotiated one, say). */
    public org.intrustd.link.Channel openRaw(ChannelSpec spec) {
      return link.openChannel(spec);
    }

    public StreamChannel open(String label, String protocol) {
      return new StreamChannel(link.openChannel(new ChannelSpec(label, protocol))).awaitOpen();
    }

    /** A fresh {@code http/<app>} channel (the link's first one, if still unused and for that app). */
    public synchronized StreamChannel exchange(String app) {
      if (!firstUsed && first.channel().label().equals("http/" + app)) {
        firstUsed = true;
        return first;
      }
      return open("http/" + app, "intrustd/1");
    }

    /** One whole exchange: sends the request and END, reads the response, closes the channel. */
    public HttpResponse request(String app, String request) {
      try (StreamChannel ch = exchange(app)) {
        ch.send(request.getBytes(StandardCharsets.ISO_8859_1)).end();
        return HttpResponse.read(ch);
      }
    }

    @Override
    public void close() {
      link.close();
    }
  }
}

package org.intrustd.bench;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.intrustd.appliance.flock.FlockConnection;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.identity.IdentityStore;
import org.intrustd.core.signal.SignalMessage.ApplianceAnswer;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.link.Channel;
import org.intrustd.link.IceCandidate;
import org.intrustd.link.Link;
import org.intrustd.link.LinkConfig;
import org.intrustd.link.LinkException;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.LinkListener;
import org.intrustd.link.LinkState;
import org.intrustd.link.webrtc.WebRtcLinkFactory;

/**
 * A benchmark peer for bench/e2e: it registers with a flock exactly like an appliance (same
 * identity store, same {@link FlockConnection}, answers signed with its {@link Identity}) and
 * answers offers with our {@link LinkFactory}, but then moves raw bytes on data channels, with
 * no framing and no HTTP, so that the browser can measure our Java end's data channel alone.
 *
 * <p>Channels, by label (the browser opens them):
 * <ul>
 *   <li>{@code sink}: counts binary bytes; on the text message {@code "end"} it answers with one
 *       8-byte big-endian message holding the count, then resets the count.
 *   <li>{@code source}: on a text message {@code "N"} (decimal) or {@code "N:S"} it sends N bytes
 *       in binary messages of S bytes (default 65,536) through {@link Channel#send}, which
 *       applies our back-pressure, from a direct buffer as the appliance's proxy does.
 * </ul>
 *
 * <pre>java -cp 'bench/target/lib/*' org.intrustd.bench.RawChannelPeer --flock ws://HOST:PORT --state DIR</pre>
 * prints {@code INTRUSTD_READY {"applianceId":"..."}} once registered.
 */
public final class RawChannelPeer implements FlockConnection.Handler {
  private static final System.Logger LOG = System.getLogger("intrustd.bench.raw");
  private static final int DEFAULT_MESSAGE = 65_536;

  private final Identity identity;
  private final LinkFactory links;
  private final Map<String, Link> bySession = new ConcurrentHashMap<>();
  private final CountDownLatch registered = new CountDownLatch(1);
  private volatile FlockConnection flock;

  private RawChannelPeer(Identity identity, LinkFactory links) {
    this.identity = identity;
    this.links = links;
  }

  public static void main(String[] args) throws Exception {
    String flockUrl = null;
    Path state = null;
    String name = "bench-raw";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--flock" -> flockUrl = args[i + 1];
        case "--state" -> state = Path.of(args[i + 1]);
        case "--name" -> name = args[i + 1];
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (flockUrl == null) {
      System.err.println("usage: RawChannelPeer --flock ws://host:port [--state DIR] [--name NAME]");
      System.exit(2);
    }
    if (state == null) {
      state = Files.createTempDirectory("intrustd-bench-raw-");
    }
    Identity identity = IdentityStore.loadOrCreate(state);
    LinkFactory links = WebRtcLinkFactory.create();
    RawChannelPeer peer = new RawChannelPeer(identity, links);
    FlockConnection flock = new FlockConnection(URI.create(flockUrl), identity, name, peer);
    peer.flock = flock;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      flock.close();
      links.close();
    }, "raw-peer-shutdown"));
    flock.start();
    peer.registered.await();
    System.out.println("INTRUSTD_READY {\"applianceId\":\"" + identity.id() + "\",\"pid\":" + ProcessHandle.current().pid() + "}");
    System.out.flush();
    Thread.currentThread().join(); // until killed
  }

  @Override
  public void onRegistered(String canonicalId, List<IceServer> iceServers) {
    registered.countDown();
  }

  @Override
  public void onDisconnected() {}

  @Override
  public void onMessage(ApplianceMessage message) {
    switch (message) {
      case Offer o -> answer(o);
      case Candidate c -> {
        Link link = bySession.get(c.session());
        if (link != null) {
          link.addRemoteCandidate(new IceCandidate(c.candidate(), c.sdpMid(), c.sdpMLineIndex()));
        }
      }
      case Bye b -> {
        Link link = bySession.remove(b.session());
        if (link != null && link.state() != LinkState.CONNECTED) {
          link.close();
        }
      }
      default -> { }
    }
  }

  /** As the appliance's LinkSessions: signed answer out first, then applied. */
  private void answer(Offer offer) {
    String session = offer.session();
    AtomicReference<Link> self = new AtomicReference<>();
    LinkListener listener = new LinkListener() {
      @Override
      public void onLocalCandidate(IceCandidate c) {
        flock.send(new Candidate(session, c.candidate(), c.sdpMid(), c.sdpMLineIndex()));
      }

      @Override
      public void onChannel(Channel channel) {
        switch (channel.label()) {
          case "sink" -> channel.setHandler(new Sink(channel));
          case "source" -> channel.setHandler(new Source(channel));
          default -> channel.close(); // e.g. the shim's negotiated keepalive never gets here
        }
      }

      @Override
      public void onStateChange(LinkState state) {
        Link link = self.get();
        if (link != null && state.isFinal()) {
          bySession.remove(session, link);
          link.close();
        }
      }
    };
    LinkFactory.PendingAnswer pending;
    try {
      pending = links.answer(offer.sdp(), LinkConfig.hostOnly(), listener);
    } catch (LinkException e) {
      flock.send(new Bye(session, "bad-offer"));
      return;
    }
    self.set(pending.link());
    bySession.put(session, pending.link());
    flock.send(new ApplianceAnswer(session, pending.sdp(), identity.signAnswer(offer.sdp(), pending.sdp())));
    pending.apply();
  }

  /** Counts bytes until "end". Runs on the engine thread: no blocking. */
  private static final class Sink implements Channel.Handler {
    private final Channel channel;
    private long bytes;

    Sink(Channel channel) {
      this.channel = channel;
    }

    @Override
    public void onOpen() {}

    @Override
    public void onMessage(ByteBuffer data, boolean binary) {
      if (binary) {
        bytes += data.remaining();
        return;
      }
      String text = StandardCharsets.UTF_8.decode(data).toString();
      if (text.equals("end")) {
        long n = bytes;
        bytes = 0;
        // send() may block on back-pressure: never on the engine thread.
        Thread.ofVirtual().start(() -> send(channel, ByteBuffer.allocate(8).putLong(0, n)));
      }
    }

    @Override
    public void onClose() {}
  }

  /** Sends N bytes on request, from a virtual thread. */
  private static final class Source implements Channel.Handler {
    private final Channel channel;

    Source(Channel channel) {
      this.channel = channel;
    }

    @Override
    public void onOpen() {}

    @Override
    public void onMessage(ByteBuffer data, boolean binary) {
      String[] request = StandardCharsets.UTF_8.decode(data).toString().trim().split(":");
      long total = Long.parseLong(request[0]);
      int size = request.length > 1 ? Integer.parseInt(request[1]) : DEFAULT_MESSAGE;
      Thread.ofVirtual().name("raw-source").start(() -> {
        ByteBuffer buf = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
          buf.put(i, (byte) (i % 251));
        }
        for (long sent = 0; sent < total; ) {
          int n = (int) Math.min(size, total - sent);
          if (!send(channel, buf.slice(0, n))) {
            return;
          }
          sent += n;
        }
      });
    }

    @Override
    public void onClose() {}
  }

  private static boolean send(Channel channel, ByteBuffer message) {
    try {
      channel.send(message);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (LinkException e) {
      LOG.log(System.Logger.Level.DEBUG, "send failed: {0}", e.getMessage());
      return false;
    }
  }
}

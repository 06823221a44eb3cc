package org.intrustd.link.webrtc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.intrustd.link.Channel;
import org.intrustd.link.ChannelSpec;
import org.intrustd.link.IceCandidate;
import org.intrustd.link.Link;
import org.intrustd.link.LinkConfig;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.LinkListener;
import org.intrustd.link.LinkPath;
import org.intrustd.link.LinkState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Two real libwebrtc peers in one JVM (Surefire runs this module in a private network namespace). */
@Timeout(60)
class WebRtcLinkTest {
  private static LinkFactory factory;

  @BeforeAll
  static void engine() {
    factory = WebRtcLinkFactory.create();
  }

  @AfterAll
  static void closeEngine() {
    factory.close();
  }

  /** Connects an offering and an answering link, trickling candidates in memory. */
  private record Pair(Link offerer, Link answerer, Channel offered, CompletableFuture<Channel> answered) {}

  private Pair connect(ChannelSpec spec) {
    AtomicReference<Link> answererRef = new AtomicReference<>();
    AtomicReference<Link> offererRef = new AtomicReference<>();
    CompletableFuture<Channel> answered = new CompletableFuture<>();
    var pendingOffer = factory.offer(spec, LinkConfig.hostOnly(), listener(c -> deliver(answererRef, c), ch -> {}));
    offererRef.set(pendingOffer.link());
    var pendingAnswer = factory.answer(pendingOffer.sdp(), LinkConfig.hostOnly(),
        listener(c -> deliver(offererRef, c), ch -> {
          ch.setHandler(new Collector());
          answered.complete(ch);
        }));
    answererRef.set(pendingAnswer.link());
    pendingOffer.accept(pendingAnswer.sdp());
    pendingAnswer.apply();
    return new Pair(pendingOffer.link(), pendingAnswer.link(), pendingOffer.firstChannel(), answered);
  }

  private static void deliver(AtomicReference<Link> to, IceCandidate c) {
    // Candidates may come before the other side exists; then they are simply not needed here.
    Thread.ofVirtual().start(() -> {
      while (to.get() == null) {
        Thread.onSpinWait();
      }
      to.get().addRemoteCandidate(c);
    });
  }

  private static LinkListener listener(java.util.function.Consumer<IceCandidate> candidates,
      java.util.function.Consumer<Channel> channels) {
    return new LinkListener() {
      @Override
      public void onLocalCandidate(IceCandidate candidate) {
        candidates.accept(candidate);
      }

      @Override
      public void onChannel(Channel channel) {
        channels.accept(channel);
      }

      @Override
      public void onStateChange(LinkState state) {}
    };
  }

  /** Hashes what arrives. */
  static final class Collector implements Channel.Handler {
    final MessageDigest sha = sha256();
    final AtomicLong bytes = new AtomicLong();
    final CountDownLatch opened = new CountDownLatch(1);
    final CountDownLatch closed = new CountDownLatch(1);
    volatile boolean sawText;

    @Override
    public void onOpen() {
      opened.countDown();
    }

    @Override
    public synchronized void onMessage(ByteBuffer data, boolean binary) {
      sawText |= !binary;
      bytes.addAndGet(data.remaining());
      sha.update(data);
    }

    @Override
    public void onClose() {
      closed.countDown();
    }
  }

  @Test
  void aChannelCarries64MiBIntactWithBoundedSendQueue() throws Exception {
    Pair pair = connect(new ChannelSpec("http/hello", "intrustd/1"));
    Collector sent = new Collector();
    pair.offered().setHandler(sent);
    assertThat(sent.opened.await(20, TimeUnit.SECONDS)).as("channel opened").isTrue();
    Channel remote = pair.answered().get(20, TimeUnit.SECONDS);
    assertThat(remote.label()).isEqualTo("http/hello");
    assertThat(remote.protocol()).isEqualTo("intrustd/1");

    MessageDigest expected = sha256();
    long total = 64L << 20;
    // A direct buffer with a non-zero position: the bytes sent must be exactly the remaining ones.
    ByteBuffer chunk = ByteBuffer.allocateDirect(65_536 + 7);
    long pos = 0;
    while (pos < total) {
      chunk.clear().position(7);
      for (int i = 0; i < 65_536; i++) {
        chunk.put((byte) ((pos + i) % 251));
      }
      chunk.flip().position(7);
      expected.update(chunk.duplicate());
      pair.offered().send(chunk);
      pos += 65_536;
    }
    Collector received = (Collector) handlerOf(remote);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
    while (received.bytes.get() < total && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(received.bytes.get()).isEqualTo(total);
    assertThat(received.sha.digest()).isEqualTo(expected.digest());
    assertThat(received.sawText).isFalse();

    pair.offered().close();
    assertThat(received.closed.await(10, TimeUnit.SECONDS)).as("close reaches the peer").isTrue();
    pair.offerer().close();
    pair.answerer().close();
  }

  @Test
  void closingALinkClosesItsChannelsOnBothSides() throws Exception {
    Pair pair = connect(new ChannelSpec("http/x", "intrustd/1"));
    Collector local = new Collector();
    pair.offered().setHandler(local);
    assertThat(local.opened.await(20, TimeUnit.SECONDS)).isTrue();
    Collector remote = (Collector) handlerOf(pair.answered().get(20, TimeUnit.SECONDS));
    pair.offerer().close();
    assertThat(local.closed.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(remote.closed.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(pair.offered().isOpen()).isFalse();
    pair.answerer().close();
  }

  @Test
  void bothEndsSayWhichPathTheirLinkTakes() throws Exception {
    Pair pair = connect(new ChannelSpec("http/x", "intrustd/1"));
    Collector local = new Collector();
    pair.offered().setHandler(local);
    assertThat(local.opened.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(pair.offerer().state()).isEqualTo(LinkState.CONNECTED);
    // The stats are read on connect, off the engine's threads: wait for them, not for a time.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while ((pair.offerer().path() == LinkPath.UNKNOWN || pair.answerer().path() == LinkPath.UNKNOWN)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    // One namespace, one veth pair: both ends on one LAN.
    assertThat(pair.offerer().path()).isEqualTo(LinkPath.DIRECT_LAN);
    assertThat(pair.answerer().path()).isEqualTo(LinkPath.DIRECT_LAN);
    pair.offerer().close();
    pair.answerer().close();
    assertThat(pair.offerer().path()).as("a closed link keeps its last path").isEqualTo(LinkPath.DIRECT_LAN);
  }

  private static Channel.Handler handlerOf(Channel channel) throws Exception {
    var f = WebRtcChannel.class.getDeclaredField("handler");
    f.setAccessible(true);
    return (Channel.Handler) f.get(channel);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}

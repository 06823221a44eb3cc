package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Register;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Slow and flooding peers from one address (127.0.0.2) while a well-behaved appliance and
 * client (127.0.0.1) register and are introduced. Every loop here is bounded in count and
 * time, and only loopback addresses are used.
 */
class SlowLorisTest {
  private static final Duration HANDSHAKE = Duration.ofSeconds(1);
  private final List<Socket> sockets = new ArrayList<>();
  private final List<HttpClient> https = new ArrayList<>();
  private Harness harness;

  @AfterEach
  void stop() {
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
    https.forEach(HttpClient::shutdownNow);
    harness.close();
  }

  @Test
  void requestHeadersSentOneByteEverySecondDoNotStopOthersAndAreCutAtTheHandshakeDeadline() throws Exception {
    harness = new Harness(FlockConfig.defaults().withServing(Serving.DEFAULTS.withHandshakeTimeout(HANDSHAKE)
        .withIpLimits(new IpLimits(100, 0, 1, List.of()))));
    byte[] head = ("GET /client HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    List<Socket> slow = new ArrayList<>();
    for (int i = 0; i < 150; i++) { // 100 within the address's limit, 50 over it
      slow.add(connect("127.0.0.2"));
    }
    AtomicBoolean dribbling = new AtomicBoolean(true);
    ConcurrentLinkedQueue<Long> closedAfterMillis = new ConcurrentLinkedQueue<>();
    long started = System.nanoTime();
    Thread dribbler = Thread.ofVirtual().start(() -> {
      for (int b = 0; b < head.length && dribbling.get(); b++) {
        for (Socket s : slow) {
          try {
            if (!s.isOutputShutdown()) {
              s.getOutputStream().write(head[b]);
            }
          } catch (IOException e) { // the flock closed it
            try {
              s.shutdownOutput();
            } catch (IOException ignored) {
              // already gone
            }
          }
        }
        sleep(Duration.ofMillis(300));
      }
    });
    try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Socket s : slow) {
        readers.submit(() -> {
          try {
            s.setSoTimeout(10_000);
            while (s.getInputStream().read() >= 0) { // a 429 may come first, then the end
              continue;
            }
          } catch (IOException e) {
            // reset: closed as well
          }
          closedAfterMillis.add(Duration.ofNanos(System.nanoTime() - started).toMillis());
          return null;
        });
      }
      assertIntroductionWorks();
    } finally {
      dribbling.set(false);
      dribbler.join();
    }
    assertThat(closedAfterMillis).hasSize(150).allSatisfy(ms -> assertThat(ms).isLessThan(5_000));
  }

  @Test
  void webSocketsThatNeverCompleteAFrameDoNotStopOthers() throws Exception {
    harness = new Harness(FlockConfig.defaults().withLimits(Limits.DEFAULTS.withChallengeExpiry(Duration.ofSeconds(1))));
    List<Socket> stuck = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Socket s = connect("127.0.0.2");
      String path = i % 2 == 0 ? "/client" : "/appliance";
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key() + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      assertThat(readHead(s.getInputStream())).startsWith("HTTP/1.1 101");
      // A masked text frame that announces 1,000 bytes and delivers 10 of them.
      byte[] partial = new byte[2 + 2 + 4 + 10];
      partial[0] = (byte) 0x81;
      partial[1] = (byte) (0x80 | 126);
      partial[2] = (byte) (1000 >> 8);
      partial[3] = (byte) (1000 & 0xff);
      s.getOutputStream().write(partial);
      stuck.add(s);
    }

    assertIntroductionWorks();

    // The appliance connections among them got their challenge, never registered, and are
    // closed when it expires, half-read frame or not.
    for (int i = 1; i < stuck.size(); i += 2) {
      assertThat(readsToTheEnd(stuck.get(i), Duration.ofSeconds(5))).as("appliance connection " + i).isTrue();
    }
  }

  @Test
  void aFloodOfRegistrationsAndIntroductionsFromOneAddressDoesNotStopOthers() throws Exception {
    // Low enough that sixteen flooders exceed them however slow this machine is (on a busy CI
    // machine 50 a second were never reached), high enough for the six connections from 127.0.0.1.
    harness = new Harness(FlockConfig.defaults().withServing(Serving.DEFAULTS.withIpLimits(new IpLimits(8, 4, 8,
        List.of()))));
    HttpClient flooding = HttpClient.newBuilder().localAddress(InetAddress.getByName("127.0.0.2")).build();
    https.add(flooding);
    AtomicBoolean flood = new AtomicBoolean(true);
    AtomicInteger sent = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    long until = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    List<String> nobody = new ArrayList<>(); // made once: key generation is not what this measures
    for (int i = 0; i < 32; i++) {
      nobody.add(new Identity(Ed25519.generate()).id().toString());
    }
    List<Thread> flooders = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      boolean registering = t % 2 == 0;
      flooders.add(Thread.ofVirtual().start(() -> {
        while (flood.get() && System.nanoTime() < until) {
          try {
            WsPeer peer = WsPeer.connect(flooding, harness.flock.uri().resolve(registering ? "appliance" : "client"));
            try {
              if (registering) { // valid registrations, each with a fresh key
                Identity id = new Identity(Ed25519.generate());
                Challenge challenge = peer.nextAppliance(Challenge.class);
                peer.send(new Register(id.publicKey(), "flood", id.signRegistration(challenge.nonce())));
                sent.incrementAndGet();
              } else { // introductions to nobody, as fast as the connection lasts
                peer.nextClient(Hello.class);
                for (int i = 0; i < 300 && !peer.isClosed(); i++) {
                  peer.send(SignalCodec.encode(new Introduce("s" + i, nobody.get(i % nobody.size()), "v=0")));
                  sent.incrementAndGet();
                }
              }
            } finally {
              peer.abort();
            }
          } catch (RuntimeException | AssertionError e) { // refused (429) or closed (rate-limited)
            refused.incrementAndGet();
          }
        }
      }));
    }
    try {
      Thread.sleep(1_000);
      for (int round = 0; round < 3; round++) {
        assertIntroductionWorks();
      }
    } finally {
      flood.set(false);
      for (Thread t : flooders) {
        t.join();
      }
    }
    assertThat(sent.get()).as("the flood flowed").isGreaterThan(100);
    assertThat(refused.get()).as("and was refused in part").isPositive();
  }

  /** A fresh appliance registers from 127.0.0.1 and a fresh client is introduced to it. */
  private void assertIntroductionWorks() {
    Identity identity = new Identity(Ed25519.generate());
    WsPeer appliance = harness.appliance(identity);
    WsPeer client = harness.client();
    client.send(new Introduce("s", identity.id().toString(), "v=0"));
    assertThat(appliance.nextAppliance(Offer.class).sdp()).isEqualTo("v=0");
    appliance.abort();
    client.abort();
  }

  private Socket connect(String from) throws IOException {
    Socket s = new Socket();
    sockets.add(s);
    s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
    s.connect(new InetSocketAddress("127.0.0.1", harness.flock.port()), 5_000);
    OutputStream ignored = s.getOutputStream();
    return s;
  }

  private static boolean readsToTheEnd(Socket s, Duration within) throws IOException {
    s.setSoTimeout((int) within.toMillis());
    try {
      InputStream in = s.getInputStream();
      while (in.read() >= 0) {
        continue;
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }

  private static String key() {
    byte[] k = new byte[16];
    ThreadLocalRandom.current().nextBytes(k);
    return Base64.getEncoder().encodeToString(k);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

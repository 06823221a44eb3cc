package org.intrustd.appliance.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.flock.ClusterConfig;
import org.intrustd.flock.Flock;
import org.intrustd.flock.FlockConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An appliance that knows several nodes of a clustered flock moves to another when its node dies. */
class FlockFailoverTest {
  /** The promise of docs/flock-cluster.md: a dead node's appliances are reachable again within 10 s. */
  private static final Duration FAILOVER = Duration.ofSeconds(10);

  private final Identity identity = new Identity(Ed25519.generate());
  private final BlockingQueue<ApplianceMessage> received = new LinkedBlockingQueue<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private Flock a;
  private Flock b;
  private FlockConnection connection;

  @AfterEach
  void stop() {
    if (connection != null) {
      connection.close();
    }
    for (Flock f : new Flock[] {b, a}) {
      if (f != null) {
        f.close();
      }
    }
    http.shutdownNow();
  }

  @Test
  void whenItsNodeStopsTheApplianceRegistersWithTheNextUrlAndClientsReachItThere() throws Exception {
    int portA = freePort();
    int portB = freePort();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    String name = "test-" + UUID.randomUUID().toString().substring(0, 8);
    a = Flock.start(FlockConfig.defaults(), cluster(name, portA, members));
    b = Flock.start(FlockConfig.defaults(), cluster(name, portB, members));
    connection = new FlockConnection(List.of(a.uri(), b.uri()), identity, "box", handler());
    connection.start();
    awaitTrue("registered with the first node", () -> connection.isRegistered()
        && connection.endpoint().equals(a.uri().resolve("/appliance")));

    Instant stopped = Instant.now();
    a.close();
    awaitTrue("registered with the second node", () -> connection.isRegistered()
        && connection.endpoint().equals(b.uri().resolve("/appliance")));
    Duration failover = Duration.between(stopped, Instant.now());
    System.out.println("failover: registered on the second node " + failover.toMillis() + " ms after the first stopped");
    assertThat(failover).isLessThan(FAILOVER);

    BlockingQueue<String> toClient = new LinkedBlockingQueue<>();
    WebSocket client = http.newWebSocketBuilder().buildAsync(b.uri().resolve("/client"), collector(toClient))
        .get(5, TimeUnit.SECONDS);
    assertThat(toClient.poll(5, TimeUnit.SECONDS)).contains("\"hello\"");
    client.sendText(SignalCodec.encode(new Introduce("s1", identity.id().toString(), "v=0 from a browser")), true)
        .get(5, TimeUnit.SECONDS);
    ApplianceMessage offer = received.poll(5, TimeUnit.SECONDS);
    assertThat(offer).isInstanceOfSatisfying(Offer.class, o -> assertThat(o.sdp()).isEqualTo("v=0 from a browser"));
    client.abort();
  }

  @Test
  void aFirstUrlThatDoesNotAnswerIsSkipped() {
    b = Flock.start(FlockConfig.defaults());
    URI nobody = URI.create("ws://127.0.0.1:" + freePort() + "/");
    connection = new FlockConnection(List.of(nobody, b.uri()), identity, "box", handler());
    connection.start();
    awaitTrue("registered with the node that answers", () -> connection.isRegistered()
        && connection.endpoint().equals(b.uri().resolve("/appliance")));
  }

  private FlockConnection.Handler handler() {
    return new FlockConnection.Handler() {
      @Override
      public void onRegistered(String canonicalId, List<IceServer> iceServers) {}

      @Override
      public void onMessage(ApplianceMessage message) {
        received.add(message);
      }

      @Override
      public void onDisconnected() {}
    };
  }

  private static ClusterConfig cluster(String name, int port, List<String> members) {
    return ClusterConfig.of("127.0.0.1", port, members).withName(name)
        .withFailureDetection(Duration.ofSeconds(1), Duration.ofSeconds(3)).withJoinTimeout(Duration.ofSeconds(1));
  }

  private static WebSocket.Listener collector(BlockingQueue<String> texts) {
    return new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          texts.add(partial.toString());
          partial.setLength(0);
        }
        ws.request(1);
        return null;
      }
    };
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void awaitTrue(String what, BooleanSupplier condition) {
    Instant deadline = Instant.now().plus(FAILOVER.plusSeconds(5));
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("not in time: " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}

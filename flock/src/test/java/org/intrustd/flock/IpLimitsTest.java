package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Per-address connection limits. Every test peer is on this machine, so each "address" is one
 * of 127.0.0.0/8 (Linux answers on all of them): the abuser is 127.0.0.2, everyone else another.
 */
class IpLimitsTest {
  private final FakeClock clock = new FakeClock();
  private final List<HttpClient> clients = new ArrayList<>();
  private Harness harness;

  @AfterEach
  void stop() {
    if (harness != null) {
      harness.close();
    }
    clients.forEach(HttpClient::shutdownNow);
  }

  private void start(IpLimits limits) {
    harness = new Harness(FlockConfig.defaults().withClock(clock).withServing(Serving.DEFAULTS.withIpLimits(limits)));
  }

  @Test
  void overTheConcurrentLimitAnAddressGets429WhileOthersConnect() throws Exception {
    start(new IpLimits(3, 0, 1, List.of()));
    HttpClient abuser = from("127.0.0.2");
    List<WsPeer> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      held.add(client(abuser));
    }

    assertRefused(abuser, "more than 3 connections at once from one address");
    HttpResponse<String> page = abuser.send(HttpRequest.newBuilder(httpUri("/healthz")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).as("any request, not only WebSockets").isEqualTo(429);
    assertThat(page.headers().firstValue("retry-after")).hasValue("1");
    assertThat(page.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(page.body()).contains("\"status\":429", "more than 3 connections at once from one address");

    WsPeer bystander = client(from("127.0.0.3"));
    bystander.send("{\"type\":\"ping\"}");
    assertThat(bystander.next()).isEqualTo("{\"type\":\"pong\"}");

    held.get(0).closeNormally();
    held.get(0).closeStatus();
    awaitAdmitted(abuser);
  }

  @Test
  void newConnectionsPerSecondAreABucketPerAddress() throws Exception {
    start(new IpLimits(0, 2, 4, List.of()));
    HttpClient abuser = from("127.0.0.2");
    for (int i = 0; i < 4; i++) {
      client(abuser).abort();
    }
    assertRefused(abuser, "more than 2 new connections per second from one address");
    client(from("127.0.0.3")); // its own bucket

    clock.advance(Duration.ofMillis(500)); // one more token at 2/s
    client(abuser);
    assertRefused(abuser, "more than 2 new connections per second");
  }

  @Test
  void exemptAddressesAreNotLimited() throws Exception {
    start(new IpLimits(1, 1, 1, List.of("127.0.0.0/8")));
    HttpClient local = from("127.0.0.2");
    for (int i = 0; i < 5; i++) {
      client(local);
    }
  }

  @Test
  void anIntroductionFromAnotherAddressWorksWhileOneAddressIsAtItsLimit() throws Exception {
    start(new IpLimits(2, 0, 1, List.of()));
    Identity identity = new Identity(Ed25519.generate());
    WsPeer appliance = harness.appliance(identity); // from 127.0.0.1
    HttpClient abuser = from("127.0.0.2");
    client(abuser);
    client(abuser);
    assertRefused(abuser, "connections at once");

    WsPeer client = client(from("127.0.0.3"));
    client.send(new Introduce("s", identity.id().toString(), "v=0"));
    assertThat(appliance.nextAppliance(Offer.class).sdp()).isEqualTo("v=0");
  }

  @Test
  void blocksAndKeys() throws Exception {
    assertThat(IpLimits.parseBlock("10.0.0.0/8").contains(InetAddress.getByName("10.200.1.1"))).isTrue();
    assertThat(IpLimits.parseBlock("10.0.0.0/8").contains(InetAddress.getByName("11.0.0.1"))).isFalse();
    assertThat(IpLimits.parseBlock("::1").contains(InetAddress.getByName("::1"))).isTrue();
    assertThat(IpLimits.parseBlock("::1/128").contains(InetAddress.getByName("127.0.0.1"))).isFalse();
    assertThat(IpLimits.parseBlock("2001:db8::/32").contains(InetAddress.getByName("2001:db8:1::5"))).isTrue();
    assertThat(IpLimits.parseBlock("0.0.0.0/0").contains(InetAddress.getByName("192.0.2.1"))).isTrue();
    for (String bad : List.of("example.org", "10.0.0.0/33", "10.0.0.0/x", "", "::1/129", "1.2.3")) {
      assertThatThrownBy(() -> IpLimits.parseBlock(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(IpGuard.key(InetAddress.getByName("2001:db8:0:1::5")))
        .isEqualTo(IpGuard.key(InetAddress.getByName("2001:db8:0:1:ffff::1"))).isEqualTo("20010db800000001::/64");
    assertThat(IpGuard.key(InetAddress.getByName("2001:db8:0:2::5"))).isNotEqualTo(
        IpGuard.key(InetAddress.getByName("2001:db8:0:1::5")));
    assertThat(IpGuard.key(InetAddress.getByName("192.0.2.7"))).isEqualTo("192.0.2.7");
    assertThatThrownBy(() -> new IpLimits(-1, 0, 1, List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  private HttpClient from(String address) throws Exception {
    HttpClient client = HttpClient.newBuilder().localAddress(InetAddress.getByName(address)).build();
    clients.add(client);
    return client;
  }

  private WsPeer client(HttpClient http) {
    WsPeer peer = WsPeer.connect(http, harness.flock.uri().resolve("client"));
    peer.nextClient(Hello.class);
    return peer;
  }

  private URI httpUri(String path) {
    return URI.create("http://127.0.0.1:" + harness.flock.port() + path);
  }

  private void assertRefused(HttpClient http, String detail) {
    assertThatThrownBy(() -> WsPeer.connect(http, harness.flock.uri().resolve("client")))
        .isInstanceOf(CompletionException.class)
        .cause().isInstanceOf(WebSocketHandshakeException.class)
        .satisfies(e -> {
          HttpResponse<?> response = ((WebSocketHandshakeException) e).getResponse();
          assertThat(response.statusCode()).isEqualTo(429);
          Object body = response.body(); // what the JDK keeps of it, if anything
          if (body instanceof byte[] bytes && bytes.length > 0) {
            assertThat(new String(bytes, java.nio.charset.StandardCharsets.UTF_8)).contains(detail);
          }
        });
  }

  /** The address's count drops once the server has seen the close: a moment after the client did. */
  private void awaitAdmitted(HttpClient http) throws InterruptedException {
    long deadline = System.nanoTime() + WsPeer.PATIENCE.toNanos();
    while (true) {
      try {
        client(http);
        return;
      } catch (CompletionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }
}

package org.intrustd.appliance.egress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The egress proxy against real TCP servers on 127.0.0.1 (the tests run in a private network
 * namespace), through its real Unix socket, as an app behind socat would use it.
 */
class EgressProxyTest {
  private static final String APP = "probe";

  @TempDir Path dir;
  private Path socket;
  private EchoServer echo;
  private EchoServer other;
  private final AtomicReference<Optional<InternetGrant>> policy = new AtomicReference<>(Optional.empty());
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void servers() throws IOException {
    socket = dir.resolve("egress.sock");
    echo = new EchoServer();
    other = new EchoServer();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose.reversed()) {
      c.close();
    }
    echo.close();
    other.close();
  }

  private EgressProxy proxy() throws IOException {
    return proxy(EgressProxy.Options.DEFAULTS);
  }

  private EgressProxy proxy(EgressProxy.Options options) throws IOException {
    EgressProxy p = EgressProxy.start(APP, socket, policy::get, options);
    toClose.add(p);
    return p;
  }

  private void grant(String... rules) {
    policy.set(Optional.of(InternetGrant.parse(rules)));
  }

  private ProxyClient connect(String authority) throws IOException {
    ProxyClient c = ProxyClient.connect(socket, authority);
    toClose.add(c);
    return c;
  }

  private static void assertEchoes(ProxyClient c, String text) throws IOException {
    c.send(text);
    assertThat(new String(c.read(text.length()), StandardCharsets.ISO_8859_1)).isEqualTo(text);
  }

  private static void eventually(Duration d, BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + d.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + d + ": " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void anIpLiteralRuleOpensATunnelThatCarriesBytesBothWays() throws Exception {
    EgressProxy proxy = proxy();
    grant("127.0.0.1:" + echo.port());
    ProxyClient c = connect("127.0.0.1:" + echo.port());

    ProxyClient.Response r = c.response();
    assertThat(r.head()).isEqualTo("HTTP/1.1 200 Connection established\r\n\r\n");
    assertEchoes(c, "hello, world");
    assertThat(proxy.openTunnels()).isEqualTo(1);
    // More than the socket buffers and the proxy's 16 KiB buffers hold, in both directions at once.
    byte[] big = new byte[1 << 20];
    new SplittableRandom(7).nextBytes(big);
    Thread writer = Thread.ofVirtual().start(() -> {
      try {
        c.send(big);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    assertThat(c.read(big.length)).isEqualTo(big);
    writer.join();
    assertThat(echo.accepted).hasValue(1);
  }

  @Test
  void theAppEndingItsSideReachesTheServerAndTheServersEndReachesTheApp() throws Exception {
    EgressProxy proxy = proxy();
    grant("127.0.0.1:" + echo.port());
    ProxyClient c = connect("127.0.0.1:" + echo.port());
    assertThat(c.response().status()).isEqualTo(200);

    c.send("last words");
    c.endOutput();
    // The echo server answers after the app's end, then ends its own side: the app reads both.
    assertThat(new String(c.read(10), StandardCharsets.ISO_8859_1)).isEqualTo("last words");
    assertThat(c.endsWithin(Duration.ofSeconds(2))).isTrue();
    eventually(Duration.ofSeconds(2), () -> echo.ended.get() == 1, "the echo server sees the end");
    eventually(Duration.ofSeconds(2), () -> proxy.openTunnels() == 0, "the tunnel is gone");
  }

  @Test
  void bytesSentWithTheRequestHeadAreForwardedAfterTheAnswer() throws Exception {
    proxy();
    grant("127.0.0.1:" + echo.port());
    ProxyClient c = new ProxyClient(socket);
    toClose.add(c);
    c.send("CONNECT 127.0.0.1:" + echo.port() + " HTTP/1.1\r\n\r\nearly bytes");

    assertThat(c.response().status()).isEqualTo(200);
    assertThat(new String(c.read(11), StandardCharsets.ISO_8859_1)).isEqualTo("early bytes");
  }

  @Test
  void aPortNotInTheListIsRefusedWith403AndNothingReachesIt() throws Exception {
    proxy();
    grant("127.0.0.1:" + echo.port());

    ProxyClient refused = connect("127.0.0.1:" + other.port());
    ProxyClient.Response r = refused.response();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.head()).contains("Content-Type: text/plain");
    assertThat(r.body()).contains("127.0.0.1:" + other.port()).contains("'" + APP + "'");
    assertThat(refused.endsWithin(Duration.ofSeconds(1))).isTrue();

    // The same proxy and grant do reach the allowed port, so the refusal is the rule's doing.
    ProxyClient allowed = connect("127.0.0.1:" + echo.port());
    assertThat(allowed.response().status()).isEqualTo(200);
    assertEchoes(allowed, "x");
    assertThat(other.accepted).hasValue(0);
    assertThat(echo.accepted).hasValue(1);
  }

  @Test
  void withoutTheInternetPermissionEveryConnectIsRefused() throws Exception {
    proxy();

    ProxyClient.Response r = connect("127.0.0.1:" + echo.port()).response();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body()).isEqualTo("app 'probe' has no internet permission\n");
    assertThat(echo.accepted).hasValue(0);
  }

  @Test
  void revokingTheGrantClosesTheOpenTunnelWithinASecond() throws Exception {
    EgressProxy proxy = proxy();
    grant("127.0.0.1:" + echo.port());
    ProxyClient c = connect("127.0.0.1:" + echo.port());
    assertThat(c.response().status()).isEqualTo(200);
    assertEchoes(c, "before");

    policy.set(Optional.empty());
    proxy.recheck();

    assertThat(c.endsWithin(Duration.ofSeconds(1))).as("the app's connection ends").isTrue();
    eventually(Duration.ofSeconds(1), () -> echo.ended.get() == 1, "the echo server sees the close");
    assertThat(proxy.openTunnels()).isZero();
    assertThat(connect("127.0.0.1:" + echo.port()).response().status()).isEqualTo(403);
  }

  @Test
  void aGrantRevokedWhileTheConnectionIsMadeIsRefusedNotOpened() throws Exception {
    // The policy allows the first check and has changed by the second, made once the tunnel is
    // registered: the window a recheck() cannot see.
    AtomicInteger asked = new AtomicInteger();
    InternetGrant grant = InternetGrant.parse("127.0.0.1:" + echo.port());
    EgressProxy proxy = EgressProxy.start(APP, socket,
        () -> asked.incrementAndGet() == 1 ? Optional.of(grant) : Optional.empty());
    toClose.add(proxy);

    ProxyClient.Response r = connect("127.0.0.1:" + echo.port()).response();

    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body()).isEqualTo("app 'probe' has no internet permission\n");
    eventually(Duration.ofSeconds(1), () -> echo.ended.get() == 1, "the connection made is closed");
    assertThat(proxy.openTunnels()).isZero();
  }

  @Test
  void narrowingTheGrantClosesOnlyTheTunnelsItNoLongerAllows() throws Exception {
    EgressProxy proxy = proxy();
    grant("127.0.0.1:" + echo.port(), "127.0.0.1:" + other.port());
    ProxyClient kept = connect("127.0.0.1:" + echo.port());
    ProxyClient cut = connect("127.0.0.1:" + other.port());
    assertThat(kept.response().status()).isEqualTo(200);
    assertThat(cut.response().status()).isEqualTo(200);
    assertThat(proxy.openTunnels()).isEqualTo(2);

    grant("127.0.0.1:" + echo.port());
    proxy.recheck();

    assertThat(cut.endsWithin(Duration.ofSeconds(1))).isTrue();
    assertEchoes(kept, "still here");
    assertThat(proxy.openTunnels()).isEqualTo(1);
  }

  @Test
  void aNameRuleDoesNotReachLoopbackButTheAddressRuleDoes() throws Exception {
    proxy();
    grant("localhost:*");

    ProxyClient.Response r = connect("localhost:" + echo.port()).response();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body()).contains("'localhost' resolves only to addresses the app may not reach by name")
        .contains("127.0.0.1 (loopback)").contains("'127.0.0.1:" + echo.port() + "'");
    assertThat(echo.accepted).hasValue(0);

    // The rule the owner writes to allow it: the address itself (and the name, to ask by name).
    grant("localhost:" + echo.port(), "127.0.0.1:" + echo.port());
    ProxyClient byName = connect("localhost:" + echo.port());
    assertThat(byName.response().status()).isEqualTo(200);
    assertEchoes(byName, "by name");
  }

  @Test
  void anyPublicHostExcludesLoopbackByAddressAndByName() throws Exception {
    proxy();
    policy.set(Optional.of(InternetGrant.anyPublicHost()));

    ProxyClient.Response byAddress = connect("127.0.0.1:" + echo.port()).response();
    assertThat(byAddress.status()).isEqualTo(403);
    assertThat(byAddress.body()).contains("127.0.0.1 is a loopback address");
    assertThat(connect("localhost:" + echo.port()).response().status()).isEqualTo(403);
    assertThat(connect("[::1]:" + echo.port()).response().status()).isEqualTo(403);
    assertThat(connect("0.0.0.0:" + echo.port()).response().status()).isEqualTo(403);
    assertThat(echo.accepted).hasValue(0);
  }

  @Test
  void theAddressCheckedIsTheAddressConnectedTo() throws Exception {
    // A name the owner allowed that resolves to loopback (DNS rebinding, a hostile record).
    Map<String, List<InetAddress>> dns = Map.of(
        "api.example.com", List.of(InetAddress.getByName("127.0.0.1")),
        "mixed.example.com", List.of(InetAddress.getByName("10.1.2.3"), InetAddress.getByName("127.0.0.1")));
    proxy(new EgressProxy.Options(Duration.ofSeconds(10), Duration.ofSeconds(2), 16,
        name -> dns.getOrDefault(name, List.of())));
    grant("*.example.com:" + echo.port());

    assertThat(connect("api.example.com:" + echo.port()).response().status()).isEqualTo(403);
    assertThat(connect("mixed.example.com:" + echo.port()).response().status()).isEqualTo(403);
    assertThat(connect("nowhere.example.com:" + echo.port()).response().status()).isEqualTo(502);
    assertThat(echo.accepted).hasValue(0);

    grant("*.example.com:" + echo.port(), "127.0.0.1:" + echo.port());
    ProxyClient c = connect("mixed.example.com:" + echo.port());
    assertThat(c.response().status()).isEqualTo(200);
    assertEchoes(c, "via the allowed address");
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "hello\r\n\r\n",
    "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n",
    "CONNECT [::1:443 HTTP/1.1\r\n\r\n",
    "CONNECT 127.0.0.1:0 HTTP/1.1\r\n\r\n",
    "CONNECT 127.1:443 HTTP/1.1\r\n\r\n",
    "CONNECT user@example.com:443 HTTP/1.1\r\n\r\n",
    "CONNECT example.com:443 HTTP/2.0\r\n\r\n",
    "CONNECT example.com:443 HTTP/1.1\nHost: x\n\n",
    "CONNECT example.com:443 HTTP/1.1\r\n folded: x\r\n\r\n",
    "\u0000\u0001\u00ff\r\n\r\n",
    "CONNECT example.com:443 HTTP/1.1\r\n",
    "",
  })
  void badRequestsAre4xxAndTheProxyServesTheNextConnection(String request) throws Exception {
    proxy();
    grant("127.0.0.1:" + echo.port());
    ProxyClient bad = new ProxyClient(socket);
    toClose.add(bad);
    bad.send(request);
    bad.endOutput();

    ProxyClient.Response r = bad.response();
    assertThat(r.status()).isBetween(400, 505).isNotIn(403, 502, 503, 504);
    assertThat(r.body()).isNotBlank();
    assertThat(bad.endsWithin(Duration.ofSeconds(1))).isTrue();

    ProxyClient good = connect("127.0.0.1:" + echo.port());
    assertThat(good.response().status()).isEqualTo(200);
    assertEchoes(good, "next");
  }

  @Test
  void otherMethodsAre405WithAllow() throws Exception {
    proxy();
    ProxyClient c = new ProxyClient(socket);
    toClose.add(c);
    c.send("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n");

    ProxyClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(405);
    assertThat(r.head()).contains("Allow: CONNECT\r\n");
  }

  @Test
  void anOversizedHeadIs431WithoutWaitingForItsEnd() throws Exception {
    proxy();
    ProxyClient c = new ProxyClient(socket);
    toClose.add(c);
    c.send("CONNECT example.com:443 HTTP/1.1\r\nX-Padding: " + "a".repeat(9_000) + "\r\n");

    assertThat(c.response().status()).isEqualTo(431);
  }

  @Test
  void aHeadThatDoesNotArriveInTimeIs408() throws Exception {
    proxy(new EgressProxy.Options(Duration.ofMillis(300), Duration.ofSeconds(2), 16, EgressProxy.Resolver.SYSTEM));
    grant("127.0.0.1:" + echo.port());
    ProxyClient slow = new ProxyClient(socket);
    toClose.add(slow);
    slow.send("CONNECT 127.0.0.1:" + echo.port() + " HTTP/1.1\r\n");

    ProxyClient.Response r = slow.response();
    assertThat(r.status()).isEqualTo(408);
    assertThat(echo.accepted).hasValue(0);
  }

  @Test
  void aRefusedConnectionIs502() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      closedPort = s.getLocalPort();
    }
    proxy();
    grant("127.0.0.1:*");

    ProxyClient.Response r = connect("127.0.0.1:" + closedPort).response();
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body()).contains("127.0.0.1:" + closedPort);
  }

  @Test
  void aConnectionThatIsNotAnsweredInTimeIs504() throws Exception {
    // A listener whose accept queue is full drops further SYNs: the connect hangs.
    ServerSocket full = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
    toClose.add(full);
    for (int i = 0; i < 8; i++) {
      Socket s = new Socket();
      toClose.add(s);
      try {
        s.connect(full.getLocalSocketAddress(), 200);
      } catch (IOException e) {
        break;
      }
    }
    proxy(new EgressProxy.Options(Duration.ofSeconds(10), Duration.ofMillis(1_000), 16, EgressProxy.Resolver.SYSTEM));
    grant("127.0.0.1:" + full.getLocalPort());

    assertThat(connect("127.0.0.1:" + full.getLocalPort()).response().status()).isEqualTo(504);
  }

  @Test
  void closingTheProxyClosesItsTunnelsAndRemovesTheSocket() throws Exception {
    EgressProxy proxy = proxy();
    grant("127.0.0.1:" + echo.port());
    ProxyClient c = connect("127.0.0.1:" + echo.port());
    assertThat(c.response().status()).isEqualTo(200);
    assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-rw-rw-"));

    proxy.close();

    assertThat(c.endsWithin(Duration.ofSeconds(1))).isTrue();
    eventually(Duration.ofSeconds(1), () -> echo.ended.get() == 1, "the echo server sees the close");
    assertThat(socket).doesNotExist();
  }

  @Test
  void aStaleSocketFileIsReplaced() throws Exception {
    Files.writeString(socket, "left over");
    proxy();
    grant("127.0.0.1:" + echo.port());
    assertThat(connect("127.0.0.1:" + echo.port()).response().status()).isEqualTo(200);
  }

  @Test
  void aFailingPolicyRefusesRatherThanAllows() throws Exception {
    EgressProxy p = EgressProxy.start(APP, socket, () -> {
      throw new IllegalStateException("grants unreadable");
    });
    toClose.add(p);
    assertThat(connect("127.0.0.1:" + echo.port()).response().status()).isEqualTo(403);
  }

  @Test
  void eachTunnelIsLoggedOpenedAndClosedWithItsBytesAndEachRefusal() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        lines.add(record.getLevel() + " " + new java.util.logging.SimpleFormatter().formatMessage(record));
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger jul = Logger.getLogger("intrustd.egress");
    jul.addHandler(capture);
    try {
      EgressProxy proxy = proxy();
      grant("127.0.0.1:" + echo.port());
      ProxyClient c = connect("127.0.0.1:" + echo.port());
      assertThat(c.response().status()).isEqualTo(200);
      assertEchoes(c, "12345");
      c.close();
      eventually(Duration.ofSeconds(2), () -> proxy.openTunnels() == 0, "the tunnel closes");
      assertThat(connect("127.0.0.1:" + other.port()).response().status()).isEqualTo(403);

      String target = "127.0.0.1:" + echo.port();
      // Only this test's lines: an earlier test's tunnel may log its close late.
      java.util.function.Supplier<List<String>> ours =
          () -> lines.stream().filter(l -> l.contains(target) || l.contains(":" + other.port() + ":")).toList();
      eventually(Duration.ofSeconds(1), () -> ours.get().size() >= 3, "three lines logged: " + lines);
      List<String> logged = ours.get();
      assertThat(logged).hasSize(3);
      assertThat(logged.get(0)).isEqualTo("INFO app 'probe': tunnel to " + target + " opened (127.0.0.1)");
      assertThat(logged.get(1)).startsWith("INFO app 'probe': tunnel to " + target + " (127.0.0.1) closed (")
          .endsWith("): 5 bytes sent, 5 bytes received");
      assertThat(logged.get(2)).startsWith("INFO app 'probe': refused CONNECT 127.0.0.1:" + other.port() + ": 403 ");
    } finally {
      jul.removeHandler(capture);
    }
  }

  @Test
  void randomBytesAreAnsweredAndNeverStopTheProxy() throws Exception {
    proxy();
    grant("127.0.0.1:" + echo.port());
    Gen<byte[]> garbage = Gen.oneOf(Gen.bytes(0, 10_000),
        Gen.stringsOf("CONNECT :[]0123456789.abc\r\n *@", 0, 200).map(s -> s.getBytes(StandardCharsets.ISO_8859_1)));
    Property.forAll(40, garbage, bytes -> {
      try (ProxyClient c = new ProxyClient(socket)) {
        c.send(bytes);
        c.endOutput();
        ProxyClient.Response r = c.response();
        // Random bytes may by chance be a CONNECT to a host this grant does not allow (403) or
        // that does not resolve in the namespace (502, 504); anything else is a 4xx of the head.
        assertThat(r.status()).isBetween(400, 505);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    });
    ProxyClient good = connect("127.0.0.1:" + echo.port());
    assertThat(good.response().status()).isEqualTo(200);
  }
}

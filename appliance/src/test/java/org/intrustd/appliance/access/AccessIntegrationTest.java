package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.intrustd.appliance.ApplianceConfig;
import org.intrustd.appliance.ApplianceDaemon;
import org.intrustd.appliance.control.ControlClient;
import org.intrustd.appliance.testing.Apps;
import org.intrustd.appliance.testing.HttpResponse;
import org.intrustd.appliance.testing.InProcessLauncher;
import org.intrustd.appliance.testing.StreamChannel;
import org.intrustd.appliance.testing.TestClient;
import org.intrustd.appliance.testing.TestClient.TestLink;
import org.intrustd.core.access.SessionProof;
import org.intrustd.flock.Flock;
import org.intrustd.flock.FlockConfig;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.webrtc.WebRtcLinkFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Personas, sessions, tokens and the access log through real links (docs/spec/access.md):
 * a real flock, a daemon with the hello app (not public), and Java clients speaking the same
 * channels as the shim.
 */
@Timeout(180)
class AccessIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String OWNER_PASSWORD = "correct horse battery";

  @TempDir
  static Path tmp;

  private static Flock flock;
  private static ApplianceDaemon daemon;
  private static LinkFactory clientLinks;
  private static TestClient client;
  private static ControlClient control;

  @BeforeAll
  static void start() throws Exception {
    flock = Flock.start(FlockConfig.defaults());
    Apps.write(tmp.resolve("apps/hello"), "hello", List.of("in-process"), "/health");
    Path state = tmp.resolve("state");
    daemon = ApplianceDaemon.start(ApplianceConfig.of(state, flock.uri(), "access test", List.of(tmp.resolve("apps")))
        .withPublicApps(Set.of()), new InProcessLauncher(), WebRtcLinkFactory.create());
    assertThat(daemon.awaitRegistered(10_000)).isTrue();
    clientLinks = WebRtcLinkFactory.create();
    client = TestClient.connect(flock.uri(), clientLinks);
    control = new ControlClient(ApplianceDaemon.controlSocket(state));
    ok(control.call("POST", "/v1/personas", json("name", "owner", "role", "owner", "password", OWNER_PASSWORD)));
    ok(control.call("POST", "/v1/personas", json("name", "bob", "role", "member", "password", "bob's password")));
  }

  @AfterAll
  static void stop() {
    clients.forEach(TestClient::close);
    if (client != null) {
      client.close();
    }
    if (daemon != null) {
      daemon.close();
    }
    if (flock != null) {
      flock.close();
    }
    if (clientLinks != null) {
      clientLinks.close();
    }
  }

  // ------------------------------------------------------------------ helpers

  private static ObjectNode json(String... kv) {
    ObjectNode n = JSON.createObjectNode();
    for (int i = 0; i < kv.length; i += 2) {
      n.put(kv[i], kv[i + 1]);
    }
    return n;
  }

  private static JsonNode ok(ControlClient.Response r) {
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    return r.body();
  }

  private static JsonNode body(HttpResponse r) throws Exception {
    return JSON.readTree(r.body());
  }

  private static final List<TestClient> clients = new ArrayList<>();
  private static int linksOnClient;

  /** A link from a client; a flock lets one connection set up 16, so clients rotate. */
  private static synchronized TestLink newLink() {
    if (++linksOnClient > 12) {
      clients.add(client);
      client = TestClient.connect(flock.uri(), clientLinks);
      linksOnClient = 1;
    }
    return client.link(daemon.id(), "hello");
  }

  /** A device: an ECDSA P-256 key pair, as the shim keeps in IndexedDB. */
  private static KeyPair device() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static HttpResponse login(TestLink link, String persona, String password, KeyPair device) {
    return link.session("POST", "/v1/login", json("persona", persona, "password", password, "deviceKey",
        b64(device.getPublic().getEncoded())).toString());
  }

  private static String proof(KeyPair device, TestLink link, String sessionId) throws Exception {
    Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
    s.initSign(device.getPrivate());
    String fingerprint = SessionProof.fingerprintOf(link.offerSdp()).orElseThrow();
    s.update(SessionProof.message(daemon.id().toString(), fingerprint, sessionId).getBytes(StandardCharsets.UTF_8));
    return b64(s.sign());
  }

  private static HttpResponse get(TestLink link, String target) {
    return link.request("hello", "GET " + target + " HTTP/1.1\r\nHost: hello\r\n\r\n");
  }

  private static JsonNode mint(String... kvAndPermissions) throws Exception {
    ObjectNode req = JSON.createObjectNode();
    var perms = req.putArray("permissions");
    for (String s : kvAndPermissions) {
      if (s.startsWith("intrustd+perm://")) {
        perms.add(s);
      } else {
        String[] kv = s.split("=", 2);
        if (kv[0].equals("maxUses")) {
          req.put(kv[0], Long.parseLong(kv[1]));
        } else {
          req.put(kv[0], kv[1]);
        }
      }
    }
    return ok(control.call("POST", "/v1/tokens", req));
  }

  // ------------------------------------------------------------------ tests

  @Test
  void anAnonymousVisitorMayOpenNothingAndLearnsWhoTheyAre() throws Exception {
    try (TestLink link = newLink()) {
      assertThat(get(link, "/whoami").status()).isEqualTo(403);
      JsonNode me = body(link.session("GET", "/v1/session", null));
      assertThat(me.get("persona").isNull()).isTrue();
      assertThat(me.get("appliance").asText()).isEqualTo(daemon.id().toString());
      assertThat(me.get("permissions")).isEmpty();
    }
  }

  @Test
  void theOwnerLogsInOpensAnyAppAndTheAppSeesTheTrustedHeaders() throws Exception {
    try (TestLink link = newLink()) {
      HttpResponse r = login(link, "owner", OWNER_PASSWORD, device());
      assertThat(r.status()).as(r.text()).isEqualTo(200);
      assertThat(r.header("Cache-Control")).contains("no-store");
      JsonNode s = body(r);
      assertThat(s.at("/persona/role").asText()).isEqualTo("owner");
      assertThat(s.at("/newSession/secret").asText()).startsWith("is1_");
      JsonNode who = body(get(link, "/whoami?check=intrustd%2Bperm://hello/anything"));
      assertThat(who.get("persona").asText()).isEqualTo("owner");
      assertThat(who.get("role").asText()).isEqualTo("owner");
      assertThat(who.get("holds").asBoolean()).isTrue();
      // The owner may open any app, so a missing one is a plain 404.
      assertThat(link.request("nope", "GET / HTTP/1.1\r\nHost: nope\r\n\r\n").status()).isEqualTo(404);
    }
  }

  @Test
  void theOwnerAdministersThroughTheLinkAndNoOneElseCan() throws Exception {
    try (TestLink owner = newLink(); TestLink member = newLink(); TestLink anonymous = newLink()) {
      login(owner, "owner", OWNER_PASSWORD, device());
      HttpResponse status = owner.admin("GET", "/v1/status", null);
      assertThat(status.status()).as(status.text()).isEqualTo(200);
      assertThat(body(status).get("appliance").asText()).isEqualTo(daemon.id().toString());
      HttpResponse byPath = owner.admin("POST", "/v1/apps", "{\"bundle\": \"/etc/passwd\"}");
      assertThat(byPath.status()).as("no file of the appliance named through the link").isEqualTo(403);
      assertThat(byPath.text()).contains("upload it to /v1/apps/bundle");
      HttpResponse minted = owner.admin("POST", "/v1/tokens", "{\"permissions\": [\"intrustd+perm://hello/view\"]}");
      assertThat(body(minted).get("secret").asText()).startsWith("it1_");

      assertThat(login(member, "bob", "bob's password", device()).status()).isEqualTo(200);
      assertThat(member.admin("GET", "/v1/status", null).status()).isEqualTo(403);
      assertThat(anonymous.admin("GET", "/v1/personas", null).status()).isEqualTo(403);
      JsonNode log = awaitLog("app=intrustd/admin&persona=owner", l -> l.get("entries").findValuesAsText("grant").contains("admin"));
      assertThat(log.get("entries").findValuesAsText("grant")).contains("admin");
    }
  }

  @Test
  void aSessionResumesOnANewLinkOnlyWithItsDeviceKeyAndOnlyForThatLink() throws Exception {
    KeyPair device = device();
    String secret;
    String sessionId;
    try (TestLink first = newLink()) {
      JsonNode s = body(login(first, "owner", OWNER_PASSWORD, device));
      secret = s.at("/newSession/secret").asText();
      sessionId = s.at("/newSession/id").asText();
    }
    try (TestLink second = newLink(); TestLink third = newLink()) {
      String proofForSecond = proof(device, second, sessionId);
      // The proof made for the second link is useless on the third (a replay from elsewhere)…
      HttpResponse replay = third.session("POST", "/v1/resume", json("session", secret, "proof", proofForSecond).toString());
      assertThat(replay.status()).isEqualTo(401);
      assertThat(body(replay).get("detail").asText()).contains("another browser");
      // …and the secret alone, with another browser's key, is refused too.
      HttpResponse stolen = third.session("POST", "/v1/resume",
          json("session", secret, "proof", proof(device(), third, sessionId)).toString());
      assertThat(stolen.status()).isEqualTo(401);
      assertThat(get(third, "/whoami").status()).isEqualTo(403);
      // The right browser on its own link is logged in again without a password.
      HttpResponse resumed = second.session("POST", "/v1/resume", json("session", secret, "proof", proofForSecond).toString());
      assertThat(resumed.status()).as(resumed.text()).isEqualTo(200);
      assertThat(body(get(second, "/whoami")).get("persona").asText()).isEqualTo("owner");
    }
  }

  @Test
  void failedLoginsAreRateLimitedWithAClearRetryTime() throws Exception {
    try (TestLink link = newLink()) {
      KeyPair device = device();
      for (int i = 0; i < LoginLimiter.FREE_PER_PEER; i++) {
        assertThat(login(link, "bob", "wrong password " + i, device).status()).isEqualTo(401);
      }
      HttpResponse limited = login(link, "bob", "bob's password", device);
      assertThat(limited.status()).isEqualTo(429);
      assertThat(limited.header("Retry-After")).isPresent();
      assertThat(body(limited).get("detail").asText()).contains("try again in");
    }
    // Another peer is not limited by that one (bob's own allowance is larger).
    try (TestLink other = newLink()) {
      assertThat(login(other, "bob", "bob's password", device()).status()).isEqualTo(200);
    }
  }

  @Test
  void aTokenGrantsExactlyItsPermissionsAndTheAppChecksTheFineOnes() throws Exception {
    JsonNode token = mint("label=album a", "intrustd+perm://hello/view?album=a");
    assertThat(token.get("fragment").asText()).contains("intrustd-token=" + token.get("secret").asText())
        .contains("intrustd-appliance=" + daemon.id());
    try (TestLink link = newLink()) {
      HttpResponse presented = link.session("POST", "/v1/tokens", json("token", token.get("secret").asText()).toString());
      assertThat(presented.status()).as(presented.text()).isEqualTo(200);
      JsonNode who = body(get(link, "/whoami?check=intrustd%2Bperm://hello/view?album=a"));
      assertThat(who.get("tokens").get(0).asText()).isEqualTo(token.get("id").asText());
      assertThat(who.get("persona").isNull()).isTrue();
      assertThat(who.get("holds").asBoolean()).isTrue();
      JsonNode other = body(get(link, "/whoami?check=intrustd%2Bperm://hello/view?album=b"));
      assertThat(other.get("holds").asBoolean()).as("a token for album a cannot read album b").isFalse();
      assertThat(link.request("nope", "GET / HTTP/1.1\r\nHost: nope\r\n\r\n").status()).isEqualTo(403);
    }
    JsonNode log = awaitLog("app=hello&token=" + token.get("id").asText(), l -> !l.get("entries").isEmpty());
    assertThat(log.get("entries")).isNotEmpty();
    JsonNode entry = log.get("entries").get(0);
    assertThat(entry.get("app").asText()).isEqualTo("hello");
    assertThat(entry.get("grant").asText()).isEqualTo("token:" + token.get("id").asText());
    assertThat(entry.get("target").asText()).as("paths only by default").isEqualTo("/whoami");
    assertThat(entry.get("status").asInt()).isEqualTo(200);
  }

  @Test
  void expiredUsedUpRevokedAndForgedTokensAreRefusedSayingWhy() throws Exception {
    JsonNode once = mint("maxUses=1", "intrustd+perm://hello/view");
    JsonNode soon = mint("expires=" + Instant.now().plusSeconds(2), "intrustd+perm://hello/view");
    JsonNode revoked = mint("intrustd+perm://hello/view");
    ok(control.call("DELETE", "/v1/tokens/" + revoked.get("id").asText(), null));
    try (TestLink link = newLink()) {
      assertThat(link.session("POST", "/v1/tokens", json("token", once.get("secret").asText()).toString()).status())
          .isEqualTo(200);
      HttpResponse again = link.session("POST", "/v1/tokens", json("token", once.get("secret").asText()).toString());
      assertThat(again.status()).isEqualTo(401);
      assertThat(body(again).get("detail").asText()).contains("used");
      HttpResponse r = link.session("POST", "/v1/tokens", json("token", revoked.get("secret").asText()).toString());
      assertThat(body(r).get("detail").asText()).contains("revoked");
      String forged = "it1_" + "A".repeat(43);
      assertThat(body(link.session("POST", "/v1/tokens", json("token", forged).toString())).get("detail").asText())
          .contains("unknown");
      Thread.sleep(Duration.between(Instant.now(), Instant.parse(soon.get("expires").asText())).toMillis() + 100);
      HttpResponse expired = link.session("POST", "/v1/tokens", json("token", soon.get("secret").asText()).toString());
      assertThat(expired.status()).isEqualTo(401);
      assertThat(body(expired).get("detail").asText()).contains("expired");
    }
  }

  @Test
  void revokingATokenClosesAnOpenWebSocketWithinOneSecond() throws Exception {
    JsonNode token = mint("intrustd+perm://hello/chat");
    try (TestLink link = newLink()) {
      link.session("POST", "/v1/tokens", json("token", token.get("secret").asText()).toString());
      StreamChannel ws = link.exchange("hello");
      ws.send("GET /ws HTTP/1.1\r\nHost: hello\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      assertThat(HttpResponse.readHead(ws).status()).isEqualTo(101);
      long revokedAt = System.nanoTime();
      ok(control.call("DELETE", "/v1/tokens/" + token.get("id").asText(), null));
      StreamChannel.Event end = ws.awaitTerminal();
      long millis = (System.nanoTime() - revokedAt) / 1_000_000;
      assertThat(end).isInstanceOfAny(StreamChannel.Event.Reset.class, StreamChannel.Event.Closed.class);
      assertThat(millis).as("closed %d ms after the revocation", millis).isLessThan(1000);
      assertThat(get(link, "/whoami").status()).isEqualTo(403);
    }
    daemonLogHas("revoked", token.get("id").asText());
  }

  @Test
  void removingAPersonaClosesItsOpenWebSocketAndEndsItsSessions() throws Exception {
    ok(control.call("POST", "/v1/personas", json("name", "frank", "password", "frank's password")));
    ok(control.call("POST", "/v1/grants", json("subject", "persona:frank", "permission", "intrustd+perm://hello/chat")));
    try (TestLink link = newLink()) {
      assertThat(login(link, "frank", "frank's password", device()).status()).isEqualTo(200);
      StreamChannel ws = link.open("http/hello", "intrustd/1");
      ws.send("GET /ws HTTP/1.1\r\nHost: hello\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      assertThat(HttpResponse.readHead(ws).status()).isEqualTo(101);
      long removedAt = System.nanoTime();
      ok(control.call("DELETE", "/v1/personas/frank", null));
      ws.awaitTerminal();
      long millis = (System.nanoTime() - removedAt) / 1_000_000;
      assertThat(millis).as("closed %d ms after the removal", millis).isLessThan(1000);
      assertThat(ok(control.call("GET", "/v1/sessions?persona=frank", null)).get("sessions")).isEmpty();
      assertThat(body(link.session("GET", "/v1/session", null)).get("persona").isNull()).isTrue();
    }
  }

  private static void daemonLogHas(String result, String tokenId) throws Exception {
    JsonNode log = awaitLog("token=" + tokenId, l -> l.get("entries").findValuesAsText("result").contains(result));
    assertThat(log.get("entries").findValuesAsText("result")).contains(result);
  }

  /**
   * The access log for {@code query}, once {@code ready} holds or after 5 s: an exchange is
   * logged when it ends on the appliance, which can be a moment after the client has the whole
   * response (the appliance waits for the client's END), and the log is written in batches.
   */
  private static JsonNode awaitLog(String query, java.util.function.Predicate<JsonNode> ready) throws Exception {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    while (true) {
      JsonNode log = ok(control.call("GET", "/v1/access-log?" + query, null));
      if (ready.test(log) || System.nanoTime() > deadline) {
        return log;
      }
      Thread.sleep(50);
    }
  }

  @Test
  void aMemberOpensWhatTheOwnerGrantsUntilItIsRevoked() throws Exception {
    ok(control.call("POST", "/v1/grants", json("subject", "persona:bob", "permission", "intrustd+perm://hello/view")));
    try (TestLink link = newLink()) {
      assertThat(login(link, "bob", "bob's password", device()).status()).isEqualTo(200);
      JsonNode who = body(get(link, "/whoami"));
      assertThat(who.get("role").asText()).isEqualTo("member");
      assertThat(who.get("permissions").get(0).asText()).isEqualTo("intrustd+perm://hello/view");
      // The log names the grant exactly, so that a reader can revoke it from the entry.
      JsonNode entry = awaitLog("app=hello&persona=bob", l -> !l.get("entries").isEmpty()).get("entries").get(0);
      assertThat(entry.get("grant").asText()).isEqualTo("persona:bob intrustd+perm://hello/view");
      ok(control.call("DELETE", "/v1/grants?subject=persona:bob&permission=intrustd%2Bperm://hello/view", null));
      assertThat(get(link, "/whoami").status()).isEqualTo(403);
    }
  }

  @Test
  void aPasswordChangeEndsTheOtherSessions() throws Exception {
    ok(control.call("POST", "/v1/personas", json("name", "carol", "password", "carol's password")));
    ok(control.call("POST", "/v1/grants", json("subject", "persona:carol", "permission", "intrustd+perm://hello/x")));
    try (TestLink a = newLink(); TestLink b = newLink()) {
      assertThat(login(a, "carol", "carol's password", device()).status()).isEqualTo(200);
      assertThat(login(b, "carol", "carol's password", device()).status()).isEqualTo(200);
      HttpResponse changed = a.session("POST", "/v1/password",
          json("current", "carol's password", "new", "carol's new password").toString());
      assertThat(changed.status()).as(changed.text()).isEqualTo(200);
      assertThat(get(a, "/whoami").status()).isEqualTo(200);
      assertThat(get(b, "/whoami").status()).as("the other browser is logged out").isEqualTo(403);
      JsonNode mine = body(a.session("GET", "/v1/sessions", null)).get("sessions");
      assertThat(mine).hasSize(1);
      assertThat(mine.get(0).get("current").asBoolean()).isTrue();
    }
  }

  @Test
  void aPersonaListsItsBrowsersAndEndsAnother() throws Exception {
    ok(control.call("POST", "/v1/personas", json("name", "erin", "password", "erin's password")));
    ok(control.call("POST", "/v1/grants", json("subject", "persona:erin", "permission", "intrustd+perm://hello/x")));
    try (TestLink laptop = newLink(); TestLink phone = newLink()) {
      login(laptop, "erin", "erin's password", device());
      String phoneSession = body(login(phone, "erin", "erin's password", device())).at("/newSession/id").asText();
      assertThat(body(laptop.session("GET", "/v1/sessions", null)).get("sessions")).hasSize(2);
      assertThat(laptop.session("DELETE", "/v1/sessions/nope", null).status()).isEqualTo(404);
      HttpResponse ended = laptop.session("DELETE", "/v1/sessions/" + phoneSession, null);
      assertThat(ended.status()).as(ended.text()).isEqualTo(200);
      assertThat(get(phone, "/whoami").status()).isEqualTo(403);
      assertThat(get(laptop, "/whoami").status()).isEqualTo(200);
    }
  }

  @Test
  void concurrentLoginsAndRevocationsKeepTheDatabaseConsistent() throws Exception {
    ok(control.call("POST", "/v1/personas", json("name", "dave", "password", "dave's password")));
    int n = 6;
    List<TestLink> links = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        links.add(newLink());
      }
      // Each link's first channel was opened (and could have been admitted) before the login.
      ExecutorService pool = Executors.newFixedThreadPool(n);
      List<Future<String>> ids = new ArrayList<>();
      for (TestLink l : links) {
        ids.add(pool.submit(() -> body(login(l, "dave", "dave's password", device())).at("/newSession/id").asText()));
      }
      List<String> sessionIds = new ArrayList<>();
      for (Future<String> f : ids) {
        sessionIds.add(f.get());
      }
      assertThat(sessionIds).doesNotHaveDuplicates().allMatch(s -> !s.isEmpty());
      List<Future<ControlClient.Response>> revokes = new ArrayList<>();
      for (String id : sessionIds.subList(0, n / 2)) {
        revokes.add(pool.submit(() -> control.call("DELETE", "/v1/sessions/" + id, null)));
      }
      for (Future<ControlClient.Response> f : revokes) {
        assertThat(f.get().status()).isEqualTo(200);
      }
      pool.shutdown();
      JsonNode live = ok(control.call("GET", "/v1/sessions?persona=dave", null)).get("sessions");
      assertThat(live.findValuesAsText("id")).containsExactlyInAnyOrderElementsOf(sessionIds.subList(n / 2, n));
    } finally {
      links.forEach(TestLink::close);
    }
  }
}

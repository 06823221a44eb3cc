package org.intrustd.appliance.lan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.intrustd.appliance.ApplianceConfig;
import org.intrustd.appliance.ApplianceDaemon;
import org.intrustd.appliance.testing.Apps;
import org.intrustd.appliance.testing.InProcessLauncher;
import org.intrustd.client.ApplianceClient;
import org.intrustd.client.ClientException;
import org.intrustd.client.DeviceKeys;
import org.intrustd.client.HttpResult;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.webrtc.WebRtcLinkFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * With no flock on the internet at all, a Java client on the LAN reaches the appliance through
 * the appliance's own LAN flock: a verified end-to-end link, the claim, and then the apps and
 * the control API, exactly as through any flock.
 */
@Timeout(120)
class LanIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path tmp;

  private static ApplianceDaemon daemon;
  private static LinkFactory clientLinks;
  private static URI lanFlock;

  @BeforeAll
  static void start() {
    Apps.write(tmp.resolve("apps/hello"), "hello", List.of("in-process"), "/health");
    // Port 9 (discard) on loopback: nothing answers there, as when the internet is down.
    ApplianceConfig config = ApplianceConfig.of(tmp.resolve("state"), URI.create("ws://127.0.0.1:9"), "lan test",
        List.of(tmp.resolve("apps"))).withPublicApps(Set.of()).withLan(new ApplianceConfig.Lan(true, 0, List.of()));
    daemon = ApplianceDaemon.start(config, new InProcessLauncher(), WebRtcLinkFactory.create());
    lanFlock = URI.create("ws://127.0.0.1:" + daemon.lanPort().orElseThrow() + "/");
    clientLinks = WebRtcLinkFactory.create();
  }

  @AfterAll
  static void stop() {
    if (daemon != null) {
      daemon.close();
    }
    if (clientLinks != null) {
      clientLinks.close();
    }
  }

  private static JsonNode json(HttpResult r) throws Exception {
    return JSON.readTree(r.body());
  }

  @Test
  void withNoInternetFlockTheLanFlockCarriesAVerifiedLinkTheClaimAndTheApps() throws Exception {
    assertThat(daemon.isRegistered()).as("registered with the (unreachable) internet flock").isFalse();
    String code = daemon.claimCode().orElseThrow();
    try (ApplianceClient client = ApplianceClient.connect(lanFlock, daemon.id(), clientLinks, Duration.ofSeconds(20))) {
      assertThat(json(client.json("intrustd/session", "GET", "/v1/session", null)).path("claimed").asBoolean()).isFalse();
      HttpResult refused = client.json("http/hello", "GET", "/echo?msg=hi", null);
      assertThat(refused.status()).isEqualTo(403);

      String claim = JSON.createObjectNode().put("code", code).put("persona", "owner").put("password", "lan password 1")
          .put("deviceKey", DeviceKeys.encode(DeviceKeys.generate())).put("label", "test").toString();
      HttpResult wrong = client.json("intrustd/session", "POST", "/v1/claim", claim.replace(code, "AAAAA-AAAAA"));
      assertThat(wrong.status()).isEqualTo(401);
      HttpResult claimed = client.json("intrustd/session", "POST", "/v1/claim", claim);
      assertThat(claimed.status()).as(claimed.text()).isEqualTo(200);
      assertThat(daemon.claimCode()).isEmpty();

      assertThat(client.json("http/hello", "GET", "/echo?msg=hi", null).text()).isEqualTo("hi");
      JsonNode status = json(client.json("intrustd/admin", "GET", "/v1/status", null));
      assertThat(status.path("appliance").asText()).isEqualTo(daemon.id().toString());
      assertThat(status.path("claimed").asBoolean()).isTrue();
      assertThat(status.at("/lan/port").asInt()).isEqualTo(daemon.lanPort().orElseThrow());
    }
  }

  @Test
  void theLanFlockIntroducesOnlyItsOwnAppliance() {
    Identity stranger = new Identity(Ed25519.generate());
    assertThatThrownBy(() -> ApplianceClient.connect(lanFlock, stranger.id(), clientLinks, Duration.ofSeconds(10)))
        .isInstanceOf(ClientException.class).hasMessageContaining("not connected to this flock");
  }

  @Test
  void noFlockAtAllIsAClearErrorQuickly() {
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> ApplianceClient.connect(URI.create("ws://127.0.0.1:9/"), daemon.id(), clientLinks,
        Duration.ofSeconds(5))).isInstanceOf(ClientException.class).hasMessageContaining("cannot reach the flock");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(6));
  }
}

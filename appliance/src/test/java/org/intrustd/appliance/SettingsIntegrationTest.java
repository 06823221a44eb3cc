package org.intrustd.appliance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.intrustd.appliance.control.ControlClient;
import org.intrustd.appliance.testing.Apps;
import org.intrustd.appliance.testing.InProcessLauncher;
import org.intrustd.appliance.testing.TestClient;
import org.intrustd.flock.Flock;
import org.intrustd.flock.FlockConfig;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.webrtc.WebRtcLinkFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner moves the appliance to another flock and renames it while it runs: it registers
 * there within seconds, browsers reach it through the new flock, and it stays there after a
 * restart whatever the command line says.
 */
@Timeout(120)
class SettingsIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  @Test
  void aNewFlockAndNameApplyAtOnceAndOutliveARestart() throws Exception {
    Apps.write(tmp.resolve("apps/hello"), "hello", List.of("in-process"), "/health");
    try (Flock a = Flock.start(FlockConfig.defaults()); Flock b = Flock.start(FlockConfig.defaults());
        LinkFactory browserLinks = WebRtcLinkFactory.create()) {
      ApplianceConfig onA = ApplianceConfig.of(tmp.resolve("state"), a.uri(), "First name", List.of(tmp.resolve("apps")))
          .withPublicApps(java.util.Set.of("hello"));
      ControlClient control = new ControlClient(ApplianceDaemon.controlSocket(onA.stateDir()));
      try (ApplianceDaemon daemon = ApplianceDaemon.start(onA, new InProcessLauncher(), WebRtcLinkFactory.create())) {
        assertThat(daemon.awaitRegistered(10_000)).isTrue();
        long asked = System.nanoTime();
        JsonNode changed = control.call("PUT", "/v1/settings", JSON.readTree(
            "{\"name\": \"Second name\", \"flock\": \"" + b.uri() + "\"}")).body();
        assertThat(changed.get("flock").asText()).isEqualTo(b.uri().toString());
        assertThat(daemon.awaitRegistered(5_000)).as("registered with the new flock within 5 s").isTrue();
        System.out.printf("re-registered with the new flock in %d ms%n", (System.nanoTime() - asked) / 1_000_000);
        JsonNode status = control.call("GET", "/v1/status", null).body();
        assertThat(status.get("name").asText()).isEqualTo("Second name");
        assertThat(status.get("flock").get("url").asText()).isEqualTo(b.uri().toString());
        assertThat(reachableThrough(b, browserLinks, daemon)).isTrue();
      }
      // started again with the old flock on its command line: the saved settings win
      try (ApplianceDaemon daemon = ApplianceDaemon.start(onA, new InProcessLauncher(), WebRtcLinkFactory.create())) {
        assertThat(daemon.awaitRegistered(10_000)).isTrue();
        JsonNode status = control.call("GET", "/v1/status", null).body();
        assertThat(status.get("flock").get("url").asText()).isEqualTo(b.uri().toString());
        assertThat(status.get("name").asText()).isEqualTo("Second name");
        assertThat(reachableThrough(b, browserLinks, daemon)).isTrue();
      }
    }
  }

  private static boolean reachableThrough(Flock flock, LinkFactory links, ApplianceDaemon daemon) {
    try (TestClient client = TestClient.connect(flock.uri(), links);
        TestClient.TestLink link = client.link(daemon.id(), "hello")) {
      return link.request("hello", "GET /echo?msg=here HTTP/1.1\r\nHost: hello\r\n\r\n").text().equals("here");
    }
  }
}

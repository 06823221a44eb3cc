package org.intrustd.appliance;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.intrustd.appliance.settings.Settings;
import org.junit.jupiter.api.Test;

/** Which flock URLs an appliance registers with, from its command line and its saved setting. */
class FlockUrlsTest {
  private static final URI FIRST = URI.create("wss://flock1.example.test");
  private static final URI SECOND = URI.create("wss://flock2.example.test");
  private final ApplianceConfig config = ApplianceConfig.of(Path.of("/nonexistent"), FIRST, "box", List.of())
      .withMoreFlocks(List.of(SECOND));

  @Test
  void theOtherNodesFollowTheFlockSettingWhileItIsTheCommandLinesFirst() {
    assertThat(ApplianceDaemon.flocks(config, new Settings("box", FIRST))).containsExactly(FIRST, SECOND);
  }

  @Test
  void aFlockSettingChangedToAnotherFlockIsUsedAlone() {
    URI elsewhere = URI.create("wss://other.example.test");
    assertThat(ApplianceDaemon.flocks(config, new Settings("box", elsewhere))).containsExactly(elsewhere);
  }

  @Test
  void withNoOtherNodesItIsTheSettingAlone() {
    ApplianceConfig single = ApplianceConfig.of(Path.of("/nonexistent"), FIRST, "box", List.of());
    assertThat(ApplianceDaemon.flocks(single, new Settings("box", FIRST))).containsExactly(FIRST);
  }
}

package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.intrustd.appliance.ApplianceConfig;
import org.intrustd.appliance.settings.Settings;
import org.intrustd.appliance.settings.SettingsStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
  @TempDir
  Path state;

  @Test
  void theDemoSetsASavedFlockAsideAndKeepsTheSavedName() throws Exception {
    URI demoFlock = URI.create("ws://127.0.0.1:7470");
    ApplianceConfig config = ApplianceConfig.of(state, demoFlock, "My Intrustd", List.of());
    DemoCommand.keepTheDemoFlock(config);
    assertThat(new SettingsStore(state).load()).as("nothing saved, nothing written").isEmpty();

    new SettingsStore(state).save(new Settings("Kitchen box", URI.create("wss://flock.example.org")));
    DemoCommand.keepTheDemoFlock(config);
    assertThat(new SettingsStore(state).load()).contains(new Settings("Kitchen box", demoFlock));
  }
}

package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
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

  @Test
  void theWebFoldersOfTheAppsAreOptionsAndEachMustBeAFolder() throws Exception {
    Run help = Run.run("demo", "--help");
    assertThat(help.out()).contains("--photos=DIR", "--backups=DIR", "--mail=DIR");

    Path web = state.resolve("web");
    Files.createDirectories(web.resolve("shim/dist"));
    Files.createDirectories(web.resolve("demo"));
    Path notAFolder = Files.writeString(state.resolve("mail.txt"), "not a folder");
    Run run = Run.run("demo", "--web", web.toString(), "--mail", notAFolder.toString(), "--state", state.resolve("s").toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains(notAFolder + " is not a directory");
  }
}

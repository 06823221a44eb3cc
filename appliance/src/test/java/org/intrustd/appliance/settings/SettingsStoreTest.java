package org.intrustd.appliance.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsStoreTest {
  @TempDir
  Path state;

  @Test
  void savedSettingsComeBackAndOnlyTheOwnerCanReadThem() throws Exception {
    SettingsStore store = new SettingsStore(state);
    assertThat(store.load()).isEmpty();
    Settings s = new Settings("Kitchen box", URI.create("wss://flock.example.org"));
    store.save(s);
    assertThat(new SettingsStore(state).load()).contains(s);
    assertThat(Files.getPosixFilePermissions(state.resolve("settings.json")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    store.save(s.with(java.util.Optional.of("Attic"), java.util.Optional.empty()));
    assertThat(store.load().orElseThrow().name()).isEqualTo("Attic");
    assertThat(Files.exists(state.resolve("settings.json.tmp"))).isFalse();
  }

  @Test
  void anUnreadableFileIsIgnoredNotFatal() throws Exception {
    for (String text : new String[] {"{", "[]", "{\"name\": \"\", \"flock\": \"ws://x\"}", "{\"name\": \"a\", \"flock\": \"http://x\"}",
        "{\"name\": \"a\"}", "\u0000\u0001"}) {
      Files.writeString(state.resolve("settings.json"), text);
      assertThat(new SettingsStore(state).load()).as(text).isEmpty();
    }
  }

  @Test
  void namesAndFlocksAreValidated() {
    assertThat(new Settings("  Box  ", URI.create("ws://127.0.0.1:7470")).name()).isEqualTo("Box");
    assertThat(Settings.parseFlock(" wss://flock.example.org/ ").getHost()).isEqualTo("flock.example.org");
    for (String bad : new String[] {"", "   ", "x".repeat(65), "tab\there"}) {
      assertThatThrownBy(() -> Settings.validName(bad)).isInstanceOf(Settings.InvalidSettings.class);
    }
    for (String bad : new String[] {"http://flock", "ws://", "flock.example.org", "ws://u:p@flock", "wss://flock#x", "::"}) {
      assertThatThrownBy(() -> Settings.parseFlock(bad)).as(bad).isInstanceOf(Settings.InvalidSettings.class);
    }
  }
}

package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlockMainTest {
  @TempDir
  Path dir;

  @Test
  void parsesHostPortAndRepeatedStaticMounts() {
    FlockConfig config = FlockMain.parse("--host", "0.0.0.0", "--port", "8080",
        "--static", "/=" + dir, "--static", "/apps/hello=" + dir);

    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.port()).isEqualTo(8080);
    assertThat(config.staticMounts()).containsOnlyKeys("/", "/apps/hello").containsValue(dir);
    assertThat(config.iceServers()).isEmpty();
  }

  @Test
  void rejectsWhatItCannotUse() {
    assertThatThrownBy(() -> FlockMain.parse("--port", "http")).hasMessageContaining("number");
    assertThatThrownBy(() -> FlockMain.parse("--static", "/x")).hasMessageContaining("/prefix=DIR");
    assertThatThrownBy(() -> FlockMain.parse("--static", "/x/=" + dir)).hasMessageContaining("trailing slash");
    assertThatThrownBy(() -> FlockMain.parse("--static", "/client=" + dir)).hasMessageContaining("WebSocket");
    assertThatThrownBy(() -> FlockMain.parse("--static", "/x=" + dir.resolve("missing")))
        .hasMessageContaining("not a directory");
    assertThatThrownBy(() -> FlockMain.parse("--verbose")).hasMessageContaining("unknown option");
    assertThatThrownBy(() -> FlockMain.parse("--host")).hasMessageContaining("needs a value");
  }
}

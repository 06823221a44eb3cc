package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code intrustd doctor} through the real entry point: JSON for scripts, exit 1 when a check fails. */
class DoctorCommandTest {
  @Test
  void jsonListsEveryCheckAndAFailedCheckIsExitOne(@TempDir Path dir) throws Exception {
    Run ok = Run.run("doctor", "--state", dir.resolve("state").toString(), "--json");
    JsonNode checks = new ObjectMapper().readTree(ok.out()).get("checks");
    assertThat(checks.findValuesAsText("name")).contains("java", "sandbox", "seccomp", "limits", "state", "clock");
    assertThat(checks.findValuesAsText("status")).allMatch(s -> s.equals("ok") || s.equals("warn") || s.equals("fail"));
    assertThat(ok.exit()).as(ok.out()).isEqualTo(checks.findValuesAsText("status").contains("fail") ? 1 : 0);

    Run noFlock = Run.run("doctor", "--state", dir.resolve("state").toString(), "--flock", "ws://127.0.0.1:1");
    assertThat(noFlock.exit()).isEqualTo(1);
    assertThat(noFlock.out()).containsPattern("FAIL flock +cannot reach the flock at ws://127.0.0.1:1");
    assertThat(noFlock.out()).contains("fix: check the URL");
  }
}

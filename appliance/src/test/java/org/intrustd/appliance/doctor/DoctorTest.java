package org.intrustd.appliance.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.intrustd.flock.Flock;
import org.intrustd.flock.FlockConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host checks on this machine (which the test suite's set-up gives bubblewrap and socat), and with faults made on purpose. */
class DoctorTest {
  @TempDir
  Path tmp;

  private static Map<String, Doctor.Check> byName(List<Doctor.Check> checks) {
    return checks.stream().collect(Collectors.toMap(Doctor.Check::name, Function.identity()));
  }

  @Test
  void thisHostRunsSandboxesAndEveryCheckSaysSomething() {
    Map<String, Doctor.Check> checks = byName(Doctor.forHost(tmp.resolve("state"), Optional.empty()).run());
    assertThat(checks.keySet()).contains("java", "sandbox", "seccomp", "limits", "socat", "state", "disk", "clock");
    assertThat(checks.get("java").status()).isEqualTo(Doctor.Status.OK);
    assertThat(checks.get("sandbox").status()).as(checks.get("sandbox").detail()).isEqualTo(Doctor.Status.OK);
    assertThat(checks.get("seccomp").status()).isEqualTo(Doctor.Status.OK);
    assertThat(checks.get("state").status()).isNotEqualTo(Doctor.Status.FAIL);
    checks.values().forEach(c -> {
      assertThat(c.detail()).isNotBlank();
      if (c.status() != Doctor.Status.OK) {
        assertThat(c.fix()).as(c.name()).isNotBlank();
      }
    });
  }

  @Test
  void aMissingBubblewrapFailsWithTheCommandThatInstallsIt() {
    Doctor.Check sandbox = byName(new Doctor(tmp, Optional.empty(), tmp.resolve("no-bwrap")).run()).get("sandbox");
    assertThat(sandbox.status()).isEqualTo(Doctor.Status.FAIL);
    assertThat(sandbox.fix()).contains("apt-get install bubblewrap");
  }

  @Test
  void aStateDirectoryAppsCannotReachIsAWarningWithTheChmod() throws Exception {
    Path closed = Files.createDirectories(tmp.resolve("closed"));
    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
    Doctor.Check state = byName(Doctor.forHost(closed.resolve("state"), Optional.empty()).run()).get("state");
    assertThat(state.status()).isEqualTo(Doctor.Status.WARN);
    assertThat(state.fix()).startsWith("chmod o+x " + closed + ",");
  }

  @Test
  void aFlockIsCheckedWhenNamed() {
    try (Flock flock = Flock.start(FlockConfig.defaults())) {
      Doctor.Check up = byName(Doctor.forHost(tmp, Optional.of(flock.uri())).run()).get("flock");
      assertThat(up.status()).as(up.detail()).isEqualTo(Doctor.Status.OK);
    }
    Doctor.Check down = byName(Doctor.forHost(tmp, Optional.of(URI.create("ws://127.0.0.1:1"))).run()).get("flock");
    assertThat(down.status()).isEqualTo(Doctor.Status.FAIL);
    assertThat(down.detail()).contains("cannot reach the flock at ws://127.0.0.1:1");
  }
}

package org.intrustd.appliance.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.testing.Apps;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Real apps in real sandboxes: a Java app on the daemon's socket and an unmodified TCP server. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SandboxLauncherTest {
  private Path tmp;
  private AppSupervisor apps;

  @BeforeEach
  void dirs() throws IOException {
    tmp = Files.createTempDirectory("sandbox-launcher",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
  }

  @AfterEach
  void stop() throws IOException {
    if (apps != null) {
      apps.close();
    }
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private AppSupervisor supervisor(Path state, Path... appDirs) {
    apps = new AppSupervisor(AppRegistry.scan(List.of(appDirs)), SandboxLauncher.create(state), state,
        Duration.ofSeconds(30), Duration.ofMinutes(10), InstantSource.system());
    return apps;
  }

  @Test
  void aJavaAppServesOnTheDaemonsSocketFromItsSandbox() throws IOException {
    Path state = tmp.resolve("state");
    // The packaged hello app (manifest and jars), as users run it: the test's class path is not
    // in the sandbox's view.
    AppSupervisor s = supervisor(state, Path.of("../apps/hello/target").toAbsolutePath().normalize());
    String response = SandboxedApps.get(s.acquire("hello"), "/echo?msg=hi");
    assertThat(response).startsWith("HTTP/1.1 200").contains("hi");
    assertThat(Files.readString(state.resolve("app-uids")).trim()).matches("hello \\d+");
  }

  @Test
  void anUnmodifiedTcpServerIsReachedThroughTheSocketBridge() {
    AppSupervisor s = supervisor(tmp.resolve("state"), Path.of("../apps/pyserve").toAbsolutePath().normalize());
    Path socket = s.acquire("pyserve");
    assertThat(SandboxedApps.get(socket, "/hello.json")).startsWith("HTTP/1.0 200")
        .contains("{\"served-by\": \"python3 -m http.server\"}");
    assertThat(SandboxedApps.get(socket, "/missing")).startsWith("HTTP/1.0 404");
  }

  @Test
  void stoppingAnAppEndsEveryProcessOfItsSandbox() throws Exception {
    AppSupervisor s = supervisor(tmp.resolve("state"), Path.of("../apps/pyserve").toAbsolutePath().normalize());
    s.acquire("pyserve");
    s.release("pyserve");
    List<ProcessHandle> sandbox = ProcessHandle.current().descendants().toList();
    assertThat(sandbox).as("bwrap, socat and python").hasSizeGreaterThanOrEqualTo(3);
    s.close();
    for (ProcessHandle p : sandbox) {
      p.onExit().get(10, TimeUnit.SECONDS);
    }
    assertThat(ProcessHandle.current().descendants().toList()).isEmpty();
  }

  @Test
  void aStateDirectoryOthersCannotEnterIsAClearError() throws IOException {
    Path closed = Files.createDirectories(tmp.resolve("closed"));
    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
    AppSupervisor s = supervisor(closed.resolve("state"), Apps.hello(tmp.resolve("apps/hello"), "hello"));
    assertThatThrownBy(() -> s.acquire("hello")).isInstanceOf(AppException.class)
        .hasMessageContaining(closed + " does not let others through (chmod o+x " + closed + ")");
  }
}

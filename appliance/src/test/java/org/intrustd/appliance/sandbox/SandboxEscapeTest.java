package org.intrustd.appliance.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.intrustd.appliance.apps.AppLauncher;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.apps.ProcessLauncher;
import org.intrustd.appliance.egress.EgressProxy;
import org.intrustd.appliance.egress.InternetGrant;
import org.intrustd.appliance.interapp.AppCallGateway;
import org.intrustd.appliance.permissions.Grants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The escape suite: a real app (a Python server nobody wrote for this sandbox's benefit) in a
 * real bubblewrap sandbox tries, one way per test, to get out. The last test runs the same
 * probes without a sandbox, to show that each probe does notice when it gets through.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SandboxEscapeTest {
  private final String secret = "intrustd-secret-" + UUID.randomUUID();
  private Path tmp;
  private Path state;
  private Path otherSecret;
  private ServerSocket hostService;
  private Process hostProcessWithSecret;
  private AppSupervisor apps;
  private Path probe;
  private Grants grants;
  private AppCallGateway gateway;
  private org.intrustd.appliance.testing.TestAccess access;
  private EgressProxy egress;
  private EchoServer allowedEcho;
  private EchoServer otherEcho;

  @BeforeAll
  void startSandboxedProbe() throws IOException {
    // Apps run as their own uids: the directories above their files must let them through.
    tmp = Files.createTempDirectory("sandbox-escape", PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx--x--x")));
    state = tmp.resolve("state");
    Path appDirs = tmp.resolve("apps");
    SandboxedApps.installProbe(appDirs.resolve("probe"), "probe");
    SandboxedApps.installProbe(appDirs.resolve("other"), "other");
    SandboxedApps.installProbe(appDirs.resolve("hog"), "hog");
    // A setuid-root program in the app's own code: running it must not make the app root.
    Path suid = Files.copy(Path.of("/usr/bin/id"), appDirs.resolve("probe/suid-id"));
    Files.setAttribute(suid, "unix:mode", 04755);
    otherSecret = Files.createDirectories(state.resolve("data/other")).resolve("secret.txt");
    Files.writeString(otherSecret, secret);
    Files.writeString(tmp.resolve("host-secret.txt"), secret);
    hostService = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(this::acceptForever);
    ProcessBuilder pb = new ProcessBuilder("sleep", "600");
    pb.environment().put("INTRUSTD_TEST_SECRET", secret);
    hostProcessWithSecret = pb.start();

    apps = supervisor(SandboxLauncher.create(state), state, appDirs);
    grants = Grants.load(state);
    access = new org.intrustd.appliance.testing.TestAccess(state, java.util.Map.of());
    gateway = AppCallGateway.start("probe", apps.paths("probe").daemonSocket(), grants, apps, access.tokens, null, null);
    egress = EgressProxy.start("probe", apps.paths("probe").egressSocket(),
        () -> grants.of("probe").internet().map(InternetGrant::parse));
    grants.onChange(id -> egress.recheck());
    allowedEcho = new EchoServer();
    otherEcho = new EchoServer();
    apps.acquire("other");
    probe = apps.acquire("probe");
  }

  private static AppSupervisor supervisor(AppLauncher launcher, Path state, Path appDirs) {
    return new AppSupervisor(AppRegistry.scan(List.of(appDirs)), launcher, state, Duration.ofSeconds(30),
        Duration.ofMinutes(10), InstantSource.system());
  }

  private void acceptForever() {
    while (!hostService.isClosed()) {
      try {
        hostService.accept().close();
      } catch (IOException e) {
        return;
      }
    }
  }

  @AfterAll
  void stop() throws IOException {
    if (gateway != null) {
      gateway.close();
    }
    if (access != null) {
      access.close();
    }
    if (egress != null) {
      egress.close();
      allowedEcho.close();
      otherEcho.close();
    }
    if (apps != null) {
      apps.close();
    }
    if (hostService != null) {
      hostService.close();
    }
    if (hostProcessWithSecret != null) {
      hostProcessWithSecret.destroyForcibly();
    }
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static String q(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private JsonNode attempt(String target) {
    return SandboxedApps.probe(probe, target);
  }

  private void assertStaysIn(String target) {
    JsonNode r = attempt(target);
    assertThat(r.path("escaped").asBoolean()).as("%s: %s", target, r.path("detail").asText()).isFalse();
  }

  @Test
  void cannotConnectToAServiceOnTheHostsLoopback() {
    assertStaysIn("/host-tcp?port=" + hostService.getLocalPort());
  }

  @Test
  void seesNoNetworkInterfaceButLoopback() {
    assertStaysIn("/interfaces");
  }

  @Test
  void cannotReadAnotherAppsData() {
    assertStaysIn("/read?path=" + q(otherSecret.toString()));
    assertStaysIn("/read?path=" + q("/proc/1/root" + otherSecret));
  }

  @Test
  void findsNoSecretInAnyFileOrProcessEnvironmentItCanSee() {
    assertStaysIn("/scan?secret=" + q(secret));
  }

  @Test
  void cannotReadHostFilesOutsideItsView() {
    assertStaysIn("/read?path=" + q(tmp.resolve("host-secret.txt").toString()));
    assertStaysIn("/read?path=%2Fetc%2Fshadow");
    assertStaysIn("/read?path=" + q("/proc/" + ProcessHandle.current().pid() + "/environ"));
  }

  @Test
  void cannotPtraceEvenItsOwnChild() {
    assertStaysIn("/ptrace");
  }

  @Test
  void cannotMountOrMakeNamespaces() {
    assertStaysIn("/mount");
    assertStaysIn("/unshare");
  }

  @Test
  void systemCallsAnAppNeverNeedsFailWithEperm() {
    assertStaysIn("/denied");
  }

  @Test
  void aSetuidRootProgramDoesNotMakeItRoot() {
    assertStaysIn("/setuid?path=%2Fapp%2Fsuid-id");
  }

  @Test
  void cannotWriteItsOwnCode() {
    assertStaysIn("/write-code?path=%2Fapp%2Fprobe.py");
  }

  @Test
  void opensAnotherAppOnlyWithTheOwnersGrant() {
    assertStaysIn("/call-app?app=other");
    grants.grant("probe", "app:other", List.of());
    try {
      JsonNode granted = attempt("/call-app?app=other");
      assertThat(granted.path("escaped").asBoolean()).as("granted: " + granted.path("detail").asText()).isTrue();
    } finally {
      grants.revoke("probe", "app:other");
    }
    assertStaysIn("/call-app?app=other");
  }

  @Test
  void internetGrantedForOneHostReachesOnlyThatHostAndRevokingCutsIt() throws Exception {
    String allowed = "/egress?host=127.0.0.1&port=" + allowedEcho.port();
    assertStaysIn(allowed);
    grants.grant("probe", "internet", List.of("127.0.0.1:" + allowedEcho.port()));
    try {
      JsonNode through = attempt(allowed);
      assertThat(through.path("escaped").asBoolean()).as(through.path("detail").asText()).isTrue();
      assertStaysIn("/egress?host=127.0.0.1&port=" + otherEcho.port());
      assertThat(otherEcho.accepted()).as("the other host never saw a connection").isZero();
      var held = java.util.concurrent.CompletableFuture.supplyAsync(() -> attempt(allowed + "&hold=1"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (egress.openTunnels() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(egress.openTunnels()).isEqualTo(1);
      long revokedAt = System.nanoTime();
      grants.revoke("probe", "internet");
      assertThat(held.get(10, TimeUnit.SECONDS).path("detail").asText()).isEqualTo("tunnel closed");
      assertThat(System.nanoTime() - revokedAt).as("cut at once").isLessThan(TimeUnit.SECONDS.toNanos(3));
    } finally {
      grants.revoke("probe", "internet");
    }
    assertStaysIn(allowed);
  }

  /** A TCP echo server on the test's loopback that counts its connections. */
  private static final class EchoServer implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();

    EchoServer() throws IOException {
      Thread.ofVirtual().start(() -> {
        while (!server.isClosed()) {
          try {
            var s = server.accept();
            accepted.incrementAndGet();
            Thread.ofVirtual().start(() -> {
              try (s) {
                s.getInputStream().transferTo(s.getOutputStream());
              } catch (IOException ignored) {
                // the client went away
              }
            });
          } catch (IOException e) {
            return;
          }
        }
      });
    }

    int port() {
      return server.getLocalPort();
    }

    int accepted() {
      return accepted.get();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  @Test
  void aForkBombStopsAtTheProcessLimit() {
    JsonNode r = attempt("/fork-bomb?max=4096");
    assertThat(r.path("escaped").asBoolean()).as(r.path("detail").asText()).isFalse();
    assertThat(r.path("detail").asText()).containsPattern("forked [1-4]?[0-9] processes");
    assertThat(SandboxedApps.probe(probe, "/whoami").path("escaped").asBoolean()).as("still serving").isFalse();
  }

  @Test
  void runsAsAnUnprivilegedUserWithOnlyItsOwnEnvironment() {
    JsonNode who = attempt("/whoami");
    JsonNode detail = parse(who.path("detail").asText());
    assertThat(detail.path("uid").asInt()).isEqualTo(SandboxLauncher.INNER_ID);
    assertThat(detail.path("cwd").asText()).isEqualTo("/app");
    assertThat(detail.path("env").toString()).doesNotContain("INTRUSTD_TEST_SECRET").contains("INTRUSTD_APP_SOCKET");
  }

  @Test
  void exceedingItsMemoryLimitKillsTheAppAndNothingElse() throws Exception {
    Path hog = apps.acquire("hog");
    apps.release("hog");
    String answer;
    try {
      answer = SandboxedApps.get(hog, "/memory?mib=400");
    } catch (UncheckedIOException e) {
      answer = "";
    }
    assertThat(answer).as("no answer from an app killed for its memory").isEmpty();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (apps.running().contains("hog") && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(apps.running()).doesNotContain("hog").contains("probe", "other");
    assertThat(apps.exitReason("hog")).contains("memory limit of 96 MiB");
    assertStaysIn("/interfaces");
    assertThat(SandboxedApps.probe(apps.acquire("hog"), "/interfaces").path("escaped").asBoolean())
        .as("restarted on the next request").isFalse();
    apps.release("hog");
  }

  /** The same probes with no sandbox get through: each of them can tell. */
  @Test
  void withoutTheSandboxTheSameProbesGetThrough() throws IOException {
    Path plainState = tmp.resolve("plain-state");
    Path plainApps = tmp.resolve("plain-apps");
    SandboxedApps.installProbe(plainApps.resolve("probe"), "probe");
    try (AppSupervisor plain = supervisor(new ProcessLauncher(), plainState, plainApps)) {
      Path socket = plain.acquire("probe");
      for (String target : List.of("/host-tcp?port=" + hostService.getLocalPort(),
          "/read?path=" + q(otherSecret.toString()), "/scan?secret=" + q(secret), "/ptrace", "/denied",
          "/write-code?path=" + q(plainApps.resolve("probe/probe.py").toString()), "/interfaces")) {
        JsonNode r = SandboxedApps.probe(socket, target);
        assertThat(r.path("escaped").asBoolean()).as("%s: %s", target, r.path("detail").asText()).isTrue();
      }
    }
  }

  private static JsonNode parse(String json) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package org.intrustd.appliance.apps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.intrustd.appliance.testing.Apps;
import org.intrustd.appliance.testing.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The supervisor with the real {@link ProcessLauncher}: the hello app runs as a child JVM. */
@Timeout(60)
class AppSupervisorTest {
  private static final Duration IDLE = Duration.ofMinutes(1);

  @TempDir
  Path tmp;

  private final ManualClock clock = new ManualClock();
  private final CountingLauncher launcher = new CountingLauncher();
  private final List<AppSupervisor> supervisors = new ArrayList<>();

  /** Counts launches and remembers every process it started. */
  static final class CountingLauncher implements AppLauncher {
    final ProcessLauncher real = new ProcessLauncher();
    final AtomicInteger launches = new AtomicInteger();
    final Set<Long> pids = ConcurrentHashMap.newKeySet();

    @Override
    public RunningApp launch(InstalledApp app, AppPaths paths) {
      launches.incrementAndGet();
      long before = System.nanoTime();
      RunningApp running = real.launch(app, paths);
      ProcessHandle.current().children().filter(p -> p.info().startInstant().isPresent())
          .forEach(p -> pids.add(p.pid()));
      assertThat(System.nanoTime() - before).as("launch returns without waiting for the app").isLessThan(2_000_000_000L);
      return running;
    }
  }

  private AppSupervisor supervisor(Duration startTimeout, Path... apps) {
    AppSupervisor s = new AppSupervisor(AppRegistry.scan(List.of(apps)), launcher, tmp, startTimeout,
        IDLE, clock);
    supervisors.add(s);
    return s;
  }

  private AppSupervisor helloSupervisor() {
    return supervisor(Duration.ofSeconds(30), Apps.hello(tmp.resolve("apps/hello"), "hello"));
  }

  @AfterEach
  void stopEverything() {
    supervisors.forEach(AppSupervisor::close);
    assertThat(liveChildren()).as("child processes left behind").isEmpty();
  }

  private static List<ProcessHandle> liveChildren() {
    return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList();
  }

  /**
   * The whole command line, from /proc: {@code ProcessHandle.Info.commandLine()} cuts it short
   * (the class path alone is over 4 KiB), and the main class comes last.
   */
  private static String commandLine(ProcessHandle p) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).replace('\0', ' ');
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static ProcessHandle onlyChild() {
    List<ProcessHandle> children = liveChildren();
    assertThat(children).hasSize(1);
    return children.get(0);
  }

  @Test
  void theFirstAcquireStartsTheAppAndReturnsOnceItAnswersItsHealthCheck() {
    AppSupervisor apps = helloSupervisor();
    assertThat(apps.isInstalled("hello")).isTrue();
    assertThat(apps.running()).isEmpty();
    Path socket = apps.acquire("hello");
    assertThat(socket).isEqualTo(tmp.resolve("run/apps/hello/socket/app.sock"));
    assertThat(AppSupervisor.healthy(socket, "hello", "/health")).isTrue(); // no waiting: it is up
    assertThat(apps.running()).containsExactly("hello");
    assertThat(commandLine(onlyChild())).contains("HelloApp");
    apps.release("hello");
    assertThat(apps.acquire("hello")).isEqualTo(socket);
    assertThat(launcher.launches).hasValue(1);
    apps.release("hello");
  }

  @Test
  void concurrentFirstAcquiresStartTheAppOnce() throws Exception {
    AppSupervisor apps = helloSupervisor();
    int n = 8;
    CountDownLatch go = new CountDownLatch(1);
    try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
      List<Future<Path>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        results.add(pool.submit(() -> {
          go.await();
          return apps.acquire("hello");
        }));
      }
      go.countDown();
      for (Future<Path> f : results) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(tmp.resolve("run/apps/hello/socket/app.sock"));
      }
    }
    assertThat(launcher.launches).hasValue(1);
    assertThat(liveChildren()).hasSize(1);
    for (int i = 0; i < n; i++) {
      apps.release("hello");
    }
  }

  @Test
  void anAppThatExitsAtOnceFailsTheAcquireQuicklyNotAfterTheStartTimeout() {
    AppSupervisor apps = supervisor(Duration.ofSeconds(30),
        Apps.write(tmp.resolve("apps/crash"), "crash", List.of("/bin/sh", "-c", "echo dying; exit 3"), "/health"));
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> apps.acquire("crash")).isInstanceOf(AppException.class)
        .hasMessageContaining("app 'crash' exited with status 3 while starting")
        .as("the end of its log").hasMessageContaining("dying");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    assertThat(apps.running()).isEmpty();
    // The next request tries again at once (one failure is not a pattern) ...
    assertThatThrownBy(() -> apps.acquire("crash")).isInstanceOf(AppException.class)
        .hasMessageContaining("exited with status 3");
    assertThat(launcher.launches).hasValue(2);
    // ... but an app that keeps failing is backed off: 1 s, then 2 s, without launching meanwhile.
    assertThatThrownBy(() -> apps.acquire("crash")).isInstanceOf(AppException.class)
        .hasMessageContaining("app 'crash' keeps failing").hasMessageContaining("next start in 1 s");
    assertThat(launcher.launches).hasValue(2);
    clock.advance(Duration.ofSeconds(1));
    assertThatThrownBy(() -> apps.acquire("crash")).hasMessageContaining("exited with status 3");
    assertThat(launcher.launches).hasValue(3);
    assertThatThrownBy(() -> apps.acquire("crash")).hasMessageContaining("next start in 2 s");
    clock.advance(Duration.ofSeconds(2));
    assertThatThrownBy(() -> apps.acquire("crash")).hasMessageContaining("exited with status 3");
    assertThat(launcher.launches).hasValue(4);
  }

  @Test
  void anAppThatStopsAnsweringItsHealthCheckIsStoppedAfterThreeChecks() throws Exception {
    AppSupervisor apps = helloSupervisor();
    apps.acquire("hello");
    apps.release("hello");
    apps.checkHealth();
    assertThat(apps.running()).containsExactly("hello");
    // Stopped (SIGSTOP): alive, but no longer answering.
    ProcessHandle child = onlyChild();
    new ProcessBuilder("kill", "-STOP", Long.toString(child.pid())).start().waitFor();
    try {
      apps.checkHealth();
      apps.checkHealth();
      assertThat(apps.running()).as("two failed checks are not enough").containsExactly("hello");
      apps.checkHealth();
      assertThat(apps.running()).isEmpty();
    } finally {
      new ProcessBuilder("kill", "-CONT", Long.toString(child.pid())).start().waitFor();
    }
    child.onExit().get(10, TimeUnit.SECONDS);
    apps.acquire("hello");
    assertThat(launcher.launches).as("started again on the next request").hasValue(2);
    apps.release("hello");
  }

  @Test
  void anAppThatNeverBecomesHealthyIsStoppedAfterTheStartTimeout() {
    AppSupervisor apps = supervisor(Duration.ofSeconds(1),
        Apps.write(tmp.resolve("apps/mute"), "mute", List.of("/bin/sleep", "60"), null));
    assertThatThrownBy(() -> apps.acquire("mute")).isInstanceOf(AppException.class)
        .hasMessageContaining("app 'mute' did not become healthy within 1 s");
    assertThat(liveChildren()).isEmpty();
  }

  @Test
  void anUnknownAppIsAnAppException() {
    AppSupervisor apps = helloSupervisor();
    assertThat(apps.isInstalled("nope")).isFalse();
    assertThatThrownBy(() -> apps.acquire("nope")).isInstanceOf(AppException.class).hasMessageContaining("'nope'");
  }

  @Test
  void stopIdleStopsAnAppOnlyAfterItHasBeenIdleForTheIdleTimeout() {
    AppSupervisor apps = helloSupervisor();
    apps.acquire("hello");
    ProcessHandle first = onlyChild();
    clock.advance(IDLE.multipliedBy(2));
    apps.stopIdle();
    assertThat(first.isAlive()).as("an app in use is never idle").isTrue();

    apps.release("hello");
    clock.advance(IDLE.minusSeconds(1));
    apps.stopIdle();
    assertThat(first.isAlive()).isTrue();
    assertThat(apps.running()).containsExactly("hello");

    clock.advance(Duration.ofSeconds(1));
    apps.stopIdle();
    assertThat(first.isAlive()).isFalse();
    assertThat(apps.running()).isEmpty();

    Path socket = apps.acquire("hello");
    assertThat(AppSupervisor.healthy(socket, "hello", "/health")).isTrue();
    assertThat(onlyChild().pid()).isNotEqualTo(first.pid());
    assertThat(launcher.launches).hasValue(2);
    apps.release("hello");
  }

  @Test
  void aKilledAppIsRestartedOnTheNextAcquire() throws Exception {
    AppSupervisor apps = helloSupervisor();
    apps.acquire("hello");
    apps.release("hello");
    ProcessHandle first = onlyChild();
    first.destroyForcibly();
    first.onExit().get(10, TimeUnit.SECONDS);
    assertThat(apps.running()).isEmpty();
    apps.checkHealth();
    assertThat(apps.exitReason("hello")).as("noted by the periodic check").isEqualTo("stopped");

    Path socket = apps.acquire("hello");
    assertThat(AppSupervisor.healthy(socket, "hello", "/health")).isTrue();
    assertThat(onlyChild().pid()).isNotEqualTo(first.pid());
    assertThat(launcher.launches).hasValue(2);
    apps.release("hello");
  }

  @Test
  void closeStopsEveryAppAndLeavesNoChildProcess() {
    AppSupervisor apps = supervisor(Duration.ofSeconds(30), Apps.hello(tmp.resolve("apps/one"), "one"),
        Apps.hello(tmp.resolve("apps/two"), "two"));
    apps.acquire("one");
    apps.acquire("two");
    assertThat(liveChildren()).hasSize(2);
    apps.close();
    assertThat(liveChildren()).isEmpty();
    assertThat(launcher.pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty());
    assertThatThrownBy(() -> apps.acquire("one")).isInstanceOf(AppException.class).hasMessageContaining("shutting down");
  }
}

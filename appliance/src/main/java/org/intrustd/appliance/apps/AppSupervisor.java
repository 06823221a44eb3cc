package org.intrustd.appliance.apps;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps apps running while they are used: starts an app on its first request (concurrent
 * requests wait for the same start), waits until its socket answers its health check, restarts
 * it if it died, and stops it after it has been idle for a while. Thread-safe.
 */
public final class AppSupervisor implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.apps");
  private static final Duration POLL = Duration.ofMillis(25);

  private final AppRegistry registry;
  private final AppLauncher launcher;
  private final Path stateDir;
  private final Duration startTimeout;
  private final Duration idleTimeout;
  private final InstantSource clock;
  private final Map<String, Instance> instances = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** Health checks a running app must fail in a row before it is stopped as hung. */
  static final int FAILED_CHECKS_LIMIT = 3;
  private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

  /** One app's running process, when it was last used, and how it has been failing. */
  private static final class Instance {
    AppLauncher.RunningApp running;
    Path socket;
    volatile long lastUsedMillis;
    int activeExchanges;
    /** Failed starts and deaths since the app last passed a periodic health check. */
    int strikes;
    long retryAtMillis;
    int failedChecks;
    String lastFailure = "";
  }

  /**
   * Apps keep their data in {@code data/<id>} and their log in {@code logs/<id>.log} under
   * {@code stateDir}; sockets and generated files live in {@code run/apps/<id>}.
   */
  public AppSupervisor(AppRegistry registry, AppLauncher launcher, Path stateDir, Duration startTimeout,
      Duration idleTimeout, InstantSource clock) {
    this.registry = registry;
    this.launcher = launcher;
    this.stateDir = stateDir.toAbsolutePath();
    this.startTimeout = startTimeout;
    this.idleTimeout = idleTimeout;
    this.clock = clock;
  }

  /** The installed apps, by id. */
  public List<InstalledApp> installed() {
    return registry.all();
  }

  /** Where an app's files are on the host. */
  public AppPaths paths(String appId) {
    Path appRun = stateDir.resolve("run").resolve("apps").resolve(appId);
    return new AppPaths(appRun.resolve("socket").resolve("app.sock"), stateDir.resolve("data").resolve(appId),
        stateDir.resolve("logs").resolve(appId + ".log"), appRun);
  }

  /** Stops an app now if it runs (the owner asked); false if it was not running. */
  public boolean stop(String appId) {
    Instance instance = instances.get(appId);
    if (instance == null) {
      return false;
    }
    synchronized (instance) {
      if (instance.running == null) {
        return false;
      }
      LOG.log(Level.INFO, "app {0} stopped by the owner", instance.running.describe());
      instance.running.stop();
      instance.running = null;
      return true;
    }
  }

  /**
   * Replaces an app by another version without a gap: starts {@code next} beside the running
   * one (its own socket, the same data), waits for its health check, then, holding the app's
   * lock, runs {@code commit} (which records the switch durably) and routes new requests to it;
   * the old version is stopped last. If {@code next} does not become healthy it is stopped,
   * {@code commit} never runs and the old version keeps serving; the exception says why.
   */
  public void upgrade(InstalledApp next, Runnable commit) {
    Instance instance = instances.computeIfAbsent(next.id(), id -> new Instance());
    AppPaths base = paths(next.id());
    Path current;
    synchronized (instance) {
      current = instance.socket;
    }
    // Alternate between two socket names, so that the old version keeps its own meanwhile.
    String name = base.socket().equals(current) ? "app.next.sock" : "app.sock";
    AppPaths trial = new AppPaths(base.socket().resolveSibling(name), base.dataDir(), base.logFile(), base.scratchDir());
    try {
      Files.createDirectories(trial.socketDir());
      Files.createDirectories(trial.logFile().getParent());
      Files.deleteIfExists(trial.socket());
    } catch (IOException e) {
      throw new AppException("cannot prepare " + trial.socketDir() + ": " + e.getMessage(), e);
    }
    long t0 = System.nanoTime();
    AppLauncher.RunningApp candidate = launcher.launch(next, trial);
    try {
      awaitHealthy(next, candidate, trial.socket(), trial.logFile());
    } catch (AppException e) {
      candidate.stop();
      throw e;
    }
    AppLauncher.RunningApp old;
    synchronized (instance) {
      if (closed) {
        candidate.stop();
        throw new AppException("the appliance is shutting down");
      }
      commit.run();
      old = instance.running;
      instance.running = candidate;
      instance.socket = trial.socket();
      instance.lastUsedMillis = clock.millis();
    }
    LOG.log(Level.INFO, "app {0} version {1} took over in {2} ms", candidate.describe(), next.manifest().version(),
        (System.nanoTime() - t0) / 1_000_000);
    if (old != null) {
      old.stop();
    }
  }

  /** Whether an app of that id is installed. */
  public boolean isInstalled(String appId) {
    return registry.find(appId).isPresent();
  }

  /**
   * The socket of a running app, starting it if needed; the caller must call
   * {@link #release} when its exchange ends, so that a busy app is never stopped as idle.
   */
  public Path acquire(String appId) {
    InstalledApp app = registry.find(appId).orElseThrow(() -> new AppException("no app named '" + appId + "'"));
    Instance instance = instances.computeIfAbsent(appId, id -> new Instance());
    synchronized (instance) {
      if (closed) {
        throw new AppException("the appliance is shutting down");
      }
      if (instance.running != null && !instance.running.isAlive()) {
        died(app.id(), instance);
      }
      if (instance.running == null) {
        long wait = instance.retryAtMillis - clock.millis();
        if (wait > 0) {
          throw new AppException("app '" + appId + "' keeps failing (" + instance.lastFailure + "); next start in "
              + (wait + 999) / 1000 + " s");
        }
        try {
          start(app, instance);
        } catch (AppException e) {
          strike(instance, e.getMessage());
          throw e;
        }
      }
      instance.activeExchanges++;
      instance.lastUsedMillis = clock.millis();
      return instance.socket;
    }
  }

  public void release(String appId) {
    Instance instance = instances.get(appId);
    if (instance != null) {
      synchronized (instance) {
        instance.activeExchanges--;
        instance.lastUsedMillis = clock.millis();
      }
    }
  }

  private void start(InstalledApp app, Instance instance) {
    AppPaths paths = paths(app.id());
    Path socket = paths.socket();
    try {
      Files.createDirectories(paths.socketDir());
      Files.createDirectories(paths.logFile().getParent());
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      throw new AppException("cannot prepare " + paths.scratchDir() + ": " + e.getMessage(), e);
    }
    long t0 = System.nanoTime();
    AppLauncher.RunningApp running = launcher.launch(app, paths);
    try {
      awaitHealthy(app, running, socket, paths.logFile());
    } catch (AppException e) {
      running.stop();
      throw e;
    }
    instance.running = running;
    instance.socket = socket;
    LOG.log(Level.INFO, "app {0} started in {1} ms", running.describe(), (System.nanoTime() - t0) / 1_000_000);
  }

  private void awaitHealthy(InstalledApp app, AppLauncher.RunningApp running, Path socket, Path log) {
    long deadline = System.nanoTime() + startTimeout.toNanos();
    String path = app.manifest().healthCheck().orElse(null);
    while (System.nanoTime() < deadline) {
      if (!running.isAlive()) {
        throw new AppException("app '" + app.id() + "' " + running.exitReason() + " while starting; the end of "
            + log + ":\n" + tail(log, 8));
      }
      if (Files.exists(socket) && (path == null ? connects(socket) : healthy(socket, app.id(), path))) {
        return;
      }
      try {
        Thread.sleep(POLL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AppException("interrupted while starting app '" + app.id() + "'");
      }
    }
    throw new AppException("app '" + app.id() + "' did not become healthy within " + startTimeout.toSeconds() + " s");
  }

  private static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | java.io.UncheckedIOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  private static boolean connects(Path socket) {
    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** One GET of the health-check path; healthy means a 2xx status line. */
  static boolean healthy(Path socket, String appId, String path) {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      String req = "GET " + path + " HTTP/1.1\r\nHost: " + appId + "\r\nConnection: close\r\n\r\n";
      ch.write(ByteBuffer.wrap(req.getBytes(StandardCharsets.US_ASCII)));
      ByteBuffer buf = ByteBuffer.allocate(32);
      while (buf.hasRemaining() && ch.read(buf) >= 0) {
        if (buf.position() >= 12) {
          break;
        }
      }
      String status = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
      return status.startsWith("HTTP/1.1 2") || status.startsWith("HTTP/1.0 2");
    } catch (IOException e) {
      return false;
    }
  }

  /** An app died on its own: note why, and back off if it keeps doing so. */
  private void died(String appId, Instance instance) {
    String reason = instance.running.exitReason();
    LOG.log(Level.WARNING, "app {0} {1}; it starts again on its next request", instance.running.describe(), reason);
    instance.running = null;
    strike(instance, reason);
  }

  /**
   * Counts a failure. The first restart is immediate (one crash should not turn users away);
   * after that, starts wait 1, 2, 4 ... up to 60 s, until the app passes a health check.
   */
  private void strike(Instance instance, String reason) {
    instance.strikes++;
    instance.lastFailure = reason.lines().findFirst().orElse(reason);
    long delay = instance.strikes <= 1 ? 0
        : Math.min(MAX_BACKOFF.toMillis(), 1000L << Math.min(20, instance.strikes - 2));
    instance.retryAtMillis = clock.millis() + delay;
  }

  /**
   * The periodic check of running apps: one that died is noted (and restarted on its next
   * request, with back-off), one that fails {@value #FAILED_CHECKS_LIMIT} health checks in a row
   * is stopped as hung. Checks run outside the app's lock, so requests are never held up.
   */
  public void checkHealth() {
    instances.forEach((id, instance) -> {
      AppLauncher.RunningApp running;
      Path socket;
      synchronized (instance) {
        running = instance.running;
        socket = instance.socket;
        if (running != null && !running.isAlive()) {
          died(id, instance);
          return;
        }
      }
      Optional<String> path = registry.find(id).flatMap(a -> a.manifest().healthCheck());
      if (running == null || path.isEmpty()) {
        return;
      }
      boolean ok = healthyWithin(socket, id, path.get(), HEALTH_TIMEOUT);
      synchronized (instance) {
        if (instance.running != running) {
          return; // restarted or stopped meanwhile
        }
        if (ok) {
          instance.failedChecks = 0;
          instance.strikes = 0;
        } else if (++instance.failedChecks >= FAILED_CHECKS_LIMIT) {
          LOG.log(Level.WARNING, "app {0} failed {1} health checks in a row; stopping it", running.describe(),
              FAILED_CHECKS_LIMIT);
          running.stop();
          instance.running = null;
          instance.failedChecks = 0;
          strike(instance, "it stopped answering its health check");
        }
      }
    });
  }

  /** A health check that gives up after {@code timeout} (an interrupted channel closes). */
  private static boolean healthyWithin(Path socket, String appId, String path, Duration timeout) {
    boolean[] result = new boolean[1];
    Thread check = Thread.ofVirtual().start(() -> result[0] = healthy(socket, appId, path));
    try {
      if (!check.join(timeout)) {
        check.interrupt();
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      check.interrupt();
      return false;
    }
    return result[0];
  }

  /** Stops apps that have been idle for longer than the idle timeout; call periodically. */
  public void stopIdle() {
    long now = clock.millis();
    instances.forEach((id, instance) -> {
      synchronized (instance) {
        if (instance.running != null && instance.activeExchanges == 0
            && now - instance.lastUsedMillis >= idleTimeout.toMillis()) {
          LOG.log(Level.INFO, "app {0} idle for {1} s; stopping it", instance.running.describe(), idleTimeout.toSeconds());
          instance.running.stop();
          instance.running = null;
        }
      }
    });
  }

  /** Ids of the apps running now. */
  public List<String> running() {
    return instances.entrySet().stream()
        .filter(e -> e.getValue().running != null && e.getValue().running.isAlive())
        .map(Map.Entry::getKey).sorted().toList();
  }

  /** Why an app last stopped ("running" while it runs), for logs and the owner. */
  public String exitReason(String appId) {
    Instance instance = instances.get(appId);
    if (instance == null) {
      return "not started";
    }
    synchronized (instance) {
      return instance.running == null ? "stopped" : instance.running.exitReason();
    }
  }

  @Override
  public void close() {
    closed = true;
    instances.values().forEach(instance -> {
      synchronized (instance) {
        if (instance.running != null) {
          instance.running.stop();
          instance.running = null;
        }
      }
    });
  }
}

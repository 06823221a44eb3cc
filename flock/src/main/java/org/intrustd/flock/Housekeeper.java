package org.intrustd.flock;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Enforces the appliance deadlines (challenge expiry, idle) by sweeping all appliance
 * connections every {@code period} against the injected clock. A sweep instead of one timer per
 * connection keeps all time on {@link InstantSource}, so tests can move time with a fake clock.
 * Thread-safe.
 */
final class Housekeeper implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Housekeeper.class.getName());

  private final InstantSource clock;
  private final Set<ApplianceEndpoint> watched = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("flock-housekeeper").factory());

  Housekeeper(InstantSource clock, Duration period) {
    this.clock = clock;
    long nanos = period.toNanos();
    timer.scheduleAtFixedRate(this::sweep, nanos, nanos, TimeUnit.NANOSECONDS);
  }

  /** The sweep period for these limits: a quarter of the shortest deadline, 10 ms to 1 s. */
  static Duration periodFor(Limits limits) {
    Duration shortest = limits.challengeExpiry().compareTo(limits.applianceIdle()) < 0
        ? limits.challengeExpiry() : limits.applianceIdle();
    Duration quarter = shortest.dividedBy(4);
    Duration floor = Duration.ofMillis(10);
    Duration ceiling = Duration.ofSeconds(1);
    return quarter.compareTo(floor) < 0 ? floor : quarter.compareTo(ceiling) > 0 ? ceiling : quarter;
  }

  void watch(ApplianceEndpoint endpoint) {
    watched.add(endpoint);
  }

  void forget(ApplianceEndpoint endpoint) {
    watched.remove(endpoint);
  }

  private void sweep() {
    var now = clock.instant();
    for (ApplianceEndpoint endpoint : watched) {
      try {
        endpoint.tick(now);
      } catch (RuntimeException e) { // an escaping exception would cancel every later sweep
        LOG.log(Level.ERROR, "housekeeping failed for " + endpoint, e);
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}

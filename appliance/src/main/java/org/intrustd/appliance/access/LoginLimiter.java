package org.intrustd.appliance.access;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Slows password guessing. Failures are counted per persona name and per peer (the link the
 * attempt came through); past a free allowance, each further attempt under that key must wait
 * twice as long as the last (1 s, 2 s, 4 s … up to 15 minutes). A success clears both keys.
 * A peer that opens new links to dodge its own count still meets the persona's. The refusal
 * says when to retry. Memory is bounded: the oldest keys are forgotten first.
 */
public final class LoginLimiter {
  static final int FREE_PER_PERSONA = 10;
  static final int FREE_PER_PEER = 5;
  static final Duration MAX_WAIT = Duration.ofMinutes(15);
  private static final int MAX_KEYS = 10_000;

  private record Failures(int count, Instant last) {}

  private final InstantSource clock;
  private final Map<String, Failures> failures = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
      return size() > MAX_KEYS;
    }
  };

  public LoginLimiter(InstantSource clock) {
    this.clock = clock;
  }

  /** Refuses (429, with the wait) when either key must still wait; otherwise returns. */
  public synchronized void check(String persona, String peer) {
    Instant now = clock.instant();
    Optional<Instant> until = until("persona:" + persona, FREE_PER_PERSONA)
        .filter(now::isBefore)
        .or(() -> until("peer:" + peer, FREE_PER_PEER).filter(now::isBefore));
    if (until.isPresent()) {
      long seconds = Math.max(1, (Duration.between(now, until.get()).toMillis() + 999) / 1000);
      throw new AccessException(429, "too many failed logins; try again in " + seconds + " s", seconds, null);
    }
  }

  public synchronized void failed(String persona, String peer) {
    Instant now = clock.instant();
    failures.merge("persona:" + persona, new Failures(1, now), (a, b) -> new Failures(a.count + 1, now));
    failures.merge("peer:" + peer, new Failures(1, now), (a, b) -> new Failures(a.count + 1, now));
  }

  public synchronized void succeeded(String persona, String peer) {
    failures.remove("persona:" + persona);
    failures.remove("peer:" + peer);
  }

  private Optional<Instant> until(String key, int free) {
    Failures f = failures.get(key);
    if (f == null || f.count < free) {
      return Optional.empty();
    }
    int over = Math.min(f.count - free, 20);
    Duration wait = Duration.ofSeconds(1L << over);
    return Optional.of(f.last.plus(wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait));
  }
}

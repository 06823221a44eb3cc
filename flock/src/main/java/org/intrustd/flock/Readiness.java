package org.intrustd.flock;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether the flock accepts registrations, as {@code GET /readyz} reports it: not ready while
 * anything holds it back, and never again once shutting down. The flock itself holds it back
 * while it starts; anything else that must finish before the flock may be sent traffic takes a
 * {@link #hold} and releases it when done. A clustered node, for one, takes
 * {@code hold("joining the cluster")} before {@link Flock#start} returns and releases it once
 * it has joined: until then a load balancer that probes {@code /readyz} sends it nobody.
 * Thread-safe.
 */
public final class Readiness {
  private final Map<Long, String> holds = new LinkedHashMap<>();
  private final AtomicLong nextHold = new AtomicLong();
  private boolean shuttingDown;

  /** Something that keeps the flock not ready until {@link #release}d. */
  public final class Hold implements AutoCloseable {
    private final long id;

    private Hold(long id) {
      this.id = id;
    }

    /** Lets the flock become ready, as far as this hold goes. Idempotent. */
    public void release() {
      synchronized (Readiness.this) {
        holds.remove(id);
      }
    }

    @Override
    public void close() {
      release();
    }
  }

  /** Keeps the flock not ready, saying {@code why} in {@code /readyz}, until the hold is released. */
  public synchronized Hold hold(String why) {
    long id = nextHold.incrementAndGet();
    holds.put(id, why);
    return new Hold(id);
  }

  /** From now on not ready, whatever is held or released: the flock is going away. */
  public synchronized void shutDown() {
    shuttingDown = true;
  }

  public synchronized boolean isReady() {
    return !shuttingDown && holds.isEmpty();
  }

  /** Why not ready ("shutting down", or each hold's reason), or empty when ready. */
  public synchronized Optional<String> whyNot() {
    if (shuttingDown) {
      return Optional.of("shutting down");
    }
    if (holds.isEmpty()) {
      return Optional.empty();
    }
    List<String> reasons = new ArrayList<>(holds.values());
    return Optional.of(String.join("; ", reasons));
  }
}

package org.intrustd.flock;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * Per-connection inbound rate limit: holds up to {@code burst} tokens, refilled at
 * {@code perSecond}; each message takes one. Thread-safe.
 */
final class TokenBucket {
  private static final double NANOS_PER_SECOND = 1e9;

  private final InstantSource clock;
  private final double perNano;
  private final double capacity;
  private double tokens;
  private Instant refilled;

  TokenBucket(InstantSource clock, int perSecond, int burst) {
    this.clock = clock;
    this.perNano = perSecond / NANOS_PER_SECOND;
    this.capacity = burst;
    this.tokens = burst;
    this.refilled = clock.instant();
  }

  /** Takes one token; false when the connection is over its rate. */
  synchronized boolean tryTake() {
    Instant now = clock.instant();
    long elapsed = Duration.between(refilled, now).toNanos();
    if (elapsed > 0) { // a clock that steps back must not drain or overfill the bucket
      tokens = Math.min(capacity, tokens + elapsed * perNano);
      refilled = now;
    }
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }
}

package org.intrustd.flock.load;

import java.util.Map;
import java.util.TreeMap;

/**
 * What the browsers of one loop measured; touched only on that loop's thread, read through
 * {@link Loop#call}. Nothing is counted while {@link #measuring} is off (warm-up).
 */
final class Tally {
  boolean measuring;
  long started;
  long completed;
  final Latencies answer = new Latencies();
  final Latencies complete = new Latencies();
  final Map<String, Long> failures = new TreeMap<>();

  void fail(String why) {
    if (measuring) {
      failures.merge(why, 1L, Long::sum);
    }
  }

  void reset(boolean measure) {
    measuring = measure;
    started = 0;
    completed = 0;
    answer.clear();
    complete.clear();
    failures.clear();
  }

  /** A copy safe to read from another thread. */
  Snapshot snapshot() {
    return new Snapshot(started, completed, answer.copy(), complete.copy(), new TreeMap<>(failures));
  }

  record Snapshot(long started, long completed, long[] answer, long[] complete, Map<String, Long> failures) {}
}

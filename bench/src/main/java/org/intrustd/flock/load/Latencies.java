package org.intrustd.flock.load;

import java.util.Arrays;

/** Nanosecond samples of one loop, merged and sorted at the end of a measurement. */
final class Latencies {
  private long[] samples = new long[1 << 14];
  private int n;

  void add(long nanos) {
    if (n == samples.length) {
      samples = Arrays.copyOf(samples, n * 2);
    }
    samples[n++] = nanos;
  }

  int count() {
    return n;
  }

  void clear() {
    n = 0;
  }

  long[] copy() {
    return Arrays.copyOf(samples, n);
  }

  /** Sorted union of several loops' samples. */
  static long[] merged(Iterable<long[]> parts) {
    int total = 0;
    for (long[] p : parts) {
      total += p.length;
    }
    long[] all = new long[total];
    int at = 0;
    for (long[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    Arrays.sort(all);
    return all;
  }

  /** The {@code q} quantile (0–1) of sorted samples, in milliseconds; NaN when there are none. */
  static double millis(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[i] / 1e6;
  }
}

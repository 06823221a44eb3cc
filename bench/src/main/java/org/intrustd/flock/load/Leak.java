package org.intrustd.flock.load;

import java.util.List;

/**
 * Whether heap-after-GC samples taken a minute apart keep growing. The first sample (before the
 * churn warmed anything up) is left out; the rest get a least-squares line, and a slope that
 * adds more than max(16 MiB, 10 % of the start) over the soak, with the last sample really above
 * the first, is a leak.
 */
final class Leak {
  private Leak() {}

  static String verdict(List<Double> heapMiB) {
    if (heapMiB.size() < 4) {
      return "too short to judge a leak: " + heapMiB.size() + " samples (a soak of 4 minutes or more is needed)";
    }
    List<Double> y = heapMiB.subList(1, heapMiB.size());
    int n = y.size();
    double meanX = (n - 1) / 2.0;
    double meanY = y.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    double sxy = 0;
    double sxx = 0;
    for (int i = 0; i < n; i++) {
      sxy += (i - meanX) * (y.get(i) - meanY);
      sxx += (i - meanX) * (i - meanX);
    }
    double slope = sxy / sxx; // MiB per minute
    double growth = slope * (n - 1);
    double allowed = Math.max(16, 0.10 * y.getFirst());
    String figures = String.format("heap after GC %.1f → %.1f MiB over %d minutes, trend %+.2f MiB/min (%+.1f MiB/h)",
        y.getFirst(), y.getLast(), n - 1, slope, slope * 60);
    if (growth > allowed && y.getLast() - y.getFirst() > allowed / 2) {
      return "LEAK: " + figures + ", more than the " + Math.round(allowed) + " MiB allowed";
    }
    return "no leak: " + figures;
  }
}

package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.Test;

/** The console line is exactly what SimpleFormatter makes of the launcher's pattern, for any record. */
class LineLogFormatterTest {
  @Test
  void writesWhatSimpleFormatterWritesForTheLaunchersPattern() {
    String before = System.getProperty("java.util.logging.SimpleFormatter.format");
    System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$-7s %3$s: %5$s%6$s%n");
    try {
      SimpleFormatter simple = new SimpleFormatter();
      LineLogFormatter line = new LineLogFormatter();
      List<Level> levels = List.of(Level.SEVERE, Level.WARNING, Level.INFO, Level.CONFIG, Level.FINE, Level.FINEST);
      for (long seed = 0; seed < 300; seed++) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        String text = switch (r.nextInt(4)) {
          case 0 -> "registered AAAA '" + r.nextInt() + "'";
          case 1 -> "app {0} (pid {1}) started";
          case 2 -> "";
          default -> "two\nlines and a \u00e9";
        };
        LogRecord rec = new LogRecord(levels.get(r.nextInt(levels.size())), text);
        rec.setLoggerName(r.nextBoolean() ? "org.intrustd.flock.Hub" : "x");
        rec.setInstant(Instant.ofEpochSecond(r.nextLong(0, 4_000_000_000L), r.nextInt(1_000_000_000)));
        if (text.contains("{0}")) {
          rec.setParameters(new Object[] {"hello", 42});
        }
        if (r.nextInt(5) == 0) {
          rec.setThrown(new IllegalStateException("broken " + seed));
        }
        assertThat(line.format(rec)).as("seed %d", seed).isEqualTo(simple.format(rec));
      }
    } finally {
      if (before == null) {
        System.clearProperty("java.util.logging.SimpleFormatter.format");
      } else {
        System.setProperty("java.util.logging.SimpleFormatter.format", before);
      }
    }
  }
}

package org.intrustd.cli;

import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The console line of a flock's introduction, which a busy flock writes thousands of times a
 * second: {@link LineLogFormatter} against the JDK's {@link SimpleFormatter} with the same
 * pattern (what logging.properties named before), same record, same text out.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
    "-Djava.util.logging.SimpleFormatter.format=%1$tT %4$-7s %3$s: %5$s%6$s%n"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LogLineBench {
  private LogRecord record;
  private final LineLogFormatter line = new LineLogFormatter();
  private final SimpleFormatter simple = new SimpleFormatter();

  @Setup
  public void setUp() {
    record = new LogRecord(Level.INFO, "[c41] introduced 'Qm9uam91ciE' to AIOQUT7-A73XDF3-7TODLLD-3KF6WC5-BZICEWM-ZQH6OVG-JGAJ7I4-O5C4MAP"
        + " at [a17]");
    record.setLoggerName("org.intrustd.flock.Endpoint");
    record.setInstant(Instant.parse("2026-12-03T17:04:05.123Z"));
  }

  @Benchmark
  public String line() {
    return line.format(record);
  }

  @Benchmark
  public String baselineSimpleFormatter() {
    return simple.format(record);
  }
}

package org.intrustd.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * The console's line: {@code HH:mm:ss LEVEL   logger: message}, then the stack trace if any —
 * what {@link java.util.logging.SimpleFormatter} makes of {@code %1$tT %4$-7s %3$s: %5$s%6$s%n}
 * (a test holds them equal), built directly. SimpleFormatter parses that pattern and formats
 * the time through a {@code Calendar} for every line, which was most of what a busy flock's
 * line per introduction cost.
 */
public final class LineLogFormatter extends Formatter {
  private final ZoneId zone = ZoneId.systemDefault();

  @Override
  public String format(LogRecord record) {
    StringBuilder line = new StringBuilder(160);
    LocalTime t = LocalTime.ofInstant(record.getInstant(), zone);
    twoDigits(line, t.getHour()).append(':');
    twoDigits(line, t.getMinute()).append(':');
    twoDigits(line, t.getSecond()).append(' ');
    String level = record.getLevel().getLocalizedName();
    line.append(level);
    for (int i = level.length(); i < 7; i++) {
      line.append(' ');
    }
    line.append(' ').append(record.getLoggerName()).append(": ").append(formatMessage(record));
    if (record.getThrown() != null) {
      StringWriter trace = new StringWriter();
      try (PrintWriter out = new PrintWriter(trace)) {
        out.println();
        record.getThrown().printStackTrace(out);
      }
      line.append(trace);
    }
    return line.append(System.lineSeparator()).toString();
  }

  private static StringBuilder twoDigits(StringBuilder b, int n) {
    return b.append((char) ('0' + n / 10)).append((char) ('0' + n % 10));
  }
}

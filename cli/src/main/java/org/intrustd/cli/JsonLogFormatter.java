package org.intrustd.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * One JSON object per log line, for log collectors: {@code time} (ISO-8601, UTC), {@code level}
 * (ERROR, WARN, INFO, DEBUG, TRACE, as {@link System.Logger} names them), {@code logger},
 * {@code message}, and {@code thrown} (the stack trace) when there is one. Line breaks inside a
 * message are escaped, so that each event stays one line.
 */
public final class JsonLogFormatter extends Formatter {
  @Override
  public String format(LogRecord record) {
    ObjectNode line = JsonNodeFactory.instance.objectNode();
    line.put("time", record.getInstant().toString());
    line.put("level", level(record.getLevel()));
    line.put("logger", record.getLoggerName());
    line.put("message", formatMessage(record));
    if (record.getThrown() != null) {
      StringWriter trace = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(trace));
      line.put("thrown", trace.toString());
    }
    return line + System.lineSeparator();
  }

  static String level(Level level) {
    int v = level.intValue();
    if (v >= Level.SEVERE.intValue()) {
      return "ERROR";
    }
    if (v >= Level.WARNING.intValue()) {
      return "WARN";
    }
    if (v >= Level.INFO.intValue()) {
      return "INFO";
    }
    if (v >= Level.FINE.intValue()) {
      return "DEBUG";
    }
    return "TRACE";
  }

  /** Makes every handler of the root logger (the console, as logging.properties sets it up) write JSON. */
  static void install() {
    for (java.util.logging.Handler handler : java.util.logging.Logger.getLogger("").getHandlers()) {
      handler.setFormatter(new JsonLogFormatter());
    }
  }
}

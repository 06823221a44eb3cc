package org.intrustd.flock.relay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.intrustd.core.log.RotatingLog;

/**
 * coturn's output, line by line as it reads it from the relay's pipe: appended to
 * {@code turnserver.log}, which moves to {@code turnserver.log.1} when it reaches its limit (so a
 * relay that runs for months keeps at most twice the limit on disk), with the relay
 * allocations counted as they go by. Thread-safe.
 */
final class RelayLog {
  /** What coturn logs for each relay allocation it grants (in its verbose mode, which Coturn sets). */
  static final String ALLOCATED = "ALLOCATE processed, success";
  /** Lines kept for an error message when coturn does not start. */
  private static final int TAIL = 15;

  private final RotatingLog file;
  private long allocations;
  private final Deque<String> tail = new ArrayDeque<>();

  /** Appends to {@code file} (made if missing), moved aside when a line would take it past {@code limit} bytes. */
  RelayLog(Path file, long limit) {
    this.file = new RotatingLog(file, limit, 2);
  }

  /** One line of coturn's output (without its line end). A log that cannot be written loses the line, not the relay. */
  synchronized void append(String line) {
    if (line.contains(ALLOCATED)) {
      allocations++;
    }
    if (tail.size() == TAIL) {
      tail.removeFirst();
    }
    tail.addLast(line);
    byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      file.write(bytes, 0, bytes.length);
    } catch (IOException e) {
      close();
    }
  }

  /** Relay allocations seen since this log was made. */
  synchronized long allocations() {
    return allocations;
  }

  /** The last lines appended (at most fifteen), for an error message. */
  synchronized List<String> tail() {
    return new ArrayList<>(tail);
  }

  synchronized void close() {
    try {
      file.close();
    } catch (IOException e) {
      // nothing more to write to it
    }
  }
}

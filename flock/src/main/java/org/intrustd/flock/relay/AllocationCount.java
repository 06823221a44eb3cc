package org.intrustd.flock.relay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Counts the relay allocations in coturn's log as it grows: whole lines only, each once. Thread-safe. */
final class AllocationCount {
  /** What coturn logs for each relay allocation it grants (in its verbose mode, which Coturn sets). */
  static final byte[] ALLOCATED = "ALLOCATE processed, success".getBytes(StandardCharsets.US_ASCII);

  private final Path log;
  private long counted;
  /** How far into the log lines were counted. */
  private long countedTo;

  AllocationCount(Path log) {
    this.log = log;
  }

  /** Allocations in the log so far: reads only what was appended since the last call. */
  synchronized long count() {
    try (FileChannel in = FileChannel.open(log, StandardOpenOption.READ)) {
      long size = in.size();
      if (size < countedTo) { // the log was replaced: start again from its beginning
        countedTo = 0;
      }
      byte[] buffer = new byte[64 * 1024];
      int carried = 0; // the start of a line not ended yet, kept at the buffer's start
      while (countedTo + carried < size) {
        int n = in.read(ByteBuffer.wrap(buffer, carried, buffer.length - carried), countedTo + carried);
        if (n <= 0) {
          break;
        }
        int filled = carried + n;
        int lines = lastNewline(buffer, filled) + 1;
        if (lines == 0 && filled < buffer.length) {
          break; // the last line is still being written
        }
        int whole = lines == 0 ? filled : lines; // a line longer than the buffer: counted in parts
        counted += occurrences(buffer, whole);
        countedTo += whole;
        carried = filled - whole;
        System.arraycopy(buffer, whole, buffer, 0, carried);
      }
    } catch (IOException e) {
      // no log yet: nothing allocated
    }
    return counted;
  }

  private static int lastNewline(byte[] text, int length) {
    for (int i = length - 1; i >= 0; i--) {
      if (text[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  static int occurrences(byte[] text, int length) {
    int count = 0;
    outer:
    for (int i = 0; i + ALLOCATED.length <= length; i++) {
      for (int j = 0; j < ALLOCATED.length; j++) {
        if (text[i + j] != ALLOCATED[j]) {
          continue outer;
        }
      }
      count++;
      i += ALLOCATED.length - 1;
    }
    return count;
  }

}

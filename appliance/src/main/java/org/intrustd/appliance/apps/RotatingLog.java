package org.intrustd.appliance.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * An app's output, appended to {@code <id>.log} and rotated by size ({@code <id>.log.1} is the
 * previous file, and so on), so that a chatty app never fills the disk. The daemon copies the
 * app's output itself (rather than handing the app the file) so that it can rotate at any time.
 */
public final class RotatingLog {
  private static final System.Logger LOG = System.getLogger("intrustd.apps");
  public static final long MAX_BYTES = 10L * 1024 * 1024;
  public static final int KEEP = 3;

  private RotatingLog() {}

  /** Copies {@code in} to {@code file} on a virtual thread until the stream ends; that thread. */
  public static Thread follow(InputStream in, Path file, long maxBytes, int keep) {
    return Thread.ofVirtual().name("log-" + file.getFileName()).start(() -> copy(in, file, maxBytes, keep));
  }

  /** Waits a little for an ended app's last output to reach its log, so a report can quote it. */
  public static void drain(Thread pump) {
    try {
      pump.join(java.time.Duration.ofSeconds(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void copy(InputStream in, Path file, long maxBytes, int keep) {
    byte[] buf = new byte[8192];
    try (in) {
      OutputStream out = open(file);
      long size = Files.size(file);
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (size + n > maxBytes && size > 0) {
            out.close();
            rotate(file, keep);
            out = open(file);
            size = 0;
          }
          out.write(buf, 0, n);
          out.flush();
          size += n;
        }
      } finally {
        out.close();
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot write {0}: {1}", file, e.getMessage());
    }
  }

  private static OutputStream open(Path file) throws IOException {
    return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** {@code f.(keep-1)} is dropped, every {@code f.i} becomes {@code f.(i+1)}, {@code f} becomes {@code f.1}. */
  static void rotate(Path file, int keep) throws IOException {
    Files.deleteIfExists(file.resolveSibling(file.getFileName() + "." + (keep - 1)));
    for (int i = keep - 2; i >= 1; i--) {
      Path from = file.resolveSibling(file.getFileName() + "." + i);
      if (Files.exists(from)) {
        Files.move(from, file.resolveSibling(file.getFileName() + "." + (i + 1)), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
  }
}

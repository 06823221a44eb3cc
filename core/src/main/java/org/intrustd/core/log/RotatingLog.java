package org.intrustd.core.log;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A log file rotated by size: appended to {@code <name>} until the next write would take it past
 * its limit, when {@code <name>.1} becomes {@code <name>.2} and so on, {@code <name>} becomes
 * {@code <name>.1}, and the oldest beyond {@code keep} files is dropped. So a chatty process
 * (an app, the flock's relay) never fills the disk. The appliance and the flock copy their
 * children's output into one themselves, rather than hand them the file, so that it can
 * rotate at any time. Thread-safe.
 */
public final class RotatingLog implements Closeable {
  private static final System.Logger LOG = System.getLogger("intrustd.log");
  /** An app's log: 10 MiB a file, three files. */
  public static final long MAX_BYTES = 10L * 1024 * 1024;
  public static final int KEEP = 3;

  private final Path file;
  private final long maxBytes;
  private final int keep;
  private OutputStream out;
  private long size;

  /** Appends to {@code file} (made when first written), at most {@code maxBytes} a file, {@code keep} files (at least 1). */
  public RotatingLog(Path file, long maxBytes, int keep) {
    this.file = file;
    this.maxBytes = maxBytes;
    this.keep = Math.max(1, keep);
  }

  /** Appends {@code b[off, off+len)}, whole to one file (a write larger than the limit fills a file alone). */
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    if (out == null) {
      out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      size = Files.size(file);
    }
    if (size > 0 && size + len > maxBytes) {
      close();
      rotate(file, keep);
      out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      size = 0;
    }
    out.write(b, off, len);
    size += len;
  }

  /** Closes the file; a later write opens it again. */
  @Override
  public synchronized void close() throws IOException {
    if (out != null) {
      OutputStream o = out;
      out = null;
      o.close();
    }
  }

  /** Copies {@code in} to {@code file} on a virtual thread until the stream ends; that thread. */
  public static Thread follow(InputStream in, Path file, long maxBytes, int keep) {
    return Thread.ofVirtual().name("log-" + file.getFileName()).start(() -> copy(in, file, maxBytes, keep));
  }

  /** Waits a little for an ended process's last output to reach its log, so a report can quote it. */
  public static void drain(Thread pump) {
    try {
      pump.join(java.time.Duration.ofSeconds(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void copy(InputStream in, Path file, long maxBytes, int keep) {
    byte[] buf = new byte[8192];
    try (in; RotatingLog log = new RotatingLog(file, maxBytes, keep)) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        log.write(buf, 0, n);
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot write {0}: {1}", file, e.getMessage());
    }
  }

  /** {@code f.(keep-1)} is dropped, every {@code f.i} becomes {@code f.(i+1)}, {@code f} becomes {@code f.1}. */
  static void rotate(Path file, int keep) throws IOException {
    if (keep == 1) {
      Files.delete(file);
      return;
    }
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

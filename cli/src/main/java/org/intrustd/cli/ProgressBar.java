package org.intrustd.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * A one-line progress bar for long work (uploading a bundle), on standard error and only on a
 * terminal: scripts and {@code --json} output see nothing of it.
 */
final class ProgressBar implements LongConsumer, AutoCloseable {
  private static final int WIDTH = 30;
  private static final long REDRAW_NANOS = 100_000_000;

  private final PrintWriter out;
  private final String what;
  private final long total;
  private final boolean shown;
  private long lastDrawn = Long.MIN_VALUE;
  private long done;

  /** {@code shown}: whether to draw at all (a terminal, and text output). */
  ProgressBar(PrintWriter out, String what, long total, boolean shown) {
    this.out = out;
    this.what = what;
    this.total = total;
    this.shown = shown;
  }

  /** The bar for a terminal, or a silent one. */
  static ProgressBar onTerminal(PrintWriter err, String what, long total, boolean json) {
    return new ProgressBar(err, what, total, System.console() != null && !json);
  }

  @Override
  public void accept(long bytesDone) {
    done = bytesDone;
    long now = System.nanoTime();
    if (shown && (now - lastDrawn >= REDRAW_NANOS || bytesDone >= total)) {
      lastDrawn = now;
      out.print("\r" + line(what, done, total));
      out.flush();
    }
  }

  /** The bar's text, e.g. {@code uploading notes.bundle [#######.......]  42%  12.3 / 29.0 MiB}. */
  static String line(String what, long done, long total) {
    double f = total <= 0 ? 1 : Math.min(1, (double) done / total);
    int filled = (int) Math.round(f * WIDTH);
    return String.format(Locale.ROOT, "%s [%s%s] %3d%%  %.1f / %.1f MiB", what, "#".repeat(filled),
        ".".repeat(WIDTH - filled), Math.round(f * 100), done / 1048576.0, total / 1048576.0);
  }

  @Override
  public void close() {
    if (shown && lastDrawn != Long.MIN_VALUE) {
      out.println();
      out.flush();
    }
  }
}

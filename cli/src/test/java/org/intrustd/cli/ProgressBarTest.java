package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
  @Test
  void theLineShowsTheShareDoneAndTheSizes() {
    assertThat(ProgressBar.line("uploading a.itb", 0, 10 << 20))
        .isEqualTo("uploading a.itb [..............................]   0%  0.0 / 10.0 MiB");
    assertThat(ProgressBar.line("uploading a.itb", 5 << 20, 10 << 20))
        .isEqualTo("uploading a.itb [###############...............]  50%  5.0 / 10.0 MiB");
    assertThat(ProgressBar.line("x", 12, 12)).contains("[" + "#".repeat(30) + "] 100%");
    assertThat(ProgressBar.line("x", 0, 0)).as("an empty file is done").contains("100%");
  }

  @Test
  void aBarNotShownWritesNothing() {
    StringWriter out = new StringWriter();
    try (ProgressBar bar = new ProgressBar(new PrintWriter(out), "x", 100, false)) {
      bar.accept(50);
      bar.accept(100);
    }
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void aShownBarRedrawsInPlaceAndEndsItsLine() {
    StringWriter out = new StringWriter();
    try (ProgressBar bar = new ProgressBar(new PrintWriter(out), "x", 100, true)) {
      bar.accept(10);
      bar.accept(100);
    }
    assertThat(out.toString()).startsWith("\rx [###").contains("\rx [" + "#".repeat(30) + "] 100%").endsWith("\n");
  }
}

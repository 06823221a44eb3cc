package org.intrustd.core.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RotatingLogTest {
  @TempDir
  Path dir;

  @Test
  void aLogPastItsSizeIsRotatedAndOnlyTheNewestFilesAreKept() throws IOException {
    Path log = dir.resolve("app.log");
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      out.append(String.format("line %03d%n", i)); // 9 bytes each
    }
    // A pipe hands over what the app wrote, a line at a time here.
    var lines = new ByteArrayInputStream(out.toString().getBytes(StandardCharsets.US_ASCII)) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, 9));
      }
    };
    RotatingLog.copy(lines, log, 300, 3);
    assertThat(dir.resolve("app.log.3")).doesNotExist();
    long total = Files.size(log) + Files.size(dir.resolve("app.log.1")) + Files.size(dir.resolve("app.log.2"));
    assertThat(Files.size(log)).isLessThanOrEqualTo(300);
    assertThat(Files.size(dir.resolve("app.log.1"))).isLessThanOrEqualTo(300);
    assertThat(total).as("older output was dropped").isLessThan(900);
    assertThat(Files.readString(log)).endsWith("line 099\n");
  }

  @Test
  void appendsToWhatIsThere() throws IOException {
    Path log = Files.writeString(dir.resolve("app.log"), "before\n");
    RotatingLog.copy(new ByteArrayInputStream("after\n".getBytes(StandardCharsets.US_ASCII)), log, 1000, 3);
    assertThat(log).hasContent("before\nafter");
  }

  @Test
  void eachWriteGoesWholeIntoOneFileAndOneFileMeansNoOldOnes() throws IOException {
    Path log = dir.resolve("relay.log");
    try (RotatingLog two = new RotatingLog(log, 10, 2)) {
      two.write("12345\n".getBytes(StandardCharsets.US_ASCII), 0, 6);
      two.write("a line longer than ten\n".getBytes(StandardCharsets.US_ASCII), 0, 23);
      two.write("abc\n".getBytes(StandardCharsets.US_ASCII), 0, 4);
    }
    assertThat(log).hasContent("abc");
    assertThat(dir.resolve("relay.log.1")).hasContent("a line longer than ten");
    assertThat(dir.resolve("relay.log.2")).doesNotExist();
    try (RotatingLog one = new RotatingLog(log, 10, 1)) {
      one.write("0123456789".getBytes(StandardCharsets.US_ASCII), 0, 10);
    }
    assertThat(log).hasContent("0123456789");
    assertThat(dir.resolve("relay.log.1")).hasContent("a line longer than ten");
  }
}

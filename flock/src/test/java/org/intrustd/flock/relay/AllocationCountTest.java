package org.intrustd.flock.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The allocation counter reads coturn's log as it grows: whole lines only, each once. */
class AllocationCountTest {
  private static final String ALLOCATED = "0: : session 001: realm <intrustd> user <1:intrustd>: incoming packet ALLOCATE processed, success\n";
  private static final String OTHER = "0: : session 001: realm <intrustd> user <1:intrustd>: incoming packet BINDING processed, success\n";

  @TempDir
  Path dir;

  @Test
  void countsEachAllocationOnceAsTheLogGrowsEvenAcrossHalfWrittenLinesAndBigReads() throws Exception {
    Path log = dir.resolve("turnserver.log");
    AllocationCount counter = new AllocationCount(log);
    assertThat(counter.count()).isZero(); // no log yet

    Files.writeString(log, OTHER + ALLOCATED + ALLOCATED.substring(0, 40));
    assertThat(counter.count()).isEqualTo(1); // the half-written line is not counted yet
    append(log, ALLOCATED.substring(40) + OTHER);
    assertThat(counter.count()).isEqualTo(2);
    assertThat(counter.count()).isEqualTo(2); // nothing new

    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 3000; i++) { // several buffers' worth, lines crossing their edges
      many.append(i % 3 == 0 ? ALLOCATED : OTHER);
    }
    append(log, many.toString());
    assertThat(counter.count()).isEqualTo(2 + 1000);

    Files.writeString(log, ALLOCATED); // replaced (shorter): counted again from the start
    assertThat(counter.count()).isEqualTo(2 + 1000 + 1);
  }

  private static void append(Path log, String text) throws Exception {
    Files.writeString(log, text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
  }
}

package org.intrustd.flock.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** coturn's output: written to its log, which moves aside at its limit, with the allocations counted on the way. */
class RelayLogTest {
  private static final String ALLOCATED = "0: : session 001: realm <intrustd> user <1:intrustd>: incoming packet ALLOCATE processed, success";
  private static final String OTHER = "0: : session 001: realm <intrustd> user <1:intrustd>: incoming packet BINDING processed, success";

  @TempDir
  Path dir;

  @Test
  void countsAllocationsAndKeepsAtMostTwoFilesOfTheLimit() throws Exception {
    Path file = dir.resolve("turnserver.log");
    Files.writeString(file, "from an earlier run\n");
    RelayLog log = new RelayLog(file, 1000);
    assertThat(log.allocations()).isZero();
    for (int i = 0; i < 100; i++) {
      log.append(i % 4 == 0 ? ALLOCATED : OTHER);
    }
    assertThat(log.allocations()).isEqualTo(25);
    assertThat(Files.size(file)).isLessThanOrEqualTo(1000).isPositive();
    assertThat(Files.size(dir.resolve("turnserver.log.1"))).isLessThanOrEqualTo(1000).isPositive();
    assertThat(Files.list(dir)).hasSize(2);
    // The newest lines are in the current file, whole, each on its own line.
    assertThat(Files.readAllLines(file)).isNotEmpty().allMatch(l -> l.equals(ALLOCATED) || l.equals(OTHER)).last().isEqualTo(OTHER);
    assertThat(log.tail()).hasSize(15).last().isEqualTo(OTHER);

    // A line longer than the limit still goes in, alone in its file.
    String huge = "x".repeat(3000);
    log.append(huge);
    assertThat(Files.readString(file)).isEqualTo(huge + "\n");
    log.close();
    // Reopened after a close (a late line from a process that is going): appended, not lost.
    log.append(ALLOCATED);
    assertThat(Files.readString(dir.resolve("turnserver.log.1"))).isEqualTo(huge + "\n");
    assertThat(Files.readString(file)).isEqualTo(ALLOCATED + "\n");
    assertThat(log.allocations()).isEqualTo(26);
  }

  @Test
  void aLogThatCannotBeWrittenLosesLinesButNotTheCount() {
    RelayLog log = new RelayLog(dir.resolve("no-such-folder/turnserver.log"), 1000);
    log.append(ALLOCATED);
    log.append(ALLOCATED);
    assertThat(log.allocations()).isEqualTo(2);
    assertThat(log.tail()).containsExactly(ALLOCATED, ALLOCATED);
  }
}

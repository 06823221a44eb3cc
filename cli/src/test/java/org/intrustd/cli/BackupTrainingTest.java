package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupTrainingTest {
  @Test
  void theTrainingRunRunsEveryBackupCommandItNamesAndRestoresWhatItBackedUp(@TempDir Path dir) throws Exception {
    BackupTraining.train(dir); // throws when any of its commands fails

    assertThat(dir.resolve("restored")).isDirectory();
    try (var s = Files.walk(dir.resolve("restored"))) {
      assertThat(s.filter(p -> p.getFileName().toString().equals("f1")).findFirst()).hasValueSatisfying(
          p -> assertThat(p).hasContent("changed"));
    }
  }
}

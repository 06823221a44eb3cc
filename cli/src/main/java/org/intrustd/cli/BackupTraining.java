package org.intrustd.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * The training run of the backup commands' AOT cache (JDK 25+; the {@code intrustd} launcher
 * runs it with {@code -XX:AOTCacheOutput}, in the background, the first time a backup command
 * finds no cache). It runs, in one JVM, what a user's backups run: init, a first backup, an
 * incremental one, listing, browsing, a check and a restore, on a small folder of its own, so
 * that the cache holds the classes and method profiles of each. A real command is no training
 * run: the JVM prints to standard output when it records one, which would spoil a command's
 * {@code --json}.
 */
final class BackupTraining {
  private BackupTraining() {}

  public static void main(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("intrustd-backup-training");
    try {
      train(dir);
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Runs the commands on a folder made under {@code dir}; throws if one of them fails. */
  static void train(Path dir) throws IOException {
    Path folder = dir.resolve("folder");
    Path repo = dir.resolve("repo");
    Path password = dir.resolve("password");
    Files.writeString(password, "training\n");
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < 400; i++) { // enough files and folders for the walk and the trees to show in the profiles
      Path sub = folder.resolve("d" + i % 8).resolve("e" + i % 40);
      Files.createDirectories(sub);
      byte[] bytes = new byte[1 << (6 + i % 12)];
      if (i % 2 == 0) {
        random.nextBytes(bytes);
      } else {
        java.util.Arrays.fill(bytes, (byte) ('a' + i % 26));
      }
      Files.write(sub.resolve("f" + i), bytes);
    }
    Files.createSymbolicLink(folder.resolve("link"), Path.of("d0/e0/f0"));
    String[] pw = {"--password-file", password.toString()};
    run("backup", "init", "--repo", repo.toString(), pw[0], pw[1]);
    run("backup", "run", "--repo", repo.toString(), pw[0], pw[1], folder.toString());
    Files.writeString(folder.resolve("d1/e1/f1"), "changed");
    Files.delete(folder.resolve("d2/e2/f2"));
    run("backup", "run", "--json", "--repo", repo.toString(), pw[0], pw[1], folder.toString());
    run("backup", "snapshots", "--repo", repo.toString(), pw[0], pw[1]);
    run("backup", "ls", "--repo", repo.toString(), pw[0], pw[1], "latest");
    run("backup", "check", "--read-data", "--repo", repo.toString(), pw[0], pw[1]);
    run("backup", "restore", "--repo", repo.toString(), pw[0], pw[1], "--target", dir.resolve("restored").toString(), "latest");
  }

  private static void run(String... args) {
    CommandLine cli = Main.commandLine(args);
    PrintWriter quiet = new PrintWriter(OutputStream.nullOutputStream());
    cli.setOut(quiet);
    cli.setErr(quiet);
    int code = cli.execute(args);
    if (code != 0) {
      throw new IllegalStateException("training: " + String.join(" ", List.of(args)) + " exited with " + code);
    }
  }
}

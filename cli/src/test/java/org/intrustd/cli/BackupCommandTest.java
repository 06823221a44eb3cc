package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code intrustd backup} through its real entry point, into a real repository. */
class BackupCommandTest {
  @TempDir
  Path dir;

  Path src;
  String repo;
  String pw;

  @BeforeEach
  void setUp() throws Exception {
    src = Files.createDirectories(dir.resolve("home"));
    Files.writeString(src.resolve("a.txt"), "alpha\n".repeat(10_000));
    Files.createDirectories(src.resolve("sub"));
    byte[] r = new byte[3 << 20];
    new Random(1).nextBytes(r);
    Files.write(src.resolve("sub/r.bin"), r);
    repo = dir.resolve("repo").toString();
    Files.writeString(dir.resolve("pw"), "correct horse\n");
    pw = dir.resolve("pw").toString();
  }

  Run backup(String... args) {
    List<String> all = new ArrayList<>(List.of("backup"));
    all.addAll(List.of(args));
    if (!all.contains("--help")) {
      all.addAll(List.of("--repo", repo, "--password-file", pw));
    }
    return Run.run(all.toArray(String[]::new));
  }

  @Test
  void initBackupListBrowseDiffRestoreCheckForgetPrune() throws Exception {
    Run init = backup("init", "--kdf-memory", "1", "--kdf-iterations", "1", "--json");
    assertThat(init.exit()).as(init.err()).isZero();
    Run first = backup("run", src.toString(), "--tag", "first", "--json");
    assertThat(first.exit()).as(first.err()).isZero();
    JsonNode s1 = first.json();
    assertThat(s1.get("summary").get("files").asInt()).isEqualTo(2);
    assertThat(s1.get("tags").get(0).asText()).isEqualTo("first");

    Files.writeString(src.resolve("sub/new.txt"), "new");
    Run second = backup("run", src.toString());
    assertThat(second.exit()).as(second.err()).isZero();
    assertThat(second.out()).contains("(1 new, 0 changed, 2 unchanged)");

    JsonNode list = backup("snapshots", "--json").json();
    assertThat(list).hasSize(2);
    String id1 = list.get(0).get("id").asText();
    Run table = backup("snapshots");
    assertThat(table.out()).contains(id1.substring(0, 8)).contains("first").contains("2 snapshots");

    Run ls = backup("ls", "latest", "home", "-R");
    assertThat(ls.out()).contains("home/sub/new.txt").contains("home/a.txt").contains("-rw-");
    Run diff = backup("diff", id1.substring(0, 6), "latest");
    assertThat(diff.out()).contains("+ home/sub/new.txt").contains("1 changes");

    Path out = dir.resolve("out");
    Run restore = backup("restore", "latest", "--target", out.toString());
    assertThat(restore.exit()).as(restore.err()).isZero();
    assertThat(out.resolve("home/sub/r.bin")).hasSameBinaryContentAs(src.resolve("sub/r.bin"));
    Run one = backup("restore", "latest", "--include", "home/a.txt", "--target", dir.resolve("one").toString());
    assertThat(one.exit()).isZero();
    assertThat(dir.resolve("one/a.txt")).hasSameTextualContentAs(src.resolve("a.txt"));

    Run check = backup("check", "--read-data");
    assertThat(check.exit()).as(check.err()).isZero();
    assertThat(check.out()).contains("no errors");

    Run forget = backup("forget", "--keep-last", "1", "--prune");
    assertThat(forget.exit()).as(forget.err()).isZero();
    assertThat(forget.out()).contains("forget " + id1.substring(0, 8)).contains("pruned:");
    assertThat(backup("snapshots", "--json").json()).hasSize(1);
  }

  @Test
  void refusalsAreClearAndExitNonZero() throws Exception {
    assertThat(backup("init", "--kdf-memory", "1", "--kdf-iterations", "1").exit()).isZero();
    Files.writeString(dir.resolve("wrong"), "battery staple\n");
    Run wrong = Run.run("backup", "snapshots", "--repo", repo, "--password-file", dir.resolve("wrong").toString());
    assertThat(wrong.exit()).isEqualTo(1);
    assertThat(wrong.err()).contains("wrong password");
    Run again = backup("init");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("not empty");
    Run none = Run.run("backup", "snapshots", "--repo", dir.resolve("nothing").toString(), "--password-file", pw);
    assertThat(none.exit()).isEqualTo(1);
    assertThat(none.err()).contains("no repository");
    Run missing = backup("run", dir.resolve("nope").toString());
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err()).contains("does not exist");
    Run noSnapshot = backup("ls", "abcdef");
    assertThat(noSnapshot.exit()).isEqualTo(1);
    assertThat(noSnapshot.err()).contains("no snapshot abcdef");
    Run usage = Run.run("backup", "restore", "latest");
    assertThat(usage.exit()).isEqualTo(2);
    assertThat(usage.err()).contains("--target");
    Run badKdf = Run.run("backup", "init", "--repo", dir.resolve("r2").toString(), "--password-file", pw, "--kdf-memory", "0");
    assertThat(badKdf.exit()).isEqualTo(2);
    // An unreadable file: the snapshot is made without it, the file is named, exit code 3.
    Path secret = src.resolve("secret.txt");
    Files.writeString(secret, "x");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("---------"));
    if (!"root".equals(System.getProperty("user.name"))) {
      Run partial = backup("run", src.toString());
      assertThat(partial.exit()).isEqualTo(3);
      assertThat(partial.err()).contains("secret.txt");
    }
  }

  @Test
  void aBackupKilledAnywhereLeavesARepositoryThatChecksAndTheNextOneCompletes() throws Exception {
    assertThat(backup("init", "--kdf-memory", "1", "--kdf-iterations", "1").exit()).isZero();
    Random r = new Random(7);
    for (int i = 0; i < 24; i++) {
      byte[] b = new byte[(1 + r.nextInt(4)) << 20];
      r.nextBytes(b);
      Files.write(src.resolve("f" + i + ".bin"), b);
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    for (int kill = 0; kill < 5; kill++) {
      Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "org.intrustd.cli.Main", "backup",
          "run", src.toString(), "--repo", repo, "--password-file", pw).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      // Somewhere in the backup (the JVM starts in about a second; the backup takes a few more).
      Thread.sleep(800 + r.nextInt(2500));
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      Files.write(src.resolve("changed" + kill + ".bin"), new byte[kill * 100_000 + 1]);
      Run check = backup("check", "--read-data");
      assertThat(check.exit()).as("after kill %d: %s", kill, check.err()).isZero();
    }
    Run last = backup("run", src.toString());
    assertThat(last.exit()).as(last.err()).isZero();
    assertThat(backup("check", "--read-data").exit()).isZero();
  }
}

package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.intrustd.core.id.ApplianceId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @Test
  void idCreatesAnIdentityOnceAndPrintsTheSameIdAfterwards(@TempDir Path state) throws Exception {
    var stdout = System.out;
    var captured = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(captured, true));
    try {
      assertThat(Run.run("id", "--state", state.toString()).exit()).isZero();
      assertThat(Run.run("id", "--state", state.toString()).exit()).isZero();
    } finally {
      System.setOut(stdout);
    }
    String[] lines = captured.toString().strip().split("\n");
    assertThat(lines).hasSize(2);
    assertThat(lines[0]).isEqualTo(lines[1]);
    assertThat(ApplianceId.parse(lines[0])).isPresent();
    assertThat(Files.getPosixFilePermissions(state.resolve("identity.key")))
        .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
  }

  @Test
  void badOptionsGiveAMessageAndANonZeroExitNotAStackTrace(@TempDir Path dir) {
    Run unknown = Run.run("flock", "--frobnicate");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("--frobnicate").doesNotContain("Exception");

    Run port = Run.run("flock", "--port", "70000");
    assertThat(port.exit()).isEqualTo(2);
    assertThat(port.err()).contains("--port must be 0-65535");

    Run missingDir = Run.run("flock", "--port", "0", "--static", "/x=" + dir.resolve("nope"));
    assertThat(missingDir.exit()).isEqualTo(2);
    assertThat(missingDir.err()).contains("is not a directory");

    Run badFlock = Run.run("appliance", "--state", dir.toString(), "--flock", "http://example.invalid");
    assertThat(badFlock.exit()).isEqualTo(1);
    assertThat(badFlock.err()).contains("ws:// or wss://");
  }

  @Test
  void helpDocumentsExitCodesAndCompletionIsGenerated() {
    Run help = Run.run("--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out()).contains("Exit codes: 0 done").contains("generate-completion").contains("doctor")
        .contains("token");
    Run completion = Run.run("generate-completion");
    assertThat(completion.exit()).isZero();
    assertThat(completion.out()).contains("complete -F").contains("token").contains("access-log");
  }

  @Test
  void onlyTheNamedSubcommandIsBuiltAndEveryOneCanBeNamed() {
    assertThat(Main.commandLine(new String[] {"backup", "snapshots"}).getSubcommands()).containsOnlyKeys("backup");
    assertThat(Main.commandLine(new String[] {"backup", "snapshots"}).getSubcommands().get("backup").getSubcommands())
        .containsOnlyKeys("snapshots");
    for (String[] args : List.of(new String[] {"backup"}, new String[] {"backup", "--help"}, new String[] {"backup", "nosuch"},
        new String[0])) {
      assertThat(Main.commandLine(args).getSubcommands().get("backup").getSubcommands()).as(String.join(" ", args))
          .hasSameSizeAs(BackupCommand.SUBCOMMANDS);
    }
    for (String name : Main.commandLine().getSubcommands().get("backup").getSubcommands().keySet()) {
      assertThat(Main.commandLine(new String[] {"backup", name}).getSubcommands().get("backup").getSubcommands()).as(name)
          .containsKey(name);
    }
    assertThat(Main.commandLine(new String[] {"--help"}).getSubcommands()).hasSameSizeAs(Main.SUBCOMMANDS);
    assertThat(Main.commandLine(new String[] {"nosuch"}).getSubcommands()).hasSameSizeAs(Main.SUBCOMMANDS);
    for (String name : Main.commandLine().getSubcommands().keySet()) {
      assertThat(Main.commandLine(new String[] {name}).getSubcommands()).as(name).containsKey(name);
    }
    Run unknown = Run.run("bakup");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("Unmatched argument").contains("backup");
  }
}

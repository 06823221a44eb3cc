package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.intrustd.core.id.ApplianceId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {
  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void idCreatesAnIdentityOnceAndPrintsTheSameIdAfterwards(@TempDir Path state) throws Exception {
    var stdout = System.out;
    var captured = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(captured, true));
    try {
      assertThat(run("id", "--state", state.toString()).exit()).isZero();
      assertThat(run("id", "--state", state.toString()).exit()).isZero();
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
    Run unknown = run("flock", "--frobnicate");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("--frobnicate").doesNotContain("Exception");

    Run port = run("flock", "--port", "70000");
    assertThat(port.exit()).isEqualTo(2);
    assertThat(port.err()).contains("--port must be 0-65535");

    Run missingDir = run("flock", "--port", "0", "--static", "/x=" + dir.resolve("nope"));
    assertThat(missingDir.exit()).isEqualTo(2);
    assertThat(missingDir.err()).contains("is not a directory");

    Run badFlock = run("appliance", "--state", dir.toString(), "--flock", "http://example.invalid");
    assertThat(badFlock.exit()).isEqualTo(1);
    assertThat(badFlock.err()).contains("ws:// or wss://");
  }
}

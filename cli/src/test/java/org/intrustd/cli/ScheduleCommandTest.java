package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scheduled backups as systemd user units: what is written, checked by systemd's own verifier; what is refused. */
class ScheduleCommandTest {
  @TempDir
  Path dir;
  Path units;
  Path launcher;
  Path password;

  @BeforeEach
  void setUp() throws Exception {
    units = dir.resolve("units");
    launcher = dir.resolve("intrustd");
    Files.writeString(launcher, "#!/bin/sh\n");
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
    password = Files.writeString(dir.resolve("pw"), "secret\n");
    System.setProperty("intrustd.launcher", launcher.toString());
  }

  @AfterEach
  void tearDown() {
    System.clearProperty("intrustd.launcher");
  }

  private Run schedule(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("backup", "schedule", "--unit-dir", units.toString(), "--no-enable"));
    all.addAll(List.of(args));
    return Run.run(all.toArray(String[]::new));
  }

  @Test
  void unitsAreWrittenWithAbsolutePathsAndSystemdAcceptsThem() throws Exception {
    Files.createDirectories(dir.resolve("My Documents"));
    Run add = schedule("add", "home", "--every", "6h", "--repo", dir.resolve("repo").toString(), "--password-file",
        password.toString(), "-e", "*.tmp", "--tag", "laptop", dir.resolve("My Documents").toString(), "100%$HOME");
    assertThat(add.exit()).as(add.err()).isZero();
    String service = Files.readString(units.resolve("intrustd-backup-home.service"));
    String timer = Files.readString(units.resolve("intrustd-backup-home.timer"));
    Path cwd = Path.of("").toAbsolutePath();
    assertThat(service).contains("ExecStart=\"" + launcher + "\" \"backup\" \"run\" \"--repo\" \"" + dir.resolve("repo") + "\"")
        .contains("\"--password-file\" \"" + password + "\" \"--retry-lock\" \"10m\" \"--exclude\" \"*.tmp\" \"--tag\" \"laptop\"")
        .contains("\"" + dir.resolve("My Documents") + "\" \"" + cwd.resolve("100%%$$HOME") + "\"")
        .contains("Type=oneshot");
    assertThat(timer).contains("OnCalendar=*-*-* 00/6:00:00").contains("Persistent=true").contains("WantedBy=timers.target");

    // systemd's own check of the files (it reads calendar specs, quoting and the command's path).
    Process verify = new ProcessBuilder("systemd-analyze", "verify", units.resolve("intrustd-backup-home.timer").toString(),
        units.resolve("intrustd-backup-home.service").toString()).redirectErrorStream(true).start();
    String said = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(verify.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(verify.exitValue()).as(said).isZero();

    Run list = schedule("list");
    assertThat(list.exit()).isZero();
    assertThat(list.out()).contains("home").contains("*-*-* 00/6:00:00").contains("backup");
    assertThat(schedule("remove", "home").exit()).isZero();
    assertThat(units.resolve("intrustd-backup-home.timer")).doesNotExist();
    assertThat(schedule("list").out()).contains("no scheduled backups");
    assertThat(schedule("remove", "home").exit()).isEqualTo(1);
  }

  @Test
  void everyCalendarShapeIsOneSystemdReads() throws Exception {
    for (String every : List.of("5min", "15min", "30min", "1h", "2h", "3h", "4h", "6h", "8h", "12h", "24h", "hourly", "daily", "weekly")) {
      String spec = ScheduleCommand.calendar(every);
      Process p = new ProcessBuilder("systemd-analyze", "calendar", spec).redirectErrorStream(true).start();
      String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(every + " → " + spec + ": " + said).isZero();
    }
    for (String bad : List.of("7h", "0h", "1min", "7min", "90min", "48h", "monthly", "h", "-1h")) {
      assertThat(ScheduleCommand.calendar(bad)).as(bad).isNull();
    }
  }

  @Test
  void whatCannotRunUnattendedIsRefused() {
    Run every = schedule("add", "x", "--every", "7h", "--repo", "r", "--password-file", password.toString(), "p");
    assertThat(every.exit()).isEqualTo(2);
    assertThat(every.err()).contains("--every 7h");
    Run noPassword = schedule("add", "x", "--every", "1h", "--repo", "r", "p");
    assertThat(noPassword.exit()).isEqualTo(2);
    assertThat(noPassword.err()).contains("--password-file");
    Run badArgs = schedule("add", "x", "--every", "1h", "--repo", "r", "--password-file", password.toString(), "--no-such");
    assertThat(badArgs.exit()).isEqualTo(2);
    assertThat(badArgs.err()).contains("not arguments of 'backup run'");
    Run badName = schedule("add", "../x", "--every", "1h", "--repo", "r", "--password-file", password.toString(), "p");
    assertThat(badName.exit()).isEqualTo(2);
    assertThat(units).doesNotExist();
  }
}

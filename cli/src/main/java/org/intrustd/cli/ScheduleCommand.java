package org.intrustd.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code intrustd backup schedule}: a laptop's backups on a timer, as systemd user units (a
 * service running {@code intrustd backup run} and a timer), so they run without a terminal,
 * catch up after the machine slept through their time ({@code Persistent=true}), and show in
 * {@code systemctl --user list-timers} and the journal like any other.
 */
@Command(name = "schedule", mixinStandardHelpOptions = true,
    description = {"Back up on a timer (systemd user units): add, list, remove.", "With no subcommand: list."},
    subcommands = {ScheduleCommand.Add.class, ScheduleCommand.ListSchedules.class, ScheduleCommand.Remove.class})
final class ScheduleCommand implements Callable<Integer> {
  static final String PREFIX = "intrustd-backup-";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,39}");
  private static final Pattern EVERY = Pattern.compile("(\\d{1,3})(min|h)");

  @Option(names = "--unit-dir", hidden = true, description = "Where the units go (default: systemd's user folder).")
  Path unitDir;

  @Option(names = "--no-enable", hidden = true, description = "Write the units; do not ask systemd to start the timer.")
  boolean noEnable;

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    return list(spec.commandLine(), units());
  }

  /** systemd's folder for this user's units: $XDG_CONFIG_HOME/systemd/user, or ~/.config/systemd/user. */
  Path units() {
    if (unitDir != null) {
      return unitDir;
    }
    String config = System.getenv("XDG_CONFIG_HOME");
    Path base = config != null && !config.isBlank() ? Path.of(config) : Path.of(System.getProperty("user.home"), ".config");
    return base.resolve("systemd/user");
  }

  /**
   * An {@code --every} value as a systemd calendar event: {@code Nmin} (N dividing 60),
   * {@code Nh} (N dividing 24), {@code daily}, {@code weekly}; null if it is none of those.
   */
  static String calendar(String every) {
    switch (every) {
      case "hourly", "1h" -> {
        return "hourly";
      }
      case "daily", "24h" -> {
        return "daily";
      }
      case "weekly" -> {
        return "weekly";
      }
      default -> {
        Matcher m = EVERY.matcher(every);
        if (!m.matches()) {
          return null;
        }
        int n = Integer.parseInt(m.group(1));
        if (m.group(2).equals("min")) {
          return n >= 5 && 60 % n == 0 ? "*-*-* *:00/" + n + ":00" : null;
        }
        return n >= 1 && 24 % n == 0 ? "*-*-* 00/" + n + ":00:00" : null;
      }
    }
  }

  /** A word as systemd's ExecStart reads it: quoted, with quotes, backslashes and specifiers escaped. */
  static String quote(String word) {
    return "\"" + word.replace("\\", "\\\\").replace("\"", "\\\"").replace("%", "%%").replace("$", "$$") + "\"";
  }

  static int list(CommandLine cl, Path dir) throws IOException {
    List<String> names = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.list(dir)) {
        s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith(PREFIX) && f.endsWith(".timer")).sorted()
            .forEach(f -> names.add(f.substring(PREFIX.length(), f.length() - ".timer".length())));
      }
    }
    if (names.isEmpty()) {
      cl.getOut().println("no scheduled backups (intrustd backup schedule add NAME --every 6h --repo ... PATH...)");
      return 0;
    }
    for (String name : names) {
      String timer = Files.readString(dir.resolve(PREFIX + name + ".timer"));
      String service = Files.exists(dir.resolve(PREFIX + name + ".service")) ? Files.readString(dir.resolve(PREFIX + name + ".service")) : "";
      cl.getOut().printf(Locale.ROOT, "%-12s %-22s %s%n", name, line(timer, "OnCalendar="), line(service, "ExecStart="));
    }
    cl.getOut().println("(when each ran, and how: systemctl --user list-timers; journalctl --user -u " + PREFIX + "NAME)");
    return 0;
  }

  private static String line(String unit, String key) {
    return unit.lines().filter(l -> l.startsWith(key)).map(l -> l.substring(key.length())).findFirst().orElse("?");
  }

  /** Runs {@code systemctl --user ARGS}; its error output, or null when it worked. */
  static String systemctl(String... args) {
    List<String> command = new ArrayList<>(List.of("systemctl", "--user"));
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "systemctl did not answer in 30 s";
      }
      return p.exitValue() == 0 ? null : out.isEmpty() ? "systemctl failed" : out;
    } catch (IOException e) {
      return "systemctl cannot be run: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true,
      description = {"Back up on a timer: NAME, --every, then the arguments of 'backup run' (--repo, --password-file,"
          + " excludes, paths); a password file is needed (no one is there to type it).",
          "Replaces a schedule of the same name."},
      footer = {"", "Examples:",
          "  intrustd backup schedule add home --every 6h --repo /media/disk/backups --password-file ~/.backup-pw ~/",
          "  intrustd backup schedule add photos --every daily --appliance F2EGSN4-... --repo laptop \\",
          "      --password-file ~/.backup-pw ~/Pictures",
          "", "--every: 5min ... 30min (dividing an hour), 1h ... 12h (dividing a day), daily, weekly. A time missed while the"
              + " computer was off or asleep runs when it is back."})
  static final class Add implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "A name for this schedule (letters, digits, '-', '_').")
    String name;

    @Option(names = "--every", required = true, paramLabel = "WHEN", description = "How often: 15min, 1h, 6h, daily, weekly...")
    String every;

    /** Everything else: the arguments of 'backup run' (--repo, --password-file, excludes, paths...). */
    @CommandLine.Unmatched
    List<String> runArgs = new ArrayList<>();

    @CommandLine.ParentCommand
    ScheduleCommand parent;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      CommandLine cl = spec.commandLine();
      if (!NAME.matcher(name).matches()) {
        throw new CommandLine.ParameterException(cl, "a schedule's name is 1-40 letters, digits, '-' or '_', not " + name);
      }
      if (runArgs.isEmpty()) {
        throw new CommandLine.ParameterException(cl, "what to back up? give the arguments of 'backup run' (--repo ... PATH...)");
      }
      String onCalendar = calendar(every);
      if (onCalendar == null) {
        throw new CommandLine.ParameterException(cl, "--every " + every + ": give 5min...30min (dividing an hour), 1h...12h"
            + " (dividing a day), daily or weekly");
      }
      String launcher = System.getProperty("intrustd.launcher");
      if (launcher == null) {
        throw new CommandLine.ParameterException(cl, "run this through the intrustd launcher (./intrustd), whose path the timer runs");
      }
      List<String> command = new ArrayList<>(List.of(Path.of(launcher).toAbsolutePath().toString(), "backup", "run"));
      command.addAll(runCommand(cl, runArgs));
      Path dir = parent.units();
      Files.createDirectories(dir);
      String unit = PREFIX + name;
      String exec = String.join(" ", command.stream().map(ScheduleCommand::quote).toList());
      write(dir.resolve(unit + ".service"), String.join("\n",
          "# Made by 'intrustd backup schedule add " + name + "'; removed by 'intrustd backup schedule remove " + name + "'.",
          "[Unit]", "Description=intrustd backup " + name, "",
          "[Service]", "Type=oneshot", "ExecStart=" + exec, "Nice=10", "IOSchedulingClass=idle", ""));
      write(dir.resolve(unit + ".timer"), String.join("\n",
          "# Made by 'intrustd backup schedule add " + name + "'.",
          "[Unit]", "Description=intrustd backup " + name + ", every " + every, "",
          "[Timer]", "OnCalendar=" + onCalendar, "Persistent=true", "RandomizedDelaySec=" + (every.endsWith("min") ? "1min" : "5min"), "",
          "[Install]", "WantedBy=timers.target", ""));
      cl.getOut().println("wrote " + dir.resolve(unit + ".service") + " and " + unit + ".timer");
      if (parent.noEnable) {
        return 0;
      }
      String failed = systemctl("daemon-reload");
      if (failed == null) {
        failed = systemctl("enable", "--now", unit + ".timer");
      }
      if (failed != null) {
        cl.getErr().println("intrustd: the timer is written but not started (" + failed + "). In your desktop session, run:\n"
            + "  systemctl --user daemon-reload && systemctl --user enable --now " + unit + ".timer");
        return 1;
      }
      cl.getOut().println("started: the first backup runs at the next " + every + " mark (systemctl --user list-timers)");
      return 0;
    }

    private static void write(Path file, String text) throws IOException {
      Path temp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(temp, text);
      Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * The arguments of {@code backup run} for a timer: checked by parsing them as {@code run}
   * would, with relative paths made absolute (a timer starts elsewhere) and the password in a file.
   */
  static List<String> runCommand(CommandLine cl, List<String> args) {
    BackupCommand.Run run = new BackupCommand.Run();
    CommandLine parse = new CommandLine(run);
    try {
      parse.parseArgs(args.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new CommandLine.ParameterException(cl, "these are not arguments of 'backup run': " + e.getMessage());
    }
    if (run.repo.passwordFile == null) {
      throw new CommandLine.ParameterException(cl, "give --password-file: no one is there to type the password when the timer runs");
    }
    Path passwordFile = run.repo.passwordFile.toAbsolutePath().normalize();
    if (!Files.isReadable(passwordFile)) {
      throw new CommandLine.ParameterException(cl, "cannot read " + passwordFile);
    }
    List<String> out = new ArrayList<>();
    if (run.repo.remote.remote()) {
      out.addAll(List.of("--appliance", run.repo.remote.appliance));
      if (run.repo.remote.flock != null) {
        out.addAll(List.of("--flock", run.repo.remote.flock.toString()));
      }
      if (run.repo.remote.login != null) {
        out.addAll(List.of("--login", run.repo.remote.login));
      }
      if (run.repo.repo == null) {
        throw new CommandLine.ParameterException(cl, "give --repo NAME: the repository's name on the appliance");
      }
      out.addAll(List.of("--repo", run.repo.repo.toString()));
    } else {
      if (run.repo.repo == null) {
        throw new CommandLine.ParameterException(cl, "give --repo DIR");
      }
      out.addAll(List.of("--repo", run.repo.repo.toAbsolutePath().normalize().toString()));
    }
    out.addAll(List.of("--password-file", passwordFile.toString(), "--retry-lock", "10m"));
    for (String e : run.excludes) {
      out.addAll(List.of("--exclude", e));
    }
    if (run.oneFileSystem) {
      out.add("--one-file-system");
    }
    for (String t : run.tags) {
      out.addAll(List.of("--tag", t));
    }
    if (run.host != null) {
      out.addAll(List.of("--host", run.host));
    }
    for (Path p : run.paths) {
      out.add(p.toAbsolutePath().normalize().toString());
    }
    return out;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "The scheduled backups.")
  static final class ListSchedules implements Callable<Integer> {
    @CommandLine.ParentCommand
    ScheduleCommand parent;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      return list(spec.commandLine(), parent.units());
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Stop a scheduled backup and remove its units.")
  static final class Remove implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "The schedule's name (see list).")
    String name;

    @CommandLine.ParentCommand
    ScheduleCommand parent;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      CommandLine cl = spec.commandLine();
      Path dir = parent.units();
      Path timer = dir.resolve(PREFIX + name + ".timer");
      if (!NAME.matcher(name).matches() || !Files.exists(timer)) {
        cl.getErr().println("intrustd: no scheduled backup " + name + " (intrustd backup schedule list)");
        return 1;
      }
      String failed = parent.noEnable ? null : systemctl("disable", "--now", PREFIX + name + ".timer");
      Files.deleteIfExists(timer);
      Files.deleteIfExists(dir.resolve(PREFIX + name + ".service"));
      if (!parent.noEnable) {
        systemctl("daemon-reload");
      }
      cl.getOut().println("removed " + name + (failed == null ? "" : " (systemd was not reached: " + failed + ")"));
      return 0;
    }
  }
}

package org.intrustd.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code intrustd} command. Each subcommand wires its subsystems by hand. */
@Command(name = "intrustd", mixinStandardHelpOptions = true, version = "intrustd 0.1.0",
    description = "Self-host your data on your own box; reach it from any browser, peer to peer.",
    footer = {"", "Exit codes: 0 done; 1 refused or failed (the message says why); 2 bad usage;"
        + " 3 no appliance runs with that state directory.",
        "Shell completion for bash and zsh: source <(intrustd generate-completion)"})
public final class Main {
  /** The subcommands, in the order help lists them. */
  static final List<Class<?>> SUBCOMMANDS = List.of(DemoCommand.class, FlockCommand.class, ApplianceCommand.class,
      IdCommand.class, AppCommand.class, PersonaCommand.class, BundleCommand.class, AccessCommand.Grant.class,
      AccessCommand.Token.class, AccessCommand.Session.class, AccessCommand.AccessLogCommand.class, DoctorCommand.class,
      StatusCommand.class, SettingsCommand.class, DiscoverCommand.class, ClaimCommand.class, DeviceCommand.class,
      PeerCommand.class, PhotosCommand.class, BackupCommand.class, LinkCommands.Request.class, LinkCommands.Forward.class,
      picocli.AutoComplete.GenerateCompletion.class);

  public static void main(String[] args) {
    int code = commandLine(args).execute(args);
    if (Remote.used()) {
      Remote.shutdown();
      // webrtc-java 0.14 prints "Failed to attach thread" on standard output while the JVM
      // exits (fixed upstream in a later release): keep it out of what this command printed
      // (JSON for scripts). Nothing opens files after this point, so fd 1 is not reused.
      System.out.flush();
      System.out.close();
    }
    System.exit(code);
  }

  /** The whole command line, every subcommand in it. */
  static CommandLine commandLine() {
    return commandLine(new String[0]);
  }

  /**
   * The configured command line: bad input is a clear message and a non-zero exit, never a
   * stack trace. When {@code args} name a subcommand, only that one is built: picocli builds
   * each command's model by reflection, and the whole tree took 0.4 s of every command's start.
   */
  static CommandLine commandLine(String[] args) {
    CommandLine cli = new CommandLine(new Main());
    Class<?> named = named(SUBCOMMANDS, args, 0);
    boolean whole = named == null || named == picocli.AutoComplete.GenerateCompletion.class; // completion covers the tree
    for (Class<?> c : whole ? SUBCOMMANDS : List.of(named)) {
      CommandLine sub = new CommandLine(c);
      cli.addSubcommand(sub);
      if (c == BackupCommand.class) { // the same one level down
        Class<?> second = whole ? null : named(BackupCommand.SUBCOMMANDS, args, 1);
        for (Class<?> s : second == null ? BackupCommand.SUBCOMMANDS : List.of(second)) {
          sub.addSubcommand(s);
        }
      }
    }
    // Ids are base64url and may start with '-' (a token id did, 1 time in 64): an argument that
    // is no option of the command is a positional value, not an unknown option.
    cli.setUnmatchedOptionsArePositionalParams(true);
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("intrustd: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    });
    return cli;
  }

  /** The command among {@code commands} that {@code args[at]} names, if it names one. */
  private static Class<?> named(List<Class<?>> commands, String[] args, int at) {
    return args.length <= at ? null : commands.stream().filter(c -> names(c).contains(args[at])).findFirst().orElse(null);
  }

  private static List<String> names(Class<?> command) {
    Command c = command.getAnnotation(Command.class);
    List<String> out = new ArrayList<>(List.of(c.aliases()));
    out.add(c.name());
    return out;
  }
}

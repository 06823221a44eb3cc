package org.intrustd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code intrustd} command. Each subcommand wires its subsystems by hand. */
@Command(name = "intrustd", mixinStandardHelpOptions = true, version = "intrustd 0.1.0",
    description = "Self-host your data on your own box; reach it from any browser, peer to peer.",
    subcommands = {DemoCommand.class, FlockCommand.class, ApplianceCommand.class, IdCommand.class,
        AppCommand.class, PersonaCommand.class, BundleCommand.class, AccessCommand.Grant.class,
        AccessCommand.Token.class, AccessCommand.Session.class, AccessCommand.AccessLogCommand.class,
        DoctorCommand.class, StatusCommand.class, SettingsCommand.class, DiscoverCommand.class, ClaimCommand.class, DeviceCommand.class, PeerCommand.class, PhotosCommand.class, BackupCommand.class,
        LinkCommands.Request.class, LinkCommands.Forward.class, picocli.AutoComplete.GenerateCompletion.class},
    footer = {"", "Exit codes: 0 done; 1 refused or failed (the message says why); 2 bad usage;"
        + " 3 no appliance runs with that state directory.",
        "Shell completion for bash and zsh: source <(intrustd generate-completion)"})
public final class Main {
  public static void main(String[] args) {
    int code = commandLine().execute(args);
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

  /** The configured command line: bad input is a clear message and a non-zero exit, never a stack trace. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("intrustd: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    });
    return cli;
  }
}

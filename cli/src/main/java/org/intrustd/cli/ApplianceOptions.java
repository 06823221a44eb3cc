package org.intrustd.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.intrustd.appliance.apps.AppLauncher;
import org.intrustd.appliance.apps.ProcessLauncher;
import org.intrustd.appliance.sandbox.SandboxLauncher;
import picocli.CommandLine.Option;

/** Options that describe an appliance, shared by {@code appliance} and {@code demo}. */
final class ApplianceOptions {
  @Option(names = "--state", paramLabel = "DIR",
      description = "State directory: identity key, app data (default: /var/lib/intrustd/appliance as root,"
          + " ~/.local/state/intrustd/appliance otherwise).")
  private Path state;

  @Option(names = "--name", description = "Friendly name shown to people (default: ${DEFAULT-VALUE}).",
      defaultValue = "My Intrustd")
  String name;

  @Option(names = "--apps", paramLabel = "DIR",
      description = "An app directory (with manifest.json) or a folder of them (repeatable).")
  List<Path> apps = new ArrayList<>();

  @Option(names = "--no-sandbox",
      description = "Run apps as plain child processes with no isolation at all (development only).")
  boolean noSandbox;

  /**
   * The state directory. Root's default is outside root's home, which is closed to others:
   * each app runs as its own uid and must be able to pass through to its files.
   */
  Path state() {
    if (state != null) {
      return state;
    }
    return "root".equals(System.getProperty("user.name")) ? Path.of("/var/lib/intrustd/appliance")
        : Path.of(System.getProperty("user.home"), ".local", "state", "intrustd", "appliance");
  }

  /** How apps run: in bubblewrap sandboxes unless told otherwise. */
  AppLauncher launcher() {
    return noSandbox ? new ProcessLauncher() : SandboxLauncher.create(state());
  }
}

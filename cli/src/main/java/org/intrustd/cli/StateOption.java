package org.intrustd.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which appliance: the {@code --state} directory, shared by every command that names one. */
final class StateOption {
  @Option(names = "--state", paramLabel = "DIR",
      description = "State directory: identity key, app data (default: /var/lib/intrustd/appliance as root,"
          + " ~/.local/state/intrustd/appliance otherwise).")
  private Path state;

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
}

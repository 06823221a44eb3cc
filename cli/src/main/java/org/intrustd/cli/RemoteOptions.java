package org.intrustd.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/**
 * Which appliance a command reaches over an end-to-end link instead of this machine's control
 * socket: {@code --appliance ID}, through {@code --flock URL} or, without it, the appliance's
 * own LAN flock found by mDNS (works with no internet). Remote commands log in as
 * {@code --login} (an owner or admin) and log out when done.
 */
final class RemoteOptions {
  @Option(names = "--appliance", paramLabel = "ID",
      description = "Run this on the appliance with this ID, over an end-to-end link (default: the local one).")
  String appliance;

  @Option(names = "--flock", paramLabel = "URL",
      description = "With --appliance: the flock to go through (default: find the appliance on this LAN).")
  URI flock;

  @Option(names = "--login", paramLabel = "PERSONA", defaultValue = "owner",
      description = "With --appliance: log in as this persona (default: ${DEFAULT-VALUE}); the password is asked,"
          + " or read from $" + Passwords.LOGIN_ENV + ".")
  String login;

  boolean remote() {
    return appliance != null;
  }
}

package org.intrustd.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/**
 * Which appliance a command reaches over an end-to-end link instead of this machine's control
 * socket: {@code --appliance ID}, through {@code --flock URL} or, without it, the appliance's
 * own LAN flock found by mDNS (works with no internet). Remote commands sign in as this
 * machine's enrolled device, or log in as {@code --login} and log out when done.
 */
final class RemoteOptions {
  @Option(names = "--appliance", paramLabel = "ID",
      description = "Run this on the appliance with this ID, over an end-to-end link (default: the local one).")
  String appliance;

  @Option(names = "--flock", paramLabel = "URL",
      description = "With --appliance: the flock to go through (default: find the appliance on this LAN).")
  URI flock;

  static final String DEFAULT_LOGIN = "owner";

  @Option(names = "--login", paramLabel = "PERSONA",
      description = "With --appliance: log in as this persona with a password (asked, or read from $"
          + Passwords.LOGIN_ENV + "). Default: as this machine's enrolled device if it is one (intrustd device enroll),"
          + " else as '" + DEFAULT_LOGIN + "'.")
  String login;

  boolean remote() {
    return appliance != null;
  }
}

package org.intrustd.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options that describe an appliance, shared by {@code appliance} and {@code demo}. */
final class ApplianceOptions {
  @Option(names = "--state", paramLabel = "DIR",
      description = "State directory: identity key, app data (default: ${DEFAULT-VALUE}).",
      defaultValue = "${env:HOME}/.local/state/intrustd/appliance")
  Path state;

  @Option(names = "--name", description = "Friendly name shown to people (default: ${DEFAULT-VALUE}).",
      defaultValue = "My Intrustd")
  String name;

  @Option(names = "--apps", paramLabel = "DIR",
      description = "An app directory (with manifest.json) or a folder of them (repeatable).")
  List<Path> apps = new ArrayList<>();
}

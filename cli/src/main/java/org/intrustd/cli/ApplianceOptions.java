package org.intrustd.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.intrustd.appliance.apps.AppLauncher;
import org.intrustd.appliance.apps.ProcessLauncher;
import org.intrustd.appliance.sandbox.SandboxLauncher;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options that describe an appliance, shared by {@code appliance} and {@code demo}. */
final class ApplianceOptions {
  @Mixin
  private StateOption stateOption = new StateOption();

  @Option(names = "--name", description = "Friendly name shown to people (default: ${DEFAULT-VALUE}).",
      defaultValue = "My Intrustd")
  String name;

  @Option(names = "--apps", paramLabel = "DIR",
      description = "An app directory (with manifest.json) or a folder of them (repeatable).")
  List<Path> apps = new ArrayList<>();

  @Option(names = "--no-sandbox",
      description = "Run apps as plain child processes with no isolation at all (development only).")
  boolean noSandbox;

  Path state() {
    return stateOption.state();
  }

  /** How apps run: in bubblewrap sandboxes unless told otherwise. */
  AppLauncher launcher() {
    return noSandbox ? new ProcessLauncher() : SandboxLauncher.create(state());
  }
}

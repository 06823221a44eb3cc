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

  @Option(names = "--public", paramLabel = "APP",
      description = "An app anyone who reaches the appliance may open with no login (repeatable).")
  java.util.Set<String> publicApps = new java.util.LinkedHashSet<>();

  @Option(names = "--access-log-detail", paramLabel = "full|path|none", defaultValue = "path",
      description = "How much of each request's target the access log keeps (default: ${DEFAULT-VALUE}).")
  String accessLogDetail;

  @Option(names = "--access-log-days", paramLabel = "DAYS", defaultValue = "90",
      description = "How many days of access log to keep (default: ${DEFAULT-VALUE}).")
  int accessLogDays;

  @Option(names = "--no-lan",
      description = "Do not announce the appliance on the LAN (mDNS/DNS-SD).")
  boolean noLan;

  @Option(names = "--lan-interface", paramLabel = "NAME",
      description = "Announce on this network interface (repeatable; default: the one with the default route).")
  List<String> lanInterfaces = new ArrayList<>();

  @Option(names = "--lan-port", paramLabel = "PORT", defaultValue = "7470",
      description = "The TCP port of the appliance's LAN signalling endpoint (default: ${DEFAULT-VALUE}).")
  int lanPort;

  @Option(names = "--no-sandbox",
      description = "Run apps as plain child processes with no isolation at all (development only).")
  boolean noSandbox;

  /** The appliance's configuration from these options. */
  org.intrustd.appliance.ApplianceConfig config(java.net.URI flock) {
    return org.intrustd.appliance.ApplianceConfig.of(state(), flock, name, apps).withPublicApps(publicApps)
        .withAccessLog(org.intrustd.appliance.access.AccessLog.Detail.parse(accessLogDetail),
            java.time.Duration.ofDays(Math.max(1, accessLogDays)))
        .withLan(new org.intrustd.appliance.ApplianceConfig.Lan(!noLan, lanPort, lanInterfaces));
  }

  Path state() {
    return stateOption.state();
  }

  /** How apps run: in bubblewrap sandboxes unless told otherwise. */
  AppLauncher launcher() {
    return noSandbox ? new ProcessLauncher() : SandboxLauncher.create(state());
  }
}

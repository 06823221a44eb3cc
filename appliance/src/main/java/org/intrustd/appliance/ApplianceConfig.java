package org.intrustd.appliance;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What an appliance needs to run. Defaults: apps stop after 10 idle minutes and have 30 s to
 * become healthy.
 */
public record ApplianceConfig(Path stateDir, URI flock, String name, List<Path> appDirs, Duration appStartTimeout,
    Duration appIdleTimeout) {
  public ApplianceConfig {
    appDirs = List.copyOf(appDirs);
    if (name.isBlank() || name.length() > 64) {
      throw new IllegalArgumentException("the appliance name must be 1-64 characters, not '" + name + "'");
    }
    String scheme = flock.getScheme();
    if (!"ws".equals(scheme) && !"wss".equals(scheme)) {
      throw new IllegalArgumentException("the flock URL must start with ws:// or wss://, not '" + flock + "'");
    }
  }

  public static ApplianceConfig of(Path stateDir, URI flock, String name, List<Path> appDirs) {
    return new ApplianceConfig(stateDir, flock, name, appDirs, Duration.ofSeconds(30), Duration.ofMinutes(10));
  }
}

package org.intrustd.appliance;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.intrustd.appliance.access.AccessLog;

/**
 * What an appliance needs to run. Defaults: apps stop after 10 idle minutes and have 30 s to
 * become healthy; no app is public; the access log keeps request paths (not queries) for 90
 * days; no LAN presence (the command line turns it on). {@code publicApps} are apps anyone who
 * reaches the appliance may open with no login.
 */
public record ApplianceConfig(Path stateDir, URI flock, String name, List<Path> appDirs, Duration appStartTimeout,
    Duration appIdleTimeout, Set<String> publicApps, AccessLog.Detail accessLogDetail, Duration accessLogRetention, Lan lan,
    List<URI> moreFlocks) {
  /**
   * Presence on the home network (docs/lan.md): whether to run the appliance's own LAN flock
   * (on {@code port}, or any free port when that one is taken) and announce it with
   * mDNS/DNS-SD on {@code interfaces} (none named: the default route's).
   */
  public record Lan(boolean enabled, int port, List<String> interfaces) {
    public static final int DEFAULT_PORT = 7470;
    public static final Lan OFF = new Lan(false, DEFAULT_PORT, List.of());

    public Lan {
      interfaces = List.copyOf(interfaces);
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("the LAN port must be 1-65535 (or 0 for any free one), not " + port);
      }
    }
  }

  /** With no other nodes of the flock. */
  public ApplianceConfig(Path stateDir, URI flock, String name, List<Path> appDirs, Duration appStartTimeout,
      Duration appIdleTimeout, Set<String> publicApps, AccessLog.Detail accessLogDetail, Duration accessLogRetention,
      Lan lan) {
    this(stateDir, flock, name, appDirs, appStartTimeout, appIdleTimeout, publicApps, accessLogDetail, accessLogRetention,
        lan, List.of());
  }

  public ApplianceConfig {
    moreFlocks = List.copyOf(moreFlocks);
    for (URI other : moreFlocks) {
      if (!"ws".equals(other.getScheme()) && !"wss".equals(other.getScheme())) {
        throw new IllegalArgumentException("a flock URL must start with ws:// or wss://, not '" + other + "'");
      }
    }
    appDirs = List.copyOf(appDirs);
    publicApps = Set.copyOf(publicApps);
    if (name.isBlank() || name.length() > 64) {
      throw new IllegalArgumentException("the appliance name must be 1-64 characters, not '" + name + "'");
    }
    String scheme = flock.getScheme();
    if (!"ws".equals(scheme) && !"wss".equals(scheme)) {
      throw new IllegalArgumentException("the flock URL must start with ws:// or wss://, not '" + flock + "'");
    }
  }

  public static ApplianceConfig of(Path stateDir, URI flock, String name, List<Path> appDirs) {
    return new ApplianceConfig(stateDir, flock, name, appDirs, Duration.ofSeconds(30), Duration.ofMinutes(10), Set.of(),
        AccessLog.Detail.PATH, Duration.ofDays(90), Lan.OFF);
  }

  public ApplianceConfig withPublicApps(Set<String> apps) {
    return new ApplianceConfig(stateDir, flock, name, appDirs, appStartTimeout, appIdleTimeout, apps, accessLogDetail,
        accessLogRetention, lan, moreFlocks);
  }

  public ApplianceConfig withAccessLog(AccessLog.Detail detail, Duration retention) {
    return new ApplianceConfig(stateDir, flock, name, appDirs, appStartTimeout, appIdleTimeout, publicApps, detail,
        retention, lan, moreFlocks);
  }

  public ApplianceConfig withLan(Lan lan) {
    return new ApplianceConfig(stateDir, flock, name, appDirs, appStartTimeout, appIdleTimeout, publicApps,
        accessLogDetail, accessLogRetention, lan, moreFlocks);
  }

  /**
   * Other nodes of the same clustered flock (docs/flock-cluster.md), tried in turn after
   * {@link #flock} when a connection fails; used while the appliance's flock setting is still
   * {@link #flock}.
   */
  public ApplianceConfig withMoreFlocks(List<URI> others) {
    return new ApplianceConfig(stateDir, flock, name, appDirs, appStartTimeout, appIdleTimeout, publicApps,
        accessLogDetail, accessLogRetention, lan, others);
  }
}

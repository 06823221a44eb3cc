package org.intrustd.appliance.apps;

import java.nio.file.Path;

/**
 * Starts an app so that it listens on a Unix socket. The one place where "how an app runs"
 * lives: a plain child process today, a bubblewrap sandbox later.
 */
public interface AppLauncher {
  /** Starts the app; returns once the process exists (not necessarily listening yet). */
  RunningApp launch(InstalledApp app, Path socket, Path dataDir, Path logFile);

  /** A started app. */
  interface RunningApp {
    boolean isAlive();

    /** Stops the app: a polite signal, then a forceful one after a grace period. */
    void stop();

    /** For log lines. */
    String describe();
  }
}

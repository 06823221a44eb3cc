package org.intrustd.appliance.apps;

/**
 * Starts an app so that it listens on a Unix socket. The one place where "how an app runs"
 * lives: a bubblewrap sandbox, or a plain child process for development.
 */
public interface AppLauncher {
  /** Starts the app; returns once the process exists (not necessarily listening yet). */
  RunningApp launch(InstalledApp app, AppPaths paths);

  /** A started app. */
  interface RunningApp {
    boolean isAlive();

    /** Stops the app: a polite signal, then a forceful one after a grace period. */
    void stop();

    /** For log lines. */
    String describe();

    /** Why it is no longer running (exit status, killed for memory), or "running". */
    String exitReason();
  }
}

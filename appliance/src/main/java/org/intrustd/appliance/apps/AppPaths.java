package org.intrustd.appliance.apps;

import java.nio.file.Path;

/**
 * Where one app's files are on the host: the socket the daemon connects to (its directory is
 * the app's to write), its persistent data, its log, and a scratch directory for files the
 * launcher generates for it.
 */
public record AppPaths(Path socket, Path dataDir, Path logFile, Path scratchDir) {
  public Path socketDir() {
    return socket.getParent();
  }

  /** Where the daemon listens for the app's calls to other apps (same directory as its socket). */
  public Path daemonSocket() {
    return socket.resolveSibling("daemon.sock");
  }

  /** Where the daemon's egress proxy listens for the app (its only way to the network). */
  public Path egressSocket() {
    return socket.resolveSibling("egress.sock");
  }
}

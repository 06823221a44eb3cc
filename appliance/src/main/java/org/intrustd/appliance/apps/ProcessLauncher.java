package org.intrustd.appliance.apps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.intrustd.core.log.RotatingLog;

/**
 * Runs an app as a plain child process of the daemon, with no isolation at all (for
 * development and for comparing against the sandbox), in its own directory,
 * with its socket path, data directory and id in the environment, and its output appended to
 * a log file.
 */
public final class ProcessLauncher implements AppLauncher {
  private final String java;

  public ProcessLauncher() {
    this.java = ProcessHandle.current().info().command().orElse("java");
  }

  @Override
  public RunningApp launch(InstalledApp app, AppPaths paths) {
    if (app.manifest().listen() instanceof AppManifest.Listen.TcpPort) {
      throw new AppException("app '" + app.id() + "' listens on TCP, which needs the sandbox's own network");
    }
    Path socket = paths.socket();
    Path dataDir = paths.dataDir();
    Path logFile = paths.logFile();
    List<String> command = app.manifest().command().stream()
        .map(part -> part.replace("${java}", java).replace("${data}", dataDir.toString())).toList();
    ProcessBuilder pb = new ProcessBuilder(command).directory(app.directory().toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.environment().put("INTRUSTD_APP_SOCKET", socket.toString());
    pb.environment().put("INTRUSTD_APP_DATA", dataDir.toString());
    pb.environment().put("INTRUSTD_APP_ID", app.id());
    pb.environment().put("INTRUSTD_DAEMON_SOCKET", paths.daemonSocket().toString());
    try {
      Files.createDirectories(dataDir);
      for (String volume : app.manifest().volumes()) {
        Files.createDirectories(dataDir.resolve(volume));
      }
      Process p = pb.start();
      Thread log = RotatingLog.follow(p.getInputStream(), logFile, RotatingLog.MAX_BYTES, RotatingLog.KEEP);
      return new ChildProcess(p, app.id(), log);
    } catch (IOException e) {
      throw new AppException("cannot start app '" + app.id() + "': " + e.getMessage(), e);
    }
  }

  private record ChildProcess(Process process, String appId, Thread log) implements RunningApp {
    @Override
    public boolean isAlive() {
      return process.isAlive();
    }

    @Override
    public void stop() {
      GracefulStop.stop(process, p -> true);
    }

    @Override
    public String describe() {
      return appId + " (pid " + process.pid() + ")";
    }

    @Override
    public String exitReason() {
      if (process.isAlive()) {
        return "running";
      }
      RotatingLog.drain(log);
      return "exited with status " + process.exitValue();
    }
  }
}

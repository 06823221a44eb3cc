package org.intrustd.appliance.testing;

import java.util.concurrent.atomic.AtomicInteger;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppLauncher;
import org.intrustd.appliance.apps.AppPaths;
import org.intrustd.appliance.apps.InstalledApp;
import org.intrustd.hello.HelloApp;

/**
 * Runs every app as the hello app inside the test's JVM (whatever its manifest says), so that
 * a test sees the daemon and the app in one heap and starts in milliseconds. Apps whose id
 * starts with {@code broken} fail to start, as an app with a bad command would.
 */
public final class InProcessLauncher implements AppLauncher {
  public final AtomicInteger launches = new AtomicInteger();

  @Override
  public RunningApp launch(InstalledApp app, AppPaths paths) {
    launches.incrementAndGet();
    if (app.id().startsWith("broken")) {
      throw new AppException("cannot start app '" + app.id() + "': no such program");
    }
    HelloApp.Running running;
    try {
      running = HelloApp.start(paths.socket());
    } catch (Exception e) {
      throw new AppException("cannot start the hello app in process: " + e.getMessage(), e);
    }
    return new RunningApp() {
      private volatile boolean alive = true;

      @Override
      public boolean isAlive() {
        return alive;
      }

      @Override
      public void stop() {
        alive = false;
        running.close();
      }

      @Override
      public String describe() {
        return app.id() + " (in process)";
      }

      @Override
      public String exitReason() {
        return alive ? "running" : "stopped";
      }
    };
  }
}

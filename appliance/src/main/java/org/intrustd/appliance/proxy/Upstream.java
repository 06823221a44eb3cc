package org.intrustd.appliance.proxy;

import java.nio.file.Path;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppSupervisor;

/** Where an exchange's request goes: an app's Unix socket (started on demand), or one of the daemon's own. */
interface Upstream {
  /** The app id, or {@code intrustd} for the daemon. */
  String name();

  boolean exists();

  /** The socket to connect to, once it accepts connections; {@link #release} when done. */
  Path acquire() throws AppException;

  void release();

  static Upstream app(AppSupervisor apps, String appId) {
    return new Upstream() {
      @Override
      public String name() {
        return appId;
      }

      @Override
      public boolean exists() {
        return apps.isInstalled(appId);
      }

      @Override
      public Path acquire() {
        return apps.acquire(appId);
      }

      @Override
      public void release() {
        apps.release(appId);
      }
    };
  }

  /** A socket of the daemon's that is always there. */
  static Upstream fixed(String name, Path socket) {
    return new Upstream() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public boolean exists() {
        return true;
      }

      @Override
      public Path acquire() {
        return socket;
      }

      @Override
      public void release() {}
    };
  }
}

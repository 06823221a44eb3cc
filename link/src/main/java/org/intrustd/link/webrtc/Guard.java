package org.intrustd.link.webrtc;

import java.lang.System.Logger.Level;

/**
 * Runs our code inside libwebrtc's callbacks. An exception that escapes into the native side
 * aborts the whole JVM, so every callback goes through here and a bug costs one log line.
 */
final class Guard {
  private static final System.Logger LOG = System.getLogger("intrustd.link");

  private Guard() {}

  static void run(String what, Runnable callback) {
    try {
      callback.run();
    } catch (RuntimeException | Error e) {
      LOG.log(Level.ERROR, "bug in a " + what + " callback; the engine carries on", e);
    }
  }
}

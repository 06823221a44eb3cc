package org.intrustd.appliance.apps;

import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** How every launcher stops an app: SIGTERM, a grace period, then SIGKILL to what is left. */
public final class GracefulStop {
  static final long GRACE_SECONDS = 5;

  private GracefulStop() {}

  /**
   * Sends SIGTERM to the processes of {@code process}'s tree (itself included) that
   * {@code hearsSigterm} accepts, waits up to the grace period for {@code process} to end, and
   * kills the whole tree if it has not.
   */
  public static void stop(Process process, Predicate<ProcessHandle> hearsSigterm) {
    Stream.concat(process.descendants(), Stream.of(process.toHandle())).filter(hearsSigterm)
        .forEach(ProcessHandle::destroy);
    try {
      if (!process.waitFor(GRACE_SECONDS, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(GRACE_SECONDS, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}

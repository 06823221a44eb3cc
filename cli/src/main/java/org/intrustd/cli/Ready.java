package org.intrustd.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** Start-up helpers shared by the long-running commands. */
final class Ready {
  private Ready() {}

  /**
   * Prints the machine-readable readiness line that scripts and tests wait for:
   * {@code INTRUSTD_READY {json}}.
   */
  static void announce(Map<String, String> facts) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    facts.forEach(o::put);
    System.out.println("INTRUSTD_READY " + o);
    System.out.flush();
  }

  /** Blocks until SIGTERM or Ctrl-C, then runs {@code stop}. */
  static void runUntilStopped(Runnable stop) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.run();
      stopped.countDown();
    }, "shutdown"));
    stopped.await();
  }
}

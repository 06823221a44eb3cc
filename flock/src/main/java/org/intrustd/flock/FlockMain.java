package org.intrustd.flock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** Runs a flock until the process is told to stop (SIGTERM or Ctrl-C). */
public final class FlockMain {
  private static final String USAGE =
      "usage: flock [--host ADDRESS] [--port PORT] [--static /prefix=DIR]...";

  private FlockMain() {}

  public static void main(String[] args) throws InterruptedException {
    FlockConfig config;
    try {
      config = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    Flock flock = Flock.start(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      flock.close();
      stopped.countDown();
    }, "flock-shutdown"));
    // Jetty's threads are virtual, hence daemons: this thread keeps the JVM alive.
    stopped.await();
  }

  static FlockConfig parse(String... args) {
    FlockConfig config = FlockConfig.defaults();
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      if (!option.equals("--host") && !option.equals("--port") && !option.equals("--static")) {
        throw new IllegalArgumentException("unknown option '" + option + "'");
      }
      if (i + 1 == args.length) {
        throw new IllegalArgumentException(option + " needs a value");
      }
      String value = args[++i];
      config = switch (option) {
        case "--host" -> config.withHost(value);
        case "--port" -> config.withPort(port(value));
        default -> withStatic(config, value);
      };
    }
    return config;
  }

  private static int port(String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--port wants a number, not '" + value + "'");
    }
  }

  private static FlockConfig withStatic(FlockConfig config, String value) {
    int eq = value.indexOf('=');
    if (eq < 0) {
      throw new IllegalArgumentException("--static wants /prefix=DIR, not '" + value + "'");
    }
    Path dir = Path.of(value.substring(eq + 1));
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("--static: '" + dir + "' is not a directory");
    }
    return config.withStatic(value.substring(0, eq), dir);
  }
}

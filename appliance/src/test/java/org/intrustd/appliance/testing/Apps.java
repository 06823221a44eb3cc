package org.intrustd.appliance.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** Writes app directories (a manifest.json each) for tests. */
public final class Apps {
  private Apps() {}

  /**
   * An app directory whose manifest runs the hello app in a child JVM on this test's own class
   * path (which holds the hello app as a test dependency).
   */
  public static Path hello(Path dir, String id) {
    String classPath = System.getProperty("java.class.path");
    return write(dir, id, List.of("${java}", "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", classPath,
        "org.intrustd.hello.HelloApp"), "/health");
  }

  /** An app directory with the given command and optional health-check path (null for none). */
  public static Path write(Path dir, String id, List<String> command, String healthCheck) {
    String json = "{\"id\": \"" + id + "\", \"run\": {\"command\": ["
        + command.stream().map(Apps::quote).collect(Collectors.joining(", ")) + "]}"
        + (healthCheck == null ? "" : ", \"healthCheck\": " + quote(healthCheck)) + "}";
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("manifest.json"), json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}

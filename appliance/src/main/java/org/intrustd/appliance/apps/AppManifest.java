package org.intrustd.appliance.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An app's manifest.json: who it is, how to run it, how it is reached and what it may use.
 * {@code ${java}} in the command stands for the daemon's own java executable, so Java apps need
 * no JDK of their own, and {@code ${data}} for the app's data directory as the app sees it. Every
 * problem is an {@link AppException} naming the file and the field.
 */
public record AppManifest(String id, String name, String version, String description, List<String> command,
    Optional<String> healthCheck, Listen listen, Limits limits) {
  public static final Pattern APP_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  public AppManifest {
    command = List.copyOf(command);
  }

  /** A manifest with the default runtime, listening mode and limits. */
  public AppManifest(String id, String name, String version, String description, List<String> command,
      Optional<String> healthCheck) {
    this(id, name, version, description, command, healthCheck, new Listen.UnixSocket(), Limits.DEFAULT);
  }

  /** How the daemon reaches the app. */
  public sealed interface Listen {
    /** The app listens on the Unix socket named by {@code INTRUSTD_APP_SOCKET}. */
    record UnixSocket() implements Listen {}

    /** The app listens on this TCP port on loopback inside its own network namespace. */
    record TcpPort(int port) implements Listen {}
  }

  /** Resource limits of the app's sandbox. */
  public record Limits(int memoryMiB, int processes, int cpuWeight) {
    public static final Limits DEFAULT = new Limits(512, 256, 100);

    public long memoryBytes() {
      return memoryMiB * 1024L * 1024L;
    }
  }

  /** Reads and validates a manifest file; the message of the exception says what is wrong. */
  public static AppManifest read(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new AppException("cannot read " + file + ": " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new AppException(file + " is not a JSON object");
    }
    String id = text(root, "id", file);
    if (!APP_ID.matcher(id).matches()) {
      throw new AppException(file + ": app id '" + id + "' must match " + APP_ID.pattern());
    }
    JsonNode run = root.path("run");
    List<String> command = command(run.path("command"), file);
    runtime(run.get("runtime"), file);
    Optional<String> health = root.hasNonNull("healthCheck") ? Optional.of(text(root, "healthCheck", file)) : Optional.empty();
    health.filter(h -> !h.startsWith("/")).ifPresent(h -> {
      throw new AppException(file + ": healthCheck must be a path starting with '/'");
    });
    Listen listen = listen(run.get("listen"), file);
    if (listen instanceof Listen.TcpPort && health.isEmpty()) {
      throw new AppException(file + ": healthCheck is required for an app reached over TCP,"
          + " so that the daemon knows when it answers");
    }
    return new AppManifest(id, root.path("name").asText(id), root.path("version").asText("0"),
        root.path("description").asText(""), command, health, listen, limits(root.get("limits"), file));
  }

  private static List<String> command(JsonNode node, Path file) {
    if (!node.isArray() || node.isEmpty()) {
      throw new AppException(file + ": run.command must be a non-empty array of strings");
    }
    List<String> command = new ArrayList<>();
    for (JsonNode part : node) {
      if (!part.isTextual()) {
        throw new AppException(file + ": run.command must be a non-empty array of strings");
      }
      command.add(part.textValue());
    }
    return command;
  }

  /**
   * The read-only system the sandbox shows: "system" (the host's {@code /usr}, so its
   * libraries, interpreters and JDKs) is the only one so far; an app's own root filesystem
   * would be another.
   */
  private static void runtime(JsonNode node, Path file) {
    if (node != null && !node.isNull() && !(node.isTextual() && node.textValue().equals("system"))) {
      throw new AppException(file + ": run.runtime must be \"system\" (the only runtime so far)");
    }
  }

  private static Listen listen(JsonNode node, Path file) {
    if (node == null || node.isNull() || (node.isTextual() && node.textValue().equals("unix"))) {
      return new Listen.UnixSocket();
    }
    JsonNode port = node.path("tcp");
    if (node.isObject() && node.size() == 1 && port.isInt() && port.intValue() >= 1 && port.intValue() <= 65535) {
      return new Listen.TcpPort(port.intValue());
    }
    throw new AppException(file + ": run.listen must be \"unix\" or {\"tcp\": <port 1-65535>}");
  }

  private static Limits limits(JsonNode node, Path file) {
    if (node == null || node.isNull()) {
      return Limits.DEFAULT;
    }
    if (!node.isObject()) {
      throw new AppException(file + ": limits must be an object");
    }
    return new Limits(bounded(node, "memoryMiB", Limits.DEFAULT.memoryMiB(), 16, 1 << 20, file),
        bounded(node, "processes", Limits.DEFAULT.processes(), 4, 1 << 16, file),
        bounded(node, "cpuWeight", Limits.DEFAULT.cpuWeight(), 1, 10_000, file));
  }

  private static int bounded(JsonNode limits, String field, int fallback, int min, int max, Path file) {
    JsonNode v = limits.get(field);
    if (v == null) {
      return fallback;
    }
    if (!v.isInt() || v.intValue() < min || v.intValue() > max) {
      throw new AppException(file + ": limits." + field + " must be an integer from " + min + " to " + max);
    }
    return v.intValue();
  }

  private static String text(JsonNode root, String field, Path file) {
    JsonNode v = root.get(field);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw new AppException(file + ": '" + field + "' must be a non-empty string");
    }
    return v.textValue();
  }
}

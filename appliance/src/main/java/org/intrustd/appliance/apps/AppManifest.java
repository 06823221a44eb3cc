package org.intrustd.appliance.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An app's manifest.json: who it is, how to run it, how it is reached and what it may use.
 * {@code ${java}} in the command stands for the daemon's own java executable, so Java apps need
 * no JDK of their own, and {@code ${data}} for the app's data directory as the app sees it. Every
 * problem is an {@link AppException} naming the file and the field.
 */
public record AppManifest(String id, String name, String version, String description, List<String> command,
    Optional<String> healthCheck, Listen listen, Limits limits, Optional<String> publisher, List<String> volumes,
    List<Permission> defines, List<String> requests) {
  public static final Pattern APP_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  /** Names of volumes, permissions: what {@code [a-z0-9][a-z0-9-]*} allows, up to 63 characters. */
  public static final Pattern NAME = APP_ID;

  public AppManifest {
    command = List.copyOf(command);
    volumes = List.copyOf(volumes);
    defines = List.copyOf(defines);
    requests = List.copyOf(requests);
  }

  /**
   * A permission the app defines (for its own data, e.g. "view" an album), shown to the owner.
   * {@code sharedByOpeners}: anyone who may open the app may share it through the app's share
   * links ({@code "sharedBy": "open"}), not only those who hold it; the app decides what each
   * link covers (a member shares their own album).
   */
  public record Permission(String name, String description, boolean sharedByOpeners) {
    public Permission(String name, String description) {
      this(name, description, false);
    }
  }

  /** A manifest with the default runtime, listening mode and limits. */
  public AppManifest(String id, String name, String version, String description, List<String> command,
      Optional<String> healthCheck) {
    this(id, name, version, description, command, healthCheck, new Listen.UnixSocket(), Limits.DEFAULT,
        Optional.empty(), List.of(), List.of(), List.of());
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
    if (id.equals(org.intrustd.core.access.Permission.DAEMON)) {
      throw new AppException(file + ": the app id '" + id + "' is the daemon's own (its permissions, its session API)");
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
    Optional<String> publisher = root.hasNonNull("publisher") ? Optional.of(text(root, "publisher", file)) : Optional.empty();
    JsonNode permissions = root.path("permissions");
    if (!permissions.isMissingNode() && !permissions.isObject()) {
      throw new AppException(file + ": permissions must be an object with \"defines\" and \"requests\"");
    }
    return new AppManifest(id, root.path("name").asText(id), root.path("version").asText("0"),
        root.path("description").asText(""), command, health, listen, limits(root.get("limits"), file), publisher,
        names(root.get("volumes"), "volumes", file), defines(permissions.get("defines"), file),
        requests(permissions.get("requests"), file));
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

  /** Extra folders the daemon makes under {@code /data} (e.g. to back up or share one apart). */
  private static List<String> names(JsonNode node, String field, Path file) {
    List<String> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isArray()) {
      throw new AppException(file + ": " + field + " must be an array of names");
    }
    for (JsonNode n : node) {
      if (!n.isTextual() || !NAME.matcher(n.textValue()).matches() || out.contains(n.textValue())) {
        throw new AppException(file + ": " + field + " must hold distinct names matching " + NAME.pattern()
            + ", not " + n);
      }
      out.add(n.textValue());
    }
    return out;
  }

  private static List<Permission> defines(JsonNode node, Path file) {
    List<Permission> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isArray()) {
      throw new AppException(file + ": permissions.defines must be an array of {\"name\", \"description\"}");
    }
    for (JsonNode p : node) {
      JsonNode name = p.path("name");
      JsonNode description = p.path("description");
      if (!name.isTextual() || !NAME.matcher(name.textValue()).matches() || !description.isTextual()
          || description.textValue().isBlank() || out.stream().anyMatch(q -> q.name().equals(name.textValue()))) {
        throw new AppException(file + ": permissions.defines entries need a distinct name matching " + NAME.pattern()
            + " and a description people can read, not " + p);
      }
      JsonNode sharedBy = p.path("sharedBy");
      if (!sharedBy.isMissingNode() && !(sharedBy.isTextual() && Set.of("holders", "open").contains(sharedBy.textValue()))) {
        throw new AppException(file + ": permissions.defines[\"" + name.textValue() + "\"].sharedBy must be \"holders\""
            + " (the default: those who hold it) or \"open\" (anyone who may open the app), not " + sharedBy);
      }
      out.add(new Permission(name.textValue(), description.textValue(), sharedBy.asText("holders").equals("open")));
    }
    return out;
  }

  /** Daemon permissions the app asks the owner for: {@code internet}, {@code app:<id>}. */
  private static List<String> requests(JsonNode node, Path file) {
    List<String> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isArray()) {
      throw new AppException(file + ": permissions.requests must be an array");
    }
    for (JsonNode r : node) {
      String v = r.isTextual() ? r.textValue() : "";
      boolean ok = v.equals("internet") || v.equals("peer") || v.equals("strangers")
          || (v.startsWith("app:") && APP_ID.matcher(v.substring(4)).matches());
      if (!ok) {
        throw new AppException(file + ": permissions.requests holds \"internet\", \"peer\", \"strangers\" or"
            + " \"app:<app-id>\", not " + r);
      }
      out.add(v);
    }
    return out;
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

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
 * An app's manifest.json: who it is and how to run it. {@code ${java}} in the command stands
 * for the daemon's own java executable, so Java apps need no JDK path of their own.
 */
public record AppManifest(String id, String name, String version, String description, List<String> command,
    Optional<String> healthCheck) {
  public static final Pattern APP_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  public AppManifest {
    command = List.copyOf(command);
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
    JsonNode run = root.path("run").path("command");
    if (!run.isArray() || run.isEmpty()) {
      throw new AppException(file + ": run.command must be a non-empty array of strings");
    }
    List<String> command = new ArrayList<>();
    for (JsonNode part : run) {
      if (!part.isTextual()) {
        throw new AppException(file + ": run.command must be a non-empty array of strings");
      }
      command.add(part.textValue());
    }
    Optional<String> health = root.hasNonNull("healthCheck") ? Optional.of(text(root, "healthCheck", file)) : Optional.empty();
    health.filter(h -> !h.startsWith("/")).ifPresent(h -> {
      throw new AppException(file + ": healthCheck must be a path starting with '/'");
    });
    return new AppManifest(id, root.path("name").asText(id), root.path("version").asText("0"),
        root.path("description").asText(""), command, health);
  }

  private static String text(JsonNode root, String field, Path file) {
    JsonNode v = root.get(field);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw new AppException(file + ": '" + field + "' must be a non-empty string");
    }
    return v.textValue();
  }
}

package org.intrustd.appliance.settings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * {@code <state>/settings.json}: the settings the owner saved, written whole and renamed into
 * place, so a crash leaves the old file or the new one, never half of one. A file that cannot be
 * read is reported and ignored (the appliance starts with its command line), never fatal.
 */
public final class SettingsStore {
  private static final System.Logger LOG = System.getLogger("intrustd.settings");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;

  public SettingsStore(Path stateDir) {
    this.file = stateDir.resolve("settings.json");
  }

  /** The saved settings, if any could be read. */
  public Optional<Settings> load() {
    try {
      JsonNode node = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
      return Optional.of(new Settings(node.path("name").asText(null), URI.create(node.path("flock").asText(""))));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | IllegalArgumentException e) {
      LOG.log(Level.WARNING, "ignoring {0}, which cannot be read ({1}): using the command line''s settings", file,
          e.getMessage());
      return Optional.empty();
    }
  }

  public void save(Settings settings) throws IOException {
    String text = JSON.createObjectNode().put("name", settings.name()).put("flock", settings.flock().toString())
        .toPrettyString() + "\n";
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}

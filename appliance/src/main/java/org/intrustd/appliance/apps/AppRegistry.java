package org.intrustd.appliance.apps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The installed apps, read from directories at start-up. Each given directory is either an
 * app (it holds manifest.json) or a folder of apps. Immutable; thread-safe.
 */
public final class AppRegistry {
  private final Map<String, InstalledApp> apps;

  private AppRegistry(Map<String, InstalledApp> apps) {
    // Sorted by id, so that all() lists apps in a stable order (Map.copyOf would not keep it).
    this.apps = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(apps));
  }

  public static AppRegistry scan(List<Path> roots) {
    Map<String, InstalledApp> found = new TreeMap<>();
    for (Path root : roots) {
      if (Files.isRegularFile(root.resolve("manifest.json"))) {
        add(found, root);
        continue;
      }
      if (!Files.isDirectory(root)) {
        throw new AppException("app directory " + root + " does not exist");
      }
      try (Stream<Path> children = Files.list(root)) {
        for (Path dir : children.sorted().toList()) {
          if (Files.isRegularFile(dir.resolve("manifest.json"))) {
            add(found, dir);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list apps in " + root, e);
      }
    }
    return new AppRegistry(found);
  }

  private static void add(Map<String, InstalledApp> found, Path dir) {
    AppManifest m = AppManifest.read(dir.resolve("manifest.json"));
    InstalledApp previous = found.putIfAbsent(m.id(), new InstalledApp(m, dir.toAbsolutePath().normalize()));
    if (previous != null) {
      throw new AppException("two apps named '" + m.id() + "': " + previous.directory() + " and " + dir);
    }
  }

  public Optional<InstalledApp> find(String id) {
    return Optional.ofNullable(apps.get(id));
  }

  public List<InstalledApp> all() {
    return List.copyOf(apps.values());
  }
}

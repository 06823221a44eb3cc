package org.intrustd.appliance.apps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * The apps on this appliance: those in the directories given at start-up (each either an app,
 * holding manifest.json, or a folder of apps) and those installed from bundles, which the
 * installer adds, replaces and removes while the daemon runs. Thread-safe.
 */
public final class AppRegistry {
  // Sorted by id, so that all() lists apps in a stable order.
  private final Map<String, InstalledApp> apps;
  private final Set<String> fromDirectories;

  private AppRegistry(Map<String, InstalledApp> apps) {
    this.apps = new ConcurrentSkipListMap<>(apps);
    this.fromDirectories = Set.copyOf(apps.keySet());
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

  /** Adds an installed app or replaces the installed version of one. */
  public void put(InstalledApp app) {
    if (fromDirectories.contains(app.id())) {
      throw new AppException("app '" + app.id() + "' comes from " + apps.get(app.id()).directory()
          + " given at start-up; it cannot be installed over");
    }
    apps.put(app.id(), app);
  }

  public void remove(String id) {
    if (fromDirectories.contains(id)) {
      throw new AppException("app '" + id + "' comes from " + apps.get(id).directory()
          + " given at start-up; remove it there");
    }
    apps.remove(id);
  }

  public Optional<InstalledApp> find(String id) {
    return Optional.ofNullable(apps.get(id));
  }

  public List<InstalledApp> all() {
    return List.copyOf(apps.values());
  }
}

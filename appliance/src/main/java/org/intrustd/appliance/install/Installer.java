package org.intrustd.appliance.install;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.apps.InstalledApp;
import org.intrustd.appliance.bundles.Bundle;
import org.intrustd.appliance.bundles.Repository;
import org.intrustd.appliance.bundles.RepositoryEntry;
import org.intrustd.appliance.bundles.TrustedPublishers;

/**
 * Installs, updates and removes apps from signed bundles, so that a crash at any point (kill -9
 * included) leaves either the old version or the new one, never a mix:
 *
 * <ul>
 *   <li>each version is unpacked into {@code installed/<id>/<version>/} (the unpacker builds it
 *       in a hidden sibling and renames it into place);
 *   <li>{@code installed/<id>/current} is a symlink to the version in use, replaced by an atomic
 *       rename, and only after the new version passed its health check;
 *   <li>at start-up, {@link #recover} deletes every version directory {@code current} does not
 *       name (a half-done update) and every app directory without {@code current} (a half-done
 *       install), then registers what remains.
 * </ul>
 *
 * Publishers are trusted by dropping their {@code .pub} key in {@code trusted-publishers/}.
 * Thread-safe: one change at a time.
 */
public final class Installer {
  private static final System.Logger LOG = System.getLogger("intrustd.install");
  private static final String CURRENT = "current";
  private static final String UPLOAD_PREFIX = "upload-";

  private final Path installed;
  private final Path publishers;
  private final Path downloads;
  private final AppRegistry registry;
  private final AppSupervisor apps;
  private final Path dataRoot;
  private final Consumer<String> onAdded;
  private final Consumer<String> onRemoved;

  /** {@code onAdded}/{@code onRemoved} hear of apps that appear or go, to open or close their endpoints. */
  public Installer(Path stateDir, AppRegistry registry, AppSupervisor apps, Consumer<String> onAdded,
      Consumer<String> onRemoved) {
    this.installed = stateDir.resolve("installed");
    this.publishers = stateDir.resolve("trusted-publishers");
    this.downloads = stateDir.resolve("downloads");
    this.dataRoot = stateDir.resolve("data");
    this.registry = registry;
    this.apps = apps;
    this.onAdded = onAdded;
    this.onRemoved = onRemoved;
  }

  /** Finishes or undoes whatever a crash interrupted, and registers the installed apps. */
  public synchronized List<String> recover() {
    try {
      Files.createDirectories(installed);
      if (Files.isDirectory(downloads)) {
        try (Stream<Path> leftovers = Files.list(downloads)) {
          for (Path f : leftovers.toList()) {
            LOG.log(Level.INFO, "removing {0}: a download or upload a stop interrupted", f);
            Files.deleteIfExists(f);
          }
        }
      }
      try (Stream<Path> dirs = Files.list(installed)) {
        for (Path appDir : dirs.sorted().toList()) {
          Path current = appDir.resolve(CURRENT);
          if (!Files.isSymbolicLink(current) || !Files.isDirectory(current)) {
            LOG.log(Level.WARNING, "removing {0}: an install that never finished", appDir);
            deleteTree(appDir);
            continue;
          }
          Path inUse = current.toRealPath();
          try (Stream<Path> versions = Files.list(appDir)) {
            for (Path v : versions.toList()) {
              if (!v.getFileName().toString().equals(CURRENT) && !v.toRealPath(LinkOption.NOFOLLOW_LINKS).equals(inUse)) {
                LOG.log(Level.INFO, "removing {0}: not the version in use", v);
                deleteTree(v);
              }
            }
          }
          registry.put(new InstalledApp(AppManifest.read(inUse.resolve("manifest.json")), inUse));
        }
      }
      try (Stream<Path> installedNow = Files.list(installed)) {
        return installedNow.map(p -> p.getFileName().toString()).sorted().toList();
      }
    } catch (IOException e) {
      throw new AppException("cannot read the installed apps in " + installed + ": " + e.getMessage(), e);
    }
  }

  private TrustedPublishers trusted() {
    if (!Files.isDirectory(publishers)) {
      throw new AppException("no publisher is trusted yet: put publisher keys (.pub) in " + publishers);
    }
    return TrustedPublishers.load(publishers);
  }

  /** Installs a new app from a bundle file; refused if an app of that id exists. */
  public synchronized InstalledApp install(Path bundleFile) {
    return install(Bundle.verify(bundleFile, trusted()));
  }

  /** An app a bundle installed or updated. */
  public record Added(InstalledApp app, boolean updated) {}

  /** Installs the bundle's app, or updates it when an app of that id is installed. */
  public synchronized Added installOrUpdate(Path bundleFile) {
    Bundle bundle = Bundle.verify(bundleFile, trusted());
    String id = bundle.header().appId();
    return registry.find(id).isPresent() ? new Added(update(id, bundle), true) : new Added(install(bundle), false);
  }

  /**
   * A new private file where a bundle being received can be written; the caller deletes it
   * when done, and {@link #recover} deletes any a crash left.
   */
  public Path newUpload() throws IOException {
    Files.createDirectories(downloads);
    return Files.createTempFile(downloads, UPLOAD_PREFIX, ".bundle",
        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
  }

  private InstalledApp install(Bundle bundle) {
    String id = bundle.header().appId();
    if (registry.find(id).isPresent()) {
      throw new AppException("app '" + id + "' is already installed; update it instead");
    }
    Path appDir = installed.resolve(id);
    try {
      deleteTree(appDir); // a leftover of an install that crashed
      Path versionDir = appDir.resolve(bundle.header().version());
      Files.createDirectories(appDir);
      AppManifest manifest = bundle.unpack(versionDir);
      InstalledApp app = new InstalledApp(manifest, versionDir.toRealPath());
      switchCurrent(appDir, versionDir);
      registry.put(app);
      onAdded.accept(id);
      LOG.log(Level.INFO, "installed app {0} {1} from publisher {2}", id, manifest.version(), bundle.header().publisher());
      return app;
    } catch (IOException e) {
      throw new AppException("cannot install app '" + id + "': " + e.getMessage(), e);
    }
  }

  /**
   * Updates an installed app to the bundle's version: the new version starts beside the old
   * one and takes over only once healthy; otherwise the old one keeps running and the new
   * files are deleted.
   */
  public synchronized InstalledApp update(String id, Path bundleFile) {
    return update(id, Bundle.verify(bundleFile, trusted()));
  }

  private InstalledApp update(String id, Bundle bundle) {
    if (!bundle.header().appId().equals(id)) {
      throw new AppException("that bundle is app '" + bundle.header().appId() + "', not '" + id + "'");
    }
    InstalledApp old = registry.find(id).orElseThrow(() -> new AppException("no app named '" + id + "' to update"));
    if (!fromBundle(old)) {
      throw new AppException("app '" + id + "' comes from " + old.directory() + ", not from a bundle; it cannot be updated");
    }
    String version = bundle.header().version();
    if (version.equals(old.manifest().version())) {
      throw new AppException("app '" + id + "' is already at version " + version);
    }
    Path appDir = installed.resolve(id);
    Path versionDir = appDir.resolve(version);
    try {
      deleteTree(versionDir); // a leftover of an update that crashed
      AppManifest manifest = bundle.unpack(versionDir);
      InstalledApp next = new InstalledApp(manifest, versionDir.toRealPath());
      try {
        apps.upgrade(next, () -> {
          switchCurrent(appDir, versionDir);
          registry.put(next);
        });
      } catch (AppException e) {
        deleteTree(versionDir);
        throw new AppException("app '" + id + "' stays at version " + old.manifest().version() + ": version " + version
            + " did not start: " + e.getMessage(), e);
      }
      deleteTree(old.directory());
      LOG.log(Level.INFO, "updated app {0} from {1} to {2}", id, old.manifest().version(), version);
      return next;
    } catch (IOException e) {
      throw new AppException("cannot update app '" + id + "': " + e.getMessage(), e);
    }
  }

  /** Fetches the latest version of {@code appId} from a repository and installs or updates it. */
  public synchronized InstalledApp installFrom(URI repository, String appId) {
    try (Repository repo = Repository.open(repository, trusted())) {
      RepositoryEntry entry = repo.latest(appId)
          .orElseThrow(() -> new AppException("the repository " + repository + " has no app '" + appId + "'"));
      Files.createDirectories(downloads);
      Bundle fetched = repo.fetch(entry, downloads);
      try {
        // fetch() verified it against the same publishers: no second pass over the file
        return registry.find(appId).isPresent() ? update(appId, fetched) : install(fetched);
      } finally {
        Files.deleteIfExists(fetched.file());
      }
    } catch (IOException e) {
      throw new AppException("cannot fetch '" + appId + "' from " + repository + ": " + e.getMessage(), e);
    }
  }

  /** Whether the app was installed from a bundle (so it can be updated and removed), not found in an apps directory. */
  public boolean fromBundle(InstalledApp app) {
    return app.directory().startsWith(installed.toAbsolutePath());
  }

  /** Stops and removes an installed app; its data stays unless {@code purge}. */
  public synchronized void remove(String id, boolean purge) {
    InstalledApp app = registry.find(id).orElseThrow(() -> new AppException("no app named '" + id + "'"));
    if (!fromBundle(app)) {
      throw new AppException("app '" + id + "' comes from " + app.directory() + ", not from a bundle; remove it there");
    }
    registry.remove(id); // first, so that no request starts it again meanwhile
    apps.stop(id);
    onRemoved.accept(id);
    try {
      // Renamed first, so that a crash midway leaves a directory recover() deletes, not half an app.
      Path doomed = installed.resolve("." + id + ".removing");
      deleteTree(doomed);
      Files.move(installed.resolve(id), doomed, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(doomed);
      if (purge) {
        deleteTree(dataRoot.resolve(id));
      }
    } catch (IOException e) {
      throw new AppException("cannot remove app '" + id + "': " + e.getMessage(), e);
    }
    LOG.log(Level.INFO, "removed app {0}{1}", id, purge ? " and its data" : " (its data is kept)");
  }

  /** Points {@code current} at {@code versionDir} with one atomic rename. */
  private static void switchCurrent(Path appDir, Path versionDir) {
    try {
      Path tmp = appDir.resolve(CURRENT + ".new");
      Files.deleteIfExists(tmp);
      Files.createSymbolicLink(tmp, versionDir.getFileName());
      Files.move(tmp, appDir.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new AppException("cannot switch " + appDir + " to " + versionDir.getFileName() + ": " + e.getMessage(), e);
    }
  }

  /** Deletes a folder and everything in it, without following links; nothing if it is not there. */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** The publisher keys directory, for the CLI's "trust" command. */
  public static Path publishersDir(Path stateDir) {
    return stateDir.resolve("trusted-publishers");
  }

}

package org.intrustd.appliance.bundles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.intrustd.appliance.bundles.BundleException.Reason;
import org.intrustd.core.id.ApplianceId;

/** The publisher keys whose bundles and indexes an appliance accepts. Immutable. */
public final class TrustedPublishers {
  private final Set<ApplianceId> ids;

  private TrustedPublishers(Set<ApplianceId> ids) {
    this.ids = Set.copyOf(ids);
  }

  public static TrustedPublishers of(Collection<byte[]> publicKeys) {
    return new TrustedPublishers(publicKeys.stream().map(ApplianceId::fromPublicKey).collect(Collectors.toSet()));
  }

  public static TrustedPublishers of(byte[]... publicKeys) {
    return of(List.of(publicKeys));
  }

  /**
   * Loads one public key file, or every file of a directory (one key per file; names starting
   * with a dot and subdirectories are skipped; symbolic links are followed: the owner controls this directory). A bad file fails the whole load, naming it:
   * silently trusting fewer keys than the owner meant would be confusing.
   */
  public static TrustedPublishers load(Path fileOrDir) {
    if (!Files.isDirectory(fileOrDir)) {
      return of(KeyFiles.read(fileOrDir, KeyFiles.PUBLIC_HEADER));
    }
    List<byte[]> keys = new ArrayList<>();
    try (Stream<Path> files = Files.list(fileOrDir)) {
      for (Path f : files.sorted().toList()) {
        if (!f.getFileName().toString().startsWith(".") && Files.isRegularFile(f)) {
          keys.add(KeyFiles.read(f, KeyFiles.PUBLIC_HEADER));
        }
      }
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot list trusted publishers in " + fileOrDir + ": " + Io.why(e), e);
    }
    return of(keys);
  }

  public boolean trusts(byte[] publicKey) {
    return publicKey.length == 32 && ids.contains(ApplianceId.fromPublicKey(publicKey));
  }

  /** The trusted publisher IDs, sorted. */
  public List<ApplianceId> ids() {
    return ids.stream().sorted(Comparator.comparing(ApplianceId::toString)).toList();
  }
}

package org.intrustd.appliance.bundles;

import java.util.regex.Pattern;
import org.intrustd.core.id.ApplianceId;

/**
 * One bundle listed in a repository index: what the signed index promises about the file.
 * Arrays are copied in and out, so the record is immutable.
 *
 * @param file the bundle's file name, relative to the repository (no directories)
 * @param size the bundle file's length in bytes
 * @param sha256 the SHA-256 of the whole bundle file
 * @param publisherKey the key that signed the bundle (raw Ed25519)
 */
public record RepositoryEntry(String appId, String version, String file, long size, byte[] sha256, byte[] publisherKey) {
  /** File names a repository may list: no directories, no leading dot, nothing a URL must escape. */
  public static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  public RepositoryEntry {
    sha256 = sha256.clone();
    publisherKey = publisherKey.clone();
  }

  @Override
  public byte[] sha256() {
    return sha256.clone();
  }

  @Override
  public byte[] publisherKey() {
    return publisherKey.clone();
  }

  public ApplianceId publisher() {
    return ApplianceId.fromPublicKey(publisherKey);
  }

  /** The version, which the index has checked to be one. */
  public Version parsedVersion() {
    return Version.parse(version).orElseThrow();
  }
}

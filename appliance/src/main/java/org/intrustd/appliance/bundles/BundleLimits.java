package org.intrustd.appliance.bundles;

/**
 * Bounds on what reading a bundle or an index may cost. They are checked before the bytes they
 * bound are read or written, so a hostile file fails fast instead of filling the disk.
 *
 * @param maxBundleBytes largest bundle file (header and compressed payload)
 * @param maxEntries largest number of entries in a bundle's archive
 * @param maxUnpackedBytes largest sum of the sizes of the files a bundle unpacks to
 */
public record BundleLimits(long maxBundleBytes, int maxEntries, long maxUnpackedBytes) {
  /** 4 GiB bundles, 50 000 entries, 4 GiB unpacked. */
  public static final BundleLimits DEFAULT = new BundleLimits(4L << 30, 50_000, 4L << 30);

  public BundleLimits {
    if (maxBundleBytes < 1 || maxEntries < 1 || maxUnpackedBytes < 0) {
      throw new IllegalArgumentException("bundle limits must be positive: " + maxBundleBytes + ", " + maxEntries
          + ", " + maxUnpackedBytes);
    }
  }
}

package org.intrustd.appliance.bundles;

/**
 * A bundle, key or repository index is refused or cannot be read. The message says why and is
 * fit to show the owner; the reason lets callers tell the cases apart without parsing it.
 */
public final class BundleException extends RuntimeException {
  /** Why a bundle or an index was refused. */
  public enum Reason {
    /** Not in the bundle or index format at all, or a format version we do not know. */
    NOT_A_BUNDLE,
    /** A bare tar or zstd file, or an all-zero signature: nobody signed it. */
    UNSIGNED,
    /** The signature does not verify: the signed fields were altered or signed by another key. */
    BAD_SIGNATURE,
    /** Correctly signed, by a key that is not trusted. */
    UNTRUSTED,
    /** The file ends before the length its header claims. */
    TRUNCATED,
    /** The payload, or a bundle fetched from a repository, is not what was signed. */
    TAMPERED,
    /** Over a configured limit: bundle size, number of entries or unpacked bytes. */
    OVERSIZE,
    /** The archive holds an entry that would escape or misuse the target directory. */
    UNSAFE_ENTRY,
    /** The archive or its manifest is malformed, or it disagrees with what was signed. */
    INVALID_CONTENT,
    /** A key file, a repository index, an app directory or a file name is malformed. */
    INVALID_INPUT,
    /** Reading, writing or fetching failed. */
    IO
  }

  private final Reason reason;

  public BundleException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public BundleException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}

package org.intrustd.appliance.bundles;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.bundles.BundleException.Reason;

/**
 * A bundle file whose signature and payload digest have been checked (docs/spec/bundles.md).
 * Verification reads the small header, checks the signature and the publisher, then hashes the
 * payload as a stream: nothing is decompressed before the payload is known to be the signed
 * one. {@link #unpack} hashes it again while it decompresses and installs the result only if
 * the digest still matches, so a file changed in between is refused too. Thread-safe.
 */
public final class Bundle {
  /** zstd windows of at most 8 MiB (zstd levels up to 19 use no more), bounding decoder memory. */
  static final int MAX_WINDOW_LOG = 23;
  /** Decompressed tar bytes allowed per entry beyond file contents: headers, pax records, padding. */
  static final long OVERHEAD_PER_ENTRY = 8 * 1024;

  private final Path file;
  private final BundleHeader header;
  private final BundleLimits limits;

  private Bundle(Path file, BundleHeader header, BundleLimits limits) {
    this.file = file;
    this.header = header;
    this.limits = limits;
  }

  /** Checks a bundle file against the trusted publishers and the default limits. */
  public static Bundle verify(Path file, TrustedPublishers trusted) {
    return verify(file, trusted, BundleLimits.DEFAULT);
  }

  /**
   * Checks that the file is a bundle signed by a trusted publisher and that its payload is the
   * signed one. Every refusal is a {@link BundleException} whose reason and message say why.
   */
  public static Bundle verify(Path file, TrustedPublishers trusted, BundleLimits limits) {
    return check(file, trusted, limits);
  }

  /** Like {@link #verify} but trusts whichever key signed the bundle: for publishing tools only. */
  static Bundle inspect(Path file, BundleLimits limits) {
    return check(file, null, limits);
  }

  public BundleHeader header() {
    return header;
  }

  public Path file() {
    return file;
  }

  /**
   * Unpacks into {@code target}, which must not exist; returns the bundle's manifest. Works in a
   * hidden temporary sibling of {@code target} and renames it into place only when everything
   * succeeded (entries safe, limits kept, payload digest still the signed one, manifest valid
   * and naming the signed app id and version); on any failure nothing is left behind. A crash
   * midway can leave the temporary directory ({@code .<name>.unpack-*}), never a partial target.
   */
  public AppManifest unpack(Path target) {
    Path absolute = target.toAbsolutePath();
    if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
      throw new BundleException(Reason.INVALID_INPUT, "cannot unpack into " + target + ": it already exists");
    }
    Path tmp;
    try {
      Files.createDirectories(absolute.getParent());
      tmp = Files.createTempDirectory(absolute.getParent(), "." + absolute.getFileName() + ".unpack-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot unpack into " + target + ": " + Io.why(e), e);
    }
    try {
      unpackPayload(tmp);
      AppManifest manifest = manifest(tmp);
      Files.setPosixFilePermissions(tmp, Unpacker.DIR_MODE);
      Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE);
      return manifest;
    } catch (BundleException e) {
      Io.deleteTree(tmp);
      throw e;
    } catch (com.github.luben.zstd.ZstdIOException | com.github.luben.zstd.ZstdException e) {
      Io.deleteTree(tmp);
      throw new BundleException(Reason.INVALID_CONTENT, "malformed payload: zstd says " + e.getMessage(), e);
    } catch (IOException e) {
      Io.deleteTree(tmp);
      throw new BundleException(Reason.IO, "cannot unpack " + file + " into " + target + ": " + Io.why(e), e);
    } catch (RuntimeException e) {
      // A last guard for the promise that hostile input yields only BundleException.
      Io.deleteTree(tmp);
      throw new BundleException(Reason.INVALID_CONTENT, "cannot unpack " + file + ": " + e, e);
    }
  }

  private void unpackPayload(Path tmp) throws IOException {
    long overhead = limits.maxEntries() * OVERHEAD_PER_ENTRY + (1 << 20);
    long maxTar = limits.maxUnpackedBytes() > Long.MAX_VALUE - overhead ? Long.MAX_VALUE : limits.maxUnpackedBytes() + overhead;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        DigestInputStream signed = new DigestInputStream(payload(ch), Io.sha256());
        ZstdInputStreamNoFinalizer zstd = new ZstdInputStreamNoFinalizer(signed)) {
      zstd.setLongMax(MAX_WINDOW_LOG);
      InputStream tarBytes = BoundedInput.atMost(zstd, maxTar, () -> new BundleException(Reason.OVERSIZE,
          "oversize: the payload decompresses to more than " + maxTar + " bytes"));
      new Unpacker(tmp, limits).unpackAll(new TarReader(tarBytes));
      // Read to the end, so that the digest covers every payload byte.
      Io.drain(tarBytes);
      Io.drain(signed);
      if (!MessageDigest.isEqual(signed.getMessageDigest().digest(), header.payloadSha256())) {
        throw new BundleException(Reason.TAMPERED, "tampered bundle: " + file + " changed after it was verified");
      }
    }
  }

  private AppManifest manifest(Path dir) {
    Path file = dir.resolve("manifest.json");
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new BundleException(Reason.INVALID_CONTENT, "the bundle has no manifest.json file at its root");
    }
    AppManifest m;
    try {
      m = AppManifest.read(file);
    } catch (RuntimeException e) {
      throw new BundleException(Reason.INVALID_CONTENT, "invalid manifest: " + String.valueOf(e.getMessage()).replace(file.toString(), "manifest.json"), e);
    }
    if (!m.id().equals(header.appId()) || !m.version().equals(header.version())) {
      throw new BundleException(Reason.INVALID_CONTENT, "the manifest names " + m.id() + " " + m.version()
          + " but the signed header names " + header.appId() + " " + header.version());
    }
    return m;
  }

  private static Bundle check(Path file, TrustedPublishers trusted, BundleLimits limits) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteBuffer start = ByteBuffer.allocate((int) Math.min(size, 512));
      while (start.hasRemaining() && ch.read(start) > 0) {
        // fill
      }
      BundleHeader h = BundleHeader.decode(java.util.Arrays.copyOf(start.array(), start.position()));
      if (!h.signatureValid()) {
        throw new BundleException(Reason.BAD_SIGNATURE, "bad signature: the bundle header was altered, or was not signed by"
            + " the publisher key it names (" + h.publisher() + ")");
      }
      if (trusted != null && !trusted.trusts(h.publisherKey())) {
        throw new BundleException(Reason.UNTRUSTED, "untrusted publisher: " + h.appId() + " " + h.version()
            + " is signed by " + h.publisher() + ", which is not among the " + trusted.ids().size() + " trusted publishers");
      }
      if (h.payloadLength() > limits.maxBundleBytes() - h.size()) {
        throw new BundleException(Reason.OVERSIZE, "oversize: the bundle has " + (h.size() + h.payloadLength())
            + " bytes, more than the limit of " + limits.maxBundleBytes());
      }
      long present = size - h.size();
      if (present < h.payloadLength()) {
        throw new BundleException(Reason.TRUNCATED, "truncated bundle: its header announces " + h.payloadLength()
            + " payload bytes, the file holds " + present);
      }
      if (present > h.payloadLength()) {
        throw new BundleException(Reason.TAMPERED, "tampered bundle: " + (present - h.payloadLength())
            + " bytes follow the signed payload");
      }
      Bundle bundle = new Bundle(file, h, limits);
      try (InputStream payload = bundle.payload(ch)) {
        if (!MessageDigest.isEqual(Io.sha256(payload), h.payloadSha256())) {
          throw new BundleException(Reason.TAMPERED, "tampered bundle: the payload does not match the signed SHA-256");
        }
      }
      return bundle;
    } catch (NoSuchFileException e) {
      throw new BundleException(Reason.IO, "no such bundle file: " + file, e);
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot read bundle " + file + ": " + Io.why(e), e);
    }
  }

  private InputStream payload(FileChannel ch) throws IOException {
    ch.position(header.size());
    // Closing this stream closes the channel, which its owner closes again: harmless.
    return new BufferedInputStream(BoundedInput.region(Channels.newInputStream(ch), header.payloadLength()), 64 * 1024);
  }
}

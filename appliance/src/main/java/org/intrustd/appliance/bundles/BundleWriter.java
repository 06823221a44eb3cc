package org.intrustd.appliance.bundles;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.bundles.BundleException.Reason;

/**
 * Packs an app directory into a signed bundle. The output depends only on the directory's
 * names, contents, symbolic links and executable bits (and on the zstd version): entries are
 * sorted with manifest.json first, times, owners and other mode bits are fixed, so packing the
 * same directory twice gives the same bytes. Stateless and thread-safe.
 */
public final class BundleWriter {
  /** Good compression at tolerable speed; its window (at most 8 MiB) stays within what readers accept. */
  static final int ZSTD_LEVEL = 12;

  private BundleWriter() {}

  /**
   * Packs {@code appDir} (which holds manifest.json) into {@code out}, replacing it atomically.
   * Refuses directories holding what a bundle may not hold: special files, or symbolic links
   * that point outside the app.
   */
  public static BundleHeader write(Path appDir, PublisherKey key, Path out) {
    AppManifest manifest;
    try {
      manifest = AppManifest.read(appDir.resolve("manifest.json"));
    } catch (RuntimeException e) {
      throw new BundleException(Reason.INVALID_INPUT, "cannot pack " + appDir + ": " + e.getMessage(), e);
    }
    if (Version.parse(manifest.version()).isEmpty()) {
      throw new BundleException(Reason.INVALID_INPUT, "cannot pack " + appDir + ": version '" + manifest.version()
          + "' is not a bundle version (one to four dot-separated numbers, optionally -pre.release)");
    }
    List<Path> entries = entries(appDir);
    Path absolute = out.toAbsolutePath();
    Path tmp = null;
    try {
      tmp = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp");
      int headerSize = 155 + manifest.id().length() + manifest.version().length();
      MessageDigest sha = Io.sha256();
      long payloadLength;
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.position(headerSize);
        CountingOutput counted = new CountingOutput(new DigestOutputStream(Channels.newOutputStream(ch), sha));
        try (OutputStream zstd = compressor(new BufferedOutputStream(counted, 64 * 1024))) {
          TarWriter tar = new TarWriter(zstd);
          for (Path p : entries) {
            add(tar, appDir, p);
          }
          tar.finish();
        }
        payloadLength = counted.count;
        BundleHeader header = sign(manifest.id(), manifest.version(), key, payloadLength, sha.digest());
        ch.write(ByteBuffer.wrap(header.encode()), 0);
        ch.force(true);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Io.move(tmp, absolute);
        return header;
      }
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot pack " + appDir + " into " + out + ": " + Io.why(e), e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // A stray temporary file; the bundle itself is complete or absent.
        }
      }
    }
  }

  /** A whole bundle in memory around a given payload (tests and spec vectors). */
  static byte[] bundle(String appId, String version, PublisherKey key, byte[] payload) {
    BundleHeader h = sign(appId, version, key, payload.length, Io.sha256().digest(payload));
    ByteBuffer b = ByteBuffer.allocate(h.size() + payload.length);
    return b.put(h.encode()).put(payload).array();
  }

  /** zstd-compresses bytes in one frame that records its size (tests and spec vectors). */
  static byte[] compress(byte[] data) {
    return com.github.luben.zstd.Zstd.compress(data, ZSTD_LEVEL);
  }

  static BundleHeader sign(String appId, String version, PublisherKey key, long length, byte[] sha256) {
    byte[] pub = key.publicKey();
    byte[] signature = key.sign(BundleHeader.signingInput(appId, version, pub, length, sha256));
    return new BundleHeader(appId, version, pub, length, sha256, signature);
  }

  private static OutputStream compressor(OutputStream out) throws IOException {
    return new ZstdOutputStreamNoFinalizer(out, ZSTD_LEVEL).setChecksum(false).setWorkers(0);
  }

  /** The app's files as relative paths, manifest.json first, then in UTF-8 byte order (so parents precede children). */
  private static List<Path> entries(Path appDir) {
    Comparator<Path> order = Comparator.comparing((Path p) -> !p.toString().equals("manifest.json"))
        .thenComparing((a, b) -> Arrays.compareUnsigned(utf8(a), utf8(b)));
    try (Stream<Path> walk = Files.walk(appDir)) {
      return walk.filter(p -> !p.equals(appDir)).map(appDir::relativize).sorted(order).toList();
    } catch (java.io.UncheckedIOException e) {
      throw new BundleException(Reason.IO, "cannot list " + appDir + ": " + Io.why(e.getCause()), e);
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot list " + appDir + ": " + Io.why(e), e);
    }
  }

  private static void add(TarWriter tar, Path appDir, Path relative) throws IOException {
    String name = relative.toString();
    Path file = appDir.resolve(relative);
    BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    try {
      Unpacker.normalize(name);
      if (attrs.isDirectory()) {
        tar.directory(name, 0755);
      } else if (attrs.isSymbolicLink()) {
        tar.symlink(name, Unpacker.checkLink(name, Files.readSymbolicLink(file).toString()));
      } else if (attrs.isRegularFile()) {
        boolean exec = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS).contains(PosixFilePermission.OWNER_EXECUTE);
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
          tar.file(name, exec ? 0755 : 0644, attrs.size(), in);
        }
      } else {
        throw new BundleException(Reason.INVALID_INPUT, file + " is not a file, a directory or a symbolic link");
      }
    } catch (BundleException e) {
      throw e.reason() == Reason.UNSAFE_ENTRY ? new BundleException(Reason.INVALID_INPUT, "cannot pack: " + e.getMessage()) : e;
    }
  }

  private static byte[] utf8(Path p) {
    return p.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Counts bytes on their way to the file (the payload length goes into the header); closing
   * it only flushes, so that the channel stays open for writing the header.
   */
  private static final class CountingOutput extends java.io.FilterOutputStream {
    long count;

    CountingOutput(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }

    @Override
    public void close() throws IOException {
      out.flush();
    }
  }
}

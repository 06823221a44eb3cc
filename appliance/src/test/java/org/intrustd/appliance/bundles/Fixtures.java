package org.intrustd.appliance.bundles;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.stream.Stream;

/** Keys, app directories and hand-made archives for the bundle tests. */
final class Fixtures {
  private Fixtures() {}

  /** A fixed key per index, so that failures reproduce and vectors are stable. */
  static PublisherKey key(int i) {
    try {
      return PublisherKey.fromSeed(MessageDigest.getInstance("SHA-256")
          .digest(("intrustd bundle test key " + i).getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static TrustedPublishers trust(PublisherKey... keys) {
    return TrustedPublishers.of(Stream.of(keys).map(PublisherKey::publicKey).toList());
  }

  static String manifest(String id, String version) {
    return "{\"id\": \"" + id + "\", \"name\": \"Test " + id + "\", \"version\": \"" + version + "\","
        + " \"run\": {\"command\": [\"bin/run\"]}, \"healthCheck\": \"/health\"}\n";
  }

  /** An app directory: manifest, an executable, a data file, an empty directory, a link. */
  static Path app(Path dir, String id, String version) {
    try {
      Files.createDirectories(dir.resolve("bin"));
      Files.createDirectories(dir.resolve("share/empty"));
      Files.writeString(dir.resolve("manifest.json"), manifest(id, version));
      Files.writeString(dir.resolve("bin/run"), "#!/bin/sh\necho " + id + "\n");
      Files.setPosixFilePermissions(dir.resolve("bin/run"), PosixFilePermissions.fromString("rwxr-x---"));
      Files.writeString(dir.resolve("share/data.txt"), "data of " + id + " " + version + "\n");
      Files.setPosixFilePermissions(dir.resolve("share/data.txt"), PosixFilePermissions.fromString("rw-rw-rw-"));
      Files.createSymbolicLink(dir.resolve("bin/data"), Path.of("../share/data.txt"));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes an archive with the given steps; tests use it to craft hostile archives. */
  static byte[] tar(TarSteps steps) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      TarWriter tar = new TarWriter(out);
      steps.write(tar);
      tar.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** An archive with a valid manifest first, then the given steps. */
  static byte[] appTar(String id, String version, TarSteps more) {
    return tar(t -> {
      file(t, "manifest.json", 0644, manifest(id, version));
      more.write(t);
    });
  }

  static void file(TarWriter t, String path, int mode, String content) throws IOException {
    byte[] b = content.getBytes(StandardCharsets.UTF_8);
    t.file(path, mode, b.length, new ByteArrayInputStream(b));
  }

  static void entry(TarWriter t, String path, TarEntry.Type type, String link) throws IOException {
    t.entry(path, type, 0644, 0, link, java.io.InputStream.nullInputStream());
  }

  /** A signed bundle around an archive. */
  static byte[] bundle(String id, String version, PublisherKey key, byte[] tar) {
    return BundleWriter.bundle(id, version, key, BundleWriter.compress(tar));
  }

  static Path write(Path file, byte[] bytes) {
    try {
      return Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String[] list(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FunctionalInterface
  interface TarSteps {
    void write(TarWriter tar) throws IOException;
  }
}

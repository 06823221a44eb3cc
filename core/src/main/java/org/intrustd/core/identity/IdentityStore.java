package org.intrustd.core.identity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Set;
import org.intrustd.core.crypto.Ed25519;

/**
 * Loads the appliance identity from its state directory, creating it on first start. The key
 * file holds the base64url seed on one line and is written with mode 0600 through a temporary
 * file and an atomic rename, so a crash never leaves a half-written key.
 */
public final class IdentityStore {
  static final String FILE = "identity.key";
  private static final String HEADER = "intrustd-ed25519-seed-v1 ";

  private IdentityStore() {}

  public static Identity loadOrCreate(Path stateDir) {
    Path file = stateDir.resolve(FILE);
    try {
      Files.createDirectories(stateDir);
      if (Files.exists(file)) {
        return load(file);
      }
      Identity created = new Identity(Ed25519.generate());
      write(file, created);
      return created;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load or create the identity in " + stateDir, e);
    }
  }

  private static Identity load(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
    if (!text.startsWith(HEADER)) {
      throw new IllegalStateException(file + " is not an Intrustd identity key file");
    }
    byte[] seed;
    try {
      seed = Base64.getUrlDecoder().decode(text.substring(HEADER.length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(file + " holds a malformed key", e);
    }
    if (seed.length != 32) {
      throw new IllegalStateException(file + " holds a key of " + seed.length + " bytes, not 32");
    }
    return new Identity(Ed25519.fromSeed(seed));
  }

  private static void write(Path file, Identity identity) throws IOException {
    Path tmp = file.resolveSibling(FILE + ".tmp");
    Files.deleteIfExists(tmp);
    Set<java.nio.file.attribute.PosixFilePermission> owner = PosixFilePermissions.fromString("rw-------");
    try {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(owner));
    } catch (FileAlreadyExistsException e) {
      throw new IOException("another process is creating " + file, e);
    }
    String line = HEADER + Base64.getUrlEncoder().withoutPadding().encodeToString(identity.seed()) + "\n";
    try (var ch = java.nio.channels.FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file);
    }
  }
}

package org.intrustd.appliance.bundles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.intrustd.appliance.bundles.BundleException.Reason;

/**
 * Key files (bundles.md "Key files"): comment lines starting with {@code #} and blank lines,
 * then exactly one line {@code <header> <base64url key>}. The seed header is the one of the
 * appliance's identity.key, so both kinds of secret key share one format.
 */
final class KeyFiles {
  static final String SEED_HEADER = "intrustd-ed25519-seed-v1";
  static final String PUBLIC_HEADER = "intrustd-ed25519-public-v1";
  private static final int MAX_BYTES = 4096;

  private KeyFiles() {}

  /** The 32 key bytes a file holds under the given header; the message names the file. */
  static byte[] read(Path file, String header) {
    String text;
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(MAX_BYTES + 1);
      if (bytes.length > MAX_BYTES) {
        throw invalid(file, "is larger than a key file (" + MAX_BYTES + " bytes)");
      }
      text = new String(bytes, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot read key file " + file + ": " + Io.why(e), e);
    }
    String keyLine = null;
    for (String line : text.split("\n")) {
      line = line.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (keyLine != null) {
        throw invalid(file, "holds more than one key line");
      }
      keyLine = line;
    }
    if (keyLine == null) {
      throw invalid(file, "holds no key");
    }
    String other = header.equals(SEED_HEADER) ? PUBLIC_HEADER : SEED_HEADER;
    if (keyLine.startsWith(other + " ")) {
      throw invalid(file, header.equals(SEED_HEADER) ? "holds a public key, not a secret key"
          : "holds a secret key: trust the public key file (.pub) instead, and keep the secret one secret");
    }
    if (!keyLine.startsWith(header + " ")) {
      throw invalid(file, "is not an Intrustd key file (expected a line starting with '" + header + " ')");
    }
    byte[] key;
    try {
      key = Base64.getUrlDecoder().decode(keyLine.substring(header.length() + 1).strip());
    } catch (IllegalArgumentException e) {
      throw invalid(file, "holds a malformed key (not base64url)");
    }
    if (key.length != 32) {
      throw invalid(file, "holds a key of " + key.length + " bytes, not 32");
    }
    return key;
  }

  static String line(String header, byte[] key) {
    return header + " " + Base64.getUrlEncoder().withoutPadding().encodeToString(key) + "\n";
  }

  /**
   * Writes a new file and never replaces one: the text goes to a temporary file, is synced, and
   * is then hard-linked to its name, which fails atomically if the name is taken. So a crash
   * never leaves half a key, and an existing key is never lost.
   */
  static void writeNew(Path file, String text, String mode) {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
        ch.force(true);
      }
      Files.createLink(file, tmp);
    } catch (FileAlreadyExistsException e) {
      throw new BundleException(Reason.INVALID_INPUT, file + " already exists; not replacing it");
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot write " + file + ": " + Io.why(e), e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // Only a stray temporary file remains; the key itself is complete or absent.
      }
    }
  }

  private static BundleException invalid(Path file, String why) {
    return new BundleException(Reason.INVALID_INPUT, file + " " + why);
  }
}

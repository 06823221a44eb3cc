package org.intrustd.appliance.access;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * Bearer secrets (tokens, sessions): 256 random bits written {@code <prefix>_<base64url>}.
 * The daemon stores only the SHA-256 of the secret's bytes; the public id is the first 12
 * bytes of that hash in base64url, so ids can be shown and logged without revealing anything.
 */
final class Secrets {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  /** A new secret: its text (shown once), its hash (stored) and its id. */
  record Minted(String text, byte[] hash, String id) {}

  private Secrets() {}

  static Minted mint(String prefix) {
    byte[] raw = new byte[32];
    RANDOM.nextBytes(raw);
    byte[] hash = sha256(raw);
    return new Minted(prefix + "_" + B64.encodeToString(raw), hash, idOf(hash));
  }

  /** The hash of a secret in text form, if it is well formed with this prefix. */
  static Optional<byte[]> hash(String prefix, String text) {
    if (text == null || !text.startsWith(prefix + "_") || text.length() != prefix.length() + 1 + 43) {
      return Optional.empty();
    }
    try {
      byte[] raw = Base64.getUrlDecoder().decode(text.substring(prefix.length() + 1));
      return raw.length == 32 ? Optional.of(sha256(raw)) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  static String idOf(byte[] hash) {
    return B64.encodeToString(Arrays.copyOf(hash, 12));
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

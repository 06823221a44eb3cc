package org.intrustd.core.id;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Optional;

/**
 * An appliance ID: the SHA-256 of the appliance's Ed25519 public key, shown as 56 base32
 * characters (four groups of 13, each with a Luhn mod 32 check character) in eight dashed
 * groups of seven. See docs/spec/identity.md. Immutable and thread-safe.
 */
public final class ApplianceId {
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  private static final int DIGEST_CHARS = 52;
  private static final int GROUP = 13;
  private static final int CHECKED_CHARS = 56;

  private final byte[] digest;
  private final String canonical;

  private ApplianceId(byte[] digest) {
    this.digest = digest;
    this.canonical = display(withChecks(Base32.encode(digest)));
  }

  /** The ID that a public key (raw 32-byte Ed25519 encoding) hashes to. */
  public static ApplianceId fromPublicKey(byte[] publicKey) {
    if (publicKey.length != 32) {
      throw new IllegalArgumentException("an Ed25519 public key has 32 bytes, not " + publicKey.length);
    }
    return new ApplianceId(sha256(publicKey));
  }

  /** Parses any form a person may type (identity.md "Parsing"); empty when it is not an ID. */
  public static Optional<ApplianceId> parse(String text) {
    if (text.length() > 200) {
      return Optional.empty();
    }
    StringBuilder clean = new StringBuilder(CHECKED_CHARS);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '-' || c == ' ' || c == '\t') {
        continue;
      }
      char u = switch (c) {
        case '0' -> 'O';
        case '1' -> 'I';
        case '8' -> 'B';
        default -> (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
      };
      if (ALPHABET.indexOf(u) < 0) {
        return Optional.empty();
      }
      clean.append(u);
    }
    if (clean.length() != CHECKED_CHARS) {
      return Optional.empty();
    }
    StringBuilder b32 = new StringBuilder(DIGEST_CHARS);
    for (int g = 0; g < 4; g++) {
      String group = clean.substring(g * (GROUP + 1), g * (GROUP + 1) + GROUP);
      if (clean.charAt(g * (GROUP + 1) + GROUP) != luhn32(group)) {
        return Optional.empty();
      }
      b32.append(group);
    }
    return Base32.decode(b32.toString()).filter(d -> d.length == 32).map(ApplianceId::new);
  }

  /** True when this ID is the hash of the given raw public key. */
  public boolean matches(byte[] publicKey) {
    return publicKey.length == 32 && MessageDigest.isEqual(digest, sha256(publicKey));
  }

  /** The upper-case dashed display form; the only form IDs are compared in. */
  @Override
  public String toString() {
    return canonical;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ApplianceId other && Arrays.equals(digest, other.digest);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(digest);
  }

  static char luhn32(String group) {
    int factor = 2;
    int sum = 0;
    for (int i = group.length() - 1; i >= 0; i--) {
      int addend = factor * ALPHABET.indexOf(group.charAt(i));
      factor = factor == 2 ? 1 : 2;
      sum += addend / 32 + addend % 32;
    }
    return ALPHABET.charAt((32 - sum % 32) % 32);
  }

  private static String withChecks(String b32) {
    StringBuilder out = new StringBuilder(CHECKED_CHARS);
    for (int g = 0; g < 4; g++) {
      String group = b32.substring(g * GROUP, (g + 1) * GROUP);
      out.append(group).append(luhn32(group));
    }
    return out.toString();
  }

  private static String display(String checked) {
    StringBuilder out = new StringBuilder(CHECKED_CHARS + 7);
    for (int i = 0; i < checked.length(); i += 7) {
      if (i > 0) {
        out.append('-');
      }
      out.append(checked, i, i + 7);
    }
    return out.toString();
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}

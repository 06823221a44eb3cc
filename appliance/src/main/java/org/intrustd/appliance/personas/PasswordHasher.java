package org.intrustd.appliance.personas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Password hashes with Argon2id (RFC 9106), stored in the PHC string form
 * {@code $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>} so that the parameters
 * travel with each hash and can be raised later without breaking old ones. The defaults are
 * OWASP's (2025) first recommendation, m = 19 MiB, t = 2, p = 1, with a 16-byte random salt
 * and a 32-byte hash. Comparison is constant-time. Thread-safe.
 */
public final class PasswordHasher {
  public static final int MEMORY_KIB = 19 * 1024;
  public static final int PASSES = 2;
  public static final int LANES = 1;
  private static final int SALT_BYTES = 16;
  private static final int HASH_BYTES = 32;
  /** Bounds on stored parameters: a hash from a hostile file must not make verify() unbounded. */
  private static final int MAX_MEMORY_KIB = 1 << 20;
  private static final int MAX_PASSES = 16;
  private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getDecoder();

  private final SecureRandom random = new SecureRandom();

  /** A new salted hash of {@code password}. */
  public String hash(String password) {
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    byte[] out = argon2id(password.getBytes(StandardCharsets.UTF_8), salt, MEMORY_KIB, PASSES, LANES, HASH_BYTES,
        null, null);
    return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + PASSES + ",p=" + LANES + "$" + B64.encodeToString(salt) + "$"
        + B64.encodeToString(out);
  }

  /** Whether {@code password} matches {@code stored}; false (never an exception) for a malformed hash. */
  public boolean verify(String password, String stored) {
    String[] parts = stored.split("\\$", -1);
    if (parts.length != 6 || !parts[0].isEmpty() || !parts[1].equals("argon2id") || !parts[2].equals("v=19")) {
      return false;
    }
    try {
      String[] params = parts[3].split(",");
      if (params.length != 3 || !params[0].startsWith("m=") || !params[1].startsWith("t=") || !params[2].startsWith("p=")) {
        return false;
      }
      int m = Integer.parseInt(params[0].substring(2));
      int t = Integer.parseInt(params[1].substring(2));
      int p = Integer.parseInt(params[2].substring(2));
      byte[] salt = B64D.decode(parts[4]);
      byte[] expected = B64D.decode(parts[5]);
      if (m < 8 * p || m > MAX_MEMORY_KIB || t < 1 || t > MAX_PASSES || p < 1 || p > 16 || salt.length < 8
          || expected.length < 16 || expected.length > 64) {
        return false;
      }
      byte[] actual = argon2id(password.getBytes(StandardCharsets.UTF_8), salt, m, t, p, expected.length, null, null);
      return MessageDigest.isEqual(actual, expected);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Whether a stored hash uses weaker parameters than today's, so it should be redone at the next login. */
  public boolean needsRehash(String stored) {
    return !stored.startsWith("$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + PASSES + ",p=" + LANES + "$");
  }

  static byte[] argon2id(byte[] password, byte[] salt, int memoryKib, int passes, int lanes, int length, byte[] secret,
      byte[] associated) {
    Argon2Parameters.Builder b = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
        .withVersion(Argon2Parameters.ARGON2_VERSION_13).withMemoryAsKB(memoryKib).withIterations(passes)
        .withParallelism(lanes).withSalt(salt);
    if (secret != null) {
      b.withSecret(secret);
    }
    if (associated != null) {
      b.withAdditional(associated);
    }
    Argon2BytesGenerator gen = new Argon2BytesGenerator();
    gen.init(b.build());
    byte[] out = new byte[length];
    gen.generateBytes(password, out);
    return out;
  }
}

package org.intrustd.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A key file: the master key sealed under a key derived from one password with Argon2id
 * (RFC 9106). A repository has one key file per password; any of them opens it. The file is
 * JSON, readable without the password (it says how to derive the key, and who made it):
 * <pre>
 * {"version":1,"kdf":{"algorithm":"argon2id","memoryKiB":65536,"iterations":3,"parallelism":4,
 *  "salt":"&lt;base64url, 16 bytes&gt;"},"created":"2026-12-02T14:00:00Z","host":"laptop","user":"alice",
 *  "sealed":"&lt;base64url: AES-256-GCM of the 96-byte master key, associated data "intrustd-backup key v1"&gt;"}
 * </pre>
 */
public final class KeyFile {
    static final ObjectMapper JSON = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);
    private static final byte[] ASSOCIATED = "intrustd-backup key v1".getBytes(StandardCharsets.US_ASCII);
    /** Bounds on what a key file may ask for: a hostile one must not take all memory or hours. */
    private static final int MAX_MEMORY_KIB = 4 << 20;
    private static final int MAX_ITERATIONS = 64;

    /** Argon2id's cost: memory in KiB, passes, lanes. */
    public record Kdf(int memoryKiB, int iterations, int parallelism) {
        /**
         * RFC 9106's second recommended setting: 64 MiB, 3 passes, 4 lanes. The lanes are filled
         * on as many threads (libargon2), so opening takes ~0.1 s on two cores rather than 0.25 s
         * with one lane, while a guess costs an attacker the same memory and work.
         */
        public static final Kdf DEFAULT = new Kdf(64 * 1024, 3, 4);

        public Kdf {
            if (memoryKiB < 8 * parallelism || memoryKiB > MAX_MEMORY_KIB || iterations < 1 || iterations > MAX_ITERATIONS
                    || parallelism < 1 || parallelism > 16) {
                throw new BackupException.Corrupt("Argon2id parameters out of bounds: m=" + memoryKiB + " KiB, t=" + iterations
                        + ", p=" + parallelism);
            }
        }
    }

    /** The JSON form. */
    record Stored(int version, StoredKdf kdf, String created, String host, String user, String sealed) {
    }

    record StoredKdf(String algorithm, int memoryKiB, int iterations, int parallelism, String salt) {
    }

    private KeyFile() {
    }

    /** A new key file for {@code password} sealing {@code master}. */
    static byte[] create(Crypto.MasterKey master, String password, Kdf kdf, String created, String host, String user,
            SecureRandom random) {
        byte[] salt = new byte[16];
        random.nextBytes(salt);
        byte[] kek = derive(password, salt, kdf);
        byte[] sealed = new Crypto(kek, kek, random).seal(master.toBytes(), ASSOCIATED);
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        Stored s = new Stored(1, new StoredKdf("argon2id", kdf.memoryKiB(), kdf.iterations(), kdf.parallelism(),
                b64.encodeToString(salt)), created, host, user, b64.encodeToString(sealed));
        try {
            return JSON.writeValueAsBytes(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What a key file says about itself (for {@code key list}), without the password. */
    static Stored read(byte[] file, String name) {
        try {
            Stored s = JSON.readValue(file, Stored.class);
            if (s.version() != 1 || s.kdf() == null || !"argon2id".equals(s.kdf().algorithm()) || s.kdf().salt() == null
                    || s.sealed() == null) {
                throw new BackupException.Corrupt("key file " + name + " is not a version 1 Argon2id key");
            }
            return s;
        } catch (IOException e) {
            throw new BackupException.Corrupt("key file " + name + " is not valid JSON: " + e.getMessage());
        }
    }

    /** The master key in {@code file}, or empty when {@code password} is not its password. */
    static java.util.Optional<Crypto.MasterKey> open(byte[] file, String name, String password) {
        Stored s = read(file, name);
        byte[] salt;
        byte[] sealed;
        try {
            salt = Base64.getUrlDecoder().decode(s.kdf().salt());
            sealed = Base64.getUrlDecoder().decode(s.sealed());
        } catch (IllegalArgumentException e) {
            throw new BackupException.Corrupt("key file " + name + " has bad base64");
        }
        if (salt.length < 8) {
            throw new BackupException.Corrupt("key file " + name + " has a salt of " + salt.length + " bytes");
        }
        byte[] kek = derive(password, salt, new Kdf(s.kdf().memoryKiB(), s.kdf().iterations(), s.kdf().parallelism()));
        try {
            return java.util.Optional.of(Crypto.MasterKey.fromBytes(new Crypto(kek, kek, new SecureRandom()).open(sealed,
                    ASSOCIATED, "key file " + name)));
        } catch (BackupException.Corrupt e) {
            return java.util.Optional.empty(); // another password's key (or a damaged one: no way to tell)
        }
    }

    static byte[] derive(String password, byte[] salt, Kdf kdf) {
        return Argon2id.hash(password.getBytes(StandardCharsets.UTF_8), salt, kdf.memoryKiB(), kdf.iterations(), kdf.parallelism(),
                Crypto.KEY);
    }
}

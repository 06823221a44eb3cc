package org.intrustd.backup;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The repository's master key and what it does. Everything stored is sealed with
 * AES-256-GCM under the encryption key, with a random 96-bit nonce per object:
 * <pre>
 *   nonce (12) ‖ ciphertext ‖ tag (16)
 * </pre>
 * with associated data that names what the object is (so one cannot be passed off as
 * another). Blob ids are HMAC-SHA256 of the plaintext under a separate id key, so the store
 * cannot test whether a repository holds a given file. Random nonces allow 2^32 objects per
 * key before the GCM collision bound matters; a repository of 1 MiB chunks reaches that at
 * 4 PiB. Thread-safe (a cipher and a MAC per thread). The work is done by the host's
 * libcrypto when it is there ({@link Libcrypto}: fast from the first byte), else by the JDK.
 */
public final class Crypto {
    public static final int NONCE = 12;
    public static final int TAG = 16;
    public static final int OVERHEAD = NONCE + TAG;
    static final int KEY = 32;

    /** The three secrets of a repository: 96 random bytes, sealed in each key file. */
    public record MasterKey(byte[] encryption, byte[] id, byte[] chunkerSeed) {
        public MasterKey {
            if (encryption.length != KEY || id.length != KEY || chunkerSeed.length != KEY) {
                throw new IllegalArgumentException("a master key is three 32-byte secrets");
            }
        }

        static MasterKey random(SecureRandom random) {
            byte[] all = new byte[3 * KEY];
            random.nextBytes(all);
            return fromBytes(all);
        }

        static MasterKey fromBytes(byte[] all) {
            if (all.length != 3 * KEY) {
                throw new BackupException.Corrupt("a master key is 96 bytes, not " + all.length);
            }
            return new MasterKey(Arrays.copyOfRange(all, 0, KEY), Arrays.copyOfRange(all, KEY, 2 * KEY),
                    Arrays.copyOfRange(all, 2 * KEY, 3 * KEY));
        }

        byte[] toBytes() {
            byte[] all = new byte[3 * KEY];
            System.arraycopy(encryption, 0, all, 0, KEY);
            System.arraycopy(id, 0, all, KEY, KEY);
            System.arraycopy(chunkerSeed, 0, all, 2 * KEY, KEY);
            return all;
        }
    }

    private final SecretKeySpec encryption;
    private final SecretKeySpec idKey;
    private final SecureRandom random;
    /** Through libcrypto: the raw encryption key, and the id key's HMAC blocks. */
    private final boolean useLibcrypto;
    private final byte[] encryptionKey;
    private final byte[][] idPads;
    private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(() -> instance(() -> Cipher.getInstance("AES/GCM/NoPadding")));
    private final ThreadLocal<Mac> macs;

    public Crypto(MasterKey key) {
        this(key.encryption(), key.id(), new SecureRandom());
    }

    Crypto(byte[] encryptionKey, byte[] idKeyBytes, SecureRandom random) {
        this(encryptionKey, idKeyBytes, random, Libcrypto.available());
    }

    Crypto(byte[] encryptionKey, byte[] idKeyBytes, SecureRandom random, boolean useLibcrypto) {
        this.useLibcrypto = useLibcrypto;
        this.encryptionKey = encryptionKey.clone();
        this.idPads = Libcrypto.pads(idKeyBytes);
        this.encryption = new SecretKeySpec(encryptionKey, "AES");
        this.idKey = new SecretKeySpec(idKeyBytes, "HmacSHA256");
        this.random = random;
        this.macs = ThreadLocal.withInitial(() -> instance(() -> {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(idKey);
            return mac;
        }));
    }

    /** The id of a blob: HMAC-SHA256 of its plaintext under the id key. */
    public BlobId id(byte[] plaintext) {
        return new BlobId(useLibcrypto ? Libcrypto.hmacSha256(idPads, plaintext) : macs.get().doFinal(plaintext));
    }

    /** The id of the plaintext {@code plain[off, off+len)}, read where it is. */
    public BlobId id(java.nio.ByteBuffer plain, int off, int len) {
        if (useLibcrypto && plain.isDirect()) {
            return new BlobId(Libcrypto.hmacSha256(idPads, plain, off, len));
        }
        if (useLibcrypto && plain.hasArray()) {
            return new BlobId(Libcrypto.hmacSha256(idPads, plain.array(), plain.arrayOffset() + off, len));
        }
        Mac mac = macs.get();
        mac.update(plain.slice(off, len));
        return new BlobId(mac.doFinal());
    }

    /** SHA-256 (names of packs, index and snapshot files). */
    static byte[] sha256(byte[] data) {
        if (Libcrypto.available()) {
            return Libcrypto.sha256(null, data);
        }
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** SHA-256 of {@code data}'s remaining bytes (a pack, read where it is when the buffer is direct). */
    static byte[] sha256(java.nio.ByteBuffer data) {
        if (Libcrypto.available() && data.isDirect()) {
            return Libcrypto.sha256(null, data, data.position(), data.remaining());
        }
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(data.duplicate());
            return md.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Seals {@code plain[off, off+len)}: nonce ‖ ciphertext ‖ tag. */
    public byte[] seal(byte[] plain, int off, int len, byte[] associated) {
        byte[] nonce = new byte[NONCE];
        random.nextBytes(nonce);
        if (useLibcrypto) {
            return Libcrypto.seal(encryptionKey, nonce, plain, off, len, associated);
        }
        byte[] out = new byte[NONCE + len + TAG];
        System.arraycopy(nonce, 0, out, 0, NONCE);
        try {
            Cipher c = ciphers.get();
            c.init(Cipher.ENCRYPT_MODE, encryption, new GCMParameterSpec(TAG * 8, nonce));
            c.updateAAD(associated);
            c.doFinal(plain, off, len, out, NONCE);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
        return out;
    }

    public byte[] seal(byte[] plain, byte[] associated) {
        return seal(plain, 0, plain.length, associated);
    }

    /** Opens what {@link #seal} made, or throws {@link BackupException.Corrupt} naming {@code what}. */
    public byte[] open(byte[] sealed, int off, int len, byte[] associated, String what) {
        if (len < OVERHEAD) {
            throw tooShort(what, len);
        }
        if (useLibcrypto) {
            byte[] plain = Libcrypto.open(encryptionKey, sealed, off, len, associated);
            if (plain == null) {
                throw failsAuthentication(what);
            }
            return plain;
        }
        try {
            Cipher c = ciphers.get();
            c.init(Cipher.DECRYPT_MODE, encryption, new GCMParameterSpec(TAG * 8, sealed, off, NONCE));
            c.updateAAD(associated);
            return c.doFinal(sealed, off + NONCE, len - NONCE);
        } catch (AEADBadTagException e) {
            throw failsAuthentication(what);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
    }

    /**
     * Opens {@code sealed[off, off+len)}: its plaintext, decrypted where it is when the buffer is
     * direct and libcrypto is there (a view of {@code sealed} then, which it changes), otherwise
     * in a new array. Throws like {@link #open(byte[], int, int, byte[], String)}.
     */
    public java.nio.ByteBuffer open(java.nio.ByteBuffer sealed, int off, int len, byte[] associated, String what) {
        if (!(useLibcrypto && sealed.isDirect())) {
            if (sealed.hasArray()) {
                return java.nio.ByteBuffer.wrap(open(sealed.array(), sealed.arrayOffset() + off, len, associated, what));
            }
            byte[] copy = new byte[len];
            sealed.get(off, copy);
            return java.nio.ByteBuffer.wrap(open(copy, 0, len, associated, what));
        }
        if (len < OVERHEAD) {
            throw tooShort(what, len);
        }
        if (!Libcrypto.openInPlace(encryptionKey, sealed, off, len, associated)) {
            throw failsAuthentication(what);
        }
        return sealed.slice(off + NONCE, len - OVERHEAD);
    }

    private static BackupException.Corrupt tooShort(String what, int len) {
        return new BackupException.Corrupt(what + " is too short to be sealed (" + len + " bytes)");
    }

    private static BackupException.Corrupt failsAuthentication(String what) {
        return new BackupException.Corrupt(what + " fails its authentication: damaged, or not from this repository");
    }

    public byte[] open(byte[] sealed, byte[] associated, String what) {
        return open(sealed, 0, sealed.length, associated, what);
    }

    private interface Make<T> {
        T make() throws GeneralSecurityException;
    }

    private static <T> T instance(Make<T> make) {
        try {
            return make.make();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK lacks AES-GCM or HMAC-SHA256", e);
        }
    }
}

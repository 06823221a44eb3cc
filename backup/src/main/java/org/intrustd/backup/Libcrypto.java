package org.intrustd.backup;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.lang.System.Logger.Level;
import java.lang.ref.Cleaner;

/**
 * AES-256-GCM, HMAC-SHA256 and SHA-256 by the host's OpenSSL 3 ({@code libcrypto.so.3}, in
 * every Debian), through JNA. The JDK's own are as fast once compiled, but they reach that
 * only after a gigabyte or so: measured here, a cold JVM sealed and hashed the first 300 MiB
 * at 52 MB/s and reached 900 MB/s after 1 GB, where libcrypto ran at 1,000 MB/s from the first
 * byte (with the copies in and out of native memory counted). Every backup command starts
 * cold, so that was seconds of a first backup or a restore, and most of a small incremental.
 * Same bytes either way (a test holds them equal); {@link Crypto} uses the JDK's where this
 * library cannot be loaded.
 * <p>
 * Data goes through a per-thread native buffer in pieces of {@value #PIECE} bytes, so memory
 * stays small whatever the size of what is sealed or hashed.
 */
final class Libcrypto {
    private static final System.Logger LOG = System.getLogger("intrustd.backup");
    static final int PIECE = 1 << 20;
    private static final int EVP_CTRL_GCM_GET_TAG = 0x10;
    private static final int EVP_CTRL_GCM_SET_TAG = 0x11;
    private static final Cleaner CLEANER = Cleaner.create();
    private static final boolean AVAILABLE = load();
    private static Pointer gcm;
    private static Pointer sha256;

    private Libcrypto() {
    }

    private static boolean load() {
        if (Boolean.getBoolean("intrustd.backup.jdkCrypto")) {
            return false;
        }
        try {
            Native.register(Libcrypto.class, NativeLibrary.getInstance("libcrypto.so.3"));
            gcm = EVP_aes_256_gcm();
            sha256 = EVP_sha256();
            return gcm != null && sha256 != null;
        } catch (RuntimeException | LinkageError e) {
            LOG.log(Level.DEBUG, "libcrypto cannot be loaded ({0}): the JDK's AES-GCM and SHA-256", e);
            return false;
        }
    }

    static boolean available() {
        return AVAILABLE;
    }

    // ---- the C functions (OpenSSL 3) ------------------------------------------------------------

    private static native Pointer EVP_aes_256_gcm();

    private static native Pointer EVP_sha256();

    private static native Pointer EVP_CIPHER_CTX_new();

    private static native void EVP_CIPHER_CTX_free(Pointer ctx);

    private static native int EVP_CIPHER_CTX_ctrl(Pointer ctx, int type, int arg, byte[] ptr);

    private static native int EVP_EncryptInit_ex(Pointer ctx, Pointer cipher, Pointer engine, byte[] key, byte[] iv);

    private static native int EVP_EncryptUpdate(Pointer ctx, Pointer out, int[] outl, Pointer in, int inl);

    private static native int EVP_EncryptUpdate(Pointer ctx, Pointer out, int[] outl, byte[] in, int inl);

    private static native int EVP_EncryptFinal_ex(Pointer ctx, Pointer out, int[] outl);

    private static native int EVP_DecryptInit_ex(Pointer ctx, Pointer cipher, Pointer engine, byte[] key, byte[] iv);

    private static native int EVP_DecryptUpdate(Pointer ctx, Pointer out, int[] outl, Pointer in, int inl);

    private static native int EVP_DecryptUpdate(Pointer ctx, Pointer out, int[] outl, byte[] in, int inl);

    private static native int EVP_DecryptFinal_ex(Pointer ctx, Pointer out, int[] outl);

    private static native Pointer EVP_MD_CTX_new();

    private static native void EVP_MD_CTX_free(Pointer ctx);

    private static native int EVP_DigestInit_ex(Pointer ctx, Pointer md, Pointer engine);

    private static native int EVP_DigestUpdate(Pointer ctx, Pointer data, long count);

    private static native int EVP_DigestUpdate(Pointer ctx, byte[] data, long count);

    private static native int EVP_DigestFinal_ex(Pointer ctx, byte[] md, int[] size);

    // ---- per thread ------------------------------------------------------------------------------

    /** A thread's contexts and buffer; freed when the thread is gone. */
    private static final class State {
        final Pointer cipher;
        final Pointer digest;
        final int[] length = new int[1];
        /** Grown to {@link #PIECE} as needed: small work (trees, keys) on short-lived threads keeps it small. */
        Memory buffer = new Memory(64 << 10);

        State() {
            cipher = EVP_CIPHER_CTX_new();
            digest = EVP_MD_CTX_new();
            if (cipher == null || digest == null) {
                throw new OutOfMemoryError("libcrypto cannot make a context");
            }
            Pointer c = cipher;
            Pointer d = digest;
            CLEANER.register(this, () -> {
                EVP_CIPHER_CTX_free(c);
                EVP_MD_CTX_free(d);
            });
        }
    }

    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    /** This thread's state, its buffer at least {@code n} bytes (at most a piece). */
    private static State state(long n) {
        State s = STATE.get();
        long want = Math.min(PIECE, Math.max(1, n));
        if (s.buffer.size() < want) {
            s.buffer = new Memory(PIECE);
        }
        return s;
    }

    private static void ok(int result, String what) {
        if (result != 1) {
            throw new IllegalStateException("libcrypto: " + what + " failed");
        }
    }

    /** {@code nonce ‖ AES-256-GCM(key, nonce, plain[off, off+len), associated) ‖ tag}, the nonce given. */
    static byte[] seal(byte[] key, byte[] nonce, byte[] plain, int off, int len, byte[] associated) {
        State s = state(len);
        byte[] out = new byte[Crypto.NONCE + len + Crypto.TAG];
        System.arraycopy(nonce, 0, out, 0, Crypto.NONCE);
        ok(EVP_EncryptInit_ex(s.cipher, gcm, null, key, nonce), "GCM init");
        ok(EVP_EncryptUpdate(s.cipher, null, s.length, associated, associated.length), "GCM associated data");
        for (int done = 0; done < len; done += PIECE) {
            int n = Math.min(PIECE, len - done);
            s.buffer.write(0, plain, off + done, n);
            ok(EVP_EncryptUpdate(s.cipher, s.buffer, s.length, s.buffer, n), "GCM encrypt");
            s.buffer.read(0, out, Crypto.NONCE + done, s.length[0]);
        }
        ok(EVP_EncryptFinal_ex(s.cipher, s.buffer, s.length), "GCM final");
        byte[] tag = new byte[Crypto.TAG];
        ok(EVP_CIPHER_CTX_ctrl(s.cipher, EVP_CTRL_GCM_GET_TAG, Crypto.TAG, tag), "GCM tag");
        System.arraycopy(tag, 0, out, Crypto.NONCE + len, Crypto.TAG);
        return out;
    }

    /** The plaintext of {@code sealed[off, off+len)}, or null when it fails its authentication. */
    static byte[] open(byte[] key, byte[] sealed, int off, int len, byte[] associated) {
        State s = state(len);
        int length = len - Crypto.OVERHEAD;
        byte[] plain = new byte[length];
        ok(EVP_DecryptInit_ex(s.cipher, gcm, null, key, java.util.Arrays.copyOfRange(sealed, off, off + Crypto.NONCE)), "GCM init");
        ok(EVP_DecryptUpdate(s.cipher, null, s.length, associated, associated.length), "GCM associated data");
        for (int done = 0; done < length; done += PIECE) {
            int n = Math.min(PIECE, length - done);
            s.buffer.write(0, sealed, off + Crypto.NONCE + done, n);
            ok(EVP_DecryptUpdate(s.cipher, s.buffer, s.length, s.buffer, n), "GCM decrypt");
            s.buffer.read(0, plain, done, s.length[0]);
        }
        ok(EVP_CIPHER_CTX_ctrl(s.cipher, EVP_CTRL_GCM_SET_TAG, Crypto.TAG,
                java.util.Arrays.copyOfRange(sealed, off + len - Crypto.TAG, off + len)), "GCM tag");
        // No plaintext is released (it is only returned) unless the tag matches.
        return EVP_DecryptFinal_ex(s.cipher, s.buffer, s.length) == 1 ? plain : null;
    }

    /**
     * Decrypts {@code sealed[off, off+len)} of a direct buffer where it is: the plaintext is then
     * at {@code off + NONCE}. False when it fails its authentication (what is there then is not
     * to be used). No copies: a restore opens every byte it writes, and copying each blob into
     * and out of the heap cost more CPU than decrypting it.
     */
    static boolean openInPlace(byte[] key, java.nio.ByteBuffer sealed, int off, int len, byte[] associated) {
        State s = STATE.get();
        Pointer at = Native.getDirectBufferPointer(sealed).share(off);
        byte[] nonce = at.getByteArray(0, Crypto.NONCE);
        int length = len - Crypto.OVERHEAD;
        ok(EVP_DecryptInit_ex(s.cipher, gcm, null, key, nonce), "GCM init");
        ok(EVP_DecryptUpdate(s.cipher, null, s.length, associated, associated.length), "GCM associated data");
        Pointer text = at.share(Crypto.NONCE);
        if (length > 0) {
            ok(EVP_DecryptUpdate(s.cipher, text, s.length, text, length), "GCM decrypt");
        }
        ok(EVP_CIPHER_CTX_ctrl(s.cipher, EVP_CTRL_GCM_SET_TAG, Crypto.TAG, at.getByteArray(len - Crypto.TAG, Crypto.TAG)), "GCM tag");
        return EVP_DecryptFinal_ex(s.cipher, s.buffer, s.length) == 1;
    }

    /** HMAC-SHA256 of {@code data[off, off+len)} of a direct buffer, read where it is (see {@link #hmacSha256(byte[][], byte[])}). */
    static byte[] hmacSha256(byte[][] pads, java.nio.ByteBuffer data, int off, int len) {
        return sha256(pads[1], sha256(pads[0], data, off, len));
    }

    /** SHA-256 of {@code prefix} (may be null) then {@code data[off, off+len)} of a direct buffer, read where it is. */
    static byte[] sha256(byte[] prefix, java.nio.ByteBuffer data, int off, int len) {
        State s = STATE.get();
        ok(EVP_DigestInit_ex(s.digest, sha256, null), "SHA-256 init");
        if (prefix != null) {
            ok(EVP_DigestUpdate(s.digest, prefix, prefix.length), "SHA-256");
        }
        if (len > 0) {
            ok(EVP_DigestUpdate(s.digest, Native.getDirectBufferPointer(data).share(off), len), "SHA-256");
        }
        byte[] out = new byte[32];
        ok(EVP_DigestFinal_ex(s.digest, out, s.length), "SHA-256 final");
        return out;
    }

    /** SHA-256 of {@code prefix} (may be null) then {@code data}. */
    static byte[] sha256(byte[] prefix, byte[] data) {
        return sha256(prefix, data, 0, data.length);
    }

    /** SHA-256 of {@code prefix} (may be null) then {@code data[off, off+len)}. */
    static byte[] sha256(byte[] prefix, byte[] data, int off, int len) {
        State s = state(len);
        ok(EVP_DigestInit_ex(s.digest, sha256, null), "SHA-256 init");
        if (prefix != null) {
            ok(EVP_DigestUpdate(s.digest, prefix, prefix.length), "SHA-256");
        }
        for (int done = 0; done < len; done += PIECE) {
            int n = Math.min(PIECE, len - done);
            s.buffer.write(0, data, off + done, n);
            ok(EVP_DigestUpdate(s.digest, s.buffer, n), "SHA-256");
        }
        byte[] out = new byte[32];
        ok(EVP_DigestFinal_ex(s.digest, out, s.length), "SHA-256 final");
        return out;
    }

    /** HMAC-SHA256 (RFC 2104) of {@code data} under a 32-byte key, from its padded key blocks (see {@link #pads}). */
    static byte[] hmacSha256(byte[][] pads, byte[] data) {
        return hmacSha256(pads, data, 0, data.length);
    }

    /** The same of {@code data[off, off+len)}. */
    static byte[] hmacSha256(byte[][] pads, byte[] data, int off, int len) {
        return sha256(pads[1], sha256(pads[0], data, off, len));
    }

    /** The inner and outer 64-byte blocks of HMAC-SHA256 for {@code key} (at most 64 bytes). */
    static byte[][] pads(byte[] key) {
        byte[] inner = new byte[64];
        byte[] outer = new byte[64];
        for (int i = 0; i < 64; i++) {
            byte k = i < key.length ? key[i] : 0;
            inner[i] = (byte) (k ^ 0x36);
            outer[i] = (byte) (k ^ 0x5c);
        }
        return new byte[][] {inner, outer};
    }
}

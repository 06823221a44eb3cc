package org.intrustd.backup;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.lang.System.Logger.Level;
import java.util.Optional;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id (RFC 9106, version 1.3), raw output. Every command that opens a repository derives
 * a key with it (64 MiB, 3 passes by default), so its speed is part of every command's start:
 * the reference C library (Debian's libargon2-1, through JNA) takes ~0.2 s where BouncyCastle's
 * Java, in a JVM that has just started and not compiled it yet, took 1.5-2.8 s. Both give the
 * same bytes (a test compares them); BouncyCastle is used where the library cannot be loaded.
 */
final class Argon2id {
    private static final System.Logger LOG = System.getLogger("intrustd.backup");
    private static final Optional<Function> NATIVE = load();

    private Argon2id() {
    }

    private static Optional<Function> load() {
        try {
            // int argon2id_hash_raw(uint32_t t, uint32_t m_kib, uint32_t p, const void *pwd, size_t pwdlen,
            //                       const void *salt, size_t saltlen, void *hash, size_t hashlen)
            return Optional.of(NativeLibrary.getInstance("libargon2.so.1").getFunction("argon2id_hash_raw"));
        } catch (RuntimeException | LinkageError e) {
            LOG.log(Level.DEBUG, "libargon2 cannot be loaded ({0}): Argon2id in Java", e);
            return Optional.empty();
        }
    }

    static boolean isNative() {
        return NATIVE.isPresent();
    }

    static byte[] hash(byte[] password, byte[] salt, int memoryKiB, int iterations, int parallelism, int length) {
        return NATIVE.isPresent() ? hashNative(NATIVE.get(), password, salt, memoryKiB, iterations, parallelism, length)
                : hashJava(password, salt, memoryKiB, iterations, parallelism, length);
    }

    static byte[] hashNative(Function f, byte[] password, byte[] salt, int memoryKiB, int iterations, int parallelism,
            int length) {
        byte[] out = new byte[length];
        int status = f.invokeInt(new Object[] {iterations, memoryKiB, parallelism, password, (long) password.length, salt,
            (long) salt.length, out, (long) length});
        if (status != 0) {
            throw new IllegalStateException("libargon2 refused the parameters (error " + status + ")");
        }
        return out;
    }

    static byte[] hashJava(byte[] password, byte[] salt, int memoryKiB, int iterations, int parallelism, int length) {
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(memoryKiB).withIterations(iterations).withParallelism(parallelism).withSalt(salt).build());
        byte[] out = new byte[length];
        g.generateBytes(password, out);
        return out;
    }

    /** The native function, for tests that compare it with the Java one. */
    static Optional<Function> nativeFunction() {
        return NATIVE;
    }
}

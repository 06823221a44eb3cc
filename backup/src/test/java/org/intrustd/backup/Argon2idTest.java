package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The native Argon2id (libargon2) and BouncyCastle's give the same bytes, for any input and parameters. */
class Argon2idTest {
    @Test
    void theNativeLibraryIsUsedWhereItIsInstalled() {
        assertThat(Argon2id.isNative()).as("libargon2.so.1 (Debian libargon2-1, installed by ./intrustd)").isTrue();
    }

    @Test
    void nativeAndJavaAgree() {
        Random random = new Random(9106);
        for (int i = 0; i < 60; i++) {
            byte[] password = new byte[random.nextInt(40)];
            random.nextBytes(password);
            byte[] salt = new byte[8 + random.nextInt(25)];
            random.nextBytes(salt);
            int p = 1 + random.nextInt(4);
            int m = 8 * p + random.nextInt(256);
            int t = 1 + random.nextInt(3);
            int length = 4 + random.nextInt(61);
            byte[] java = Argon2id.hashJava(password, salt, m, t, p, length);
            byte[] c = Argon2id.hashNative(Argon2id.nativeFunction().orElseThrow(), password, salt, m, t, p, length);
            assertThat(HexFormat.of().formatHex(c)).as("m=%d t=%d p=%d length=%d", m, t, p, length)
                    .isEqualTo(HexFormat.of().formatHex(java));
        }
    }
}

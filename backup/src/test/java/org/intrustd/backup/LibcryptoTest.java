package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** The host's libcrypto and the JDK seal, open and hash alike: each opens what the other sealed, ids and digests are equal. */
class LibcryptoTest {
    static byte[] bytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    @Test
    void libcryptoIsHereToBeTested() {
        // Debian's libssl3 gives libcrypto.so.3; without it the comparisons below would test the JDK against itself.
        assertThat(Libcrypto.available()).as("libcrypto.so.3 loads").isTrue();
    }

    @Test
    void bothWaysGiveTheSameBytes() {
        Property.forAll(60, r -> r.nextLong(), seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            byte[] key = bytes(r, 32);
            byte[] idKey = bytes(r, 32);
            Crypto fast = new Crypto(key, idKey, new SecureRandom(), true);
            Crypto jdk = new Crypto(key, idKey, new SecureRandom(), false);
            // Sizes around the pieces libcrypto is fed in, and empty.
            int n = switch (r.nextInt(4)) {
                case 0 -> 0;
                case 1 -> r.nextInt(100);
                case 2 -> Libcrypto.PIECE - 2 + r.nextInt(4);
                default -> r.nextInt(3 * Libcrypto.PIECE);
            };
            byte[] plain = bytes(r, n);
            byte[] ad = bytes(r, r.nextInt(40));
            int off = n == 0 ? 0 : r.nextInt(Math.min(n, 16) + 1);
            byte[] sealedFast = fast.seal(plain, off, n - off, ad);
            byte[] sealedJdk = jdk.seal(plain, off, n - off, ad);
            byte[] part = java.util.Arrays.copyOfRange(plain, off, n);
            assertThat(jdk.open(sealedFast, ad, "x")).isEqualTo(part);
            assertThat(fast.open(sealedJdk, ad, "x")).isEqualTo(part);
            // Within a larger array, as blobs are read out of a pack.
            byte[] framed = new byte[sealedFast.length + 7];
            System.arraycopy(sealedFast, 0, framed, 3, sealedFast.length);
            assertThat(fast.open(framed, 3, sealedFast.length, ad, "x")).isEqualTo(part);
            assertThat(fast.id(plain)).isEqualTo(jdk.id(plain));
            // Ids of part of a heap buffer, through libcrypto and the JDK.
            assertThat(fast.id(java.nio.ByteBuffer.wrap(plain), off, n - off)).isEqualTo(jdk.id(java.nio.ByteBuffer.wrap(plain), off, n - off))
                    .isEqualTo(jdk.id(java.util.Arrays.copyOfRange(plain, off, n)));
            // Out of a direct buffer, as a restore reads packs: libcrypto opens it where it is, the JDK through a copy.
            for (Crypto c : new Crypto[] {fast, jdk}) {
                java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(framed.length).put(framed).clear();
                java.nio.ByteBuffer opened = c.open(direct, 3, sealedFast.length, ad, "x");
                byte[] got = new byte[opened.remaining()];
                opened.duplicate().get(got);
                assertThat(got).isEqualTo(part);
                assertThat(c.id(opened, 0, opened.remaining())).isEqualTo(jdk.id(part));
                java.nio.ByteBuffer damaged = java.nio.ByteBuffer.allocateDirect(framed.length).put(framed).clear();
                int at = 3 + r.nextInt(sealedFast.length);
                damaged.put(at, (byte) (damaged.get(at) ^ (1 << r.nextInt(8))));
                assertThatThrownBy(() -> c.open(damaged, 3, sealedFast.length, ad, "blob")).isInstanceOf(BackupException.Corrupt.class)
                        .hasMessageContaining("blob fails its authentication");
            }
            try {
                assertThat(Crypto.sha256(plain)).isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(plain));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new AssertionError(e);
            }
            // A flipped bit anywhere, or other associated data, fails the tag.
            byte[] flipped = sealedFast.clone();
            flipped[r.nextInt(flipped.length)] ^= (byte) (1 << r.nextInt(8));
            assertThatThrownBy(() -> fast.open(flipped, ad, "blob")).isInstanceOf(BackupException.Corrupt.class)
                    .hasMessageContaining("blob fails its authentication");
            byte[] otherAd = java.util.Arrays.copyOf(ad, ad.length + 1);
            assertThatThrownBy(() -> fast.open(sealedFast, otherAd, "blob")).isInstanceOf(BackupException.Corrupt.class);
        });
    }
}

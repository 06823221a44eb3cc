package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Packs assembled in native memory: the bytes are the format's (the header read back lists
 * the blobs where they are), the name is the SHA-256 of exactly those bytes, and the file the
 * local backend writes (directly to the disk where the file system allows, otherwise through
 * the page cache) holds exactly them, whatever their length against the block size.
 */
class PackBufferTest {
    @TempDir
    Path dir;

    @Test
    void aPackIsItsBlobsThenItsHeaderAndIsStoredExactly() throws Exception {
        Crypto crypto = new Crypto(new byte[32], new byte[32], new SecureRandom());
        LocalBackend direct = new LocalBackend(dir.resolve("direct"));
        direct.create();
        PackBuffer reused = new PackBuffer(64 << 10);
        Property.forAll(25, r -> r.nextLong(), seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            // Small capacity: most packs grow past it. Sizes around the block size too.
            PackBuffer pack = r.nextBoolean() ? reused : new PackBuffer(r.nextInt(1, 8192));
            pack.clear();
            ByteArrayOutputStream want = new ByteArrayOutputStream();
            List<Pack.Entry> entries = new ArrayList<>();
            int blobs = r.nextInt(1, 30);
            for (int i = 0; i < blobs; i++) {
                int len = switch (r.nextInt(3)) {
                    case 0 -> Crypto.OVERHEAD + 1 + r.nextInt(10);
                    case 1 -> PackBuffer.ALIGN - 2 + r.nextInt(4);
                    default -> Crypto.OVERHEAD + 1 + r.nextInt(40_000);
                };
                byte[] framed = LibcryptoTest.bytes(r, len + 5);
                BlobId id = IndexTest.id(r);
                entries.add(new Pack.Entry(Pack.DATA, id, want.size(), len, r.nextInt(100_000)));
                pack.add(Pack.DATA, id, framed, 5, len, entries.getLast().rawLength());
                want.write(framed, 5, len);
            }
            assertThat(pack.entries()).isEqualTo(entries);
            ByteBuffer all = pack.close(crypto);
            byte[] got = new byte[all.remaining()];
            all.duplicate().get(got);
            assertThat(Pack.header(got, crypto, "p")).isEqualTo(entries);
            assertThat(java.util.Arrays.copyOf(got, want.size())).isEqualTo(want.toByteArray());
            String name = Repository.sha256(all);
            assertThat(name).isEqualTo(Repository.sha256(got));
            try {
                direct.put(Backend.Kind.PACK, name, all);
                assertThat(direct.get(Backend.Kind.PACK, name)).isEqualTo(got);
                // The same from the heap: the usual write.
                direct.put(Backend.Kind.PACK, name, ByteBuffer.wrap(got));
                assertThat(direct.get(Backend.Kind.PACK, name)).isEqualTo(got);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(Files.list(dir.resolve("direct").resolve("tmp"))).isEmpty();
    }
}

package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** FastCDC's promises: sizes in bounds, the bytes given back whole, cuts that depend on content alone. */
class ChunkerTest {
    static final Chunker.Params PARAMS = new Chunker.Params(8 << 10, 32 << 10, 128 << 10);

    static List<byte[]> split(Chunker c, byte[] data, SplittableRandom reads) throws IOException {
        // An input stream that hands out short, random reads: the cuts must not depend on them.
        InputStream in = new InputStream() {
            int at;

            @Override
            public int read() {
                return at < data.length ? data[at++] & 0xFF : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (at >= data.length) {
                    return -1;
                }
                int n = Math.min(Math.min(len, data.length - at), 1 + reads.nextInt(70_000));
                System.arraycopy(data, at, b, off, n);
                at += n;
                return n;
            }
        };
        ChunkStream s = new ChunkStream(c).reset(in);
        List<byte[]> out = new ArrayList<>();
        for (Optional<byte[]> x = s.next(); x.isPresent(); x = s.next()) {
            out.add(x.get());
        }
        return out;
    }

    static Set<String> ids(List<byte[]> chunks) {
        Set<String> out = new HashSet<>();
        chunks.forEach(c -> out.add(Repository.sha256(c)));
        return out;
    }

    static byte[] data(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i += 8) {
            long v = r.nextLong();
            for (int j = 0; j < 8 && i + j < n; j++) {
                b[i + j] = (byte) (v >>> (8 * j));
            }
        }
        return b;
    }

    @Test
    void chunksAreInBoundsAndGiveBackTheBytes() {
        Chunker c = new Chunker(PARAMS, Chunker.gearTable(new byte[32]));
        Property.forAll(40, r -> r.nextLong(), seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            byte[] in = data(r, r.nextInt(1_200_000));
            try {
                List<byte[]> chunks = split(c, in, r);
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                for (int i = 0; i < chunks.size(); i++) {
                    byte[] ch = chunks.get(i);
                    all.writeBytes(ch);
                    assertThat(ch.length).isLessThanOrEqualTo(PARAMS.max()).isPositive();
                    if (i < chunks.size() - 1) {
                        assertThat(ch.length).isGreaterThanOrEqualTo(PARAMS.min());
                    }
                }
                assertThat(all.toByteArray()).isEqualTo(in);
                // Same bytes, other reads: the same chunks.
                assertThat(ids(split(c, in, new SplittableRandom(seed + 1)))).isEqualTo(ids(chunks));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void anInsertionChangesOnlyTheChunksAroundIt() throws IOException {
        Chunker c = new Chunker(PARAMS, Chunker.gearTable("seed".repeat(8).getBytes()));
        long seed = Long.getLong("intrustd.seed", new SplittableRandom().nextLong());
        SplittableRandom r = new SplittableRandom(seed);
        int tries = 40;
        long lostInAll = 0;
        for (int i = 0; i < tries; i++) {
            byte[] in = data(r, 2_000_000);
            int at = r.nextInt(in.length);
            byte[] inserted = data(r, 1 + r.nextInt(5000));
            byte[] edited = new byte[in.length + inserted.length];
            System.arraycopy(in, 0, edited, 0, at);
            System.arraycopy(inserted, 0, edited, at, inserted.length);
            System.arraycopy(in, at, edited, at + inserted.length, in.length - at);
            List<byte[]> before = split(c, in, r);
            Set<String> after = ids(split(c, edited, r));
            long lost = before.stream().filter(ch -> !after.contains(Repository.sha256(ch))).count();
            // Cuts resynchronise within a few chunks (normalisation makes a cut depend a little on where its chunk began).
            assertThat(lost).as("chunks of %d changed by one insertion (seed %d)", before.size(), seed).isLessThanOrEqualTo(12);
            lostInAll += lost;
        }
        assertThat(lostInAll / (double) tries).as("chunks changed per insertion, on average (seed %d)", seed).isLessThanOrEqualTo(3.5);
    }

    @Test
    void sizesClusterAroundTheAverage() throws IOException {
        Chunker c = new Chunker(Chunker.Params.DEFAULT, Chunker.gearTable(new byte[32]));
        List<byte[]> chunks = split(c, data(new SplittableRandom(7), 64 << 20), new SplittableRandom(1));
        double mean = (64 << 20) / (double) chunks.size();
        assertThat(mean).isBetween(0.8 * (1 << 20), 1.6 * (1 << 20));
    }

    @Test
    void anotherSeedCutsElsewhere() throws IOException {
        byte[] in = data(new SplittableRandom(3), 4 << 20);
        Set<String> a = ids(split(new Chunker(PARAMS, Chunker.gearTable(new byte[32])), in, new SplittableRandom(1)));
        Set<String> b = ids(split(new Chunker(PARAMS, Chunker.gearTable(new byte[] {1})), in, new SplittableRandom(1)));
        assertThat(a).doesNotContainAnyElementsOf(b);
    }
}

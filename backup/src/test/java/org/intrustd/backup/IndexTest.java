package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** The compact index against a plain map: same answers for every id, every pack's full list, across growth. */
class IndexTest {
    static BlobId id(SplittableRandom r) {
        byte[] b = new byte[32];
        for (int i = 0; i < 32; i += 8) {
            long v = r.nextLong();
            for (int j = 0; j < 8; j++) {
                b[i + j] = (byte) (v >>> (8 * j));
            }
        }
        return new BlobId(b);
    }

    @Test
    void itAnswersLikeAMapAndKeepsEveryCopy() {
        Property.forAll(30, r -> r.nextLong(), seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            Index index = new Index();
            Map<BlobId, Index.Location> first = new HashMap<>();
            Map<String, List<Pack.Entry>> packs = new LinkedHashMap<>();
            List<BlobId> seen = new ArrayList<>();
            int packCount = 1 + r.nextInt(40);
            for (int p = 0; p < packCount; p++) {
                String name = Repository.sha256(new byte[] {(byte) p, (byte) (p >> 8), (byte) seed.longValue()});
                List<Pack.Entry> entries = new ArrayList<>();
                int n = r.nextInt(200);
                int at = 0;
                for (int i = 0; i < n; i++) {
                    // Now and then a blob some pack already has (a copy).
                    BlobId id = !seen.isEmpty() && r.nextInt(10) == 0 ? seen.get(r.nextInt(seen.size())) : id(r);
                    int len = 29 + r.nextInt(5000);
                    Pack.Entry e = new Pack.Entry(r.nextBoolean() ? Pack.DATA : Pack.TREE, id, at, len, r.nextInt(9000));
                    at += len;
                    if (entries.stream().noneMatch(x -> x.id().equals(id))) {
                        entries.add(e);
                        seen.add(id);
                    }
                }
                index.add(name, entries);
                packs.put(name, entries);
                for (Pack.Entry e : entries) {
                    first.putIfAbsent(e.id(), new Index.Location(name, e));
                }
            }
            assertThat(index.blobCount()).isEqualTo(first.size());
            for (var e : first.entrySet()) {
                assertThat(index.has(e.getKey())).isTrue();
                assertThat(index.find(e.getKey())).contains(e.getValue());
            }
            for (int i = 0; i < 100; i++) {
                BlobId absent = id(r);
                assertThat(index.has(absent)).isFalse();
                assertThat(index.find(absent)).isEmpty();
            }
            assertThat(index.packs()).isEqualTo(packs);
        });
    }
}

package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JacksonException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** The streaming tree codec: the very bytes data binding wrote, round trips, and hostile input refused cleanly. */
class TreeTest {
    private static final String NAME_CHARS = "aé日\"\\/\n\t\u0001 .-_😀";

    static Tree tree(SplittableRandom r) {
        List<Tree.Node> nodes = new ArrayList<>();
        int n = r.nextInt(12);
        for (int i = 0; i < n; i++) {
            StringBuilder name = new StringBuilder();
            int len = 1 + r.nextInt(12);
            for (int c = 0; c < len; c++) {
                name.appendCodePoint(NAME_CHARS.codePointAt(NAME_CHARS.offsetByCodePoints(0, r.nextInt(NAME_CHARS.codePointCount(0,
                        NAME_CHARS.length())))));
            }
            String type = List.of(Tree.Node.FILE, Tree.Node.DIR, Tree.Node.SYMLINK, "fifo").get(r.nextInt(4));
            List<String> content = null;
            if (r.nextBoolean()) {
                content = new ArrayList<>();
                for (int c = r.nextInt(4); c > 0; c--) {
                    content.add(IndexTest.id(r).hex());
                }
            }
            java.util.Map<String, String> xattrs = null;
            if (r.nextInt(3) == 0) {
                xattrs = new java.util.TreeMap<>();
                for (int x = r.nextInt(3); x >= 0; x--) {
                    xattrs.put("user." + name + x, IndexTest.id(r).hex().substring(r.nextInt(40)));
                }
            }
            nodes.add(new Tree.Node(name.toString(), type, r.nextInt(0177777), r.nextInt(), r.nextInt(), r.nextLong(), maybe(r),
                    maybe(r), content, r.nextBoolean() ? IndexTest.id(r).hex() : null, r.nextBoolean() ? name + "/target" : null,
                    maybe(r), maybe(r), xattrs));
        }
        return new Tree(nodes);
    }

    private static Long maybe(SplittableRandom r) {
        return r.nextBoolean() ? r.nextLong() : null;
    }

    @Test
    void itWritesWhatDataBindingWroteAndReadsItBack() {
        Property.forAll(300, TreeTest::tree, t -> {
            try {
                byte[] encoded = t.encode();
                assertThat(new String(encoded, StandardCharsets.UTF_8))
                        .isEqualTo(new String(KeyFile.JSON.writeValueAsBytes(t), StandardCharsets.UTF_8));
                assertThat(Tree.decode(encoded)).isEqualTo(t);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void unknownFieldsAreSkippedAndMissingOnesRefused() throws IOException {
        Tree t = Tree.decode("""
                {"later":{"a":[1,2]},"nodes":[{"name":"a","type":"file","mode":420,"uid":1,"gid":2,"mtime":3,"acl":{"k":["v"]},
                "size":5,"content":[]}]}""".getBytes(StandardCharsets.UTF_8));
        assertThat(t.nodes()).containsExactly(new Tree.Node("a", "file", 420, 1, 2, 3, null, 5L, List.of(), null, null, null, null));
        assertThatThrownBy(() -> Tree.decode("{\"nodes\":[{\"type\":\"file\",\"mode\":1,\"uid\":1,\"gid\":1,\"mtime\":1}]}"
                .getBytes(StandardCharsets.UTF_8))).isInstanceOf(BackupException.Corrupt.class).hasMessageContaining("name");
        assertThatThrownBy(() -> Tree.decode("{\"nodes\":[]} []".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(BackupException.Corrupt.class);
        assertThatThrownBy(() -> Tree.decode("{}".getBytes(StandardCharsets.UTF_8))).isInstanceOf(BackupException.Corrupt.class);
    }

    /** A tree comes from a store that may be hostile: damaged bytes are refused as corrupt or as bad JSON, nothing else. */
    @Test
    void damagedTreesAreRefusedCleanly() {
        Property.forAll(2000, r -> {
            byte[] b = tree(r).encode();
            switch (r.nextInt(4)) {
                case 0 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                case 1 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
                case 2 -> {
                    byte[] deep = ("{\"nodes\":[" + "[".repeat(1 + r.nextInt(3000))).getBytes(StandardCharsets.US_ASCII);
                    b = deep;
                }
                default -> {
                    String json = "{}[]\":,0-e ";
                    for (int i = r.nextInt(5); i >= 0; i--) {
                        b[r.nextInt(b.length)] = (byte) json.charAt(r.nextInt(json.length()));
                    }
                }
            }
            return b;
        }, b -> {
            try {
                Tree.decode(b);
            } catch (BackupException.Corrupt | JacksonException e) {
                // refused, as it should be (or, now and then, a change that left valid JSON)
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}

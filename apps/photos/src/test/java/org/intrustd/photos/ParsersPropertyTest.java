package org.intrustd.photos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.util.Arrays;
import org.intrustd.core.app.Ranges;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** Every parser of what a client sends, against random and hostile input: a clear answer, never a crash. */
class ParsersPropertyTest {
    @Test
    void rangesAreWithinTheFileOrRefusedOrIgnored() {
        Gen<String> headers = Gen.oneOf(Gen.strings(30),
                Gen.stringsOf("bytes=-0123456789, ", 0, 20),
                Gen.ints(-5, 300).map(a -> "bytes=" + a + "-"),
                Gen.ints(0, 300).map(a -> "bytes=-" + a));
        Property.forAll(5000, headers, Gen.ints(0, 200), (header, size) -> {
            switch (Ranges.parse(header, size)) {
                case Ranges.Part p -> {
                    assertThat(p.from()).isBetween(0L, (long) size - 1);
                    assertThat(p.to()).isBetween(p.from(), (long) size - 1);
                }
                case Ranges.Whole w -> { }
                case Ranges.Unsatisfiable u -> { }
            }
        });
        assertThat(Ranges.parse("bytes=0-0", 10)).isEqualTo(new Ranges.Part(0, 0));
        assertThat(Ranges.parse("bytes=5-100", 10)).isEqualTo(new Ranges.Part(5, 9));
        assertThat(Ranges.parse("bytes=-3", 10)).isEqualTo(new Ranges.Part(7, 9));
        assertThat(Ranges.parse("bytes=10-", 10)).isEqualTo(new Ranges.Unsatisfiable());
        assertThat(Ranges.parse("bytes=0-1,3-4", 10)).isEqualTo(new Ranges.Whole());
        assertThat(Ranges.parse("items=0-1", 10)).isEqualTo(new Ranges.Whole());
    }

    @Test
    void cursorsRoundTripAndAnythingElseIsABadRequest() {
        Property.forAll(2000, Gen.ints(0, Integer.MAX_VALUE), Gen.ints(1, Integer.MAX_VALUE), (t, id) -> {
            Library.Cursor c = new Library.Cursor(t, id);
            assertThat(Library.Cursor.parse(c.toString())).contains(c);
        });
        Property.forAll(3000, Gen.strings(24), s -> {
            try {
                Library.Cursor.parse(s);
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).contains("cursor");
            }
        });
        assertThatThrownBy(() -> Library.Cursor.parse("12")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theJpegCheckNeverThrowsAndFindsEveryCutBeforeTheEnd() throws Exception {
        Property.forAll(2000, Gen.bytes(0, 400), bytes -> {
            try {
                JpegStructure.complete(new ByteArrayInputStream(bytes));
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        });
        byte[] jpeg = TestImages.jpeg(120, 90, 1);
        byte[] progressive = TestImages.withExif(jpeg, new TestImages.Exif("A", "B", 1, "2020:01:01 00:00:00", 1, 1));
        for (byte[] whole : new byte[][] {jpeg, progressive}) {
            assertThat(JpegStructure.complete(new ByteArrayInputStream(whole))).isTrue();
            Property.forAll(300, Gen.ints(0, whole.length - 2), cut ->
                    assertThat(complete(Arrays.copyOf(whole, cut))).as("cut at %d", cut).isFalse());
            // Data after the end-of-image marker (maker notes, a second picture) is fine.
            byte[] trailing = Arrays.copyOf(whole, whole.length + 100);
            assertThat(complete(trailing)).isTrue();
        }
    }

    @Test
    void aScanOfAnyLengthAndAlignmentIsFollowedToItsEnd() {
        // SOI, a scan header, then entropy-coded bytes with stuffed 0xFF00s and restart markers
        // at random places (so the eight-bytes-a-step search meets 0xFF at every alignment), EOI.
        java.util.Random random = new java.util.Random(7);
        Property.forAll(500, Gen.ints(0, 300_000), n -> {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xDA, 0, 4, 1, 2});
            for (int i = 0; i < n; i++) {
                int b = random.nextInt(256);
                out.write(b);
                if (b == 0xFF) {
                    out.write(random.nextInt(50) == 0 ? 0xD0 + random.nextInt(8) : 0);
                }
            }
            out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD9});
            byte[] whole = out.toByteArray();
            assertThat(complete(whole)).as("%d bytes of scan", n).isTrue();
            int cut = random.nextInt(whole.length - 1);
            assertThat(complete(Arrays.copyOf(whole, cut))).as("cut at %d of %d", cut, whole.length).isFalse();
        });
    }

    private static boolean complete(byte[] b) {
        try {
            return JpegStructure.complete(new ByteArrayInputStream(b));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void sniffingTakesOnlyKnownMagicNumbers() {
        Property.forAll(5000, Gen.bytes(0, 32), b -> MediaProbe.sniff(b, b.length)
                .ifPresent(t -> assertThat(t).matches("(image|video)/[a-z-]+")));
        assertThat(MediaProbe.sniff(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF}, 3)).contains("image/jpeg");
        assertThat(MediaProbe.sniff("<html><body>".getBytes(), 12)).isEmpty();
    }

    @Test
    void aFileNameIsOnlyEverALabel() {
        Gen<String> names = Gen.oneOf(Gen.strings(300), Gen.stringsOf("./\\\u0000\n abc", 0, 40));
        Property.forAll(5000, names, raw -> {
            String label = Photos.label(raw);
            assertThat(label).isNotEmpty().doesNotContain("/", "\\").isNotIn(".", "..");
            assertThat(label.chars().noneMatch(Character::isISOControl)).isTrue();
            assertThat(label.length()).isLessThanOrEqualTo(200);
        });
        assertThat(Photos.label("../../etc/passwd")).isEqualTo("passwd");
        assertThat(Photos.label("C:\\photos\\IMG.JPG")).isEqualTo("IMG.JPG");
        assertThat(Photos.label("..")).isEqualTo("photo");
    }
}

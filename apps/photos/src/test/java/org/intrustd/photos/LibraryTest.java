package org.intrustd.photos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rows a page is read from: each photos row repeats its content's facts and its tags (schema 2). */
class LibraryTest {
    @TempDir
    Path dir;

    private static final MediaProbe.Media JPEG = new MediaProbe.Media("image", "image/jpeg", 4000, 3000, 6, Optional.empty(),
            Optional.of("Canon EOS R5"), Optional.of("RF 24-105mm"), Optional.of(new double[] {48.85, 2.35}), Optional.empty(),
            false);

    @Test
    void photosRowsFollowTheirContentAndTags() throws Exception {
        try (Library lib = new Library(dir.resolve("photos.db"))) {
            Library.Photo a = lib.add("alice", "a".repeat(64), 1234, JPEG, "a.jpg", LocalDateTime.of(2025, 5, 1, 12, 0), "exif", 1);
            Library.Photo b = lib.add("bob", "a".repeat(64), 1234, JPEG, "copy.jpg", LocalDateTime.of(2025, 5, 2, 12, 0), "exif", 2);
            assertEquals(List.of(4000L, 3000L, 6, "pending"), List.of(b.width(), b.height(), b.orientation(), b.preview()),
                    "a second person's copy takes the first upload's facts");
            lib.setTags(a, List.of("zoo", "beach", "zoo"));
            lib.finishJob("a".repeat(64), "ready", Optional.empty());
            Library.Photo again = page(lib, "alice").getFirst();
            assertEquals(List.of("beach", "zoo"), again.tags());
            assertEquals("ready", again.preview());
            assertEquals("ready", page(lib, "bob").getFirst().preview(), "every copy sees its content's previews");
            lib.requeue("a".repeat(64));
            assertEquals("pending", lib.photo("bob", b.id()).orElseThrow().preview());
            lib.setTags(again, List.of());
            assertEquals(List.of(), lib.photo("alice", a.id()).orElseThrow().tags());
        }
    }

    @Test
    void aVersion1LibraryIsMigrated() throws Exception {
        Path db = dir.resolve("photos.db");
        Library.Photo before;
        try (Library lib = new Library(db)) {
            Library.Photo a = lib.add("alice", "b".repeat(64), 99, JPEG, "b.jpg", LocalDateTime.of(2024, 1, 1, 8, 0), "exif", 1);
            lib.setTags(a, List.of("gran", "beach"));
            lib.finishJob("b".repeat(64), "ready", Optional.empty());
            before = page(lib, "alice").getFirst();
        }
        // Back to schema 1: the columns schema 2 added are dropped.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            for (String column : List.of("type", "size", "width", "height", "orientation", "lens", "lat", "lon", "duration_ms",
                    "playable", "preview", "tags")) {
                s.execute("ALTER TABLE photos DROP COLUMN " + column);
            }
            s.execute("PRAGMA user_version=1");
        }
        try (Library lib = new Library(db)) {
            Library.Photo after = page(lib, "alice").getFirst();
            assertEquals(json(before), json(after));
            assertEquals(List.of("beach", "gran"), after.tags());
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("PRAGMA user_version")) {
            assertEquals(Library.SCHEMA_VERSION, r.getInt(1));
        }
    }

    private static List<Library.Photo> page(Library lib, String owner) throws Exception {
        return lib.list(Library.Query.timeline(owner), Optional.empty(), 10).photos();
    }

    private static String json(Library.Photo p) {
        return PhotosApi.photoJson(p).toString();
    }
}

package org.intrustd.photos;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Library scale (issue 8: goal ≤ 1.2× per query): the queries behind the timeline, an album
 * page and searches, on a library of 1,000 photos and on one of 100,000, in one run. The rows
 * are synthetic (the schema and indexes are the app's own, made by {@link Library}); each
 * query runs through {@link Library#list} as the API calls it, and its JSON is built as the
 * API builds it. Ratio = median at 100,000 / median at 1,000.
 * <pre>java -cp 'bench/target/lib/*' org.intrustd.photos.PhotosLibraryBench [iterations=2000]</pre>
 */
public final class PhotosLibraryBench {
    private static final String OWNER = "alice";
    private static final String[] CAMERAS = {"Canon EOS R5", "Nikon Z 6", "Fujifilm X-T4", "Apple iPhone 15", "Google Pixel 8",
        "Sony A7 IV", "Olympus E-M1", "Samsung S24"};

    private PhotosLibraryBench() {
    }

    record Scenario(String name, java.util.function.Function<Library, Library.Page> query) {
    }

    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "libbench");
        try {
            int[] sizes = {1_000, 100_000};
            List<Library> libraries = new ArrayList<>();
            for (int n : sizes) {
                Path db = dir.resolve("photos-" + n + ".db");
                long t0 = System.nanoTime();
                new Library(db).close();
                fill(db, n);
                libraries.add(new Library(db));
                System.out.printf("library of %,d photos made in %.1f s (%.1f MiB)%n", n, (System.nanoTime() - t0) / 1e9,
                        Files.size(db) / 1048576.0);
            }
            List<Scenario> scenarios = List.of(
                    new Scenario("timeline, first page", lib -> list(lib, q(), Optional.empty())),
                    new Scenario("timeline, page in the middle", lib -> list(lib, q(), middle(lib))),
                    new Scenario("album page (10% of the library)", lib -> list(lib, album(), Optional.empty())),
                    new Scenario("search: tag (20%)", lib -> list(lib, tag("beach"), Optional.empty())),
                    new Scenario("search: another tag (10%)", lib -> list(lib, tag("gran"), Optional.empty())),
                    new Scenario("search: camera", lib -> list(lib, camera(), Optional.empty())),
                    new Scenario("search: favourites (10%)", lib -> list(lib, favourites(), Optional.empty())),
                    new Scenario("search: three months", lib -> list(lib, months(), Optional.empty())));
            System.out.printf("%n%-34s %14s %14s %8s%n", "query (100 photos a page)", "1,000 (µs)", "100,000 (µs)", "ratio");
            for (Scenario s : scenarios) {
                double[] medians = medianMicros(s, libraries, iterations);
                System.out.printf("%-34s %14.1f %14.1f %8.2f%n", s.name(), medians[0], medians[1], medians[1] / medians[0]);
            }
            for (Library lib : libraries) {
                lib.close();
            }
        } finally {
            try (var all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Library.Page list(Library lib, Library.Query q, Optional<Library.Cursor> after) {
        try {
            Library.Page page = lib.list(q, after, 100);
            page.photos().forEach(PhotosApi::photoJson);
            return page;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The cursor half-way through the timeline (found once per library, outside the timing). */
    private static final java.util.Map<Library, Optional<Library.Cursor>> MIDDLE = new java.util.IdentityHashMap<>();

    private static Optional<Library.Cursor> middle(Library lib) {
        return MIDDLE.computeIfAbsent(lib, l -> {
            try {
                Optional<Library.Cursor> c = Optional.empty();
                int pages = 0;
                while (true) {
                    Library.Page p = l.list(q(), c, Library.MAX_PAGE);
                    pages++;
                    if (p.next().isEmpty()) {
                        break;
                    }
                    c = p.next();
                }
                Optional<Library.Cursor> at = Optional.empty();
                for (int i = 0; i < pages / 2; i++) {
                    at = l.list(q(), at, Library.MAX_PAGE).next();
                }
                return at;
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static Library.Query q() {
        return Library.Query.timeline(OWNER);
    }

    private static Library.Query album() {
        return Library.Query.album(OWNER, 1);
    }

    private static Library.Query tag(String tag) {
        return new Library.Query(OWNER, Optional.empty(), Optional.of(tag), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), false);
    }

    private static Library.Query camera() {
        return new Library.Query(OWNER, Optional.empty(), Optional.empty(), Optional.of(CAMERAS[3]), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), false);
    }

    private static Library.Query favourites() {
        return new Library.Query(OWNER, Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(true), Optional.empty(),
                Optional.empty(), Optional.empty(), false);
    }

    /** Three months that both libraries cover. */
    private static Library.Query months() {
        long from = Library.epoch(LocalDateTime.of(2025, 3, 1, 0, 0));
        return new Library.Query(OWNER, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.of(from), Optional.of(Library.epoch(LocalDateTime.of(2025, 6, 1, 0, 0))), false);
    }

    /**
     * The median time of a scenario on each library. The libraries take turns, one query each,
     * so that whatever else the machine is doing weighs on both alike.
     */
    private static double[] medianMicros(Scenario s, List<Library> libraries, int iterations) {
        for (int i = 0; i < iterations / 4; i++) {
            libraries.forEach(s.query()::apply);
        }
        double[][] t = new double[libraries.size()][iterations];
        for (int i = 0; i < iterations; i++) {
            for (int l = 0; l < libraries.size(); l++) {
                long t0 = System.nanoTime();
                s.query().apply(libraries.get(l));
                t[l][i] = (System.nanoTime() - t0) / 1e3;
            }
        }
        double[] medians = new double[libraries.size()];
        for (int l = 0; l < libraries.size(); l++) {
            Arrays.sort(t[l]);
            medians[l] = t[l][iterations / 2];
        }
        return medians;
    }

    /**
     * Synthetic rows: a small library spans two years (2024–2025), a large one twenty
     * (2006–2025), as real ones grow; every 10th photo in album 1, 20% tagged "beach", 10%
     * "gran", 10% favourites, eight cameras. Every query fills its page of 100 in both, so the
     * ratio measures the library's size, not a smaller answer.
     */
    static void fill(Path db, int n) throws Exception {
        Random r = new Random(n);
        long start = Library.epoch(LocalDateTime.of(n <= 10_000 ? 2024 : 2006, 1, 1, 0, 0));
        long span = Library.epoch(LocalDateTime.of(2025, 12, 31, 0, 0)) - start;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            c.setAutoCommit(false);
            try (PreparedStatement media = c.prepareStatement("INSERT INTO media (sha256, kind, type, size, width, height,"
                    + " orientation, camera, playable, preview) VALUES (?, 'image', 'image/jpeg', ?, 6000, 4000, 1, ?, 0, 'ready')");
                    PreparedStatement photo = c.prepareStatement("INSERT INTO photos (id, owner, sha256, name, kind, camera, taken_at,"
                            + " taken_from, favourite, uploaded_at) VALUES (?, ?, ?, ?, 'image', ?, ?, 'exif', ?, 0)");
                    PreparedStatement album = c.prepareStatement("INSERT INTO album_photos (album_id, photo_id, taken_at) VALUES (1, ?, ?)");
                    PreparedStatement tag = c.prepareStatement("INSERT INTO photo_tags (photo_id, tag, owner, taken_at) VALUES (?, ?, ?, ?)")) {
                c.createStatement().execute("INSERT INTO albums (id, owner, name, created_at) VALUES (1, 'alice', 'Holidays', 0)");
                for (int i = 1; i <= n; i++) {
                    String sha = String.format("%064x", i);
                    String camera = CAMERAS[r.nextInt(CAMERAS.length)];
                    long taken = start + (long) (r.nextDouble() * span);
                    media.setString(1, sha);
                    media.setLong(2, 4_000_000 + r.nextInt(8_000_000));
                    media.setString(3, camera);
                    media.addBatch();
                    photo.setLong(1, i);
                    photo.setString(2, OWNER);
                    photo.setString(3, sha);
                    photo.setString(4, "IMG_" + i + ".JPG");
                    photo.setString(5, camera);
                    photo.setLong(6, taken);
                    photo.setInt(7, r.nextInt(10) == 0 ? 1 : 0);
                    photo.addBatch();
                    if (i % 10 == 0) {
                        album.setLong(1, i);
                        album.setLong(2, taken);
                        album.addBatch();
                    }
                    for (String t : new String[] {"beach", "gran"}) {
                        if (r.nextInt(t.equals("beach") ? 5 : 10) == 0) {
                            tag.setLong(1, i);
                            tag.setString(2, t);
                            tag.setString(3, OWNER);
                            tag.setLong(4, taken);
                            tag.addBatch();
                        }
                    }
                    if (i % 5000 == 0 || i == n) {
                        media.executeBatch();
                        photo.executeBatch();
                        album.executeBatch();
                        tag.executeBatch();
                    }
                }
            }
            // Each photos row repeats its content's facts and its tags, as Library.add and setTags write them.
            try (var s = c.createStatement()) {
                s.execute("UPDATE photos SET (type, size, width, height, orientation, playable, preview) = (SELECT type, size,"
                        + " width, height, orientation, playable, preview FROM media m WHERE m.sha256 = photos.sha256)");
                s.execute("UPDATE photos SET tags = (SELECT group_concat(tag, char(31) ORDER BY tag) FROM photo_tags t"
                        + " WHERE t.photo_id = photos.id)");
            }
            c.commit();
        }
    }
}

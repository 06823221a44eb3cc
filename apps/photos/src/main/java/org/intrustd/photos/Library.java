package org.intrustd.photos;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The photo library's metadata in SQLite (WAL). One connection, used under this object's
 * lock: a small box serves a household, and SQLite answers these indexed queries in well
 * under a millisecond, so one writer at a time costs nothing and keeps every change atomic.
 * <p>
 * Facts that follow from a file's bytes (type, size, dimensions, previews) are kept once per
 * content hash in {@code media}; each person's copy of a file is a row of {@code photos},
 * which also repeats the content's facts and the photo's tags, so that a page is read from
 * {@code photos} alone. Timeline, album, tag and camera listings each have an index in
 * display order (newest first), so a page costs about the same at 100,000 photos as at 1,000:
 * the query walks the index from the cursor and stops after one page.
 */
final class Library implements AutoCloseable {
    static final int SCHEMA_VERSION = 2;
    static final int MAX_PAGE = 500;

    /** A photo as the API shows it. {@code takenAt} is a local wall-clock time. */
    record Photo(long id, String owner, String sha256, String kind, String type, String name, long size,
            LocalDateTime takenAt, String takenFrom, long width, long height, int orientation, Optional<String> camera,
            Optional<String> lens, Optional<double[]> gps, Optional<Long> durationMs, boolean favourite,
            Optional<Long> trashedAt, long uploadedAt, String preview, boolean playable, List<String> tags) {
    }

    record Album(long id, String owner, String name, long count, Optional<Long> cover, long createdAt) {
    }

    /** Where a page starts: after the photo with this time and id. */
    record Cursor(long takenAt, long id) {
        static Optional<Cursor> parse(String s) {
            if (s == null || s.isEmpty()) {
                return Optional.empty();
            }
            int dot = s.indexOf('.');
            try {
                return Optional.of(new Cursor(Long.parseLong(s.substring(0, dot)), Long.parseLong(s.substring(dot + 1))));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("'cursor' must be the 'next' of an earlier page");
            }
        }

        @Override
        public String toString() {
            return takenAt + "." + id;
        }
    }

    record Page(List<Photo> photos, Optional<Cursor> next) {
    }

    /** What to list: every field optional; {@code album} and {@code tag} pick the index that orders the page. */
    record Query(String owner, Optional<Long> album, Optional<String> tag, Optional<String> camera, Optional<Boolean> favourite,
            Optional<String> kind, Optional<Long> from, Optional<Long> to, boolean trashed) {
        static Query timeline(String owner) {
            return new Query(owner, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), Optional.empty(), false);
        }

        /** The photos of album {@code id}, whose owner is {@code owner}. */
        static Query album(String owner, long id) {
            return new Query(owner, Optional.of(id), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), Optional.empty(), false);
        }

        static Query trash(String owner) {
            return new Query(owner, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), Optional.empty(), true);
        }
    }

    /** A photo job: make previews for one content hash. */
    record Job(String sha256, String kind, String type, boolean playable) {
    }

    private final Connection db;

    Library(Path file) throws SQLException {
        db = DriverManager.getConnection("jdbc:sqlite:" + file);
        try (Statement s = db.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            // NORMAL in WAL mode survives a killed process (the WAL is in the page cache); only power
            // loss may lose the last commits, which the next upload retry covers.
            s.execute("PRAGMA synchronous=NORMAL");
            s.execute("PRAGMA foreign_keys=ON");
            s.execute("PRAGMA busy_timeout=5000");
            // Pages read through a memory map, not a read call each: a page of the timeline touches
            // ~100 rows scattered over the file, and a large library does not fit SQLite's own cache.
            s.execute("PRAGMA mmap_size=1073741824");
            s.execute("PRAGMA cache_size=-16384");
        }
        migrate();
        optimize();
    }

    /**
     * Lets SQLite gather the statistics its planner needs (it analyses only tables that
     * changed enough, so this is cheap): without them it may walk the timeline index for a
     * favourites search instead of the favourites index. Run at start and by the daily sweep.
     */
    synchronized void optimize() throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("PRAGMA optimize=0x10002");
        }
    }

    private void migrate() throws SQLException {
        int version;
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("PRAGMA user_version")) {
            version = r.getInt(1);
        }
        if (version > SCHEMA_VERSION) {
            throw new SQLException("photos.db has schema " + version + ", newer than this app's " + SCHEMA_VERSION
                    + ": run the newer version of the app");
        }
        if (version < 1) {
            transaction(() -> {
                try (Statement s = db.createStatement()) {
                    s.execute("""
                        CREATE TABLE media (sha256 TEXT PRIMARY KEY, kind TEXT NOT NULL, type TEXT NOT NULL,
                          size INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, orientation INTEGER NOT NULL,
                          camera TEXT, lens TEXT, lat REAL, lon REAL, duration_ms INTEGER, playable INTEGER NOT NULL,
                          preview TEXT NOT NULL, preview_error TEXT) WITHOUT ROWID""");
                    s.execute("""
                        CREATE TABLE photos (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL,
                          sha256 TEXT NOT NULL REFERENCES media(sha256), name TEXT NOT NULL, kind TEXT NOT NULL,
                          camera TEXT, taken_at INTEGER NOT NULL, taken_from TEXT NOT NULL,
                          favourite INTEGER NOT NULL DEFAULT 0, trashed_at INTEGER, uploaded_at INTEGER NOT NULL,
                          UNIQUE (owner, sha256))""");
                    s.execute("CREATE INDEX photos_timeline ON photos (owner, trashed_at, taken_at DESC, id DESC)");
                    s.execute("CREATE INDEX photos_camera ON photos (owner, camera, taken_at DESC, id DESC) WHERE trashed_at IS NULL");
                    s.execute("CREATE INDEX photos_favourite ON photos (owner, favourite, trashed_at, taken_at DESC, id DESC)");
                    s.execute("CREATE INDEX photos_sha ON photos (sha256)");
                    s.execute("""
                        CREATE TABLE albums (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, name TEXT NOT NULL,
                          cover INTEGER REFERENCES photos(id) ON DELETE SET NULL, created_at INTEGER NOT NULL)""");
                    s.execute("CREATE INDEX albums_owner ON albums (owner, created_at)");
                    s.execute("""
                        CREATE TABLE album_photos (album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
                          photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE, taken_at INTEGER NOT NULL,
                          PRIMARY KEY (album_id, photo_id))""");
                    s.execute("CREATE INDEX album_order ON album_photos (album_id, taken_at DESC, photo_id DESC)");
                    s.execute("CREATE INDEX album_photo ON album_photos (photo_id)");
                    s.execute("""
                        CREATE TABLE photo_tags (photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
                          tag TEXT NOT NULL, owner TEXT NOT NULL, taken_at INTEGER NOT NULL, PRIMARY KEY (photo_id, tag))""");
                    s.execute("CREATE INDEX tag_order ON photo_tags (owner, tag, taken_at DESC, photo_id DESC)");
                    s.execute("CREATE TABLE jobs (sha256 TEXT PRIMARY KEY REFERENCES media(sha256) ON DELETE CASCADE, attempts INTEGER NOT NULL DEFAULT 0)");
                    s.execute("""
                        CREATE TABLE uploads (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,
                          modified INTEGER, created_at INTEGER NOT NULL)""");
                    s.execute("PRAGMA user_version=1");
                }
                return null;
            });
        }
        if (version < 2) {
            // A page is read from photos alone: each row carries its content's facts and its
            // tags, so no row costs a lookup in media or photo_tags, whose B-trees deepen as
            // the library grows (PhotosLibraryBench: 1.2-1.35x at 100,000 photos with the joins).
            transaction(() -> {
                try (Statement s = db.createStatement()) {
                    for (String column : List.of("type TEXT NOT NULL DEFAULT ''", "size INTEGER NOT NULL DEFAULT 0",
                            "width INTEGER NOT NULL DEFAULT 0", "height INTEGER NOT NULL DEFAULT 0",
                            "orientation INTEGER NOT NULL DEFAULT 1", "lens TEXT", "lat REAL", "lon REAL", "duration_ms INTEGER",
                            "playable INTEGER NOT NULL DEFAULT 0", "preview TEXT NOT NULL DEFAULT 'pending'", "tags TEXT")) {
                        s.execute("ALTER TABLE photos ADD COLUMN " + column);
                    }
                    s.execute("UPDATE photos SET (" + MEDIA_FACTS + ") = (SELECT " + MEDIA_FACTS
                            + " FROM media m WHERE m.sha256 = photos.sha256)");
                    s.execute("UPDATE photos SET tags = (SELECT group_concat(tag, char(31) ORDER BY tag) FROM photo_tags t"
                            + " WHERE t.photo_id = photos.id)");
                    s.execute("PRAGMA user_version=2");
                }
                return null;
            });
        }
    }

    /** The facts about a file's content that each of its photos rows repeats (schema 2). */
    private static final String MEDIA_FACTS = "type, size, width, height, orientation, lens, lat, lon, duration_ms, playable, preview";

    /** Separates the tags in {@code photos.tags}; tags hold no control characters. */
    private static final char TAG_SEPARATOR = '\u001f';

    @FunctionalInterface
    interface Work<T> {
        T run() throws SQLException;
    }

    /** Runs {@code work} in one transaction under the library's lock. */
    synchronized <T> T transaction(Work<T> work) throws SQLException {
        db.setAutoCommit(false);
        try {
            T result = work.run();
            db.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            db.rollback();
            throw e;
        } finally {
            db.setAutoCommit(true);
        }
    }

    static long epoch(LocalDateTime t) {
        return t.toEpochSecond(ZoneOffset.UTC);
    }

    // ---- adding --------------------------------------------------------------------------

    synchronized boolean hasMedia(String sha256) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT 1 FROM media WHERE sha256 = ?")) {
            q.setString(1, sha256);
            try (ResultSet r = q.executeQuery()) {
                return r.next();
            }
        }
    }

    synchronized Optional<Photo> photoByContent(String owner, String sha256) throws SQLException {
        return one("p.owner = ? AND p.sha256 = ?", owner, sha256);
    }

    /**
     * Records a new file's facts (once per content) and the owner's photo of it, and queues its
     * previews; one transaction, so a crash leaves either all of it or none.
     */
    Photo add(String owner, String sha256, long size, MediaProbe.Media m, String name, LocalDateTime takenAt, String takenFrom,
            long now) throws SQLException {
        long id = transaction(() -> {
            try (PreparedStatement ins = db.prepareStatement("""
                    INSERT OR IGNORE INTO media (sha256, kind, type, size, width, height, orientation, camera, lens, lat, lon,
                      duration_ms, playable, preview) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')""")) {
                ins.setString(1, sha256);
                ins.setString(2, m.kind());
                ins.setString(3, m.type());
                ins.setLong(4, size);
                ins.setLong(5, m.width());
                ins.setLong(6, m.height());
                ins.setInt(7, m.orientation());
                setText(ins, 8, m.camera());
                setText(ins, 9, m.lens());
                if (m.gps().isPresent()) {
                    ins.setDouble(10, m.gps().get()[0]);
                    ins.setDouble(11, m.gps().get()[1]);
                } else {
                    ins.setNull(10, Types.REAL);
                    ins.setNull(11, Types.REAL);
                }
                if (m.durationMs().isPresent()) {
                    ins.setLong(12, m.durationMs().get());
                } else {
                    ins.setNull(12, Types.INTEGER);
                }
                ins.setInt(13, m.browserPlayable() ? 1 : 0);
                if (ins.executeUpdate() == 1) {
                    update("INSERT OR IGNORE INTO jobs (sha256) VALUES (?)", sha256);
                }
            }
            // The content's facts come from its media row: the one just made, or the first
            // upload's when this is another person's copy of the same file.
            try (PreparedStatement ins = db.prepareStatement("INSERT INTO photos (owner, sha256, name, kind, camera, taken_at,"
                    + " taken_from, uploaded_at, " + MEDIA_FACTS + ") SELECT ?, ?, ?, kind, camera, ?, ?, ?, " + MEDIA_FACTS
                    + " FROM media WHERE sha256 = ?", Statement.RETURN_GENERATED_KEYS)) {
                ins.setString(1, owner);
                ins.setString(2, sha256);
                ins.setString(3, name);
                ins.setLong(4, epoch(takenAt));
                ins.setString(5, takenFrom);
                ins.setLong(6, now);
                ins.setString(7, sha256);
                ins.executeUpdate();
                try (ResultSet keys = ins.getGeneratedKeys()) {
                    keys.next();
                    return keys.getLong(1);
                }
            }
        });
        return photo(owner, id).orElseThrow();
    }

    // ---- reading ------------------------------------------------------------------------

    private static final String PHOTO_COLUMNS = """
        p.id, p.owner, p.sha256, p.kind, p.type, p.name, p.size, p.taken_at, p.taken_from, p.width, p.height, p.orientation,
        p.camera, p.lens, p.lat, p.lon, p.duration_ms, p.favourite, p.trashed_at, p.uploaded_at, p.preview, p.playable, p.tags""";

    synchronized Optional<Photo> photo(String owner, long id) throws SQLException {
        return one("p.owner = ? AND p.id = ?", owner, id);
    }

    /** A photo whoever owns it: for share links, whose visitor is checked against the album or photo they hold. */
    synchronized Optional<Photo> anyPhoto(long id) throws SQLException {
        return one("p.id = ?", id);
    }

    private Optional<Photo> one(String where, Object... args) throws SQLException {
        List<Photo> found = photos("SELECT " + PHOTO_COLUMNS + " FROM photos p WHERE " + where,
                List.of(args));
        return found.stream().findFirst();
    }

    /** Whether photo {@code photoId} is in album {@code albumId} (and not in the trash). */
    synchronized boolean inAlbum(long albumId, long photoId) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("""
                SELECT 1 FROM album_photos a JOIN photos p ON p.id = a.photo_id
                WHERE a.album_id = ? AND a.photo_id = ? AND p.trashed_at IS NULL""")) {
            q.setLong(1, albumId);
            q.setLong(2, photoId);
            try (ResultSet r = q.executeQuery()) {
                return r.next();
            }
        }
    }

    synchronized Page list(Query query, Optional<Cursor> after, int limit) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT ").append(PHOTO_COLUMNS).append(" FROM ");
        List<Object> args = new ArrayList<>();
        String order;
        if (query.album().isPresent()) {
            // The album's own index orders the page; the owner is the album's, checked by the caller.
            sql.append("album_photos o JOIN photos p ON p.id = o.photo_id WHERE o.album_id = ?");
            args.add(query.album().get());
            order = "o.taken_at DESC, o.photo_id DESC";
            sql.append(" AND p.trashed_at IS NULL");
            keyset(sql, args, "o.taken_at", "o.photo_id", after);
        } else if (query.tag().isPresent()) {
            sql.append("photo_tags o JOIN photos p ON p.id = o.photo_id WHERE o.owner = ? AND o.tag = ? AND p.trashed_at IS NULL");
            args.add(query.owner());
            args.add(query.tag().get());
            order = "o.taken_at DESC, o.photo_id DESC";
            keyset(sql, args, "o.taken_at", "o.photo_id", after);
        } else {
            sql.append("photos p WHERE p.owner = ?");
            args.add(query.owner());
            if (query.trashed()) {
                sql.append(" AND p.trashed_at IS NOT NULL");
            } else if (query.favourite().orElse(false)) {
                sql.append(" AND p.favourite = 1 AND p.trashed_at IS NULL");
            } else {
                sql.append(" AND p.trashed_at IS NULL");
            }
            order = "p.taken_at DESC, p.id DESC";
            keyset(sql, args, "p.taken_at", "p.id", after);
        }
        query.camera().ifPresent(c -> {
            sql.append(" AND p.camera = ?");
            args.add(c);
        });
        if (query.favourite().orElse(false) && (query.album().isPresent() || query.tag().isPresent())) {
            sql.append(" AND p.favourite = 1");
        }
        query.kind().ifPresent(k -> {
            sql.append(" AND p.kind = ?");
            args.add(k);
        });
        String timeColumn = query.album().isPresent() || query.tag().isPresent() ? "o.taken_at" : "p.taken_at";
        query.from().ifPresent(f -> {
            sql.append(" AND ").append(timeColumn).append(" >= ?");
            args.add(f);
        });
        query.to().ifPresent(t -> {
            sql.append(" AND ").append(timeColumn).append(" < ?");
            args.add(t);
        });
        sql.append(" ORDER BY ").append(order).append(" LIMIT ?");
        args.add(limit + 1);
        List<Photo> found = photos(sql.toString(), args);
        Optional<Cursor> next = Optional.empty();
        if (found.size() > limit) {
            found = found.subList(0, limit);
            Photo last = found.get(limit - 1);
            next = Optional.of(new Cursor(epoch(last.takenAt()), last.id()));
        }
        return new Page(found, next);
    }

    private static void keyset(StringBuilder sql, List<Object> args, String time, String id, Optional<Cursor> after) {
        after.ifPresent(c -> {
            sql.append(" AND (").append(time).append(", ").append(id).append(") < (?, ?)");
            args.add(c.takenAt());
            args.add(c.id());
        });
    }

    private List<Photo> photos(String sql, List<Object> args) throws SQLException {
        List<Photo> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement(sql)) {
            bind(q, args);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    Optional<double[]> gps = r.getObject(15) == null ? Optional.empty()
                            : Optional.of(new double[] {r.getDouble(15), r.getDouble(16)});
                    out.add(new Photo(r.getLong(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                            r.getString(6), r.getLong(7), LocalDateTime.ofEpochSecond(r.getLong(8), 0, ZoneOffset.UTC),
                            r.getString(9), r.getLong(10), r.getLong(11), r.getInt(12), Optional.ofNullable(r.getString(13)),
                            Optional.ofNullable(r.getString(14)), gps,
                            r.getObject(17) == null ? Optional.empty() : Optional.of(r.getLong(17)), r.getInt(18) == 1,
                            r.getObject(19) == null ? Optional.empty() : Optional.of(r.getLong(19)), r.getLong(20),
                            r.getString(21), r.getInt(22) == 1, splitTags(r.getString(23))));
                }
            }
        }
        return out;
    }

    private static List<String> splitTags(String joined) {
        return joined == null || joined.isEmpty() ? List.of() : List.of(joined.split(String.valueOf(TAG_SEPARATOR)));
    }

    synchronized List<Map.Entry<String, Long>> months(String owner) throws SQLException {
        return counts("SELECT strftime('%Y-%m', taken_at, 'unixepoch') AS m, count(*) FROM photos"
                + " WHERE owner = ? AND trashed_at IS NULL GROUP BY m ORDER BY m DESC", owner);
    }

    synchronized List<Map.Entry<String, Long>> tags(String owner) throws SQLException {
        return counts("SELECT t.tag, count(*) FROM photo_tags t JOIN photos p ON p.id = t.photo_id"
                + " WHERE t.owner = ? AND p.trashed_at IS NULL GROUP BY t.tag ORDER BY count(*) DESC, t.tag", owner);
    }

    synchronized List<Map.Entry<String, Long>> cameras(String owner) throws SQLException {
        return counts("SELECT camera, count(*) FROM photos WHERE owner = ? AND trashed_at IS NULL AND camera IS NOT NULL"
                + " GROUP BY camera ORDER BY count(*) DESC, camera", owner);
    }

    private List<Map.Entry<String, Long>> counts(String sql, String owner) throws SQLException {
        List<Map.Entry<String, Long>> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement(sql)) {
            q.setString(1, owner);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(Map.entry(r.getString(1), r.getLong(2)));
                }
            }
        }
        return out;
    }

    // ---- changing photos ----------------------------------------------------------------

    synchronized void setFavourite(long id, boolean favourite) throws SQLException {
        update("UPDATE photos SET favourite = ? WHERE id = ?", favourite ? 1 : 0, id);
    }

    void setTags(Photo photo, List<String> tags) throws SQLException {
        transaction(() -> {
            update("DELETE FROM photo_tags WHERE photo_id = ?", photo.id());
            java.util.SortedSet<String> sorted = new java.util.TreeSet<>(tags);
            for (String tag : sorted) {
                update("INSERT INTO photo_tags (photo_id, tag, owner, taken_at) VALUES (?, ?, ?, ?)",
                        photo.id(), tag, photo.owner(), epoch(photo.takenAt()));
            }
            update("UPDATE photos SET tags = ? WHERE id = ?", sorted.isEmpty() ? null : String.join(String.valueOf(TAG_SEPARATOR), sorted),
                    photo.id());
            return null;
        });
    }

    synchronized void trash(long id, Optional<Long> at) throws SQLException {
        update("UPDATE photos SET trashed_at = ? WHERE id = ?", at.orElse(null), id);
    }

    /**
     * Deletes the owner's photos in the trash (those trashed before {@code before}, or all);
     * returns the content hashes no photo uses any more, whose rows are gone too: the caller
     * deletes their files.
     */
    List<String> emptyTrash(String owner, Optional<Long> before) throws SQLException {
        return transaction(() -> {
            List<String> shas = new ArrayList<>();
            String cond = "owner = ? AND trashed_at IS NOT NULL" + (before.isPresent() ? " AND trashed_at < ?" : "");
            List<Object> args = before.isPresent() ? List.of(owner, before.get()) : List.of(owner);
            try (PreparedStatement q = db.prepareStatement("SELECT DISTINCT sha256 FROM photos WHERE " + cond)) {
                bind(q, args);
                try (ResultSet r = q.executeQuery()) {
                    while (r.next()) {
                        shas.add(r.getString(1));
                    }
                }
            }
            try (PreparedStatement d = db.prepareStatement("DELETE FROM photos WHERE " + cond)) {
                bind(d, args);
                d.executeUpdate();
            }
            List<String> orphans = new ArrayList<>();
            for (String sha : shas) {
                try (PreparedStatement q = db.prepareStatement("SELECT 1 FROM photos WHERE sha256 = ? LIMIT 1")) {
                    q.setString(1, sha);
                    try (ResultSet r = q.executeQuery()) {
                        if (!r.next()) {
                            orphans.add(sha);
                        }
                    }
                }
            }
            for (String sha : orphans) {
                update("DELETE FROM media WHERE sha256 = ?", sha);
            }
            return orphans;
        });
    }

    synchronized long countTrash(String owner) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT count(*) FROM photos WHERE owner = ? AND trashed_at IS NOT NULL")) {
            q.setString(1, owner);
            try (ResultSet r = q.executeQuery()) {
                return r.getLong(1);
            }
        }
    }

    /** The owners who have photos in the trash, for the daily sweep of old ones. */
    synchronized List<String> ownersWithTrash() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = db.createStatement();
                ResultSet r = s.executeQuery("SELECT DISTINCT owner FROM photos WHERE trashed_at IS NOT NULL")) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }

    // ---- albums -------------------------------------------------------------------------

    private static final String ALBUM_SELECT = """
        SELECT a.id, a.owner, a.name, (SELECT count(*) FROM album_photos x JOIN photos p ON p.id = x.photo_id
          WHERE x.album_id = a.id AND p.trashed_at IS NULL),
          coalesce(a.cover, (SELECT x.photo_id FROM album_photos x JOIN photos p ON p.id = x.photo_id
          WHERE x.album_id = a.id AND p.trashed_at IS NULL ORDER BY x.taken_at DESC, x.photo_id DESC LIMIT 1)), a.created_at
        FROM albums a""";

    synchronized List<Album> albums(String owner) throws SQLException {
        return albumRows(ALBUM_SELECT + " WHERE a.owner = ? ORDER BY a.created_at DESC, a.id DESC", List.of(owner));
    }

    synchronized Optional<Album> album(long id) throws SQLException {
        return albumRows(ALBUM_SELECT + " WHERE a.id = ?", List.of(id)).stream().findFirst();
    }

    private List<Album> albumRows(String sql, List<Object> args) throws SQLException {
        List<Album> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement(sql)) {
            bind(q, args);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(new Album(r.getLong(1), r.getString(2), r.getString(3), r.getLong(4),
                            r.getObject(5) == null ? Optional.empty() : Optional.of(r.getLong(5)), r.getLong(6)));
                }
            }
        }
        return out;
    }

    synchronized long createAlbum(String owner, String name, long now) throws SQLException {
        try (PreparedStatement ins = db.prepareStatement("INSERT INTO albums (owner, name, created_at) VALUES (?, ?, ?)",
                Statement.RETURN_GENERATED_KEYS)) {
            ins.setString(1, owner);
            ins.setString(2, name);
            ins.setLong(3, now);
            ins.executeUpdate();
            try (ResultSet keys = ins.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    synchronized void renameAlbum(long id, String name) throws SQLException {
        update("UPDATE albums SET name = ? WHERE id = ?", name, id);
    }

    synchronized void setCover(long id, long photo) throws SQLException {
        update("UPDATE albums SET cover = ? WHERE id = ?", photo, id);
    }

    synchronized void deleteAlbum(long id) throws SQLException {
        update("DELETE FROM albums WHERE id = ?", id);
    }

    void addToAlbum(long album, List<Photo> photos) throws SQLException {
        transaction(() -> {
            for (Photo p : photos) {
                update("INSERT OR IGNORE INTO album_photos (album_id, photo_id, taken_at) VALUES (?, ?, ?)", album, p.id(),
                        epoch(p.takenAt()));
            }
            return null;
        });
    }

    synchronized void removeFromAlbum(long album, long photo) throws SQLException {
        update("DELETE FROM album_photos WHERE album_id = ? AND photo_id = ?", album, photo);
        update("UPDATE albums SET cover = NULL WHERE id = ? AND cover = ?", album, photo);
    }

    synchronized List<Album> albumsOf(long photo) throws SQLException {
        return albumRows(ALBUM_SELECT + " WHERE a.id IN (SELECT album_id FROM album_photos WHERE photo_id = ?) ORDER BY a.name",
                List.of(photo));
    }

    // ---- preview jobs -------------------------------------------------------------------

    synchronized List<Job> pendingJobs() throws SQLException {
        List<Job> out = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(
                "SELECT j.sha256, m.kind, m.type, m.playable FROM jobs j JOIN media m ON m.sha256 = j.sha256 ORDER BY j.rowid")) {
            while (r.next()) {
                out.add(new Job(r.getString(1), r.getString(2), r.getString(3), r.getInt(4) == 1));
            }
        }
        return out;
    }

    synchronized Optional<Job> job(String sha256) throws SQLException {
        try (PreparedStatement q = db.prepareStatement(
                "SELECT j.sha256, m.kind, m.type, m.playable FROM jobs j JOIN media m ON m.sha256 = j.sha256 WHERE j.sha256 = ?")) {
            q.setString(1, sha256);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? Optional.of(new Job(r.getString(1), r.getString(2), r.getString(3), r.getInt(4) == 1))
                        : Optional.empty();
            }
        }
    }

    /** Marks the previews of {@code sha256} to be made again (one went missing); its job is queued by the caller. */
    void requeue(String sha256) throws SQLException {
        transaction(() -> {
            update("UPDATE media SET preview = 'pending', preview_error = NULL WHERE sha256 = ?", sha256);
            update("UPDATE photos SET preview = 'pending' WHERE sha256 = ?", sha256);
            update("INSERT OR REPLACE INTO jobs (sha256, attempts) VALUES (?, 0)", sha256);
            return null;
        });
    }

    /** Counts one more start of the job and returns how many there have been. */
    synchronized int startJob(String sha256) throws SQLException {
        update("UPDATE jobs SET attempts = attempts + 1 WHERE sha256 = ?", sha256);
        try (PreparedStatement q = db.prepareStatement("SELECT attempts FROM jobs WHERE sha256 = ?")) {
            q.setString(1, sha256);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }

    /** Records how a job ended ({@code ready}, {@code failed} or {@code unsupported}) and removes it. */
    void finishJob(String sha256, String preview, Optional<String> error) throws SQLException {
        transaction(() -> {
            update("UPDATE media SET preview = ?, preview_error = ? WHERE sha256 = ?", preview, error.orElse(null), sha256);
            update("UPDATE photos SET preview = ? WHERE sha256 = ?", preview, sha256);
            update("DELETE FROM jobs WHERE sha256 = ?", sha256);
            return null;
        });
    }

    synchronized Optional<String> previewError(String sha256) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT preview_error FROM media WHERE sha256 = ?")) {
            q.setString(1, sha256);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? Optional.ofNullable(r.getString(1)) : Optional.empty();
            }
        }
    }

    // ---- uploads ------------------------------------------------------------------------

    /** {@code modified}: the file's local wall-clock time, in milliseconds as if it were UTC (as {@code taken_at}). */
    record Upload(String id, String owner, String name, long size, Optional<Long> modified) {
    }

    synchronized void addUpload(Upload u, long now) throws SQLException {
        update("INSERT INTO uploads (id, owner, name, size, modified, created_at) VALUES (?, ?, ?, ?, ?, ?)", u.id(), u.owner(),
                u.name(), u.size(), u.modified().orElse(null), now);
    }

    synchronized Optional<Upload> upload(String id) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT id, owner, name, size, modified FROM uploads WHERE id = ?")) {
            q.setString(1, id);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? Optional.of(new Upload(r.getString(1), r.getString(2), r.getString(3), r.getLong(4),
                        r.getObject(5) == null ? Optional.empty() : Optional.of(r.getLong(5)))) : Optional.empty();
            }
        }
    }

    synchronized void removeUpload(String id) throws SQLException {
        update("DELETE FROM uploads WHERE id = ?", id);
    }

    /** Uploads started before {@code before} and never finished: the caller deletes their parts. */
    synchronized List<String> staleUploads(long before) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("SELECT id FROM uploads WHERE created_at < ?")) {
            q.setLong(1, before);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(r.getString(1));
                }
            }
        }
        return out;
    }

    synchronized long countUploads(String owner) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT count(*) FROM uploads WHERE owner = ?")) {
            q.setString(1, owner);
            try (ResultSet r = q.executeQuery()) {
                return r.getLong(1);
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------

    private int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement u = db.prepareStatement(sql)) {
            bind(u, java.util.Arrays.asList(args));
            return u.executeUpdate();
        }
    }

    private static void bind(PreparedStatement q, List<Object> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            q.setObject(i + 1, args.get(i));
        }
    }

    private static void setText(PreparedStatement q, int i, Optional<String> v) throws SQLException {
        if (v.isPresent()) {
            q.setString(i, v.get());
        } else {
            q.setNull(i, Types.VARCHAR);
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        db.close();
    }
}

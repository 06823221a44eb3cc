package org.intrustd.photos;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resumable uploads: the client declares a file, then sends it in parts, each at the offset
 * the appliance has; after a broken connection it asks for the offset and goes on from there.
 * A part is forced to disk before it is acknowledged, so an acknowledged offset survives a
 * crash. The running hash is kept in memory beside the part file; after a restart it is made
 * again from the file. Uploads left unfinished for {@link #KEPT} are deleted.
 */
final class Uploads {
    static final Duration KEPT = Duration.ofDays(2);
    static final int MAX_OPEN_PER_OWNER = 200;
    private static final SecureRandom RANDOM = new SecureRandom();

    record State(String id, long offset, long size) {
    }

    /** The hash of the first {@code offset} bytes of an upload. */
    private record Running(MessageDigest sha, long offset) {
    }

    private final Photos photos;
    private final Map<String, Running> hashes = new ConcurrentHashMap<>();
    /** One part at a time per upload: two clients appending at once would interleave. */
    private final Map<String, Object> busy = new ConcurrentHashMap<>();

    Uploads(Photos photos) {
        this.photos = photos;
    }

    State create(String owner, String name, long size, Optional<LocalDateTime> modified) throws IOException, SQLException, Photos.Refused {
        if (size <= 0) {
            throw new Photos.Refused(422, "'size' must be at least 1: an empty file is not a photo");
        }
        if (size > Photos.MAX_FILE) {
            throw new Photos.Refused(413, "files over " + (Photos.MAX_FILE >> 30) + " GiB are not taken");
        }
        if (photos.library.countUploads(owner) >= MAX_OPEN_PER_OWNER) {
            throw new Photos.Refused(429, "you have " + MAX_OPEN_PER_OWNER + " unfinished uploads: finish or cancel some first");
        }
        photos.requireSpace(size);
        byte[] raw = new byte[15];
        RANDOM.nextBytes(raw);
        String id = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Files.createFile(photos.files.upload(id));
        photos.library.addUpload(new Library.Upload(id, owner, Photos.label(name), size, modified.map(t -> Library.epoch(t) * 1000)),
                photos.clock().millis());
        return new State(id, 0, size);
    }

    Optional<Library.Upload> find(String owner, String id) throws SQLException {
        return photos.library.upload(id).filter(u -> u.owner().equals(owner))
                .filter(u -> Files.exists(photos.files.upload(u.id())));
    }

    State state(Library.Upload u) throws IOException {
        return new State(u.id(), Files.size(photos.files.upload(u.id())), u.size());
    }

    /** What a part did: the new state, and the photo once the last part is in. */
    record Appended(State state, Optional<Photos.Added> added) {
    }

    /**
     * Appends {@code body} at {@code offset}, which must be the current one (else 409). Bytes
     * beyond the declared size are refused and none of that part is kept.
     */
    Appended append(Library.Upload u, long offset, InputStream body) throws IOException, SQLException, Photos.Refused {
        Object lock = new Object();
        if (busy.putIfAbsent(u.id(), lock) != null) {
            throw new Photos.Refused(409, "another part of this upload is being sent; ask for the offset and resume");
        }
        try {
            Path part = photos.files.upload(u.id());
            try (FileChannel out = FileChannel.open(part, StandardOpenOption.WRITE)) {
                long have = out.size();
                if (offset != have) {
                    throw new Photos.Refused(409, "the upload is at offset " + have + ", not " + offset);
                }
                Running running = hashes.get(u.id());
                MessageDigest sha = running != null && running.offset() == have ? running.sha() : rehash(part, have);
                out.position(have);
                byte[] buf = new byte[256 * 1024];
                long at = have;
                int n;
                while ((n = body.read(buf)) > 0) {
                    if (at + n > u.size()) {
                        out.truncate(have);
                        hashes.remove(u.id());
                        throw new Photos.Refused(413, "the part goes beyond the declared size of " + u.size() + " bytes");
                    }
                    out.write(ByteBuffer.wrap(buf, 0, n));
                    sha.update(buf, 0, n);
                    at += n;
                }
                out.force(false);
                if (at < u.size()) {
                    hashes.put(u.id(), new Running(sha, at));
                    return new Appended(new State(u.id(), at, u.size()), Optional.empty());
                }
                hashes.remove(u.id());
                String hex = HexFormat.of().formatHex(sha.digest());
                // The photo first, then the upload's row: a crash between leaves a row whose part is gone,
                // which reads as a finished upload (find() drops it), never a lost photo.
                Photos.Added added = photos.add(u.owner(), new Photos.Written(part, hex, at), u.name(),
                        u.modified().map(ms -> LocalDateTime.ofEpochSecond(Math.floorDiv(ms, 1000), 0, ZoneOffset.UTC)));
                photos.library.removeUpload(u.id());
                return new Appended(new State(u.id(), at, u.size()), Optional.of(added));
            }
        } finally {
            busy.remove(u.id(), lock);
        }
    }

    void cancel(Library.Upload u) throws IOException, SQLException {
        photos.library.removeUpload(u.id());
        hashes.remove(u.id());
        Files.deleteIfExists(photos.files.upload(u.id()));
    }

    /** Deletes uploads older than {@link #KEPT}, and part files no upload row names (a crash between the two). */
    void sweep() throws IOException, SQLException {
        for (String id : photos.library.staleUploads(photos.clock().millis() - KEPT.toMillis())) {
            photos.library.removeUpload(id);
            hashes.remove(id);
            Files.deleteIfExists(photos.files.upload(id));
        }
        long old = photos.clock().millis() - Duration.ofHours(1).toMillis();
        try (var parts = Files.list(photos.files.uploadsDir())) {
            for (Path p : (Iterable<Path>) parts::iterator) {
                String name = p.getFileName().toString();
                String id = name.endsWith(".part") ? name.substring(0, name.length() - 5) : name;
                if (Files.getLastModifiedTime(p).toMillis() < old && photos.library.upload(id).isEmpty()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static MessageDigest rehash(Path part, long length) throws IOException {
        MessageDigest sha = Photos.sha256();
        try (InputStream in = Files.newInputStream(part)) {
            byte[] buf = new byte[256 * 1024];
            long left = length;
            int n;
            while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
                sha.update(buf, 0, n);
                left -= n;
            }
        }
        return sha;
    }
}

package org.intrustd.photos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The library's operations that touch files as well as rows: adding an uploaded file and
 * emptying the trash. Both run under one lock, so that a file is never deleted while an
 * upload of the same content is deciding that it already exists.
 */
final class Photos {
    /** The largest file taken: a long 4K video. */
    static final long MAX_FILE = 64L << 30;
    /** Uploads need this much free space beyond their own size, so the database can still grow. */
    static final long SPACE_MARGIN = 256L << 20;
    static final Duration TRASH_KEPT = Duration.ofDays(30);

    record Added(Library.Photo photo, boolean duplicate) {
    }

    /** An upload refused for what it is (the client's fault): 413, 415, 422 or 507. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    final Library library;
    final FileStore files;
    private final MediaProbe probe;
    private final PreviewQueue previews;
    private final Clock clock;
    private final Object content = new Object();

    Photos(Library library, FileStore files, MediaProbe probe, PreviewQueue previews, Clock clock) {
        this.library = library;
        this.files = files;
        this.probe = probe;
        this.previews = previews;
        this.clock = clock;
    }

    Clock clock() {
        return clock;
    }

    /** Copies {@code body} (at most {@code declared} bytes when known) to a new temporary file, hashing it on the way. */
    Written receive(InputStream body, long declared) throws IOException, Refused {
        if (declared > MAX_FILE) {
            throw new Refused(413, "files over " + (MAX_FILE >> 30) + " GiB are not taken");
        }
        requireSpace(declared < 0 ? 0 : declared);
        Path temp = files.newTemp(".part");
        MessageDigest sha = sha256();
        long total = 0;
        try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[256 * 1024];
            int n;
            while ((n = body.read(buf)) > 0) {
                total += n;
                if (total > MAX_FILE) {
                    throw new Refused(413, "files over " + (MAX_FILE >> 30) + " GiB are not taken");
                }
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        } catch (IOException | Refused | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        return new Written(temp, HexFormat.of().formatHex(sha.digest()), total);
    }

    /** A complete file in tmp/ or uploads/, with its hash. */
    record Written(Path file, String sha256, long size) {
    }

    /**
     * Adds a received file to {@code owner}'s library, consuming it (moved into place, or
     * deleted). A file the library already has is a duplicate: its photo comes back (out of
     * the trash, if it was there) and nothing is stored twice.
     */
    Added add(String owner, Written w, String name, Optional<LocalDateTime> modified) throws IOException, SQLException, Refused {
        try {
            MediaProbe.Media media;
            try {
                media = probe.probe(w.file());
            } catch (MediaProbe.Rejected e) {
                throw new Refused(422, name + ": " + e.getMessage());
            }
            LocalDateTime takenAt;
            String takenFrom;
            if (media.takenAt().isPresent()) {
                takenAt = media.takenAt().get();
                takenFrom = media.kind().equals("video") ? "video" : "exif";
            } else if (modified.isPresent()) {
                takenAt = modified.get();
                takenFrom = "file";
            } else {
                takenAt = MediaProbe.wallClock(clock.instant());
                takenFrom = "upload";
            }
            synchronized (content) {
                Optional<Library.Photo> existing = library.photoByContent(owner, w.sha256());
                if (existing.isPresent()) {
                    if (existing.get().trashedAt().isPresent()) {
                        library.trash(existing.get().id(), Optional.empty());
                    }
                    return new Added(library.photo(owner, existing.get().id()).orElseThrow(), true);
                }
                if (!library.hasMedia(w.sha256())) {
                    files.publish(w.file(), files.original(w.sha256()));
                }
                Library.Photo photo = library.add(owner, w.sha256(), w.size(), media, name, takenAt, takenFrom,
                        clock.millis());
                previews.submit(w.sha256());
                return new Added(photo, false);
            }
        } finally {
            Files.deleteIfExists(w.file());
        }
    }

    /**
     * A preview file of a photo whose previews are ready, or empty when it has gone missing (a
     * power cut can lose previews: they are not forced to disk), in which case they are remade.
     */
    Optional<Path> preview(Library.Photo photo, String suffix) throws IOException, SQLException {
        Path p = files.derived(photo.sha256(), suffix);
        if (Files.isRegularFile(p) && Files.size(p) > 0) {
            return Optional.of(p);
        }
        library.requeue(photo.sha256());
        previews.submit(photo.sha256());
        return Optional.empty();
    }

    /** Deletes the owner's trash (or what has been there longer than {@link #TRASH_KEPT}); returns how many photos went. */
    int emptyTrash(String owner, boolean onlyOld) throws SQLException, IOException {
        synchronized (content) {
            long before = library.countTrash(owner);
            List<String> orphans = library.emptyTrash(owner,
                    onlyOld ? Optional.of(clock.millis() - TRASH_KEPT.toMillis()) : Optional.empty());
            for (String sha : orphans) {
                files.deleteContent(sha);
            }
            return (int) (before - library.countTrash(owner));
        }
    }

    void requireSpace(long bytes) throws IOException, Refused {
        long free = Files.getFileStore(files.data()).getUsableSpace();
        if (free < bytes + SPACE_MARGIN) {
            throw new Refused(507, "the appliance has " + (free >> 20) + " MiB free, not enough for " + (bytes >> 20)
                    + " MiB more");
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A file name as a label: the last path segment of whatever was sent (so {@code ../../x} is
     * {@code x}), without control characters or lone surrogates, at most 200 UTF-16 units.
     */
    static String label(String raw) {
        if (raw == null) {
            return "photo";
        }
        String s = raw.replace('\\', '/');
        s = s.substring(s.lastIndexOf('/') + 1);
        s = s.replaceAll("[\\p{Cc}\\p{Cs}]", "").strip();
        if (s.equals(".") || s.equals("..")) {
            s = "";
        }
        if (s.length() > 200) {
            // Keep the end (the extension), cut at a code point boundary.
            int start = s.length() - 200;
            s = s.substring(Character.isLowSurrogate(s.charAt(start)) ? start + 1 : start);
        }
        return s.isEmpty() ? "photo" : s;
    }
}

package org.intrustd.photos;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The app's files under its data directory. Originals are named by their SHA-256, so a file
 * is stored once however often it is uploaded; previews sit beside them by the same name.
 * Every file is written in {@code tmp/}, forced to disk and renamed into place, so a reader
 * (or a restart after kill -9) sees a whole file or none.
 */
final class FileStore {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path data;
    private final Path originals;
    private final Path derived;
    private final Path tmp;
    private final Path uploads;

    FileStore(Path data) throws IOException {
        this.data = data;
        originals = Files.createDirectories(data.resolve("originals"));
        derived = Files.createDirectories(data.resolve("derived"));
        tmp = Files.createDirectories(data.resolve("tmp"));
        uploads = Files.createDirectories(data.resolve("uploads"));
        // Whatever is in tmp/ was never published: a write cut short by a crash.
        try (DirectoryStream<Path> left = Files.newDirectoryStream(tmp)) {
            for (Path p : left) {
                Files.deleteIfExists(p);
            }
        }
    }

    Path data() {
        return data;
    }

    Path original(String sha256) {
        return originals.resolve(checked(sha256).substring(0, 2)).resolve(sha256);
    }

    /** A preview of the original {@code sha256}: {@code s.jpg}, {@code l.jpg}, {@code poster.jpg}, {@code play.mp4}. */
    Path derived(String sha256, String suffix) {
        return derived.resolve(checked(sha256) + "-" + suffix);
    }

    Path uploadsDir() {
        return uploads;
    }

    /** The bytes of a resumable upload so far. */
    Path upload(String id) {
        return uploads.resolve(id + ".part");
    }

    /** Where files are written before they are published (cleared at start). */
    Path tmp() {
        return tmp;
    }

    /** A fresh path in {@code tmp/} with {@code suffix} (tools such as vipsthumbnail pick the format from it). */
    Path newTemp(String suffix) {
        byte[] r = new byte[12];
        RANDOM.nextBytes(r);
        return tmp.resolve(HexFormat.of().formatHex(r) + suffix);
    }

    /**
     * Makes {@code written} (a finished file in tmp/ or uploads/) visible as {@code target}:
     * forced to disk, renamed atomically, and the rename itself forced by syncing the directory.
     * An existing target is replaced (the same content, for originals).
     */
    void publish(Path written, Path target) throws IOException {
        try (FileChannel c = FileChannel.open(written, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        rename(written, target);
        syncDirectory(target.getParent());
    }

    /**
     * {@link #publish} without forcing anything to disk, for previews: they can be made again,
     * so a power cut may lose one (a reader that finds it missing has it remade) but a killed
     * process never shows half of one. Saves four disk flushes per photo.
     */
    void publishDerived(Path written, Path target) throws IOException {
        rename(written, target);
    }

    private static void rename(Path written, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        try {
            Files.move(written, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the data directory must be one file system: " + e.getMessage(), e);
        }
    }

    /** Deletes an original and its previews (when no photo uses it any more). */
    void deleteContent(String sha256) throws IOException {
        Files.deleteIfExists(original(sha256));
        for (String suffix : new String[] {"s.jpg", "l.jpg", "poster.jpg", "play.mp4"}) {
            Files.deleteIfExists(derived(sha256, suffix));
        }
    }

    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    private static String checked(String sha256) {
        if (!SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a SHA-256 in hex: " + sha256);
        }
        return sha256;
    }
}

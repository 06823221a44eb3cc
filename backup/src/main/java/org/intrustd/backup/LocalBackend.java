package org.intrustd.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A repository in a local directory. Files are written in {@code tmp/}, forced to disk,
 * renamed into place and the rename forced by syncing the folder, so a crash leaves either
 * the whole file or nothing (and some debris in {@code tmp/}, which {@code prune} clears).
 * Packs go under {@code data/<first two hex digits>/}, so no folder holds millions of files.
 */
public final class LocalBackend implements Backend {
    private static final Pattern NAME = Pattern.compile("[0-9a-f]{64}");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final System.Logger LOG = System.getLogger("intrustd.backup");
    /** The folders of a repository: one per kind of file but the config, and tmp/. */
    private static final java.util.Set<String> LAYOUT = java.util.stream.Stream.concat(
            java.util.Arrays.stream(Kind.values()).filter(k -> k != Kind.CONFIG).map(Kind::folder), java.util.stream.Stream.of("tmp"))
            .collect(java.util.stream.Collectors.toUnmodifiableSet());
    private final Path root;
    /** Packs are written with O_DIRECT until the file system refuses it once (see {@link #put(Kind, String, ByteBuffer)}). */
    private volatile boolean directWrites = !Boolean.getBoolean("intrustd.backup.noDirectIO");

    public LocalBackend(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Makes the folders of a new repository; refuses a folder that has files in it. */
    @Override
    public void create() throws IOException {
        Files.createDirectories(root);
        try (DirectoryStream<Path> d = Files.newDirectoryStream(root)) {
            for (Path p : d) {
                // Only the folders of an init that was cut short (no config yet) may be there already.
                if (!Files.isDirectory(p) || !LAYOUT.contains(p.getFileName().toString())) {
                    throw new BackupException(root + " is not empty: a new repository needs an empty or new folder");
                }
            }
        }
        for (Kind k : Kind.values()) {
            if (k != Kind.CONFIG) {
                Files.createDirectories(root.resolve(k.folder));
            }
        }
        Files.createDirectories(root.resolve("tmp"));
    }

    private Path path(Kind kind, String name) {
        if (kind == Kind.CONFIG) {
            return root.resolve("config");
        }
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a repository file name is 64 hex digits: " + name);
        }
        Path folder = root.resolve(kind.folder);
        return kind == Kind.PACK ? folder.resolve(name.substring(0, 2)).resolve(name) : folder.resolve(name);
    }

    @Override
    public void put(Kind kind, String name, byte[] data) throws IOException {
        Path temp = newTemp();
        try (FileChannel c = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                c.write(b);
            }
        }
        publish(kind, name, temp);
    }

    /**
     * A pack from its {@link PackBuffer} is written with {@code O_DIRECT} where the file system
     * takes it: straight from that memory to the disk, rounded up to whole blocks and cut back
     * to its length. Each pack is forced to disk before it is published anyway, so the write
     * waits no longer; it saves the kernel's copy into the page cache, which was a seventh of a
     * first backup's CPU here, and a backup no longer pushes what the user is working on out of
     * that cache. Where {@code O_DIRECT} is refused (tmpfs, some FUSE file systems) the usual write.
     */
    @Override
    public void put(Kind kind, String name, ByteBuffer data) throws IOException {
        Path temp = newTemp();
        if (!(directWrites && writeDirect(temp, data))) {
            try (FileChannel c = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = data.duplicate();
                while (b.hasRemaining()) {
                    c.write(b);
                }
            }
        }
        publish(kind, name, temp);
    }

    /** Writes {@code data} into the new file {@code temp} with {@code O_DIRECT}; false (and no file) when it cannot be done so. */
    private boolean writeDirect(Path temp, ByteBuffer data) throws IOException {
        int length = data.remaining();
        int blocks = (length + PackBuffer.ALIGN - 1) / PackBuffer.ALIGN * PackBuffer.ALIGN;
        if (!data.isDirect() || data.position() != 0 || data.capacity() < blocks || data.alignmentOffset(0, PackBuffer.ALIGN) != 0) {
            return false;
        }
        try (FileChannel c = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
            ByteBuffer whole = data.duplicate().limit(blocks);
            while (whole.hasRemaining()) {
                c.write(whole);
            }
            c.truncate(length);
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            // EINVAL: this file system takes no direct I/O (or not with this alignment). The usual writes from now on.
            LOG.log(System.Logger.Level.DEBUG, "no direct I/O in {0}: {1}", root, e.toString());
            directWrites = false;
            Files.deleteIfExists(temp);
            return false;
        }
    }

    /** A fresh path in the repository's {@code tmp/}, for a file to {@link #publish}. */
    public Path newTemp() throws IOException {
        byte[] r = new byte[12];
        RANDOM.nextBytes(r);
        Path tmp = Files.createDirectories(root.resolve("tmp"));
        return tmp.resolve(HexFormat.of().formatHex(r));
    }

    /** Makes a finished file in {@code tmp/} the repository file {@code name}: forced to disk, renamed, the rename forced. */
    public void publish(Kind kind, String name, Path temp) throws IOException {
        Path target = path(kind, name);
        try (FileChannel c = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        try {
            Files.createDirectories(target.getParent());
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(temp);
            throw new IOException("a repository must be on one file system: " + e.getMessage(), e);
        }
        syncFolder(target.getParent());
    }

    private static void syncFolder(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    @Override
    public byte[] get(Kind kind, String name) throws IOException {
        return Files.readAllBytes(path(kind, name));
    }

    @Override
    public byte[] read(Kind kind, String name, long offset, int length) throws IOException {
        try (FileChannel c = FileChannel.open(path(kind, name), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate((int) Math.max(0, Math.min(length, c.size() - offset)));
            while (b.hasRemaining()) {
                if (c.read(b, offset + b.position()) < 0) {
                    break;
                }
            }
            return b.array();
        }
    }

    @Override
    public void read(Kind kind, String name, long offset, ByteBuffer into) throws IOException {
        try (FileChannel c = FileChannel.open(path(kind, name), StandardOpenOption.READ)) {
            long at = offset;
            while (into.hasRemaining()) {
                int n = c.read(into, at);
                if (n < 0) {
                    break;
                }
                at += n;
            }
        }
    }

    @Override
    public long size(Kind kind, String name) throws IOException {
        return Files.size(path(kind, name));
    }

    @Override
    public boolean exists(Kind kind, String name) {
        return Files.exists(path(kind, name));
    }

    @Override
    public List<String> list(Kind kind) throws IOException {
        List<String> out = new ArrayList<>();
        if (kind == Kind.CONFIG) {
            if (Files.exists(root.resolve("config"))) {
                out.add("config");
            }
            return out;
        }
        Path folder = root.resolve(kind.folder);
        if (kind == Kind.PACK) {
            try (DirectoryStream<Path> subs = Files.newDirectoryStream(folder)) {
                for (Path sub : subs) {
                    addNames(sub, out);
                }
            }
        } else {
            addNames(folder, out);
        }
        return out;
    }

    private static void addNames(Path folder, List<String> out) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (NAME.matcher(n).matches()) {
                    out.add(n);
                }
            }
        } catch (NoSuchFileException e) {
            // An empty repository may lack a folder.
        }
    }

    @Override
    public void delete(Kind kind, String name) throws IOException {
        Files.deleteIfExists(path(kind, name));
    }

    @Override
    public String location() {
        return root.toString();
    }
}

package org.intrustd.backup;

import java.io.IOException;
import java.util.List;

/**
 * Where a repository's files live: a local directory, or the backups app of an appliance
 * through the link. It stores opaque named files of a few kinds and never sees a key. A
 * {@link #put} is atomic and durable when it returns: a reader sees the whole file or none.
 * Implementations are thread-safe.
 */
public interface Backend extends AutoCloseable {
    /** The kinds of file, each in its own folder (docs/spec/backup-repository.md). */
    enum Kind {
        CONFIG("config"), KEY("keys"), PACK("data"), INDEX("index"), SNAPSHOT("snapshots"), LOCK("locks");

        final String folder;

        Kind(String folder) {
            this.folder = folder;
        }

        /** The folder (for the config, the file) this kind lives in; also its name in the backups app's URLs. */
        public String folder() {
            return folder;
        }

        public static java.util.Optional<Kind> ofFolder(String folder) {
            for (Kind k : values()) {
                if (k.folder.equals(folder)) {
                    return java.util.Optional.of(k);
                }
            }
            return java.util.Optional.empty();
        }
    }

    /** Makes an empty repository's place; refuses one where files already are. */
    void create() throws IOException;

    /** Stores a whole file (replacing one of the same name). */
    void put(Kind kind, String name, byte[] data) throws IOException;

    /** Stores {@code data}'s remaining bytes as {@link #put(Kind, String, byte[])} does (a pack, from its {@link PackBuffer}). */
    default void put(Kind kind, String name, java.nio.ByteBuffer data) throws IOException {
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        put(kind, name, bytes);
    }

    byte[] get(Kind kind, String name) throws IOException;

    /** {@code length} bytes from {@code offset} (fewer only at the end of the file). */
    byte[] read(Kind kind, String name, long offset, int length) throws IOException;

    /** {@code into.remaining()} bytes from {@code offset} into {@code into} (fewer only at the end of the file: its position says). */
    default void read(Kind kind, String name, long offset, java.nio.ByteBuffer into) throws IOException {
        into.put(read(kind, name, offset, into.remaining()));
    }

    long size(Kind kind, String name) throws IOException;

    boolean exists(Kind kind, String name) throws IOException;

    List<String> list(Kind kind) throws IOException;

    void delete(Kind kind, String name) throws IOException;

    /**
     * Every file of a kind with its bytes (for the small kinds: keys, index files, snapshots,
     * locks), in one go where the store can (one exchange over the link, not one per file).
     * A file deleted meanwhile is left out.
     */
    default java.util.Map<String, byte[]> getAll(Kind kind) throws IOException {
        java.util.Map<String, byte[]> out = new java.util.LinkedHashMap<>();
        for (String name : list(kind)) {
            try {
                out.put(name, get(kind, name));
            } catch (java.nio.file.NoSuchFileException e) {
                // deleted since the listing
            }
        }
        return out;
    }

    /** Where it is, for messages. */
    String location();

    @Override
    default void close() throws IOException {
    }
}

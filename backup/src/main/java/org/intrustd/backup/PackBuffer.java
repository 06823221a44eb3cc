package org.intrustd.backup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A pack being filled (see {@link Pack} for the format), in native memory aligned for direct
 * I/O: sealed blobs are appended, then {@link #close} adds the header and gives the bytes, which
 * are hashed for the pack's name and written out where they are. A first backup writes every
 * byte it stores through here; assembling packs in a heap array cost three more copies of them
 * (the array grown and copied out, native memory for the hash, the JDK's own buffer for the
 * write), and the kernel's copy into the page cache is saved too when {@link LocalBackend}
 * writes with {@code O_DIRECT}. Reused for pack after pack ({@link #clear}). Not thread-safe.
 */
final class PackBuffer {
    /** Memory and file alignment for direct I/O (the page size; any block size up to it divides it). */
    static final int ALIGN = 4096;

    private ByteBuffer buffer;
    private List<Pack.Entry> entries = new ArrayList<>();

    /** Room for {@code capacity} bytes before it grows (a pack's size, and the largest blob past it). */
    PackBuffer(int capacity) {
        buffer = allocate(capacity);
    }

    private static ByteBuffer allocate(long capacity) {
        int rounded = (int) Math.min(Integer.MAX_VALUE - 2L * ALIGN, (capacity + ALIGN - 1) / ALIGN * ALIGN);
        return ByteBuffer.allocateDirect(rounded + ALIGN).alignedSlice(ALIGN); // its capacity a multiple of ALIGN
    }

    /** The bytes of the blobs so far. */
    int size() {
        return buffer.position();
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Appends a sealed blob ({@code sealed[off, off+len)}) of {@code type}, {@code id} and plaintext length {@code rawLength}. */
    void add(byte type, BlobId id, byte[] sealed, int off, int len, int rawLength) {
        room(len);
        entries.add(new Pack.Entry(type, id, buffer.position(), len, rawLength));
        buffer.put(sealed, off, len);
    }

    private void room(long more) {
        if (buffer.remaining() < more) {
            ByteBuffer bigger = allocate(Math.max(buffer.position() + more, 2L * buffer.capacity()));
            bigger.put(buffer.flip());
            buffer = bigger;
        }
    }

    /** The blobs' entries, in their order in the pack. */
    List<Pack.Entry> entries() {
        return entries;
    }

    /**
     * Appends the sealed header and its length; returns the whole pack (position 0, limit its
     * length, and a capacity that rounds the length up to {@link #ALIGN}).
     */
    ByteBuffer close(Crypto crypto) {
        byte[] header = crypto.seal(Pack.encodeEntries(entries), Pack.HEADER_AD);
        room(header.length + 4L);
        buffer.put(header).order(ByteOrder.LITTLE_ENDIAN).putInt(header.length).order(ByteOrder.BIG_ENDIAN);
        int length = buffer.position();
        int rounded = (length + ALIGN - 1) / ALIGN * ALIGN;
        return buffer.slice(0, rounded).limit(length);
    }

    /** Empty again, for the next pack. */
    void clear() {
        buffer.clear();
        entries = new ArrayList<>();
    }
}

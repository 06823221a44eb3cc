package org.intrustd.backup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The pack format. A pack is sealed blobs one after another, then a sealed header listing
 * them, then the header's length:
 * <pre>
 *   blob₁ ‖ … ‖ blobₙ ‖ sealed header ‖ u32 LE length of the sealed header
 *   header entry (45 bytes): type u8 (1 data, 2 tree) ‖ id (32) ‖ offset u32 LE ‖ length u32 LE ‖ raw length u32 LE
 *   blob = seal(compression u8 (0 none, 1 zstd) ‖ bytes), associated data type ‖ id
 * </pre>
 * The header is sealed with associated data {@code "intrustd-backup pack header v1"}. A
 * pack's name is the SHA-256 of all its bytes, so a damaged pack shows without any key.
 */
final class Pack {
    static final byte DATA = 1;
    static final byte TREE = 2;
    static final int ENTRY = 1 + 32 + 4 + 4 + 4;
    static final byte[] HEADER_AD = "intrustd-backup pack header v1".getBytes(StandardCharsets.US_ASCII);
    /** Header entries a pack may claim: 64 MiB packs of 64-byte blobs, at most. */
    static final int MAX_ENTRIES = 1 << 20;

    private Pack() {
    }

    /** A blob's place in its pack. */
    record Entry(byte type, BlobId id, int offset, int length, int rawLength) {
    }

    static byte[] associated(byte type, BlobId id) {
        byte[] ad = new byte[33];
        ad[0] = type;
        System.arraycopy(id.bytes(), 0, ad, 1, 32);
        return ad;
    }

    static byte[] encodeEntries(List<Entry> entries) {
        ByteBuffer b = ByteBuffer.allocate(entries.size() * ENTRY).order(ByteOrder.LITTLE_ENDIAN);
        for (Entry e : entries) {
            b.put(e.type()).put(e.id().bytes()).putInt(e.offset()).putInt(e.length()).putInt(e.rawLength());
        }
        return b.array();
    }

    static List<Entry> decodeEntries(ByteBuffer b, int count, String what) {
        if (count < 0 || count > MAX_ENTRIES || b.remaining() < (long) count * ENTRY) {
            throw new BackupException.Corrupt(what + " claims " + count + " blobs that it does not hold");
        }
        b.order(ByteOrder.LITTLE_ENDIAN);
        List<Entry> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte type = b.get();
            byte[] id = new byte[32];
            b.get(id);
            int offset = b.getInt();
            int length = b.getInt();
            int raw = b.getInt();
            if ((type != DATA && type != TREE) || offset < 0 || length < Crypto.OVERHEAD + 1 || raw < 0) {
                throw new BackupException.Corrupt(what + " has a malformed entry " + i);
            }
            out.add(new Entry(type, new BlobId(id), offset, length, raw));
        }
        return out;
    }

    /** The entries of a whole pack, from its header; checks that they tile the bytes before it. */
    static List<Entry> header(byte[] pack, Crypto crypto, String name) {
        return header(ByteBuffer.wrap(pack), crypto, name);
    }

    /**
     * The same from a buffer holding the whole pack (from 0 to its limit). A direct buffer's
     * header is decrypted where it is (see {@link Crypto#open(ByteBuffer, int, int, byte[], String)}).
     */
    static List<Entry> header(ByteBuffer pack, Crypto crypto, String name) {
        int length = pack.limit();
        if (length < 4 + Crypto.OVERHEAD) {
            throw new BackupException.Corrupt("pack " + name + " is too short");
        }
        int headerLength = pack.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(length - 4);
        if (headerLength < Crypto.OVERHEAD || headerLength > length - 4) {
            throw new BackupException.Corrupt("pack " + name + " has a header length out of range");
        }
        int headerAt = length - 4 - headerLength;
        ByteBuffer plain = crypto.open(pack, headerAt, headerLength, HEADER_AD, "the header of pack " + name);
        if (plain.remaining() % ENTRY != 0) {
            throw new BackupException.Corrupt("the header of pack " + name + " is not whole entries");
        }
        List<Entry> entries = decodeEntries(plain, plain.remaining() / ENTRY, "pack " + name);
        long at = 0;
        for (Entry e : entries) {
            if (e.offset() != at) {
                throw new BackupException.Corrupt("pack " + name + " has blobs that overlap or leave gaps");
            }
            at += e.length();
        }
        if (at != headerAt) {
            throw new BackupException.Corrupt("pack " + name + ": its blobs do not end where its header starts");
        }
        return entries;
    }
}

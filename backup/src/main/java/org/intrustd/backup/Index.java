package org.intrustd.backup;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where every blob is: the union of the repository's index files, in memory. An index
 * file lists packs and their header entries, so a backup learns what the repository holds
 * without reading a pack:
 * <pre>
 *   version u8 (1) ‖ u32 LE n ‖ n × superseded index name (32)
 *   then to the end: pack name (32) ‖ u32 LE count ‖ count × pack header entry (45 bytes, see {@link Pack})
 * </pre>
 * sealed with associated data {@code "intrustd-backup index v1"}; the file's name is the
 * SHA-256 of its stored bytes. Superseded files (a prune's rewrite) may be deleted once the
 * new one is stored. Thread-safe.
 */
final class Index {
    static final byte[] AD = "intrustd-backup index v1".getBytes(StandardCharsets.US_ASCII);

    /** A blob's place: which pack, and its entry there. */
    record Location(String pack, Pack.Entry entry) {
    }

    /** One index file's content. */
    record File(List<String> supersedes, Map<String, List<Pack.Entry>> packs) {
    }

    private final Map<BlobId, Location> blobs = new ConcurrentHashMap<>();
    private final Map<String, List<Pack.Entry>> packs = new ConcurrentHashMap<>();

    void add(String pack, List<Pack.Entry> entries) {
        packs.put(pack, entries);
        for (Pack.Entry e : entries) {
            blobs.putIfAbsent(e.id(), new Location(pack, e));
        }
    }

    java.util.Optional<Location> find(BlobId id) {
        return java.util.Optional.ofNullable(blobs.get(id));
    }

    boolean has(BlobId id) {
        return blobs.containsKey(id);
    }

    Map<String, List<Pack.Entry>> packs() {
        return packs;
    }

    int blobCount() {
        return blobs.size();
    }

    static byte[] encode(File f) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) 1).putInt(f.supersedes().size());
        out.writeBytes(head.array());
        HexFormat hex = HexFormat.of();
        for (String s : f.supersedes()) {
            out.writeBytes(hex.parseHex(s));
        }
        for (var p : f.packs().entrySet()) {
            out.writeBytes(hex.parseHex(p.getKey()));
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(p.getValue().size()).array());
            out.writeBytes(Pack.encodeEntries(p.getValue()));
        }
        return out.toByteArray();
    }

    static File decode(byte[] plain, String name) {
        ByteBuffer b = ByteBuffer.wrap(plain).order(ByteOrder.LITTLE_ENDIAN);
        String what = "index " + name;
        if (b.remaining() < 5 || b.get() != 1) {
            throw new BackupException.Corrupt(what + " is not a version 1 index");
        }
        int n = b.getInt();
        if (n < 0 || (long) n * 32 > b.remaining()) {
            throw new BackupException.Corrupt(what + " is cut short");
        }
        HexFormat hex = HexFormat.of();
        List<String> supersedes = new ArrayList<>();
        byte[] id = new byte[32];
        for (int i = 0; i < n; i++) {
            b.get(id);
            supersedes.add(hex.formatHex(id));
        }
        Map<String, List<Pack.Entry>> packs = new java.util.LinkedHashMap<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 36) {
                throw new BackupException.Corrupt(what + " is cut short");
            }
            b.get(id);
            String pack = hex.formatHex(id);
            int count = b.getInt();
            packs.put(pack, Pack.decodeEntries(b, count, what));
        }
        return new File(supersedes, packs);
    }
}

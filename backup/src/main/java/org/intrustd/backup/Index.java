package org.intrustd.backup;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    /*
     * The blobs in a flat open-addressing table, not a map of objects: 49 bytes a blob in
     * parallel arrays (id as four longs, pack number, offset, stored and plain lengths, type),
     * about 70 with the table's slack, against some 180 for boxed entries in a HashMap. A
     * repository of 1 TiB in 1 MiB chunks needs about 70 MiB. A blob stored in two packs (two
     * backups racing, or one that was cut short and ran again) is found in the first; its other
     * copies are kept aside, so that a pack's full list (check, prune) is still known.
     */
    private static final int EMPTY = -1;
    private final List<String> packNames = new ArrayList<>();
    private final Map<String, Integer> packNumbers = new HashMap<>();
    private final List<Location> copies = new ArrayList<>();
    private long[] ids = new long[4 * 1024];
    private int[] pack = filled(1024);
    private int[] offset = new int[1024];
    private int[] length = new int[1024];
    private int[] raw = new int[1024];
    private byte[] type = new byte[1024];
    private int size;

    private static int[] filled(int n) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, EMPTY);
        return a;
    }

    synchronized void add(String packName, List<Pack.Entry> entries) {
        Integer number = packNumbers.get(packName);
        if (number == null) {
            number = packNames.size();
            packNames.add(packName);
            packNumbers.put(packName, number);
        }
        for (Pack.Entry e : entries) {
            if ((size + 1) * 10L > pack.length * 7L) {
                grow();
            }
            int slot = slot(e.id().bytes());
            if (pack[slot] == EMPTY) {
                put(slot, e, number);
                size++;
            } else if (pack[slot] != number || offset[slot] != e.offset()) {
                copies.add(new Location(packName, e));
            }
        }
    }

    private void put(int slot, Pack.Entry e, int number) {
        ByteBuffer b = ByteBuffer.wrap(e.id().bytes());
        for (int i = 0; i < 4; i++) {
            ids[4 * slot + i] = b.getLong();
        }
        pack[slot] = number;
        offset[slot] = e.offset();
        length[slot] = e.length();
        raw[slot] = e.rawLength();
        type[slot] = e.type();
    }

    /** The slot of {@code id}: where it is, or the empty one where it would go (linear probing). */
    private int slot(byte[] id) {
        ByteBuffer b = ByteBuffer.wrap(id);
        long a0 = b.getLong();
        long a1 = b.getLong();
        long a2 = b.getLong();
        long a3 = b.getLong();
        int mask = pack.length - 1;
        // Ids are MAC outputs: their first bits are as good a hash as any.
        int i = (int) (a0 ^ (a0 >>> 32)) & mask;
        while (pack[i] != EMPTY && !(ids[4 * i] == a0 && ids[4 * i + 1] == a1 && ids[4 * i + 2] == a2 && ids[4 * i + 3] == a3)) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        long[] oldIds = ids;
        int[] oldPack = pack;
        int[] oldOffset = offset;
        int[] oldLength = length;
        int[] oldRaw = raw;
        byte[] oldType = type;
        int n = oldPack.length * 2;
        ids = new long[4 * n];
        pack = filled(n);
        offset = new int[n];
        length = new int[n];
        raw = new int[n];
        type = new byte[n];
        for (int s = 0; s < oldPack.length; s++) {
            if (oldPack[s] != EMPTY) {
                Pack.Entry e = new Pack.Entry(oldType[s], idAt(oldIds, s), oldOffset[s], oldLength[s], oldRaw[s]);
                put(slot(e.id().bytes()), e, oldPack[s]);
            }
        }
    }

    private static BlobId idAt(long[] ids, int slot) {
        ByteBuffer b = ByteBuffer.allocate(32);
        for (int i = 0; i < 4; i++) {
            b.putLong(ids[4 * slot + i]);
        }
        return new BlobId(b.array());
    }

    synchronized java.util.Optional<Location> find(BlobId id) {
        int s = slot(id.bytes());
        if (pack[s] == EMPTY) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Location(packNames.get(pack[s]), new Pack.Entry(type[s], id, offset[s], length[s], raw[s])));
    }

    synchronized boolean has(BlobId id) {
        return pack[slot(id.bytes())] != EMPTY;
    }

    /** Every pack with all its entries in pack order (built on demand, for check and prune). */
    synchronized Map<String, List<Pack.Entry>> packs() {
        List<List<Pack.Entry>> lists = new ArrayList<>();
        for (int i = 0; i < packNames.size(); i++) {
            lists.add(new ArrayList<>());
        }
        for (int s = 0; s < pack.length; s++) {
            if (pack[s] != EMPTY) {
                lists.get(pack[s]).add(new Pack.Entry(type[s], idAt(ids, s), offset[s], length[s], raw[s]));
            }
        }
        for (Location c : copies) {
            lists.get(packNumbers.get(c.pack())).add(c.entry());
        }
        Map<String, List<Pack.Entry>> out = new LinkedHashMap<>();
        for (int i = 0; i < packNames.size(); i++) {
            List<Pack.Entry> l = lists.get(i);
            l.sort(java.util.Comparator.comparingInt(Pack.Entry::offset));
            out.put(packNames.get(i), l);
        }
        return out;
    }

    synchronized int blobCount() {
        return size;
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
        Map<String, List<Pack.Entry>> packs = new LinkedHashMap<>();
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

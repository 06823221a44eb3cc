package org.intrustd.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Saves blobs for a backup: each new blob is compressed, sealed and appended to the pack
 * being filled; a full pack is stored by the thread that filled it (so one worker waits on
 * the disk while the others go on). Packs stored are listed in an index file every
 * {@value #PACKS_PER_INDEX} packs and at {@link #finish}, so a backup cut short still tells
 * the next one what it already stored. A blob already in the repository, or already being
 * saved by another thread, is not saved again. Thread-safe.
 */
final class Packer {
    static final int PACKS_PER_INDEX = 32;

    private final Repository repo;
    private final Index index;
    private final Map<BlobId, Boolean> saving = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    /** The pack being filled; none before the first new blob (an incremental backup may have none). */
    private PackBuffer pack;
    /** Buffers of packs stored, for the next ones: no more of them than threads that store at once, plus one. */
    private final java.util.Queue<PackBuffer> spare = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Map<String, List<Pack.Entry>> unindexed = new LinkedHashMap<>();
    final AtomicLong blobsAdded = new AtomicLong();
    final AtomicLong bytesAdded = new AtomicLong();
    final AtomicLong storedAdded = new AtomicLong();

    Packer(Repository repo) throws IOException {
        this.repo = repo;
        this.index = repo.index();
    }

    private PackBuffer newBuffer() {
        PackBuffer b = spare.poll();
        return b != null ? b : new PackBuffer(repo.config().packSize() + (1 << 20));
    }

    /** Saves {@code plain} as a blob of {@code type} unless the repository has it; returns its id. */
    BlobId save(byte type, byte[] plain) throws IOException {
        BlobId id = repo.crypto().id(plain);
        if (index.has(id) || saving.putIfAbsent(id, Boolean.TRUE) != null) {
            return id;
        }
        byte[] sealed = repo.sealBlob(type, id, plain);
        blobsAdded.incrementAndGet();
        bytesAdded.addAndGet(plain.length);
        storedAdded.addAndGet(sealed.length);
        PackBuffer full = null;
        synchronized (lock) {
            if (pack == null) {
                pack = newBuffer();
            }
            pack.add(type, id, sealed, 0, sealed.length, plain.length);
            if (pack.size() >= repo.config().packSize()) {
                full = pack;
                pack = newBuffer();
            }
        }
        if (full != null) {
            store(full);
        }
        return id;
    }

    private void store(PackBuffer full) throws IOException {
        int blobs = full.size();
        List<Pack.Entry> list = full.entries();
        ByteBuffer all = full.close(repo.crypto());
        storedAdded.addAndGet(all.remaining() - blobs);
        String name = Repository.sha256(all);
        repo.backend().put(Backend.Kind.PACK, name, all);
        full.clear();
        spare.add(full);
        Map<String, List<Pack.Entry>> toIndex = null;
        synchronized (unindexed) {
            unindexed.put(name, list);
            if (unindexed.size() >= PACKS_PER_INDEX) {
                toIndex = new LinkedHashMap<>(unindexed);
                unindexed.clear();
            }
        }
        if (toIndex != null) {
            saveIndex(toIndex);
        }
    }

    private void saveIndex(Map<String, List<Pack.Entry>> packs) throws IOException {
        repo.saveIndex(new Index.File(List.of(), packs));
        packs.forEach(index::add);
    }

    /** Stores the last pack and the index of every pack not yet in one. */
    void finish() throws IOException {
        PackBuffer last;
        synchronized (lock) {
            last = pack;
            pack = null;
        }
        if (last != null && !last.isEmpty()) {
            store(last);
        }
        Map<String, List<Pack.Entry>> rest;
        synchronized (unindexed) {
            rest = new LinkedHashMap<>(unindexed);
            unindexed.clear();
        }
        if (!rest.isEmpty()) {
            saveIndex(rest);
        }
    }
}

package org.intrustd.backup;

import java.nio.ByteBuffer;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Frees what no snapshot needs, under an exclusive lock. It marks every blob the snapshots
 * reach, then: packs with nothing marked are deleted; packs with at least
 * {@value #REPACK_UNUSED_PERCENT}% unused bytes are repacked (their marked blobs, verified,
 * go into new packs); the rest stay. The steps are ordered so that a crash anywhere leaves a
 * repository that checks: new packs, then one new index of everything kept (naming the index
 * files it supersedes), then the old index files, then the packs no index names any more
 * (packs left by crashed backups among them), then debris in {@code tmp/}.
 */
public final class Prune {
    static final int REPACK_UNUSED_PERCENT = 20;

    /** What a prune did. */
    public record Result(int packsUnused, int packsRepacked, int packsWritten, int packsRemoved, long bytesFreed) {
    }

    private Prune() {
    }

    public static Result run(Repository repo) throws IOException {
        try (Lock lock = repo.lock(true, "prune")) {
            // What another process wrote before this lock was taken.
            repo.forgetIndex();
            return prune(repo);
        }
    }

    private static Result prune(Repository repo) throws IOException {
        Backend b = repo.backend();
        // Everything the snapshots reach.
        Index index = repo.index();
        Set<BlobId> used = new HashSet<>();
        for (Snapshot s : repo.snapshots()) {
            Deque<BlobId> trees = new ArrayDeque<>();
            trees.add(BlobId.parse(s.tree()));
            while (!trees.isEmpty()) {
                BlobId t = trees.pop();
                if (!used.add(t)) {
                    continue;
                }
                for (Tree.Node n : repo.tree(t).nodes()) {
                    if (n.isDir() && n.subtree() != null) {
                        trees.add(BlobId.parse(n.subtree()));
                    } else if (n.isFile() && n.content() != null) {
                        n.content().forEach(c -> used.add(BlobId.parse(c)));
                    }
                }
            }
        }
        for (BlobId u : used) {
            if (!index.has(u)) {
                throw new BackupException("a snapshot needs blob " + u.hex().substring(0, 16) + ", which no index names: run check;"
                        + " prune stops so as not to make it worse");
            }
        }
        // Sort packs: keep, repack, delete. A blob stored twice is kept where the index found it first.
        Map<String, List<Pack.Entry>> packs = index.packs();
        Map<String, List<Pack.Entry>> keep = new LinkedHashMap<>();
        List<String> repack = new ArrayList<>();
        List<String> delete = new ArrayList<>();
        long freed = 0;
        for (var p : packs.entrySet()) {
            long total = 0;
            long unused = 0;
            for (Pack.Entry e : p.getValue()) {
                total += e.length();
                Index.Location at = index.find(e.id()).orElseThrow();
                if (!used.contains(e.id()) || !at.pack().equals(p.getKey())) {
                    unused += e.length();
                }
            }
            if (unused == total) {
                delete.add(p.getKey());
                freed += total;
            } else if (unused * 100 >= total * REPACK_UNUSED_PERCENT) {
                repack.add(p.getKey());
                freed += unused;
            } else {
                keep.put(p.getKey(), p.getValue());
            }
        }
        List<String> oldIndexes = b.list(Backend.Kind.INDEX);
        // 1. Repack: the used blobs of each, verified, into new packs.
        Map<String, List<Pack.Entry>> written = new LinkedHashMap<>();
        PackBuilder builder = new PackBuilder(repo, written);
        for (String pack : repack) {
            byte[] bytes = b.get(Backend.Kind.PACK, pack);
            for (Pack.Entry e : packs.get(pack)) {
                if (used.contains(e.id()) && index.find(e.id()).orElseThrow().pack().equals(pack)) {
                    repo.openBlob(bytes, e.offset(), e, pack); // never copy a damaged blob
                    builder.add(e, bytes);
                }
            }
        }
        builder.flush();
        keep.putAll(written);
        // 2. One index of everything kept, superseding the old ones.
        repo.saveIndex(new Index.File(oldIndexes, keep));
        // 3. The old index files.
        for (String old : oldIndexes) {
            b.delete(Backend.Kind.INDEX, old);
        }
        // 4. Packs no index names: deleted and repacked ones, and any left by a crashed backup.
        Set<String> indexed = new HashSet<>(keep.keySet());
        int deleted = 0;
        for (String pack : b.list(Backend.Kind.PACK)) {
            if (!indexed.contains(pack)) {
                b.delete(Backend.Kind.PACK, pack);
                deleted++;
            }
        }
        if (b instanceof LocalBackend local) {
            try (var debris = java.nio.file.Files.list(local.root().resolve("tmp"))) {
                for (var p : debris.toList()) {
                    java.nio.file.Files.deleteIfExists(p);
                }
            }
        }
        repo.forgetIndex();
        return new Result(delete.size(), repack.size(), written.size(), deleted, freed);
    }

    /** Writes blobs copied from other packs into new packs of the configured size. */
    private static final class PackBuilder {
        private final Repository repo;
        private final Map<String, List<Pack.Entry>> written;
        private final PackBuffer pack;

        PackBuilder(Repository repo, Map<String, List<Pack.Entry>> written) {
            this.repo = repo;
            this.written = written;
            this.pack = new PackBuffer(repo.config().packSize() + (1 << 20));
        }

        void add(Pack.Entry e, byte[] from) throws IOException {
            pack.add(e.type(), e.id(), from, e.offset(), e.length(), e.rawLength());
            if (pack.size() >= repo.config().packSize()) {
                flush();
            }
        }

        void flush() throws IOException {
            if (pack.isEmpty()) {
                return;
            }
            List<Pack.Entry> entries = pack.entries();
            ByteBuffer all = pack.close(repo.crypto());
            String name = Repository.sha256(all);
            repo.backend().put(Backend.Kind.PACK, name, all);
            written.put(name, entries);
            pack.clear();
        }
    }
}

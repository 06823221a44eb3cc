package org.intrustd.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a repository: every index file opens; every pack an index names exists with the
 * size its entries add up to; every snapshot opens and every tree and chunk it reaches is
 * indexed. With {@code readData}, every pack is read whole: its name must be the SHA-256 of
 * its bytes, its header must match the index, and every blob must open and match its id.
 * Problems are collected, not thrown: one damaged pack does not hide another.
 */
public final class Check {
    /** What was checked and what is wrong ({@code errors}) or merely untidy ({@code notes}, e.g. packs no index names). */
    public record Result(int snapshots, int packs, long blobs, long packsRead, List<String> errors, List<String> notes) {
        public boolean ok() {
            return errors.isEmpty();
        }
    }

    private Check() {
    }

    public static Result run(Repository repo, boolean readData) throws IOException {
        List<String> errors = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Backend b = repo.backend();
        // Index files, one by one (Repository.index() would stop at the first bad one).
        Index index = new Index();
        for (var stored : b.getAll(Backend.Kind.INDEX).entrySet()) {
            try {
                repo.indexFile(stored.getKey(), stored.getValue()).packs().forEach(index::add);
            } catch (BackupException e) {
                errors.add(e.getMessage());
            }
        }
        Set<String> stored = new HashSet<>(b.list(Backend.Kind.PACK));
        Map<String, List<Pack.Entry>> packs = index.packs();
        Map<String, Long> expectedSize = new HashMap<>();
        for (var p : packs.entrySet()) {
            long size = 4;
            for (Pack.Entry e : p.getValue()) {
                size = Math.max(size, (long) e.offset() + e.length());
            }
            expectedSize.put(p.getKey(), size);
            if (!stored.contains(p.getKey())) {
                errors.add("pack " + p.getKey().substring(0, 16) + " is in the index but missing");
            } else if (b.size(Backend.Kind.PACK, p.getKey()) < size + Crypto.OVERHEAD + 4) {
                errors.add("pack " + p.getKey().substring(0, 16) + " is shorter than its index says");
            }
        }
        for (String p : stored) {
            if (!packs.containsKey(p)) {
                notes.add("pack " + p.substring(0, 16) + " is in no index (left by an interrupted backup; prune removes it)");
            }
        }
        // Snapshots and everything they reach.
        int snapshots = 0;
        Set<BlobId> seenTrees = new HashSet<>();
        for (var file : b.getAll(Backend.Kind.SNAPSHOT).entrySet()) {
            Snapshot s;
            try {
                s = repo.snapshot(file.getKey(), file.getValue());
                snapshots++;
            } catch (BackupException e) {
                errors.add(e.getMessage());
                continue;
            }
            Deque<BlobId> trees = new ArrayDeque<>();
            trees.add(BlobId.parse(s.tree()));
            while (!trees.isEmpty()) {
                BlobId t = trees.pop();
                if (!seenTrees.add(t)) {
                    continue;
                }
                if (!index.has(t)) {
                    errors.add("snapshot " + s.shortId() + ": tree " + t.hex().substring(0, 16) + " is in no index");
                    continue;
                }
                Tree tree;
                try {
                    tree = repo.tree(t);
                } catch (BackupException e) {
                    errors.add("snapshot " + s.shortId() + ": " + e.getMessage());
                    continue;
                }
                for (Tree.Node n : tree.nodes()) {
                    if (n.isDir() && n.subtree() != null) {
                        trees.add(BlobId.parse(n.subtree()));
                    } else if (n.isFile() && n.content() != null) {
                        for (String c : n.content()) {
                            if (!index.has(BlobId.parse(c))) {
                                errors.add("snapshot " + s.shortId() + ": " + n.name() + ": chunk " + c.substring(0, 16)
                                        + " is in no index");
                            }
                        }
                    }
                }
            }
        }
        long read = 0;
        if (readData) {
            List<Map.Entry<String, List<Pack.Entry>>> toRead = packs.entrySet().stream().filter(p -> stored.contains(p.getKey())).toList();
            read = toRead.size();
            errors.addAll(readPacks(repo, toRead));
        }
        return new Result(snapshots, packs.size(), index.blobCount(), read, errors, notes);
    }

    /**
     * Reads every pack whole, a pack per worker at a time (as many workers as cores, at most
     * four), each into its worker's native buffer, where its blobs are then opened (as a restore
     * does); the errors in the packs' order.
     */
    private static List<String> readPacks(Repository repo, List<Map.Entry<String, List<Pack.Entry>>> packs) throws IOException {
        int threads = Math.clamp(Runtime.getRuntime().availableProcessors(), 1, 4);
        ThreadLocal<DirectBuffer> whole = ThreadLocal.withInitial(DirectBuffer::new);
        ThreadLocal<DirectBuffer> plain = ThreadLocal.withInitial(DirectBuffer::new);
        var workers = java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "check-worker");
            t.setDaemon(true);
            return t;
        });
        try {
            List<java.util.concurrent.Future<List<String>>> each = new ArrayList<>();
            for (var p : packs) {
                each.add(workers.submit(() -> readPack(repo, p.getKey(), p.getValue(), whole.get(), plain.get())));
            }
            List<String> errors = new ArrayList<>();
            for (var f : each) {
                try {
                    errors.addAll(f.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                }
            }
            return errors;
        } finally {
            workers.shutdownNow();
        }
    }

    /** One pack: its name is the SHA-256 of its bytes, its header matches the index, every blob opens and has its id. */
    private static List<String> readPack(Repository repo, String name, List<Pack.Entry> indexed, DirectBuffer whole, DirectBuffer plain)
            throws IOException {
        List<String> errors = new ArrayList<>();
        String shortName = name.substring(0, 16);
        long size = repo.backend().size(Backend.Kind.PACK, name);
        if (size > Integer.MAX_VALUE - 16) {
            errors.add("pack " + shortName + " is larger than any pack can be");
            return errors;
        }
        ByteBuffer pack = whole.atLeast((int) size);
        repo.backend().read(Backend.Kind.PACK, name, 0, pack);
        pack.flip();
        // The name first: opening blobs below decrypts them where they are.
        if (!Repository.sha256(pack).equals(name)) {
            errors.add("pack " + shortName + ": its bytes do not match its name (damaged)");
        }
        List<Pack.Entry> entries;
        try {
            entries = Pack.header(pack, repo.crypto(), name);
        } catch (BackupException e) {
            errors.add(e.getMessage());
            entries = indexed; // the index still says where the blobs are: check each one
        }
        if (!entries.equals(indexed)) {
            errors.add("pack " + shortName + ": its header and the index disagree");
        }
        Set<Integer> opened = new HashSet<>();
        for (Pack.Entry e : indexed) {
            if ((long) e.offset() + e.length() > pack.limit()) {
                errors.add("pack " + shortName + ": blob " + e.id().hex().substring(0, 16) + " runs past the end");
                continue;
            }
            if (!opened.add(e.offset())) {
                continue; // listed twice (by two index files): it was decrypted where it is already
            }
            try {
                repo.openBlob(pack, e.offset(), e, name, plain);
            } catch (BackupException x) {
                errors.add(x.getMessage());
            }
        }
        return errors;
    }
}

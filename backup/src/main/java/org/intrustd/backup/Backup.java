package org.intrustd.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes a snapshot of some paths. One thread walks the file system and reads and chunks
 * each file; a pool of workers hashes, compresses, seals and packs the chunks, and builds
 * each directory's tree once its entries are saved, so reading, hashing, compressing and
 * storing overlap. At most {@code 4 × threads} chunks are in flight, which bounds memory
 * (with 8 MiB chunks and two threads: 64 MiB, plus a pack being filled per thread).
 * <p>
 * A file whose size, mtime, ctime and inode match the parent snapshot's is not read again:
 * its chunks are taken from there (if the repository still has them all).
 */
public final class Backup {
    /** What to back up and how. {@code excludes} are globs matched against absolute paths and against names. */
    public record Options(List<Path> paths, List<String> excludes, List<String> markers, boolean oneFileSystem,
            List<String> tags, Optional<String> host, Optional<String> parent, int threads) {
        public static Options of(List<Path> paths) {
            return new Options(paths, List.of(), List.of(".nobackup"), false, List.of(), Optional.empty(), Optional.empty(),
                    Runtime.getRuntime().availableProcessors());
        }

        public Options withExcludes(List<String> globs) {
            return new Options(paths, globs, markers, oneFileSystem, tags, host, parent, threads);
        }

        public Options withTags(List<String> t) {
            return new Options(paths, excludes, markers, oneFileSystem, t, host, parent, threads);
        }

        public Options withOneFileSystem(boolean one) {
            return new Options(paths, excludes, markers, one, tags, host, parent, threads);
        }

        public Options withHost(String h) {
            return new Options(paths, excludes, markers, oneFileSystem, tags, Optional.of(h), parent, threads);
        }

        public Options withThreads(int n) {
            return new Options(paths, excludes, markers, oneFileSystem, tags, host, parent, n);
        }
    }

    /** Counters a progress display reads while a backup runs. */
    public static final class Progress {
        public final AtomicLong files = new AtomicLong();
        public final AtomicLong bytes = new AtomicLong();
        public final AtomicLong errors = new AtomicLong();
    }

    /** The snapshot made, and the files that could not be read (they are left out, the backup goes on). */
    public record Result(Snapshot snapshot, List<String> warnings) {
    }

    /** The numbers a node needs; "unix:*" would also look up owner and group names, for every file (11 % of an incremental). */
    private static final String ATTRIBUTES = "unix:mode,uid,gid,size,lastModifiedTime,ctime,ino,dev";
    private final Repository repo;
    private final Options options;
    private final Progress progress;
    private final Packer packer;
    private final ExecutorService workers;
    /** Reads the parent's trees: its own threads, so the walker never waits behind a queue of chunks to compress. */
    private final ExecutorService treeReaders;
    private final Semaphore inFlight;
    private final ChunkStream chunks;
    private final List<PathMatcher> excludes = new ArrayList<>();
    /** The parent snapshot's trees being read ahead of the walker, by id. */
    private final Map<String, CompletableFuture<Tree>> prefetched = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<String> warnings = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong dirs = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong filesNew = new AtomicLong();
    private final AtomicLong filesChanged = new AtomicLong();
    private final AtomicLong filesUnchanged = new AtomicLong();

    private Backup(Repository repo, Options options, Progress progress) throws IOException {
        this.repo = repo;
        this.options = options;
        this.progress = progress;
        this.packer = new Packer(repo);
        this.workers = Executors.newFixedThreadPool(Math.max(1, options.threads()), r -> {
            Thread t = new Thread(r, "backup-worker");
            t.setDaemon(true);
            return t;
        });
        this.treeReaders = Executors.newFixedThreadPool(Math.max(1, options.threads()), r -> {
            Thread t = new Thread(r, "backup-tree-reader");
            t.setDaemon(true);
            return t;
        });
        this.inFlight = new Semaphore(4 * Math.max(1, options.threads()));
        this.chunks = new ChunkStream(repo.chunker());
        for (String glob : options.excludes()) {
            excludes.add(FileSystems.getDefault().getPathMatcher("glob:" + glob));
        }
    }

    public static Result run(Repository repo, Options options, Progress progress) throws IOException {
        try (Lock lock = repo.lock(false, "backup")) {
            Backup b = new Backup(repo, options, progress);
            try {
                return b.run();
            } finally {
                b.workers.shutdownNow();
                b.treeReaders.shutdownNow();
            }
        }
    }

    private Result run() throws IOException {
        long t0 = System.nanoTime();
        String host = options.host().orElseGet(Repository::host);
        List<Path> roots = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Path p : options.paths()) {
            Path abs = p.toAbsolutePath().normalize();
            if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                throw new BackupException(p + " does not exist");
            }
            String name = abs.getFileName() == null ? "root" : abs.getFileName().toString();
            if (!names.add(name)) {
                throw new BackupException("two paths are both named " + name + ": back them up in separate snapshots");
            }
            roots.add(abs);
        }
        List<String> paths = roots.stream().map(Path::toString).sorted().toList();
        Optional<Snapshot> parent = parent(host, paths);
        Optional<Tree> parentRoot = parent.isPresent() ? Optional.of(repo.tree(BlobId.parse(parent.get().tree()))) : Optional.empty();

        List<CompletableFuture<Tree.Node>> top = new ArrayList<>();
        roots.sort(Comparator.comparing(r -> r.getFileName() == null ? "root" : r.getFileName().toString()));
        for (Path root : roots) {
            String name = root.getFileName() == null ? "root" : root.getFileName().toString();
            Map<String, Object> attrs = Files.readAttributes(root, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
            top.add(node(root, name, attrs, parentRoot.flatMap(t -> child(t, name)), (Long) attrs.get("dev")));
        }
        BlobId tree = saveTree(join(top));
        packer.finish();
        Snapshot.Summary summary = new Snapshot.Summary(files.get(), dirs.get(), bytes.get(), filesNew.get(), filesChanged.get(),
                filesUnchanged.get(), packer.blobsAdded.get(), packer.bytesAdded.get(), packer.storedAdded.get(),
                (System.nanoTime() - t0) / 1e9);
        Snapshot s = new Snapshot(1, repo.clock().instant().toString(), host, Repository.user(), paths, options.tags(),
                tree.hex(), parent.map(Snapshot::id).orElse(null), summary, null);
        String id = repo.saveSnapshot(s);
        return new Result(s.withId(id), List.copyOf(warnings));
    }

    /** The latest snapshot of the same host and paths (or the one named), to skip unchanged files. */
    private Optional<Snapshot> parent(String host, List<String> paths) throws IOException {
        if (options.parent().isPresent()) {
            return Optional.of(repo.findSnapshot(options.parent().get()));
        }
        Snapshot best = null;
        for (Snapshot s : repo.snapshots()) {
            if (s.host().equals(host) && s.paths().equals(paths)) {
                best = s;
            }
        }
        return Optional.ofNullable(best);
    }

    private static Optional<Tree.Node> child(Tree t, String name) {
        return Optional.ofNullable(byName(t).get(name));
    }

    private static Map<String, Tree.Node> byName(Tree t) {
        Map<String, Tree.Node> out = new HashMap<>();
        t.nodes().forEach(n -> out.put(n.name(), n));
        return out;
    }

    /** The parent snapshot's tree {@code hex}, prefetched or read now; null when unreadable (everything below is read again). */
    private Tree oldTree(String hex) {
        CompletableFuture<Tree> f = prefetched.remove(hex);
        return f != null ? f.join() : readTree(hex);
    }

    private Tree readTree(String hex) {
        try {
            return repo.tree(BlobId.parse(hex));
        } catch (IOException | BackupException e) {
            return null;
        }
    }

    private boolean excluded(Path p) {
        for (PathMatcher m : excludes) {
            if (m.matches(p) || (p.getFileName() != null && m.matches(p.getFileName()))) {
                return true;
            }
        }
        return false;
    }

    /** The node of one path; for a directory, once every entry in it is saved. */
    private CompletableFuture<Tree.Node> node(Path p, String name, Map<String, Object> a, Optional<Tree.Node> old, long rootDev)
            throws IOException {
        int mode = (Integer) a.get("mode");
        int uid = (Integer) a.get("uid");
        int gid = (Integer) a.get("gid");
        long mtime = nanos((FileTime) a.get("lastModifiedTime"));
        long ctime = nanos((FileTime) a.get("ctime"));
        long inode = (Long) a.get("ino");
        long dev = (Long) a.get("dev");
        int type = mode & 0170000;
        if (type == 0040000) {
            dirs.incrementAndGet();
            Map<String, String> xattrs = Xattrs.read(p);
            List<CompletableFuture<Tree.Node>> children = new ArrayList<>();
            if (!options.oneFileSystem() || dev == rootDev) {
                Map<String, Tree.Node> oldChildren = old.filter(Tree.Node::isDir).map(n -> oldTree(n.subtree()))
                        .map(Backup::byName).orElse(Map.of());
                // The parent's trees of the folders below are read, on their own threads, while this one is walked.
                oldChildren.values().stream().filter(Tree.Node::isDir).forEach(n -> prefetched.computeIfAbsent(n.subtree(),
                        hex -> CompletableFuture.supplyAsync(() -> readTree(hex), treeReaders)));
                for (Path c : entries(p)) {
                    String cn = c.getFileName().toString();
                    try {
                        Map<String, Object> ca = Files.readAttributes(c, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                        children.add(node(c, cn, ca, Optional.ofNullable(oldChildren.get(cn)), rootDev));
                    } catch (IOException e) {
                        warn(c, e);
                    }
                }
            }
            return CompletableFuture.allOf(children.toArray(CompletableFuture[]::new)).thenApplyAsync(v -> {
                try {
                    BlobId sub = saveTree(children.stream().map(CompletableFuture::join).toList());
                    return new Tree.Node(name, Tree.Node.DIR, mode, uid, gid, mtime, null, null, null, sub.hex(), null, null, null,
                            xattrs);
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            }, workers);
        }
        if (type == 0120000) {
            String target = Files.readSymbolicLink(p).toString();
            return CompletableFuture.completedFuture(new Tree.Node(name, Tree.Node.SYMLINK, mode, uid, gid, mtime, null, null, null,
                    null, target, null, null));
        }
        if (type != 0100000) {
            String kind = switch (type) {
                case 0010000 -> "fifo";
                case 0140000 -> "socket";
                case 0020000 -> "chardev";
                case 0060000 -> "blockdev";
                default -> "other";
            };
            return CompletableFuture.completedFuture(new Tree.Node(name, kind, mode, uid, gid, mtime, null, null, null, null, null,
                    null, null));
        }
        long size = (Long) a.get("size");
        files.incrementAndGet();
        bytes.addAndGet(size);
        progress.files.incrementAndGet();
        if (old.isPresent() && unchanged(old.get(), size, mtime, ctime, inode)) {
            filesUnchanged.incrementAndGet();
            progress.bytes.addAndGet(size);
            // Same ctime: the extended attributes are unchanged too (setting one changes it).
            return CompletableFuture.completedFuture(new Tree.Node(name, Tree.Node.FILE, mode, uid, gid, mtime, ctime, size,
                    old.get().content(), null, null, inode, dev, old.get().xattrs()));
        }
        (old.isPresent() ? filesChanged : filesNew).incrementAndGet();
        List<CompletableFuture<BlobId>> content = new ArrayList<>();
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            chunks.reset(in);
            for (Optional<byte[]> c = chunks.next(); c.isPresent(); c = chunks.next()) {
                byte[] chunk = c.get();
                progress.bytes.addAndGet(chunk.length);
                acquire();
                content.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return packer.save(Pack.DATA, chunk);
                    } catch (IOException e) {
                        throw new CompletionException(e);
                    } finally {
                        inFlight.release();
                    }
                }, workers));
            }
        } catch (IOException e) {
            // Unreadable now (permissions, gone, an I/O error): left out of this snapshot, said in the warnings.
            warn(p, e);
            files.decrementAndGet();
            return CompletableFuture.completedFuture(null);
        }
        Map<String, String> xattrs = Xattrs.read(p);
        return CompletableFuture.allOf(content.toArray(CompletableFuture[]::new)).thenApply(v -> new Tree.Node(name,
                Tree.Node.FILE, mode, uid, gid, mtime, ctime, size, content.stream().map(f -> f.join().hex()).toList(), null, null,
                inode, dev, xattrs));
    }

    /** Same size, times and inode, and every chunk still in the repository. */
    private boolean unchanged(Tree.Node old, long size, long mtime, long ctime, long inode) throws IOException {
        if (!old.isFile() || old.size() == null || old.size() != size || old.mtime() != mtime || old.ctime() == null
                || old.ctime() != ctime || old.inode() == null || old.inode() != inode || old.content() == null) {
            return false;
        }
        Index index = repo.index();
        for (String id : old.content()) {
            if (!index.has(BlobId.parse(id))) {
                return false;
            }
        }
        return true;
    }

    private List<Path> entries(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> d = Files.newDirectoryStream(dir)) {
            for (Path c : d) {
                if (!excluded(c)) {
                    out.add(c);
                }
            }
        } catch (IOException e) {
            warn(dir, e);
            return List.of();
        }
        for (String marker : options.markers()) {
            if (out.stream().anyMatch(c -> c.getFileName().toString().equals(marker))) {
                return List.of(); // the owner asked for this folder's content to stay out
            }
        }
        out.sort(Comparator.comparing(c -> c.getFileName().toString()));
        return out;
    }

    private BlobId saveTree(List<Tree.Node> nodes) throws IOException {
        List<Tree.Node> present = nodes.stream().filter(java.util.Objects::nonNull).toList();
        return packer.save(Pack.TREE, new Tree(present).encode());
    }

    private void acquire() throws IOException {
        try {
            if (!inFlight.tryAcquire(1, TimeUnit.HOURS)) {
                throw new IOException("the backup's workers made no progress for an hour");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private void warn(Path p, IOException e) {
        progress.errors.incrementAndGet();
        warnings.add(p + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }

    private static List<Tree.Node> join(List<CompletableFuture<Tree.Node>> futures) throws IOException {
        try {
            return futures.stream().map(CompletableFuture::join).toList();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    static long nanos(FileTime t) {
        return t.to(TimeUnit.NANOSECONDS);
    }
}

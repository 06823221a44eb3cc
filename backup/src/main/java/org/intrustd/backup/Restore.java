package org.intrustd.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Restores a snapshot, or a path inside it, into a target folder. Every chunk is checked
 * against its id as it is read (a damaged one fails its file, and the rest goes on); modes,
 * owners (when run as root) and times are set once a file is whole, a folder's last, after
 * everything in it. Existing files are not overwritten.
 * <p>
 * A file is created when its first chunk is written, through the same descriptor, with its
 * permission bits when the umask lets them through (then it needs no {@code chmod}, which the
 * JDK does by opening the file once more): creating a file costs this kernel 0.3-0.6 ms, and
 * a restore of 12,000 files made 51,000 {@code openat} calls where restic made 14,000. Owner
 * and times are set by {@link Metadata} in two calls a file, and a file in a folder this
 * restore made is not looked for first.
 */
public final class Restore {
    /** The result: how much was restored and what failed. */
    public record Result(long files, long dirs, long bytes, List<String> errors) {
    }

    /** Counters a progress display reads. */
    public static final class Progress {
        public final AtomicLong files = new AtomicLong();
        public final AtomicLong bytes = new AtomicLong();
    }

    /** A file to write: where, its node, how many of its chunks are still to come, whether it is made yet, whether one failed. */
    private static final class FileJob {
        final Tree.Node node;
        final Path path;
        /** Other names of the same file (hard links in the snapshot), made as links to {@code path} once it is whole. */
        final List<Path> links = new ArrayList<>();
        int left;
        boolean created;
        boolean failed;

        FileJob(Tree.Node node, Path path) {
            this.node = node;
            this.path = path;
        }
    }

    /** One chunk of one file: the blob's entry in its pack, and where its bytes go in the file. */
    private record Need(Pack.Entry entry, FileJob file, long offset) {
    }

    /**
     * Workers at most, whatever the cores: each holds a pack's part and a chunk in native memory
     * (up to ~25 MiB with 16 MiB packs and 8 MiB chunks), and more than eight wait on the disk.
     */
    static final int MAX_WORKERS = 8;

    private final Repository repo;
    private final ExecutorService workers;
    private final Progress progress;
    private final boolean root = "root".equals(System.getProperty("user.name"));
    private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong dirs = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final List<FileJob> jobs = new ArrayList<>();
    /** The file restored for each device and inode seen: another entry with the same is a hard link to it. */
    private final Map<String, FileJob> byInode = new java.util.HashMap<>();
    private final List<Runnable> dirTimes = new ArrayList<>();
    /** Each worker's buffers: the part of a pack it reads (decrypted there), and a blob decompressed. */
    private final ThreadLocal<DirectBuffer> packParts = ThreadLocal.withInitial(DirectBuffer::new);
    private final ThreadLocal<DirectBuffer> plainBlobs = ThreadLocal.withInitial(DirectBuffer::new);

    private Restore(Repository repo, int threads, Progress progress) {
        this.repo = repo;
        this.progress = progress;
        this.workers = Executors.newFixedThreadPool(Math.clamp(threads, 1, MAX_WORKERS), r -> {
            Thread t = new Thread(r, "restore-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Restores {@code snapshot} into {@code target} (each backed-up path as a folder named like
     * it), or only {@code subPath} in it (whose first segment is such a name), as
     * {@code target/<its last segment>}.
     * <p>
     * Folders and links first; then the files' chunks are read pack by pack — each pack once,
     * in one read of the part that holds what is needed, by a pool of workers — and written
     * where they go in their files. A file is finished (mode, owner, times) when its last chunk
     * is in; a file with a damaged or missing chunk is removed and named in the errors.
     */
    public static Result run(Repository repo, Snapshot snapshot, Optional<String> subPath, Path target, int threads,
            Progress progress) throws IOException {
        Restore r = new Restore(repo, threads, progress);
        try {
            Tree.Node start = new Tree.Node("", Tree.Node.DIR, 0755, 0, 0, 0, null, null, null, snapshot.tree(), null, null, null);
            if (subPath.isPresent()) {
                for (String part : subPath.get().split("/")) {
                    if (part.isEmpty() || part.equals(".")) {
                        continue;
                    }
                    if (!start.isDir()) {
                        throw new BackupException(subPath.get() + " is not in snapshot " + snapshot.shortId());
                    }
                    Tree t = repo.tree(BlobId.parse(start.subtree()));
                    final String name = part;
                    start = t.nodes().stream().filter(n -> n.name().equals(name)).findFirst()
                            .orElseThrow(() -> new BackupException(subPath.get() + " is not in snapshot " + snapshot.shortId()));
                }
            }
            boolean fresh = !Files.exists(target, LinkOption.NOFOLLOW_LINKS);
            Files.createDirectories(target);
            if (subPath.isEmpty()) {
                r.dir(start, target, fresh);
            } else {
                // The path named lands in the target under its own name, with its own metadata.
                r.entry(start, target.resolve(start.name()), fresh);
            }
            r.writeFiles();
            // Deepest folders first: setting a folder's time after writing in it.
            for (int i = r.dirTimes.size() - 1; i >= 0; i--) {
                r.dirTimes.get(i).run();
            }
            return new Result(r.files.get(), r.dirs.get(), r.bytes.get(), List.copyOf(r.errors));
        } finally {
            r.workers.shutdownNow();
        }
    }

    /** {@code fresh}: the folder {@code into} was made by this restore, so nothing in it can be there already. */
    private void dir(Tree.Node node, Path into, boolean fresh) throws IOException {
        Tree t;
        try {
            t = repo.tree(BlobId.parse(node.subtree()));
        } catch (BackupException e) {
            errors.add(into + ": " + e.getMessage());
            return;
        }
        for (Tree.Node n : t.nodes()) {
            entry(n, into.resolve(safeName(n.name())), fresh);
        }
    }

    /** A name from a tree, refused if it could climb out of the target. */
    private static String safeName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.indexOf('\0') >= 0) {
            throw new BackupException.Corrupt("a tree holds the name \"" + name + "\", which cannot be restored safely");
        }
        return name;
    }

    private void entry(Tree.Node n, Path p, boolean inFresh) throws IOException {
        switch (n.type()) {
            case Tree.Node.DIR -> {
                boolean fresh = makeDirectory(p, inFresh);
                dirs.incrementAndGet();
                dir(n, p, fresh);
                dirTimes.add(() -> metadata(n, p));
            }
            case Tree.Node.FILE -> {
                // Two entries of one snapshot with the same device and inode (and content) were one
                // file with two names when it was taken: it comes back so.
                String inode = n.device() == null || n.inode() == null ? null : n.device() + ":" + n.inode();
                FileJob first = inode == null ? null : byInode.get(inode);
                // Looked for only in a folder that was there before: in a new one, a stat for each
                // file (12,000 in the benchmark's restore) finds nothing; creating it would find one.
                if (!inFresh && Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    errors.add(p + ": exists already, left as it is");
                } else if (first != null && java.util.Objects.equals(first.node.content(), n.content())) {
                    first.links.add(p);
                } else {
                    FileJob job = new FileJob(n, p);
                    jobs.add(job);
                    if (inode != null) {
                        byInode.putIfAbsent(inode, job);
                    }
                }
            }
            case Tree.Node.SYMLINK -> {
                try {
                    Files.createSymbolicLink(p, Path.of(n.target()));
                    Metadata.modified(p, n.mtime());
                } catch (IOException e) {
                    errors.add(p + ": " + e.getMessage());
                }
            }
            default -> errors.add(p + ": a " + n.type() + " is not restored");
        }
    }

    /** Makes folder {@code p}; true when it was not there before (nothing can be in it then). */
    private static boolean makeDirectory(Path p, boolean inFresh) throws IOException {
        if (inFresh) {
            try {
                Files.createDirectory(p);
                return true;
            } catch (FileAlreadyExistsException e) {
                // made by someone else since its parent was: treated as any folder found there
            }
        }
        boolean fresh = !Files.exists(p, LinkOption.NOFOLLOW_LINKS);
        Files.createDirectories(p);
        return fresh;
    }

    /** Plans the reads pack by pack, runs them on the workers, and finishes each file as it completes. */
    private void writeFiles() throws IOException {
        Index index = repo.index();
        Map<String, List<Need>> byPack = new LinkedHashMap<>();
        for (FileJob job : jobs) {
            long offset = 0;
            List<String> content = job.node.content() == null ? List.of() : job.node.content();
            for (String id : content) {
                Optional<Index.Location> at = index.find(BlobId.parse(id));
                if (at.isEmpty()) {
                    fail(job, "chunk " + id.substring(0, 16) + " is in no index");
                    break;
                }
                byPack.computeIfAbsent(at.get().pack(), k -> new ArrayList<>()).add(new Need(at.get().entry(), job, offset));
                offset += at.get().entry().rawLength();
                job.left++;
            }
            if (job.left == 0 && !job.failed) {
                try {
                    if (write(job, ByteBuffer.allocate(0), 0)) {
                        done(job);
                    }
                } catch (IOException e) {
                    fail(job, e.getMessage());
                }
            }
        }
        List<Future<?>> reads = new ArrayList<>();
        for (var pack : byPack.entrySet()) {
            reads.add(workers.submit(() -> {
                readPack(pack.getKey(), pack.getValue());
                return null;
            }));
        }
        for (Future<?> f : reads) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException(e.getCause());
            }
        }
        for (FileJob job : jobs) {
            if (job.failed) {
                if (job.created) {
                    Files.deleteIfExists(job.path);
                }
                for (Path link : job.links) {
                    errors.add(link + ": not restored, a hard link to " + job.path);
                }
            }
        }
    }

    /** One read of the part of the pack that holds every blob needed from it, then each blob opened, checked and written. */
    private void readPack(String pack, List<Need> needs) {
        long from = Long.MAX_VALUE;
        long to = 0;
        for (Need n : needs) {
            from = Math.min(from, n.entry().offset());
            to = Math.max(to, (long) n.entry().offset() + n.entry().length());
        }
        ByteBuffer part = packParts.get().atLeast((int) (to - from));
        try {
            repo.backend().read(Backend.Kind.PACK, pack, from, part);
            if (part.position() != to - from) {
                throw new BackupException.Corrupt("pack " + pack.substring(0, 16) + " is shorter than its index says");
            }
        } catch (IOException | BackupException e) {
            needs.forEach(n -> fail(n.file(), e.getMessage()));
            return;
        }
        // A blob many files hold (duplicates) is opened once: it is decrypted where it is, so a second time would fail.
        Map<Integer, List<Need>> byBlob = new java.util.TreeMap<>();
        for (Need n : needs) {
            byBlob.computeIfAbsent(n.entry().offset(), k -> new ArrayList<>()).add(n);
        }
        for (List<Need> same : byBlob.values()) {
            Pack.Entry entry = same.getFirst().entry();
            if (same.stream().allMatch(n -> n.file().failed)) {
                continue;
            }
            ByteBuffer plain;
            try {
                plain = repo.openBlob(part, (int) (entry.offset() - from), entry, pack, plainBlobs.get());
            } catch (BackupException e) {
                same.forEach(n -> fail(n.file(), e.getMessage()));
                continue;
            }
            for (Need n : same) {
                try {
                    if (write(n.file(), plain.duplicate(), n.offset())) {
                        written(n.file(), plain.remaining());
                    }
                } catch (IOException e) {
                    fail(n.file(), e.getMessage());
                }
            }
        }
    }

    /** Counts a chunk written, and finishes its file when it was the last. */
    private void written(FileJob file, int length) {
        bytes.addAndGet(length);
        progress.bytes.addAndGet(length);
        boolean last;
        synchronized (file) {
            last = --file.left == 0 && !file.failed;
        }
        if (last) {
            done(file);
        }
    }

    /**
     * Writes {@code plain} at {@code at} in the job's file, creating it (with its mode, see
     * {@link #createdMode}) at the first write; false when it failed already or exists since
     * the walk (someone else's file then, left alone).
     */
    private boolean write(FileJob job, ByteBuffer plain, long at) throws IOException {
        FileChannel out;
        synchronized (job) {
            if (job.failed) {
                return false;
            }
            if (job.created) {
                out = FileChannel.open(job.path, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            } else {
                try {
                    out = FileChannel.open(job.path, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                            PosixFilePermissions.asFileAttribute(permissions(createdMode(job.node))));
                } catch (FileAlreadyExistsException e) {
                    job.failed = true;
                    errors.add(job.path + ": exists already, left as it is");
                    return false;
                }
                job.created = true;
            }
        }
        try (out) {
            while (plain.hasRemaining()) {
                at += out.write(plain, at);
            }
        }
        return true;
    }

    /** The bits a file is created with: its own permissions, and write for its owner (later chunks open it again). */
    private static int createdMode(Tree.Node n) {
        return (n.mode() & 0777) | 0200;
    }

    private static java.util.Set<PosixFilePermission> permissions(int mode) {
        java.util.Set<PosixFilePermission> out = java.util.EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] all = PosixFilePermission.values(); // OWNER_READ ... OTHERS_EXECUTE: bits 0400 down to 0001
        for (int i = 0; i < all.length; i++) {
            if ((mode & (0400 >> i)) != 0) {
                out.add(all[i]);
            }
        }
        return out;
    }

    /** This process's umask, from the kernel (-1 if it does not say: then every mode is set by chmod). */
    private static final int UMASK = umask();

    private static int umask() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Umask:")) {
                    return Integer.parseInt(line.substring(6).strip(), 8);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no /proc: chmod every file
        }
        return -1;
    }

    private void fail(FileJob job, String why) {
        synchronized (job) {
            if (job.failed) {
                return;
            }
            job.failed = true;
        }
        errors.add(job.path + ": " + why);
    }

    private void done(FileJob job) {
        files.incrementAndGet();
        progress.files.incrementAndGet();
        // Created with exactly its mode (the umask took nothing, no setuid, setgid or sticky bit): no chmod.
        boolean modeSet = UMASK >= 0 && (createdMode(job.node) & ~UMASK) == (job.node.mode() & 07777);
        metadata(job.node, job.path, modeSet);
        for (Path link : job.links) {
            try {
                Files.createLink(link, job.path);
                files.incrementAndGet();
            } catch (IOException e) {
                errors.add(link + ": " + (e instanceof FileAlreadyExistsException ? "exists already, left as it is" : e.getMessage()));
            }
        }
    }

    private void metadata(Tree.Node n, Path p) {
        metadata(n, p, false);
    }

    private void metadata(Tree.Node n, Path p, boolean modeSet) {
        try {
            if (root) {
                Metadata.owner(p, n.uid(), n.gid());
            }
            if (n.xattrs() != null) {
                Xattrs.write(p, n.xattrs()); // before the mode: a read-only file takes no attribute from its owner
            }
            // Permission bits with setuid, setgid and sticky (after the owner: chown clears setuid).
            if (!modeSet) {
                Files.setAttribute(p, "unix:mode", n.mode() & 07777, LinkOption.NOFOLLOW_LINKS);
            }
            Metadata.modified(p, n.mtime());
        } catch (IOException | UnsupportedOperationException | BackupException e) {
            errors.add(p + ": metadata not restored: " + e.getMessage());
        }
    }

}

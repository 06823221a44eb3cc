package org.intrustd.backup;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Restores a snapshot, or a path inside it, into a target folder. Every chunk is checked
 * against its id as it is read (a damaged one fails its file, and the rest goes on). Files
 * are written by a pool of workers; modes, owners (when run as root) and times are set once a
 * file is whole, a folder's last, after everything in it. Existing files are not overwritten.
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

    private final Repository repo;
    private final ExecutorService workers;
    private final Progress progress;
    private final boolean root = "root".equals(System.getProperty("user.name"));
    private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong dirs = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    private Restore(Repository repo, int threads, Progress progress) {
        this.repo = repo;
        this.progress = progress;
        this.workers = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "restore-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Restores {@code snapshot} into {@code target} (each backed-up path as a folder named like
     * it), or only {@code subPath} in it (whose first segment is such a name), as
     * {@code target/<its last segment>}.
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
            Files.createDirectories(target);
            List<Future<?>> pending = new ArrayList<>();
            List<Runnable> dirTimes = new ArrayList<>();
            if (subPath.isEmpty()) {
                r.dir(start, target, pending, dirTimes);
            } else {
                // The path named lands in the target under its own name, with its own metadata.
                r.entry(start, target.resolve(start.name()), pending, dirTimes);
            }
            for (Future<?> f : pending) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IOException(e.getCause());
                }
            }
            // Deepest folders first: setting a folder's time after writing in it.
            for (int i = dirTimes.size() - 1; i >= 0; i--) {
                dirTimes.get(i).run();
            }
            return new Result(r.files.get(), r.dirs.get(), r.bytes.get(), List.copyOf(r.errors));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            r.workers.shutdownNow();
        }
    }

    private void dir(Tree.Node node, Path into, List<Future<?>> pending, List<Runnable> dirTimes) throws IOException {
        Tree t;
        try {
            t = repo.tree(BlobId.parse(node.subtree()));
        } catch (BackupException e) {
            errors.add(into + ": " + e.getMessage());
            return;
        }
        for (Tree.Node n : t.nodes()) {
            entry(n, into.resolve(safeName(n.name())), pending, dirTimes);
        }
    }

    /** A name from a tree, refused if it could climb out of the target. */
    private static String safeName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.indexOf('\0') >= 0) {
            throw new BackupException.Corrupt("a tree holds the name \"" + name + "\", which cannot be restored safely");
        }
        return name;
    }

    private void entry(Tree.Node n, Path p, List<Future<?>> pending, List<Runnable> dirTimes) throws IOException {
        switch (n.type()) {
            case Tree.Node.DIR -> {
                Files.createDirectories(p);
                dirs.incrementAndGet();
                dir(n, p, pending, dirTimes);
                dirTimes.add(() -> metadata(n, p));
            }
            case Tree.Node.FILE -> pending.add(workers.submit(() -> file(n, p)));
            case Tree.Node.SYMLINK -> {
                try {
                    Files.createSymbolicLink(p, Path.of(n.target()));
                    setTimes(p, n);
                } catch (IOException e) {
                    errors.add(p + ": " + e.getMessage());
                }
            }
            default -> errors.add(p + ": a " + n.type() + " is not restored");
        }
    }

    private void file(Tree.Node n, Path p) {
        try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (String id : n.content()) {
                byte[] chunk = repo.blob(BlobId.parse(id));
                out.write(chunk);
                bytes.addAndGet(chunk.length);
                progress.bytes.addAndGet(chunk.length);
            }
        } catch (FileAlreadyExistsException e) {
            errors.add(p + ": exists already, left as it is");
            return;
        } catch (IOException | BackupException e) {
            errors.add(p + ": " + e.getMessage());
            return;
        }
        files.incrementAndGet();
        progress.files.incrementAndGet();
        metadata(n, p);
    }

    private void metadata(Tree.Node n, Path p) {
        try {
            if (root) {
                Files.setAttribute(p, "unix:uid", n.uid(), LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", n.gid(), LinkOption.NOFOLLOW_LINKS);
            }
            // Permission bits with setuid, setgid and sticky (after the owner: chown clears setuid).
            Files.setAttribute(p, "unix:mode", n.mode() & 07777, LinkOption.NOFOLLOW_LINKS);
            setTimes(p, n);
        } catch (IOException | UnsupportedOperationException e) {
            errors.add(p + ": metadata not restored: " + e.getMessage());
        }
    }

    private static void setTimes(Path p, Tree.Node n) throws IOException {
        FileTime t = FileTime.from(n.mtime(), TimeUnit.NANOSECONDS);
        Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(t, null, null);
    }
}

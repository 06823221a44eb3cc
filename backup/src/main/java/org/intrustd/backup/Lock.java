package org.intrustd.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A lock on a repository, as a file in {@code locks/}: shared for a backup (several may run
 * at once), exclusive for a prune (nothing else may). A process writes its lock, then lists
 * the others; on a conflict it removes its own and tries again later, so two that race both
 * back off rather than both going on. A held lock is rewritten every {@value #REFRESH_MINUTES}
 * minutes; one not refreshed for {@value #STALE_MINUTES} minutes, or left by a process of
 * this host that is gone, is stale and removed by whoever finds it.
 */
public final class Lock implements AutoCloseable {
    static final byte[] AD = "intrustd-backup lock v1".getBytes(StandardCharsets.US_ASCII);
    static final long REFRESH_MINUTES = 5;
    static final long STALE_MINUTES = 30;

    record Stored(String time, String host, long pid, boolean exclusive, String operation) {
    }

    private final Repository repo;
    private final boolean exclusive;
    private final String operation;
    private final ScheduledExecutorService refresher;
    private volatile String name;

    private Lock(Repository repo, boolean exclusive, String operation) {
        this.repo = repo;
        this.exclusive = exclusive;
        this.operation = operation;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "backup-lock");
            t.setDaemon(true);
            return t;
        });
    }

    /** Takes a lock, waiting up to {@code wait} for a conflicting one to go. */
    public static Lock take(Repository repo, boolean exclusive, String operation, Duration wait) throws IOException {
        Lock lock = new Lock(repo, exclusive, operation);
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            lock.write();
            Stored conflict = lock.conflict();
            if (conflict == null) {
                lock.refresher.scheduleWithFixedDelay(lock::refresh, REFRESH_MINUTES, REFRESH_MINUTES, TimeUnit.MINUTES);
                return lock;
            }
            repo.backend().delete(Backend.Kind.LOCK, lock.name);
            if (System.nanoTime() > deadline) {
                lock.refresher.shutdownNow();
                throw new BackupException("the repository is locked " + (conflict.exclusive() ? "exclusively " : "") + "by "
                        + conflict.operation() + " on " + conflict.host() + " (process " + conflict.pid() + ", since "
                        + conflict.time() + "); try again later, or wait with --retry-lock");
            }
            try {
                Thread.sleep(200 + ThreadLocalRandom.current().nextInt(800));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    private void write() throws IOException {
        Stored s = new Stored(repo.clock().instant().toString(), Repository.host(), ProcessHandle.current().pid(), exclusive, operation);
        byte[] sealed = repo.crypto().seal(KeyFile.JSON.writeValueAsBytes(s), AD);
        String n = Repository.sha256(sealed);
        repo.backend().put(Backend.Kind.LOCK, n, sealed);
        name = n;
    }

    /** Another live lock that this one cannot share with, or null; stale ones are removed on the way. */
    private Stored conflict() throws IOException {
        for (var stored : repo.backend().getAll(Backend.Kind.LOCK).entrySet()) {
            String other = stored.getKey();
            if (other.equals(name)) {
                continue;
            }
            Stored s;
            try {
                s = read(stored.getValue());
            } catch (IOException | BackupException e) {
                continue; // gone meanwhile, or not readable: not ours to judge
            }
            if (stale(s)) {
                repo.backend().delete(Backend.Kind.LOCK, other);
                continue;
            }
            if (exclusive || s.exclusive()) {
                return s;
            }
        }
        return null;
    }

    private Stored read(byte[] sealed) throws IOException {
        return KeyFile.JSON.readValue(repo.crypto().open(sealed, AD, "lock"), Stored.class);
    }

    private boolean stale(Stored s) {
        Instant t = Instant.parse(s.time());
        if (t.isBefore(repo.clock().instant().minus(Duration.ofMinutes(STALE_MINUTES)))) {
            return true;
        }
        return s.host().equals(Repository.host()) && ProcessHandle.of(s.pid()).map(p -> !p.isAlive()).orElse(true);
    }

    private void refresh() {
        try {
            String old = name;
            write();
            repo.backend().delete(Backend.Kind.LOCK, old);
        } catch (IOException | RuntimeException e) {
            System.getLogger("backup.lock").log(System.Logger.Level.WARNING, "could not refresh the repository lock", e);
        }
    }

    /** Removes every stale lock; returns how many. */
    public static int removeStale(Repository repo) throws IOException {
        Lock probe = new Lock(repo, false, "unlock");
        probe.refresher.shutdownNow();
        List<String> removed = new ArrayList<>();
        for (var stored : repo.backend().getAll(Backend.Kind.LOCK).entrySet()) {
            try {
                if (probe.stale(probe.read(stored.getValue()))) {
                    repo.backend().delete(Backend.Kind.LOCK, stored.getKey());
                    removed.add(stored.getKey());
                }
            } catch (IOException | BackupException e) {
                // gone meanwhile
            }
        }
        return removed.size();
    }

    @Override
    public void close() throws IOException {
        refresher.shutdownNow();
        repo.backend().delete(Backend.Kind.LOCK, name);
    }
}

package org.intrustd.photos;

import java.lang.System.Logger.Level;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Makes previews in the background, one worker per core, so an upload is acknowledged as
 * soon as its original is safe. The jobs themselves live in the database: a job is removed
 * only when its previews are published, so a restart (kill -9 included) picks up what was
 * left. A job that has already been started {@value #MAX_ATTEMPTS} times (one that keeps
 * taking the app down with it, say) is marked failed instead of being tried for ever.
 */
final class PreviewQueue implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("photos.previews");
    static final int MAX_ATTEMPTS = 3;

    private final Library library;
    private final Previews previews;
    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final List<Thread> workers = new ArrayList<>();
    private final Object idle = new Object();
    private volatile int busy;

    PreviewQueue(Library library, Previews previews) throws SQLException {
        this.library = library;
        this.previews = previews;
        for (Library.Job job : library.pendingJobs()) {
            submit(job.sha256());
        }
    }

    /** Starts {@code count} more workers. */
    synchronized void start(int count) {
        for (int i = 0; i < count; i++) {
            workers.add(Thread.ofPlatform().name("previews-" + workers.size()).daemon(true).start(this::work));
        }
    }

    /** Queues the previews of {@code sha256} (whose job row is already committed). */
    void submit(String sha256) {
        if (queued.add(sha256)) {
            queue.add(sha256);
        }
    }

    /** Waits until the queue is empty and no worker is busy (for tests and benchmarks). */
    boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long end = System.nanoTime() + unit.toNanos(timeout);
        synchronized (idle) {
            while (!queued.isEmpty() || busy > 0) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                idle.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
        return true;
    }

    private void work() {
        while (!Thread.currentThread().isInterrupted()) {
            String sha;
            try {
                sha = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            synchronized (idle) {
                busy++;
                queued.remove(sha);
            }
            try {
                run(sha);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                LOG.log(Level.WARNING, "previews of " + sha + " failed", e);
            } finally {
                synchronized (idle) {
                    busy--;
                    idle.notifyAll();
                }
            }
        }
    }

    private void run(String sha) throws Exception {
        Optional<Library.Job> job = library.job(sha);
        if (job.isEmpty()) {
            return; // done already, or its photo left the trash for good
        }
        if (library.startJob(sha) > MAX_ATTEMPTS) {
            library.finishJob(sha, "failed", Optional.of("making its previews failed " + MAX_ATTEMPTS + " times"));
            return;
        }
        Previews.Outcome outcome = previews.make(job.get());
        library.finishJob(sha, outcome.preview(), outcome.error());
        outcome.error().ifPresent(e -> LOG.log(Level.INFO, "no preview of {0}: {1}", sha, e));
    }

    @Override
    public synchronized void close() {
        workers.forEach(Thread::interrupt);
    }
}

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
 * A worker takes several waiting photos at once when they queue up (a fair share, at most
 * {@value #MAX_BATCH}); one that is waiting alone is started at once, on its own.
 */
final class PreviewQueue implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("photos.previews");
    static final int MAX_ATTEMPTS = 3;
    /** Photos given to one run of the tools at most (see {@link Previews#makeImages}). */
    static final int MAX_BATCH = 4;

    private final Library library;
    private final Previews previews;
    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final List<Thread> workers = new ArrayList<>();
    private final Object idle = new Object();
    private volatile int busy;
    private volatile int workerCount;

    PreviewQueue(Library library, Previews previews) throws SQLException {
        this.library = library;
        this.previews = previews;
        for (Library.Job job : library.pendingJobs()) {
            submit(job.sha256());
        }
    }

    /** Starts {@code count} more workers. */
    synchronized void start(int count) {
        workerCount += count;
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
            List<String> shas = new ArrayList<>();
            try {
                shas.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            // A fair share of what waits, so a burst of uploads is spread over every worker. (Photos
            // wait only while every worker is busy: whoever comes free first takes its share.)
            int share = (queue.size() + 1 + workerCount - 1) / workerCount;
            queue.drainTo(shas, Math.min(MAX_BATCH, share) - 1);
            synchronized (idle) {
                busy++;
                queued.removeAll(shas);
            }
            try {
                run(shas);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                LOG.log(Level.WARNING, "previews of " + shas + " failed", e);
            } finally {
                synchronized (idle) {
                    busy--;
                    idle.notifyAll();
                }
            }
        }
    }

    private void run(List<String> shas) throws Exception {
        List<Library.Job> images = new ArrayList<>();
        List<Library.Job> alone = new ArrayList<>();
        for (String sha : shas) {
            Optional<Library.Job> job = library.job(sha);
            if (job.isEmpty()) {
                continue; // done already, or its photo left the trash for good
            }
            int attempts = library.startJob(sha);
            if (attempts > MAX_ATTEMPTS) {
                library.finishJob(sha, "failed", Optional.of("making its previews failed " + MAX_ATTEMPTS + " times"));
            } else if (job.get().kind().equals("image") && attempts == 1) {
                images.add(job.get());
            } else {
                // A video, or a job tried before (it may be what took the app down): never in a batch.
                alone.add(job.get());
            }
        }
        if (!images.isEmpty()) {
            for (var done : previews.makeImages(images).entrySet()) {
                finish(done.getKey(), done.getValue());
            }
        }
        for (Library.Job job : alone) {
            finish(job.sha256(), previews.make(job));
        }
    }

    private void finish(String sha, Previews.Outcome outcome) throws SQLException {
        library.finishJob(sha, outcome.preview(), outcome.error());
        outcome.error().ifPresent(e -> LOG.log(Level.INFO, "no preview of {0}: {1}", sha, e));
    }

    @Override
    public synchronized void close() {
        workers.forEach(Thread::interrupt);
    }
}

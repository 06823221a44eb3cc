package org.intrustd.photos;

import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;
import org.intrustd.appkit.AppServer;
import org.eclipse.jetty.util.component.LifeCycle;

/**
 * The photo album app: wiring. It serves its API on the Unix socket the daemon names in
 * {@code INTRUSTD_APP_SOCKET} and keeps everything in {@code INTRUSTD_APP_DATA} (docs/photos.md).
 */
public final class PhotosApp {
    private static final System.Logger LOG = System.getLogger("photos");

    private PhotosApp() {
    }

    public static void main(String[] args) throws Exception {
        String socket = System.getenv("INTRUSTD_APP_SOCKET");
        String data = System.getenv("INTRUSTD_APP_DATA");
        if (socket == null || socket.isBlank() || data == null || data.isBlank()) {
            System.err.println("photos: INTRUSTD_APP_SOCKET and INTRUSTD_APP_DATA must be set (the daemon sets them)");
            System.exit(2);
        }
        Running app = start(Path.of(socket), Path.of(data), Daemon.fromEnvironment(), defaultWorkers());
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "photos-shutdown"));
        // The daemon may wait for this line on a pipe, so it must not sit in a buffer.
        System.out.println("photos: listening on " + socket);
        System.out.flush();
        app.server.join();
    }

    /**
     * Preview workers: one per core. (With the tools only, one more kept the cores busy while a
     * worker waited for its tool to start; libvips in-process has no such wait, and a third
     * worker on two cores made the PhotosThumbnailBench end to end 5 % slower.)
     */
    public static int defaultWorkers() {
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Opens the library in {@code data} and serves it on {@code socket} with {@code workers}
     * preview workers (none: previews wait for {@link Running#startPreviews}).
     */
    public static Running start(Path socket, Path data, Daemon daemon, int workers) throws Exception {
        FileStore files = new FileStore(data);
        Library library = new Library(data.resolve("photos.db"));
        Previews previews = new Previews(files, tool("vipsthumbnail"), tool("ffmpeg"), Vips.load());
        PreviewQueue queue = new PreviewQueue(library, previews);
        queue.start(workers);
        Photos photos = new Photos(library, files, new MediaProbe(tool("ffprobe")), queue, Clock.systemUTC());
        Uploads uploads = new Uploads(photos);

        ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("photos-sweep").daemon(true).unstarted(r));
        sweeper.scheduleWithFixedDelay(() -> sweep(photos, uploads), 1, 6 * 60, TimeUnit.MINUTES);

        Server server;
        try {
            server = AppServer.start("photos", socket, new PhotosApi(photos, uploads, daemon));
        } catch (Exception e) {
            queue.close();
            library.close();
            throw e;
        }
        return new Running(server, queue, library, sweeper);
    }

    /** Old trash and abandoned uploads go, and the planner's statistics are refreshed; failures are logged and tried again next time. */
    private static void sweep(Photos photos, Uploads uploads) {
        try {
            for (String owner : photos.library.ownersWithTrash()) {
                photos.emptyTrash(owner, true);
            }
            uploads.sweep();
            photos.library.optimize();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "sweeping the trash and old uploads failed", e);
        }
    }

    /** A host tool by its usual path, which the sandbox shows read-only; a plain name otherwise (tests on odd hosts). */
    private static String tool(String name) {
        Path usual = Path.of("/usr/bin", name);
        return Files.isExecutable(usual) ? usual.toString() : name;
    }

    /** A started app. */
    public static final class Running implements AutoCloseable {
        private final Server server;
        private final PreviewQueue queue;
        private final Library library;
        private final ScheduledExecutorService sweeper;

        private Running(Server server, PreviewQueue queue, Library library, ScheduledExecutorService sweeper) {
            this.server = server;
            this.queue = queue;
            this.library = library;
            this.sweeper = sweeper;
        }

        /** Starts more preview workers (a benchmark times the queue alone this way). */
        public void startPreviews(int workers) {
            queue.start(workers);
        }

        /** Waits until every queued preview is made (tests and benchmarks). */
        public boolean awaitPreviews(long timeout, TimeUnit unit) throws InterruptedException {
            return queue.awaitIdle(timeout, unit);
        }

        @Override
        public void close() {
            LifeCycle.stop(server);
            sweeper.shutdownNow();
            queue.close();
            try {
                library.close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "closing the library failed", e);
            }
        }
    }
}

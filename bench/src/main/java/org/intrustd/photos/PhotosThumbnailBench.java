package org.intrustd.photos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.intrustd.core.app.UnixHttp;

/**
 * Preview throughput of the photos app vs libvips' own {@code vipsthumbnail} on the same
 * 24-megapixel JPEGs, in one run (issue 8: goal ≥ 1.0×, the app adds no overhead).
 * <p>
 * Baseline: for each file, the two {@code vipsthumbnail} commands the app runs (1600 px from
 * the original, 360 px from that), one file per core at a time. Subject: the app itself,
 * in-process on its Unix socket, receiving every file by HTTP upload (copy, SHA-256, header
 * checks, SQLite) and making the same previews with one worker per core, timed from the first
 * upload until the last preview is published. Runs alternate; ratio = baseline time / app
 * time (above 1: the app is faster). A second baseline gives vipsthumbnail every file at once
 * (each core's share in one run per size), its best case, which the app's batches come close to.
 * <pre>java -cp 'bench/target/lib/*' org.intrustd.photos.PhotosThumbnailBench [files=16] [runs=3] [workers]</pre>
 */
public final class PhotosThumbnailBench {
    private PhotosThumbnailBench() {
    }

    public static void main(String[] args) throws Exception {
        int files = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int cores = Runtime.getRuntime().availableProcessors();
        int workers = args.length > 2 ? Integer.parseInt(args[2]) : PhotosApp.defaultWorkers();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "thumbbench");
        try {
            List<Path> corpus = corpus(dir.resolve("corpus"), files);
            long bytes = 0;
            for (Path p : corpus) {
                bytes += Files.size(p);
            }
            System.out.printf("corpus: %d JPEGs of 6000x4000, %.1f MiB in all; %d cores, %d preview workers in the app%n", files,
                    bytes / 1048576.0, cores, workers);
            // One round of each on a few files first, not counted: the JIT warms up in the app (a running
            // appliance's app is warm) and the files are read into the page cache for both.
            List<Path> few = corpus.subList(0, Math.min(3, corpus.size()));
            baseline(few, dir.resolve("warm-base"), cores);
            subject(few, dir.resolve("warm-app"), workers);
            List<Double> base = new ArrayList<>();
            List<Double> batched = new ArrayList<>();
            List<Double> app = new ArrayList<>();
            List<Double> queue = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                base.add(baseline(corpus, dir.resolve("base" + r), cores));
                batched.add(baselineBatched(corpus, dir.resolve("batched" + r), cores));
                app.add(subject(corpus, dir.resolve("app" + r), workers));
                queue.add(queueAlone(corpus, dir.resolve("queue" + r), workers));
                System.out.printf("run %d: vipsthumbnail per file %.2f s, given all files %.2f s, app %.2f s, the app's queue alone"
                        + " %.2f s%n", r + 1, base.getLast(), batched.getLast(), app.getLast(), queue.getLast());
            }
            double b = median(base);
            double bb = median(batched);
            double a = median(app);
            double q = median(queue);
            System.out.printf("%nthumbnails: vipsthumbnail per file %.2f photos/s, app %.2f photos/s; ratio app/vipsthumbnail %.2f"
                    + " (best runs: %.2f)%n", files / b, files / a, b / a,
                    base.stream().mapToDouble(x -> x).min().orElseThrow() / app.stream().mapToDouble(x -> x).min().orElseThrow());
            System.out.printf("previews alone (originals already stored): app %.2f photos/s; ratio app/vipsthumbnail %.2f%n",
                    files / q, b / q);
            System.out.printf("vipsthumbnail given every file at once (one run per core and size) %.2f photos/s; ratio app/that %.2f,"
                    + " queue alone/that %.2f%n", files / bb, bb / a, bb / q);
        } finally {
            run(List.of("rm", "-rf", dir.toString()));
        }
    }

    /** One 24 MP picture made by libvips (smooth noise at three scales plus grain, JPEG Q90), copied with a distinct trailer per file. */
    static List<Path> corpus(Path dir, int n) throws Exception {
        Files.createDirectories(dir);
        Path v = dir.resolve("v");
        Files.createDirectories(v);
        run(List.of("vips", "perlin", v + "/p1.v", "6000", "4000", "--cell-size", "300"));
        run(List.of("vips", "perlin", v + "/p2.v", "6000", "4000", "--cell-size", "90"));
        run(List.of("vips", "perlin", v + "/p3.v", "6000", "4000", "--cell-size", "30"));
        run(List.of("vips", "bandjoin", v + "/p1.v " + v + "/p2.v " + v + "/p3.v", v + "/pj.v"));
        run(List.of("vips", "linear", v + "/pj.v", v + "/pl.v", "100 100 100", "128 128 128", "--uchar"));
        run(List.of("vips", "gaussnoise", v + "/n.v", "6000", "4000", "--sigma", "12", "--mean", "0"));
        run(List.of("vips", "add", v + "/pl.v", v + "/n.v", v + "/pa.v"));
        run(List.of("vips", "cast", v + "/pa.v", v + "/pc.v", "uchar"));
        Path base = dir.resolve("base.jpg");
        run(List.of("vips", "copy", v + "/pc.v", base + "[Q=90]"));
        run(List.of("rm", "-rf", v.toString()));
        byte[] jpeg = Files.readAllBytes(base);
        Files.delete(base);
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // Bytes after the end-of-image marker: the same picture, a different file (no deduplication).
            byte[] copy = java.util.Arrays.copyOf(jpeg, jpeg.length + 16);
            System.arraycopy(String.format("bench-%010d", i).getBytes(), 0, copy, jpeg.length, 16);
            Path p = dir.resolve(String.format("IMG_%04d.jpg", i));
            Files.write(p, copy);
            out.add(p);
        }
        return out;
    }

    static double baseline(List<Path> corpus, Path out, int cores) throws Exception {
        Files.createDirectories(out);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (Path p : corpus) {
            tasks.add(() -> {
                String name = p.getFileName().toString().replace(".jpg", "");
                Path large = out.resolve(name + "-l.jpg");
                run(List.of("vipsthumbnail", p.toString(), "--size", Previews.LARGE + "x" + Previews.LARGE + ">",
                        "-o", large + "[Q=85,strip,optimize_coding]"));
                run(List.of("vipsthumbnail", large.toString(), "--size", Previews.SMALL + "x" + Previews.SMALL + ">",
                        "-o", out.resolve(name + "-s.jpg") + "[Q=78,strip,optimize_coding]"));
                return null;
            });
        }
        return timed(tasks, cores);
    }

    /** vipsthumbnail at its best: each core's share of the files in one run per size (no start-up per file). */
    static double baselineBatched(List<Path> corpus, Path out, int cores) throws Exception {
        Files.createDirectories(out);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int c = 0; c < cores; c++) {
            List<String> share = new ArrayList<>();
            for (int i = c; i < corpus.size(); i += cores) {
                share.add(corpus.get(i).toString());
            }
            tasks.add(() -> {
                List<String> large = new ArrayList<>(List.of("vipsthumbnail"));
                large.addAll(share);
                large.addAll(List.of("--size", Previews.LARGE + "x" + Previews.LARGE + ">", "-o",
                        out + "/%s-l.jpg[Q=85,strip,optimize_coding]"));
                run(large);
                List<String> small = new ArrayList<>(List.of("vipsthumbnail"));
                share.forEach(p -> small.add(out + "/" + Path.of(p).getFileName().toString().replace(".jpg", "-l.jpg")));
                small.addAll(List.of("--size", Previews.SMALL + "x" + Previews.SMALL + ">", "-o",
                        out + "/%s-s.jpg[Q=78,strip,optimize_coding]"));
                run(small);
                return null;
            });
        }
        return timed(tasks, cores);
    }

    /** Seconds to run every task, {@code threads} at a time. */
    private static double timed(List<Callable<Void>> tasks, int threads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long t0 = System.nanoTime();
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            pool.shutdown();
        }
    }

    static double subject(List<Path> corpus, Path dir, int workers) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path socket = dir.resolve("s");
        java.util.Map<String, String> owner = java.util.Map.of("X-Intrustd-Appliance", "BENCH", "X-Intrustd-Persona", "alice",
                "X-Intrustd-Role", "owner");
        // The files are read before the clock starts: reading them is the client's work, on another machine.
        List<byte[]> bodies = new ArrayList<>();
        for (Path p : corpus) {
            bodies.add(Files.readAllBytes(p));
        }
        try (PhotosApp.Running app = PhotosApp.start(socket, data, new Daemon(Optional.empty()), workers)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < corpus.size(); i++) {
                UnixHttp.Response r = UnixHttp.exchange(socket, "POST", "photos", "/api/photos?name=" + corpus.get(i).getFileName(),
                        owner, bodies.get(i));
                if (r.status() != 201) {
                    throw new IllegalStateException("upload refused: " + r.status() + " " + r.text());
                }
            }
            System.out.printf("  app: every upload acknowledged after %.2f s%n", (System.nanoTime() - t0) / 1e9);
            if (!app.awaitPreviews(30, TimeUnit.MINUTES)) {
                throw new IllegalStateException("previews not done");
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /** The app's preview queue alone: every file uploaded first, then the clock runs from starting the workers to the last preview. */
    static double queueAlone(List<Path> corpus, Path dir, int workers) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path socket = dir.resolve("s");
        java.util.Map<String, String> owner = java.util.Map.of("X-Intrustd-Appliance", "BENCH", "X-Intrustd-Persona", "alice",
                "X-Intrustd-Role", "owner");
        try (PhotosApp.Running app = PhotosApp.start(socket, data, new Daemon(Optional.empty()), 0)) {
            for (Path p : corpus) {
                UnixHttp.Response r = UnixHttp.exchange(socket, "POST", "photos", "/api/photos?name=" + p.getFileName(), owner,
                        Files.readAllBytes(p));
                if (r.status() != 201) {
                    throw new IllegalStateException("upload refused: " + r.status() + " " + r.text());
                }
            }
            long t0 = System.nanoTime();
            app.startPreviews(workers);
            if (!app.awaitPreviews(30, TimeUnit.MINUTES)) {
                throw new IllegalStateException("previews not done");
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        return s.get(s.size() / 2);
    }

    static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("failed: " + String.join(" ", command));
        }
    }
}

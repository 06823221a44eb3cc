package org.intrustd.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * End-to-end backup benchmark: {@code intrustd backup} against {@code restic} (0.14, Debian) and,
 * if installed, {@code borg} (1.2), to local repositories on the same disk, in one run (issue:
 * goal ratio ≥ 1.2 on all three steps).
 * <p>
 * The corpus is made here with a fixed seed (default 2 GiB, in nested folders): text (prose,
 * log lines, CSV, code-like small files: zstd level 3 shrinks it 2.6–2.9×), already-compressed
 * files (that text through gzip -1 or zstd -1, incompressible), random bytes (one large file
 * among them), exact duplicates of other files, near-duplicates (copies with a few small
 * overwrites, insertions and deletions), and thousands of small files (256 B – 64 KiB).
 * <p>
 * Each tool runs as a child process under {@code /usr/bin/time} (wall time measured here, peak
 * RSS and CPU from {@code time}), for: (1) a first backup into a new repository; (2) an
 * incremental backup after ~1 % of the corpus changed (files edited in place, added, deleted:
 * the same change for every tool); (3) a full restore of the latest snapshot into a new
 * folder (then checked byte for byte against the corpus, untimed; the restored copies are
 * deleted only at the end, so no restore follows a mass deletion); and, for information, (4)
 * listing the snapshots, each command's fixed cost. Before every timed step the
 * machine's dirty pages are flushed ({@code sync}) and the step's input (the corpus, or the
 * tool's repository) is read once, so every tool starts from a warm page cache. Tools run in
 * turn, the order rotated from run to run. <b>ratio = baseline time / intrustd time</b> (above 1:
 * intrustd is faster), also printed by CPU time (user + system). intrustd runs exactly as the {@code ./intrustd} launcher runs it (same
 * JVM flags, default heap sizing), from {@code cli/target/lib}; restic with its defaults
 * (repository v2, compression {@code auto}) and a cache folder in the bench's temp folder; borg
 * with {@code repokey} encryption and {@code zstd,3} compression (intrustd's level), its cache
 * in the temp folder too.
 * <p>
 * Then, with intrustd only, peak RSS against repository size: the repository of the last run
 * gets further corpora of the same size and kind (other seeds), each its own snapshot, and after
 * the first and the last of them the main corpus gets another ~1 % change and another
 * incremental backup, whose peak RSS and time are reported next to the first incremental's.
 * <pre>
 * mvn -o -q -B install -DskipTests        # builds cli/target/lib and bench/target/lib
 * java -cp 'bench/target/lib/*' org.intrustd.backup.BackupBench [sizeMiB=2048] [runs=1] [fillers=3] [tools=intrustd,restic,borg]
 * </pre>
 * Run from the checkout's root. System properties: {@code -Dintrustd.cli.lib=DIR} (default
 * {@code cli/target/lib}), {@code -Dbench.tmp=DIR} (default {@code /tmp}), {@code
 * -Dbench.intrustdJavaOpts="-Xmx…"} (extra JVM flags for the intrustd child, beyond those ./intrustd gives a backup command),
 * {@code -Dbench.results=FILE} (default {@code bench/results/backup-latest.json}). Process output
 * goes to {@code bench/results/logs/backup/}.
 */
public final class BackupBench {
    static final long SEED = 0x1275_7D0B_AC6BL;
    static final String PASSWORD = "bench password, not a secret";
    static final long MIB = 1 << 20;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final List<String> STEPS = List.of("first backup", "incremental", "restore", "list snapshots");

    private BackupBench() {
    }

    public static void main(String[] args) throws Exception {
        long sizeMiB = args.length > 0 ? Long.parseLong(args[0]) : 2048;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int fillers = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        List<String> wanted = List.of((args.length > 3 ? args[3] : "intrustd,restic,borg").split(","));
        int threads = Runtime.getRuntime().availableProcessors();
        Path tmpRoot = Path.of(System.getProperty("bench.tmp", "/tmp"));
        Path logs = Path.of(Files.isDirectory(Path.of("bench")) ? "bench/results/logs/backup" : "results/logs/backup").toAbsolutePath();
        Path results = Path.of(System.getProperty("bench.results",
                Files.isDirectory(Path.of("bench")) ? "bench/results/backup-latest.json" : "results/backup-latest.json"));
        Files.createDirectories(logs);
        Map<String, Object> env = environment(sizeMiB, runs, fillers);
        Path dir = Files.createTempDirectory(tmpRoot, "backupbench");
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            Files.writeString(dir.resolve("password"), PASSWORD + "\n");
            List<Tool> tools = new ArrayList<>();
            for (String w : wanted) {
                Tool t = switch (w.strip()) {
                    case "intrustd" -> new Intrustd(dir, logs);
                    case "restic" -> new Restic(dir, logs);
                    case "borg" -> new Borg(dir, logs);
                    default -> throw new IllegalArgumentException("unknown tool " + w + " (intrustd, restic, borg)");
                };
                String version = t.version();
                if (version == null) {
                    if (t instanceof Borg) {
                        System.out.println("borg not found: left out (apt-get install -y borgbackup)");
                        continue;
                    }
                    throw new IllegalStateException(t.name + " not found (apt-get install -y restic borgbackup; mvn install for"
                            + " intrustd's cli/target/lib)");
                }
                env.put(t.name + " version", version);
                tools.add(t);
            }
            System.out.printf("tools: %s%n", env);
            for (Tool t : tools) {
                t.warmUp();
            }

            // The corpus, a repository per tool, and every restored copy (see the restores below).
            long need = sizeMiB * MIB * (1 + tools.size() * (1L + runs)) / 10 * 11;
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < need) {
                throw new IllegalStateException(String.format("%s has %d MiB free, the bench needs about %d MiB", dir, free / MIB,
                        need / MIB));
            }
            long t0 = System.nanoTime();
            Corpus corpus = Corpus.generate(dir.resolve("corpus"), sizeMiB * MIB, SEED, pool);
            System.out.printf("corpus: %s in %.1f s%n", corpus.describe(), (System.nanoTime() - t0) / 1e9);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("environment", env);
            out.put("corpus", corpus.stats());

            Map<String, Map<String, List<Measured>>> all = new LinkedHashMap<>();
            Map<String, Map<String, Long>> sizes = new LinkedHashMap<>();
            List<Map<String, Object>> changes = new ArrayList<>();
            for (Tool t : tools) {
                all.put(t.name, new LinkedHashMap<>());
                for (String s : STEPS) {
                    all.get(t.name).put(s, new ArrayList<>());
                }
                sizes.put(t.name, new LinkedHashMap<>());
            }
            Path restores = Files.createDirectories(dir.resolve("restores"));
            for (int r = 0; r < runs; r++) {
                List<Tool> order = new ArrayList<>(tools);
                java.util.Collections.rotate(order, -r);
                System.out.printf("%nrun %d of %d, order %s%n", r + 1, runs, order.stream().map(t -> t.name).toList());
                for (Tool t : order) {
                    t.init("r" + r);
                }
                for (Tool t : order) {
                    prepare(corpus.root);
                    Measured m = t.backup(corpus.root, "first", "r" + r);
                    all.get(t.name).get("first backup").add(m);
                    sizes.get(t.name).put("after first backup", t.repoBytes());
                    m.print(t.name + " first backup");
                }
                Path undo = dir.resolve("undo");
                Change change = corpus.change(1, r + 1 < runs ? undo : null);
                changes.add(change.stats());
                System.out.printf("  change: %s%n", change.describe(corpus.bytes()));
                for (Tool t : order) {
                    prepare(corpus.root);
                    Measured m = t.backup(corpus.root, "incremental", "r" + r);
                    all.get(t.name).get("incremental").add(m);
                    sizes.get(t.name).put("after incremental", t.repoBytes());
                    sizes.get(t.name).put("local cache", t.cacheBytes());
                    m.print(t.name + " incremental");
                }
                for (Tool t : order) {
                    // Information: the fixed cost of a command (start, open the repository, list).
                    run(List.of("sync"));
                    Measured m = t.list("r" + r);
                    all.get(t.name).get("list snapshots").add(m);
                    m.print(t.name + " list snapshots");
                }
                // Each restore goes into a new folder, and the restored copies are deleted only
                // at the end: ext4 without a journal (this VM's) skips inodes freed in the last
                // minute when it makes a file, so a restore just after deleting another one's
                // 12,000 files spent 2-4 s of system time on that (both tools alike), which no user's
                // restore does. Needs 2 x runs x the corpus of free disk.
                for (Tool t : order) {
                    Path target = restores.resolve(t.name + "-r" + r);
                    prepare(t.repo);
                    Measured m = t.restore(target, "r" + r);
                    all.get(t.name).get("restore").add(m);
                    m.print(t.name + " restore");
                    corpus.verify(t.restored(target, corpus.root), t.name);
                }
                if (r + 1 < runs) {
                    for (Tool t : tools) {
                        t.dropRepo();
                    }
                    corpus.undo(change, undo);
                }
            }

            // Peak RSS against repository size (intrustd only): more corpora into the last run's repository.
            List<Map<String, Object>> scale = new ArrayList<>();
            Tool intrustd = tools.stream().filter(t -> t instanceof Intrustd).findFirst().orElse(null);
            if (intrustd != null && fillers > 0) {
                for (Tool t : tools) {
                    if (t != intrustd) {
                        t.dropRepo();
                    }
                }
                Measured firstIncr = all.get(intrustd.name).get("incremental").getLast();
                scale.add(scaleRow(1, "the corpus", sizes.get(intrustd.name).get("after first backup"), firstIncr, null));
                System.out.printf("%nintrustd, peak RSS against repository size (%d more corpora of %d MiB)%n", fillers, sizeMiB);
                for (int i = 1; i <= fillers; i++) {
                    Path fdir = dir.resolve("filler" + i);
                    Corpus filler = Corpus.generate(fdir, sizeMiB * MIB, SEED + 1000 + i, pool);
                    prepare(filler.root);
                    Measured fm = intrustd.backup(filler.root, "filler" + i, "scale");
                    fm.print("intrustd first backup of another corpus (" + (i + 1) + "× in the repository after it)");
                    delete(fdir);
                    if (i == 1 || i == fillers) {
                        Change c = corpus.change(1 + i, null);
                        long repoBytes = intrustd.repoBytes();
                        prepare(corpus.root);
                        Measured m = intrustd.backup(corpus.root, "incremental-" + (i + 1) + "x", "scale");
                        m.print("intrustd incremental, repository " + (i + 1) + "× (" + mib(repoBytes) + " MiB)");
                        System.out.printf("    change: %s%n", c.describe(corpus.bytes()));
                        scale.add(scaleRow(i + 1, "the corpus + " + i + " other corpora", repoBytes, m, fm));
                    }
                }
            }

            env.put("load average at the end", loadAverage());
            env.put("cpu pressure at the end", cpuPressure());
            report(tools, all, sizes, scale, corpus);
            out.put("changes", changes);
            Map<String, Object> res = new LinkedHashMap<>();
            for (Tool t : tools) {
                Map<String, Object> m = new LinkedHashMap<>();
                for (String s : STEPS) {
                    m.put(s, Map.of("median", median(all.get(t.name).get(s)).json(), "runs",
                            all.get(t.name).get(s).stream().map(Measured::json).toList()));
                }
                m.put("repository bytes", sizes.get(t.name));
                m.put("settings", t.settings());
                res.put(t.name, m);
            }
            out.put("results", res);
            Map<String, Object> ratios = new LinkedHashMap<>();
            if (intrustd != null) {
                for (Tool t : tools) {
                    if (t != intrustd) {
                        Map<String, Object> rt = new LinkedHashMap<>();
                        for (String s : STEPS) {
                            rt.put(s, median(all.get(t.name).get(s)).seconds / median(all.get(intrustd.name).get(s)).seconds);
                        }
                        ratios.put(t.name + " / intrustd (time)", rt);
                        Map<String, Object> rc = new LinkedHashMap<>();
                        for (String s : STEPS) {
                            rc.put(s, cpu(all.get(t.name).get(s)) / cpu(all.get(intrustd.name).get(s)));
                        }
                        ratios.put(t.name + " / intrustd (CPU time)", rc);
                    }
                }
            }
            out.put("ratios", ratios);
            out.put("intrustd peak RSS against repository size", scale);
            Files.createDirectories(results.toAbsolutePath().getParent());
            JSON.writeValue(results.toFile(), out);
            System.out.printf("%nwrote %s; process output in %s%n", results, logs);
        } finally {
            pool.shutdownNow();
            delete(dir);
        }
    }

    private static Map<String, Object> scaleRow(int times, String what, long repoBytes, Measured incr, Measured filler) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("repository holds", times + "×: " + what);
        m.put("repository MiB before the incremental", mib(repoBytes));
        m.put("incremental", incr.json());
        if (filler != null) {
            m.put("backup of the last other corpus", filler.json());
        }
        return m;
    }

    // ---- the report -----------------------------------------------------------------------

    private static void report(List<Tool> tools, Map<String, Map<String, List<Measured>>> all, Map<String, Map<String, Long>> sizes,
            List<Map<String, Object>> scale, Corpus corpus) {
        Tool subject = tools.stream().filter(t -> t instanceof Intrustd).findFirst().orElse(tools.getFirst());
        StringBuilder h = new StringBuilder(String.format("%n%-32s", "step (median)"));
        for (Tool t : tools) {
            h.append(String.format(" %12s", t.name));
            if (t != subject) {
                h.append(String.format(" %8s", "ratio"));
            }
        }
        System.out.println(h);
        for (String s : STEPS) {
            StringBuilder line = new StringBuilder(String.format("%-32s", s + " (s)"));
            double base = median(all.get(subject.name).get(s)).seconds;
            for (Tool t : tools) {
                double v = median(all.get(t.name).get(s)).seconds;
                line.append(String.format(Locale.ROOT, " %12.2f", v));
                if (t != subject) {
                    line.append(String.format(Locale.ROOT, " %8.2f", v / base));
                }
            }
            System.out.println(line);
        }
        for (String s : STEPS) {
            StringBuilder line = new StringBuilder(String.format("%-32s", s + " peak RSS (MiB)"));
            for (Tool t : tools) {
                List<Long> rss = all.get(t.name).get(s).stream().map(m -> m.peakKiB).sorted().toList();
                line.append(String.format(Locale.ROOT, " %12d", rss.get(rss.size() / 2) / 1024));
                if (t != subject) {
                    line.append(String.format(" %8s", ""));
                }
            }
            System.out.println(line);
        }
        for (String s : STEPS) {
            StringBuilder line = new StringBuilder(String.format("%-32s", s + " CPU (s)"));
            double base = cpu(all.get(subject.name).get(s));
            for (Tool t : tools) {
                double v = cpu(all.get(t.name).get(s));
                line.append(String.format(Locale.ROOT, " %12.1f", v));
                if (t != subject) {
                    line.append(String.format(Locale.ROOT, " %8.2f", v / base));
                }
            }
            System.out.println(line);
        }
        for (String k : List.of("after first backup", "after incremental", "local cache")) {
            boolean kib = k.equals("local cache");
            StringBuilder line = new StringBuilder(String.format("%-32s", "repo " + k + (kib ? " (KiB)" : " (MiB)") + (runs(all) > 1
                    ? "¹" : "")));
            for (Tool t : tools) {
                long v = sizes.get(t.name).getOrDefault(k, 0L);
                line.append(String.format(Locale.ROOT, " %12d", kib ? (v + 1023) / 1024 : mib(v)));
                if (t != subject) {
                    line.append(String.format(" %8s", ""));
                }
            }
            System.out.println(line);
        }
        if (runs(all) > 1) {
            System.out.println("¹ of the last run; times, CPU and peak RSS are medians of the runs (each on its own)");
        }
        System.out.printf("ratio = tool's time / %s's time (goal ≥ 1.2 for the first three steps; listing snapshots shows each"
                + " command's fixed cost: start, open the repository, list); on CPU rows the same ratio by CPU time (user + system);"
                + " corpus %d MiB%n", subject.name, mib(corpus.bytes()));
        if (!scale.isEmpty()) {
            System.out.printf("%n%-40s %14s %16s %14s%n", "intrustd incremental, repository holds", "repo (MiB)", "incremental (s)",
                    "peak RSS (MiB)");
            for (Map<String, Object> row : scale) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) row.get("incremental");
                System.out.printf(Locale.ROOT, "%-40s %14d %16.2f %14d%n", row.get("repository holds"),
                        (Long) row.get("repository MiB before the incremental"), (Double) m.get("seconds"),
                        (Long) m.get("peak RSS KiB") / 1024);
            }
        }
    }

    static long mib(long bytes) {
        return Math.round(bytes / (double) MIB);
    }

    private static int runs(Map<String, Map<String, List<Measured>>> all) {
        return all.values().iterator().next().get(STEPS.getFirst()).size();
    }

    /** Median CPU seconds (user + system) of the runs. */
    static double cpu(List<Measured> xs) {
        List<Double> s = xs.stream().map(m -> m.user + m.sys).sorted().toList();
        return s.get(s.size() / 2);
    }

    static Measured median(List<Measured> xs) {
        List<Measured> s = xs.stream().sorted(Comparator.comparingDouble(m -> m.seconds)).toList();
        return s.get(s.size() / 2);
    }

    // ---- measuring a child process ----------------------------------------------------------

    /** One timed run of a tool: wall time (here), peak RSS and CPU (from /usr/bin/time), and the tool's own figure if it gives one. */
    record Measured(double seconds, long peakKiB, double user, double sys, double own, String load) {
        void print(String what) {
            System.out.printf(Locale.ROOT, "  %-60s %8.2f s, peak RSS %5d MiB, CPU %6.1f s (user %.1f, sys %.1f)%s [load %s]%n", what,
                    seconds, peakKiB / 1024, user + sys, user, sys, own >= 0 ? String.format(Locale.ROOT, ", tool's own %.2f s", own)
                            : "", load);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seconds", seconds);
            m.put("peak RSS KiB", peakKiB);
            m.put("user CPU s", user);
            m.put("sys CPU s", sys);
            if (own >= 0) {
                m.put("tool's own seconds", own);
            }
            m.put("load average before", load);
            return m;
        }
    }

    /** Runs {@code command} under /usr/bin/time; stdout and stderr go to {@code logs/<log>.out|.err}. */
    static Measured timed(List<String> command, Map<String, String> env, Path cwd, Path logs, String log, int... okExits)
            throws IOException, InterruptedException {
        Path timeFile = logs.resolve(log + ".time");
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/time", "-f", "%e %M %U %S", "-o", timeFile.toString()));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(logs.resolve(log + ".out").toFile())
                .redirectError(logs.resolve(log + ".err").toFile());
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        pb.environment().putAll(env);
        String load = loadAverage();
        long t0 = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(2, TimeUnit.HOURS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", command));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int exit = p.exitValue();
        if (exit != 0 && Arrays.stream(okExits).noneMatch(e -> e == exit)) {
            throw new IOException("exit " + exit + ": " + String.join(" ", command) + " (see " + logs.resolve(log + ".err") + ")");
        }
        List<String> lines = Files.readAllLines(timeFile);
        String[] f = lines.getLast().strip().split(" ");
        return new Measured(seconds, Long.parseLong(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]), -1, load);
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    static String cpuPressure() {
        try {
            return Files.readAllLines(Path.of("/proc/pressure/cpu")).getFirst();
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** Flushes dirty pages of earlier steps, then reads {@code input} once so that every tool starts on a warm page cache. */
    static void prepare(Path input) throws IOException, InterruptedException {
        run(List.of("sync"));
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (Stream<Path> files = Files.walk(input)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                try (FileChannel c = FileChannel.open(p, StandardOpenOption.READ)) {
                    while (c.read(buf.clear()) > 0) {
                        // read only
                    }
                }
            }
        }
    }

    static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("failed: " + String.join(" ", command) + ": " + out);
        }
        return out;
    }

    static long treeBytes(Path p) throws IOException {
        if (!Files.exists(p)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(p)) {
            return s.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    static void delete(Path p) throws IOException, InterruptedException {
        if (Files.exists(p)) {
            run(List.of("rm", "-rf", p.toString()));
        }
    }

    static Map<String, Object> environment(long sizeMiB, int runs, int fillers) throws IOException {
        Path lib = Path.of(System.getProperty("intrustd.cli.lib", "cli/target/lib")).toAbsolutePath();
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("date", Instant.now().toString());
        env.put("corpus MiB", sizeMiB);
        env.put("runs", runs);
        env.put("other corpora for the scale test", fillers);
        env.put("cores", Runtime.getRuntime().availableProcessors());
        env.put("memory", Files.readAllLines(Path.of("/proc/meminfo")).getFirst().replaceAll("\\s+", " "));
        env.put("kernel", System.getProperty("os.version"));
        env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        env.put("intrustd cli lib", lib.toString());
        Path jar = lib.resolve("intrustd-backup-0.1.0-SNAPSHOT.jar");
        env.put("intrustd-backup jar built", Files.exists(jar) ? Files.getLastModifiedTime(jar).toString() : "?");
        // The checkout the intrustd build came from (the working tree may move on while a run goes).
        try {
            env.put("git commit", run(List.of("git", "rev-parse", "--short", "HEAD")).strip());
            String dirty = run(List.of("git", "status", "--porcelain", "--", "backup", "cli")).strip();
            env.put("uncommitted changes in backup/ or cli/", dirty.isEmpty() ? "none" : dirty);
        } catch (IOException | InterruptedException e) {
            env.put("git commit", "?");
        }
        env.put("load average at the start", loadAverage());
        env.put("cpu pressure at the start", cpuPressure());
        return env;
    }

    // ---- the tools --------------------------------------------------------------------------

    abstract static class Tool {
        final String name;
        final Path base;
        final Path logs;
        final Map<String, String> env = new HashMap<>();
        Path repo;
        Path cache;

        Tool(String name, Path base, Path logs) {
            this.name = name;
            this.base = base;
            this.logs = logs;
        }

        /** Its version, or null if it is not installed. */
        abstract String version();

        /** What a user's machine would have done before: nothing, for most tools. */
        void warmUp() throws IOException, InterruptedException {
        }

        abstract void init(String run) throws IOException, InterruptedException;

        abstract Measured backup(Path what, String label, String run) throws IOException, InterruptedException;

        abstract Measured restore(Path target, String run) throws IOException, InterruptedException;

        /** Opens the repository and lists its snapshots. */
        abstract Measured list(String run) throws IOException, InterruptedException;

        /** Where the restored copy of {@code corpus} is under {@code target}. */
        /** Where the restore put the corpus: restic and borg recreate its absolute path under the target. */
        Path restored(Path target, Path corpus) {
            return target.resolve(corpus.toAbsolutePath().toString().substring(1));
        }

        abstract Map<String, Object> settings();

        long repoBytes() throws IOException {
            return treeBytes(repo);
        }

        long cacheBytes() throws IOException {
            return cache == null ? 0 : treeBytes(cache);
        }

        void dropRepo() throws IOException, InterruptedException {
            delete(repo);
            if (cache != null) {
                delete(cache);
            }
        }

        static String firstLine(List<String> command) {
            try {
                return run(command).lines().findFirst().orElse("").strip();
            } catch (IOException | InterruptedException e) {
                return null;
            }
        }
    }

    static final class Intrustd extends Tool {
        private final List<String> java = new ArrayList<>();
        private final Path password;

        Intrustd(Path base, Path logs) {
            super("intrustd", base, logs);
            password = base.resolve("password");
            Path lib = Path.of(System.getProperty("intrustd.cli.lib", "cli/target/lib")).toAbsolutePath();
            // Exactly what ./intrustd's run_java does for a backup command (plus any flags given for
            // the bench): its heap cap, and class data kept from one run to the next, here in the
            // bench's temp folder and made by a first backup before anything is timed (warmUp).
            java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            java.add("--enable-native-access=ALL-UNNAMED");
            java.addAll(List.of("-Xmx768m", "-XX:TieredStopAtLevel=1"));
            java.addAll(Runtime.version().feature() >= 25 ? List.of("-XX:AOTCache=" + aotCache(), "-Xlog:aot=off", "-Xlog:cds=off")
                    : List.of("-XX:SharedArchiveFile=" + base.resolve("intrustd-cds.jsa"), "-XX:+AutoCreateSharedArchive",
                            "-Xlog:cds=off", "-Xlog:cds+dynamic=off"));
            Path logging = lib.resolve("../../src/main/resources/logging.properties").normalize();
            if (!Files.exists(logging)) {
                logging = Path.of("cli/src/main/resources/logging.properties").toAbsolutePath();
            }
            if (Files.exists(logging)) {
                java.add("-Djava.util.logging.config.file=" + logging);
            }
            String opts = System.getProperty("bench.intrustdJavaOpts", "").strip();
            if (!opts.isEmpty()) {
                java.addAll(List.of(opts.split("\\s+")));
            }
            java.addAll(List.of("-cp", lib + "/*", "org.intrustd.cli.Main", "backup"));
        }

        private List<String> cmd(String... args) {
            List<String> c = new ArrayList<>(java);
            c.addAll(List.of(args));
            return c;
        }

        @Override
        String version() {
            Path lib = Path.of(java.get(java.indexOf("-cp") + 1).replace("/*", ""));
            try (Stream<Path> s = Files.list(lib)) {
                if (s.noneMatch(p -> p.getFileName().toString().startsWith("intrustd-cli-"))) {
                    return null;
                }
            } catch (IOException e) {
                return null;
            }
            return "cli/target/lib, " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
        }

        private Path aotCache() {
            return base.resolve("intrustd-backup.aot");
        }

        /**
         * A user's machine has run intrustd before: on JDK 25+ ./intrustd has trained the backup
         * commands' AOT cache (org.intrustd.cli.BackupTraining, in the background after the first
         * backup command of a build), which is done here the same way before anything is timed;
         * on older JDKs the class data archive it keeps is made by the first command after a build,
         * here a backup of a small folder into a scratch repository (initialised without the
         * archive flags, so the backup is the run that writes it).
         */
        @Override
        void warmUp() throws IOException, InterruptedException {
            if (Runtime.version().feature() >= 25) {
                List<String> train = new ArrayList<>(java.stream().filter(a -> !a.startsWith("-XX:AOTCache=")).toList());
                train.set(train.indexOf("org.intrustd.cli.Main"), "org.intrustd.cli.BackupTraining");
                train.remove(train.size() - 1); // "backup"
                train.add(1, "-XX:AOTCacheOutput=" + aotCache());
                timed(train, env, null, logs, name + "-aot-training");
                return;
            }
            Path scratch = base.resolve("warm-up");
            Path folder = scratch.resolve("folder");
            Files.createDirectories(folder);
            for (int i = 0; i < 20; i++) {
                Files.writeString(folder.resolve("file" + i + ".txt"), ("warm-up " + i + "\n").repeat(1000 * i));
            }
            List<String> plain = new ArrayList<>(java.stream().filter(a -> !a.contains("SharedArchive") && !a.startsWith("-Xlog:cds"))
                    .toList());
            plain.addAll(List.of("init", "--repo", scratch.resolve("repo").toString(), "--password-file", password.toString()));
            timed(plain, env, null, logs, name + "-warm-up-init");
            timed(cmd("run", "--repo", scratch.resolve("repo").toString(), "--password-file", password.toString(), folder.toString()),
                    env, null, logs, name + "-warm-up-run");
            delete(scratch);
        }

        @Override
        void init(String run) throws IOException, InterruptedException {
            repo = base.resolve("repo-intrustd");
            timed(cmd("init", "--repo", repo.toString(), "--password-file", password.toString()), env, null, logs,
                    name + "-" + run + "-init");
        }

        @Override
        Measured backup(Path what, String label, String run) throws IOException, InterruptedException {
            String log = name + "-" + run + "-" + label;
            Measured m = timed(cmd("run", "--repo", repo.toString(), "--password-file", password.toString(), "--json", what.toString()),
                    env, null, logs, log);
            JsonNode j = JSON.readTree(logs.resolve(log + ".out").toFile());
            return new Measured(m.seconds, m.peakKiB, m.user, m.sys, j.path("summary").path("seconds").asDouble(-1), m.load);
        }

        @Override
        Measured restore(Path target, String run) throws IOException, InterruptedException {
            return timed(cmd("restore", "latest", "--repo", repo.toString(), "--password-file", password.toString(), "--target",
                    target.toString(), "--json"), env, null, logs, name + "-" + run + "-restore");
        }

        @Override
        Measured list(String run) throws IOException, InterruptedException {
            return timed(cmd("snapshots", "--repo", repo.toString(), "--password-file", password.toString()), env, null, logs,
                    name + "-" + run + "-snapshots");
        }

        @Override
        Path restored(Path target, Path corpus) {
            return target.resolve(corpus.getFileName());
        }

        @Override
        Map<String, Object> settings() {
            return Map.of("command", String.join(" ", java), "repository", "defaults: FastCDC 512 KiB/1 MiB/8 MiB, zstd 3, AES-256-GCM,"
                    + " 16 MiB packs; Argon2id 64 MiB × 3");
        }
    }

    static final class Restic extends Tool {
        Restic(Path base, Path logs) {
            super("restic", base, logs);
            env.put("RESTIC_PASSWORD", PASSWORD);
        }

        @Override
        String version() {
            return firstLine(List.of("restic", "version"));
        }

        private List<String> cmd(String... args) {
            List<String> c = new ArrayList<>(List.of("restic", "--repo", repo.toString(), "--cache-dir", cache.toString()));
            c.addAll(List.of(args));
            return c;
        }

        @Override
        void init(String run) throws IOException, InterruptedException {
            repo = base.resolve("repo-restic");
            cache = base.resolve("cache-restic");
            timed(cmd("init"), env, null, logs, name + "-" + run + "-init");
        }

        @Override
        Measured backup(Path what, String label, String run) throws IOException, InterruptedException {
            String log = name + "-" + run + "-" + label;
            Measured m = timed(cmd("backup", "--json", what.toString()), env, null, logs, log, 3);
            double own = -1;
            for (String line : Files.readAllLines(logs.resolve(log + ".out"))) {
                if (line.contains("\"summary\"")) {
                    own = JSON.readTree(line).path("total_duration").asDouble(-1);
                }
            }
            return new Measured(m.seconds, m.peakKiB, m.user, m.sys, own, m.load);
        }

        @Override
        Measured restore(Path target, String run) throws IOException, InterruptedException {
            return timed(cmd("restore", "latest", "--target", target.toString()), env, null, logs, name + "-" + run + "-restore");
        }

        @Override
        Measured list(String run) throws IOException, InterruptedException {
            return timed(cmd("snapshots"), env, null, logs, name + "-" + run + "-snapshots");
        }

        @Override
        Map<String, Object> settings() {
            return Map.of("repository", "restic init defaults: repository version 2, compression auto, 512 KiB–8 MiB chunks,"
                    + " 16 MiB packs", "cache", "--cache-dir in the bench's temp folder");
        }
    }

    static final class Borg extends Tool {
        private final List<String> archives = new ArrayList<>();

        Borg(Path base, Path logs) {
            super("borg", base, logs);
            env.put("BORG_PASSPHRASE", PASSWORD);
            env.put("BORG_BASE_DIR", base.resolve("borg-home").toString());
            env.put("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes");
            env.put("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes");
        }

        @Override
        String version() {
            return firstLine(List.of("borg", "--version"));
        }

        @Override
        void init(String run) throws IOException, InterruptedException {
            repo = base.resolve("repo-borg");
            cache = base.resolve("borg-home");
            archives.clear();
            timed(List.of("borg", "init", "--encryption=repokey", repo.toString()), env, null, logs, name + "-" + run + "-init");
        }

        @Override
        Measured backup(Path what, String label, String run) throws IOException, InterruptedException {
            String log = name + "-" + run + "-" + label;
            String archive = label + "-" + run;
            Measured m = timed(List.of("borg", "create", "--json", "--compression", "zstd,3", repo + "::" + archive,
                    what.toAbsolutePath().toString()), env, null, logs, log, 1);
            archives.add(archive);
            double own = JSON.readTree(logs.resolve(log + ".out").toFile()).path("archive").path("duration").asDouble(-1);
            return new Measured(m.seconds, m.peakKiB, m.user, m.sys, own, m.load);
        }

        @Override
        Measured restore(Path target, String run) throws IOException, InterruptedException {
            Files.createDirectories(target);
            return timed(List.of("borg", "extract", repo + "::" + archives.getLast()), env, target, logs, name + "-" + run + "-restore");
        }

        @Override
        Measured list(String run) throws IOException, InterruptedException {
            return timed(List.of("borg", "list", repo.toString()), env, null, logs, name + "-" + run + "-list");
        }

        @Override
        Map<String, Object> settings() {
            return Map.of("repository", "borg init --encryption=repokey (AES-256-CTR + HMAC-SHA256); borg create --compression zstd,3;"
                    + " default chunker (buzhash 19,23,21: 512 KiB–8 MiB, ~2 MiB)", "cache", "BORG_BASE_DIR in the bench's temp folder");
        }
    }

    // ---- the corpus ---------------------------------------------------------------------------

    enum Kind { TEXT, GZIP, ZSTD, RANDOM, DUPLICATE, NEAR_DUPLICATE }

    /** A file of the corpus: where, what, and how big (after an edit, its new size). */
    static final class FileEntry {
        final String rel;
        final Kind kind;
        final boolean small;
        final long seed;
        final FileEntry source;
        long size;

        FileEntry(String rel, Kind kind, boolean small, long size, long seed, FileEntry source) {
            this.rel = rel;
            this.kind = kind;
            this.small = small;
            this.size = size;
            this.seed = seed;
            this.source = source;
        }
    }

    /** What a change did, and how to undo it (when asked to keep the old files). */
    record Change(List<FileEntry> edited, long editedBytes, List<FileEntry> added, long addedBytes, List<FileEntry> deleted,
            long deletedBytes, Map<String, Long> oldSizes) {
        String describe(long total) {
            return String.format(Locale.ROOT, "%d files edited (%.1f MiB, %.2f %%), %d added (%.1f MiB, %.2f %%), %d deleted (%.1f MiB,"
                    + " %.2f %%)", edited.size(), editedBytes / (double) MIB, 100.0 * editedBytes / total, added.size(),
                    addedBytes / (double) MIB, 100.0 * addedBytes / total, deleted.size(), deletedBytes / (double) MIB,
                    100.0 * deletedBytes / total);
        }

        Map<String, Object> stats() {
            return Map.of("files edited", edited.size(), "bytes edited (their size)", editedBytes, "files added", added.size(),
                    "bytes added", addedBytes, "files deleted", deleted.size(), "bytes deleted", deletedBytes);
        }
    }

    static final class Corpus {
        final Path root;
        final List<String> folders;
        final List<FileEntry> files;
        final Map<Kind, long[]> byKind = new LinkedHashMap<>();
        final ExecutorService pool;
        final TextGen text;

        private Corpus(Path root, List<String> folders, List<FileEntry> files, ExecutorService pool, TextGen text) {
            this.root = root;
            this.folders = folders;
            this.files = files;
            this.pool = pool;
            this.text = text;
        }

        long bytes() {
            return files.stream().mapToLong(f -> f.size).sum();
        }

        String describe() {
            long small = files.stream().filter(f -> f.small).count();
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%d files (%d of them under 64 KiB), %d folders, %.1f MiB:",
                    files.size(), small, folders.size(), bytes() / (double) MIB));
            byKind.forEach((k, v) -> b.append(String.format(Locale.ROOT, " %s %d files %.1f MiB;", k.name().toLowerCase(Locale.ROOT),
                    v[0], v[1] / (double) MIB)));
            return b.toString();
        }

        Map<String, Object> stats() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("files", files.size());
            m.put("small files (< 64 KiB)", files.stream().filter(f -> f.small).count());
            m.put("folders", folders.size());
            m.put("bytes", bytes());
            byKind.forEach((k, v) -> m.put(k.name().toLowerCase(Locale.ROOT), Map.of("files", v[0], "bytes", v[1])));
            return m;
        }

        /**
         * The corpus of {@code total} bytes: 6 % small files (256 B – 64 KiB; 70 % text, the rest
         * random or zstd), 28 % text, 22 % compressed (gzip -1 or zstd -1 of text), 12 % random, one
         * random file of 8 %, then 10 % exact duplicates and 14 % near-duplicates of the medium files
         * (64 KiB – 32 MiB, log-uniform), and duplicates of 5 % of the small files.
         */
        static Corpus generate(Path root, long total, long seed, ExecutorService pool) throws Exception {
            SplittableRandom r = new SplittableRandom(seed);
            TextGen text = new TextGen(seed);
            int[] counter = {0};
            List<long[]> plan = new ArrayList<>(); // size, kind ordinal, small, seed, source index (-1)
            long sum = 0;
            while (sum < total * 6 / 100) {
                long size = logUniform(r, 256, 64 << 10);
                int k = r.nextInt(100);
                Kind kind = k < 70 ? Kind.TEXT : k < 85 ? Kind.RANDOM : Kind.ZSTD;
                plan.add(new long[] {size, kind.ordinal(), 1, r.nextLong(), -1});
                sum += size;
            }
            sum = 0;
            while (sum < total * 28 / 100) {
                long size = Math.min(logUniform(r, 64 << 10, 32 << 20), total / 20 + 1);
                plan.add(new long[] {size, Kind.TEXT.ordinal(), 0, r.nextLong(), -1});
                sum += size;
            }
            sum = 0;
            while (sum < total * 22 / 100) {
                long size = Math.min(logUniform(r, 64 << 10, 32 << 20), total / 20 + 1);
                plan.add(new long[] {size, (r.nextBoolean() ? Kind.GZIP : Kind.ZSTD).ordinal(), 0, r.nextLong(), -1});
                sum += size;
            }
            sum = 0;
            while (sum < total * 12 / 100) {
                long size = Math.min(logUniform(r, 64 << 10, 32 << 20), total / 20 + 1);
                plan.add(new long[] {size, Kind.RANDOM.ordinal(), 0, r.nextLong(), -1});
                sum += size;
            }
            plan.add(new long[] {total * 8 / 100, Kind.RANDOM.ordinal(), 0, r.nextLong(), -1});
            int nOriginals = plan.size();
            List<Integer> mediumIdx = new ArrayList<>();
            List<Integer> smallIdx = new ArrayList<>();
            for (int i = 0; i < nOriginals - 1; i++) {
                (plan.get(i)[2] == 1 ? smallIdx : mediumIdx).add(i);
            }
            sum = 0;
            while (sum < total * 10 / 100) {
                int src = mediumIdx.get(r.nextInt(mediumIdx.size()));
                plan.add(new long[] {plan.get(src)[0], Kind.DUPLICATE.ordinal(), 0, r.nextLong(), src});
                sum += plan.get(src)[0];
            }
            for (int i = 0; i < smallIdx.size() / 20; i++) {
                int src = smallIdx.get(r.nextInt(smallIdx.size()));
                plan.add(new long[] {plan.get(src)[0], Kind.DUPLICATE.ordinal(), 1, r.nextLong(), src});
            }
            sum = 0;
            while (sum < total * 14 / 100) {
                int src = mediumIdx.get(r.nextInt(mediumIdx.size()));
                plan.add(new long[] {plan.get(src)[0], Kind.NEAR_DUPLICATE.ordinal(), 0, r.nextLong(), src});
                sum += plan.get(src)[0];
            }

            // Nested folders, up to 6 deep; small files crowd into fewer folders (like source trees).
            int nFolders = Math.max(4, plan.size() / 25);
            List<String> folders = new ArrayList<>();
            int[] depth = new int[nFolders];
            folders.add("");
            for (int i = 1; i < nFolders; i++) {
                int parent = r.nextInt(i);
                if (depth[parent] >= 6) {
                    parent = 0;
                }
                depth[i] = depth[parent] + 1;
                String name = FOLDER_NAMES[r.nextInt(FOLDER_NAMES.length)] + "-" + i;
                folders.add(parent == 0 ? name : folders.get(parent) + "/" + name);
            }
            List<FileEntry> all = new ArrayList<>();
            for (long[] p : plan) {
                Kind kind = Kind.values()[(int) p[1]];
                boolean small = p[2] == 1;
                double u = r.nextDouble();
                String folder = folders.get(small ? (int) (u * u * nFolders) : (int) (u * nFolders));
                FileEntry source = p[4] >= 0 ? all.get((int) p[4]) : null;
                Kind shown = source == null ? kind : source.kind;
                String name = text.word(r) + "-" + counter[0]++ + extension(shown, small, r);
                FileEntry f = new FileEntry(folder.isEmpty() ? name : folder + "/" + name, kind, small, p[0], p[3], source);
                all.add(f);
            }
            for (String f : folders) {
                Files.createDirectories(root.resolve(f));
            }
            Corpus c = new Corpus(root, folders, all, pool, text);
            // Originals first (in parallel, each from its own seed), then the copies of them.
            List<Callable<Void>> first = new ArrayList<>();
            List<Callable<Void>> second = new ArrayList<>();
            for (FileEntry f : all) {
                (f.source == null ? first : second).add(() -> {
                    c.write(f);
                    return null;
                });
            }
            for (List<Callable<Void>> tasks : List.of(first, second)) {
                for (Future<Void> fu : pool.invokeAll(tasks)) {
                    fu.get();
                }
            }
            for (FileEntry f : all) {
                f.size = Files.size(root.resolve(f.rel));
                long[] v = c.byKind.computeIfAbsent(f.kind, k -> new long[2]);
                v[0]++;
                v[1] += f.size;
            }
            return c;
        }

        private static final String[] FOLDER_NAMES = {"Documents", "Projects", "src", "photos", "mail", "archive", "2024", "2025",
            "notes", "build", "data", "music", "invoices", "backup", "old", "work", "home", "misc", "logs", "export"};

        private static String extension(Kind kind, boolean small, SplittableRandom r) {
            return switch (kind) {
                case TEXT -> small ? new String[] {".java", ".md", ".txt", ".c", ".html"}[r.nextInt(5)]
                        : new String[] {".txt", ".log", ".csv"}[r.nextInt(3)];
                case GZIP -> ".gz";
                case ZSTD -> ".zst";
                case RANDOM -> small ? ".bin" : new String[] {".bin", ".img", ".dat"}[r.nextInt(3)];
                default -> "";
            };
        }

        static long logUniform(SplittableRandom r, long lo, long hi) {
            return (long) Math.exp(Math.log(lo) + r.nextDouble() * (Math.log(hi) - Math.log(lo)));
        }

        /** Makes one file of the corpus from its seed (or from its source). */
        void write(FileEntry f) throws IOException {
            Path p = root.resolve(f.rel);
            SplittableRandom r = new SplittableRandom(f.seed);
            switch (f.kind) {
                case TEXT -> {
                    int style = f.small ? 3 : r.nextInt(3);
                    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(p), 1 << 20)) {
                        byte[] buf = new byte[(1 << 20) + 4096];
                        long left = f.size;
                        while (left > 0) {
                            int n = (int) Math.min(1 << 20, left);
                            text.fill(buf, n, r, style);
                            out.write(buf, 0, n);
                            left -= n;
                        }
                    }
                }
                case GZIP, ZSTD -> {
                    CountingOutput counting = new CountingOutput(new BufferedOutputStream(Files.newOutputStream(p), 1 << 20));
                    OutputStream z = f.kind == Kind.ZSTD ? new ZstdOutputStream(counting, 1) : new GZIPOutputStream(counting, 1 << 16) {
                        {
                            def.setLevel(Deflater.BEST_SPEED);
                        }
                    };
                    try (z) {
                        byte[] buf = new byte[(1 << 16) + 4096];
                        int style = r.nextInt(3);
                        while (counting.count < f.size) {
                            text.fill(buf, 1 << 16, r, style);
                            z.write(buf, 0, 1 << 16);
                        }
                    }
                }
                case RANDOM -> {
                    try (OutputStream out = Files.newOutputStream(p)) {
                        byte[] buf = new byte[1 << 20];
                        long left = f.size;
                        while (left > 0) {
                            int n = (int) Math.min(buf.length, left);
                            random(buf, n, r);
                            out.write(buf, 0, n);
                            left -= n;
                        }
                    }
                }
                case DUPLICATE -> Files.copy(root.resolve(f.source.rel), p, StandardCopyOption.REPLACE_EXISTING);
                case NEAR_DUPLICATE -> Files.write(p, edit(Files.readAllBytes(root.resolve(f.source.rel)), r, 1 + r.nextInt(4)));
            }
        }

        /**
         * Changes ~1 % of the corpus (change number {@code k}, deterministic): edits files in place
         * (0.5 % of the bytes in medium files of at most 4 MiB, and 1 % of the small files), adds
         * files (0.3 %: text and random, 64 KiB – 4 MiB, and new small files: 0.5 % of their count,
         * some in a new folder), deletes files (0.2 %, and 0.5 % of the small files). With an
         * {@code undo} folder, the old content of what it edits or deletes is kept there.
         */
        Change change(int k, Path undo) throws IOException {
            SplittableRandom r = new SplittableRandom(SEED * 31 + k);
            long total = bytes();
            // In name order first, so that change k picks the same files whatever happened to the list before (an undo).
            List<FileEntry> sorted = files.stream().sorted(Comparator.comparing((FileEntry f) -> f.rel)).toList();
            List<FileEntry> mediums = new ArrayList<>(sorted.stream().filter(f -> !f.small && f.size <= 4 * MIB).toList());
            List<FileEntry> smalls = new ArrayList<>(sorted.stream().filter(f -> f.small).toList());
            shuffle(mediums, r);
            shuffle(smalls, r);
            List<FileEntry> edited = new ArrayList<>();
            List<FileEntry> deleted = new ArrayList<>();
            List<FileEntry> added = new ArrayList<>();
            Map<String, Long> oldSizes = new HashMap<>();
            long editedBytes = 0;
            long deletedBytes = 0;
            long addedBytes = 0;
            int mi = 0;
            int si = 0;
            while (editedBytes < total / 200 && mi < mediums.size()) {
                edited.add(mediums.get(mi));
                editedBytes += mediums.get(mi++).size;
            }
            for (int i = 0; i < Math.max(1, smalls.size() / 100) && si < smalls.size(); i++) {
                edited.add(smalls.get(si));
                editedBytes += smalls.get(si++).size;
            }
            while (deletedBytes < total / 500 && mi < mediums.size()) {
                deleted.add(mediums.get(mi));
                deletedBytes += mediums.get(mi++).size;
            }
            for (int i = 0; i < Math.max(1, smalls.size() / 200) && si < smalls.size(); i++) {
                deleted.add(smalls.get(si));
                deletedBytes += smalls.get(si++).size;
            }
            if (undo != null) {
                Files.createDirectories(undo);
                for (FileEntry f : edited) {
                    Files.copy(root.resolve(f.rel), undo.resolve(f.rel.replace("/", "%")), StandardCopyOption.REPLACE_EXISTING,
                            StandardCopyOption.COPY_ATTRIBUTES);
                    oldSizes.put(f.rel, f.size);
                }
                for (FileEntry f : deleted) {
                    Files.copy(root.resolve(f.rel), undo.resolve(f.rel.replace("/", "%")), StandardCopyOption.REPLACE_EXISTING,
                            StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            for (FileEntry f : edited) {
                Path p = root.resolve(f.rel);
                byte[] b = edit(Files.readAllBytes(p), r, 1 + r.nextInt(3));
                Files.write(p, b); // in place: same inode, new size or content, new mtime
                f.size = b.length;
            }
            for (FileEntry f : deleted) {
                Files.delete(root.resolve(f.rel));
            }
            files.removeAll(deleted);
            String newFolder = folders.get(1 + r.nextInt(folders.size() - 1)) + "/added-" + k;
            Files.createDirectories(root.resolve(newFolder));
            int n = 0;
            while (addedBytes < total * 3 / 1000) {
                boolean isText = r.nextBoolean();
                String folder = r.nextBoolean() ? newFolder : folders.get(r.nextInt(folders.size()));
                String name = text.word(r) + "-added" + k + "-" + n++ + (isText ? ".txt" : ".bin");
                FileEntry f = new FileEntry(folder.isEmpty() ? name : folder + "/" + name, isText ? Kind.TEXT : Kind.RANDOM, false,
                        logUniform(r, 64 << 10, 4 << 20), r.nextLong(), null);
                write(f);
                added.add(f);
                addedBytes += f.size;
            }
            for (int i = 0; i < Math.max(1, smalls.size() / 200); i++) {
                String folder = r.nextBoolean() ? newFolder : folders.get(r.nextInt(folders.size()));
                String name = text.word(r) + "-added" + k + "-" + n++ + ".md";
                FileEntry f = new FileEntry(folder.isEmpty() ? name : folder + "/" + name, Kind.TEXT, true, logUniform(r, 256, 64 << 10),
                        r.nextLong(), null);
                write(f);
                added.add(f);
                addedBytes += f.size;
            }
            files.addAll(added);
            return new Change(edited, editedBytes, added, addedBytes, deleted, deletedBytes, oldSizes);
        }

        /** Puts the corpus back as it was before {@code c} (new inodes and ctimes: only a first backup may follow). */
        void undo(Change c, Path undo) throws IOException, InterruptedException {
            for (FileEntry f : c.added()) {
                Files.delete(root.resolve(f.rel));
            }
            files.removeAll(c.added());
            for (FileEntry f : c.edited()) {
                Files.move(undo.resolve(f.rel.replace("/", "%")), root.resolve(f.rel), StandardCopyOption.REPLACE_EXISTING);
                f.size = c.oldSizes().get(f.rel);
            }
            for (FileEntry f : c.deleted()) {
                Files.move(undo.resolve(f.rel.replace("/", "%")), root.resolve(f.rel), StandardCopyOption.REPLACE_EXISTING);
            }
            files.addAll(c.deleted());
            delete(undo);
        }

        /** Every file of the corpus is in {@code restored} with the same bytes, and nothing else is. */
        void verify(Path restored, String tool) throws Exception {
            AtomicLong bad = new AtomicLong();
            List<Callable<Void>> tasks = new ArrayList<>();
            int parts = 8;
            for (int i = 0; i < parts; i++) {
                int part = i;
                tasks.add(() -> {
                    for (int j = part; j < files.size(); j += parts) {
                        FileEntry f = files.get(j);
                        Path copy = restored.resolve(f.rel);
                        if (!Files.isRegularFile(copy) || Files.mismatch(root.resolve(f.rel), copy) != -1) {
                            if (bad.getAndIncrement() < 5) {
                                System.out.printf("    %s: %s differs or is missing%n", tool, f.rel);
                            }
                        }
                    }
                    return null;
                });
            }
            for (Future<Void> fu : pool.invokeAll(tasks)) {
                fu.get();
            }
            long count;
            try (Stream<Path> s = Files.walk(restored)) {
                count = s.filter(Files::isRegularFile).count();
            }
            if (bad.get() > 0 || count != files.size()) {
                throw new IllegalStateException(tool + "'s restore differs from the corpus: " + bad.get() + " files differ or are"
                        + " missing; " + count + " files restored for " + files.size());
            }
            System.out.printf("    %s's restore checked: %d files, every byte equal%n", tool, count);
        }
    }

    static <T> void shuffle(List<T> xs, SplittableRandom r) {
        for (int i = xs.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            T t = xs.get(i);
            xs.set(i, xs.get(j));
            xs.set(j, t);
        }
    }

    static void random(byte[] buf, int n, SplittableRandom r) {
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            long v = r.nextLong();
            for (int j = 0; j < 8; j++) {
                buf[i + j] = (byte) (v >>> (8 * j));
            }
        }
        for (; i < n; i++) {
            buf[i] = (byte) r.nextInt();
        }
    }

    /** A few small edits: overwrite 1–64 bytes, insert 1–4096 random bytes, or delete 1–4096 bytes, at random places. */
    static byte[] edit(byte[] b, SplittableRandom r, int edits) {
        for (int e = 0; e < edits; e++) {
            int at = b.length == 0 ? 0 : r.nextInt(b.length);
            switch (r.nextInt(3)) {
                case 0 -> {
                    byte[] x = new byte[Math.min(1 + r.nextInt(64), b.length - at)];
                    random(x, x.length, r);
                    System.arraycopy(x, 0, b, at, x.length);
                }
                case 1 -> {
                    byte[] x = new byte[1 + r.nextInt(4096)];
                    random(x, x.length, r);
                    byte[] n = new byte[b.length + x.length];
                    System.arraycopy(b, 0, n, 0, at);
                    System.arraycopy(x, 0, n, at, x.length);
                    System.arraycopy(b, at, n, at + x.length, b.length - at);
                    b = n;
                }
                default -> {
                    int len = Math.min(1 + r.nextInt(4096), b.length - at);
                    byte[] n = new byte[b.length - len];
                    System.arraycopy(b, 0, n, 0, at);
                    System.arraycopy(b, at + len, n, at, b.length - at - len);
                    b = n;
                }
            }
        }
        return b;
    }

    static final class CountingOutput extends OutputStream {
        private final OutputStream out;
        long count;

        CountingOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /**
     * Text in four styles from a vocabulary of 8,192 made-up words (Zipf-like use): prose, log
     * lines, CSV rows, and code-like lines (for the small files). Thread-safe (the state is the caller's random).
     */
    static final class TextGen {
        private final byte[][] words;
        private static final byte[] LETTERS = "etaoinshrdlcumwfgypbvkjxqz".getBytes(StandardCharsets.US_ASCII);
        private static final byte[][] LEVELS = {b("DEBUG"), b("INFO "), b("INFO "), b("INFO "), b("WARN "), b("ERROR")};
        private static final byte[][] CODE = {b("if ("), b("return "), b("for (int i = 0; i < "), b("final var "), b("} else {"),
            b("// "), b("throw new IllegalStateException(\""), b("public static "), b("assert "), b("while (")};

        TextGen(long seed) {
            SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
            words = new byte[8192][];
            for (int i = 0; i < words.length; i++) {
                byte[] w = new byte[2 + r.nextInt(4) + r.nextInt(7)];
                for (int j = 0; j < w.length; j++) {
                    double u = r.nextDouble();
                    w[j] = LETTERS[(int) (u * u * LETTERS.length)];
                }
                words[i] = w;
            }
        }

        private static byte[] b(String s) {
            return s.getBytes(StandardCharsets.US_ASCII);
        }

        String word(SplittableRandom r) {
            return new String(words[pick(r)], StandardCharsets.US_ASCII);
        }

        private int pick(SplittableRandom r) {
            double u = r.nextDouble();
            return (int) (u * u * u * words.length);
        }

        /** Fills {@code buf[0, n)} (buf has 4 KiB of slack after n). */
        void fill(byte[] buf, int n, SplittableRandom r, int style) {
            int p = 0;
            long clock = r.nextLong(1_700_000_000_000L, 1_800_000_000_000L);
            while (p < n) {
                switch (style) {
                    case 0 -> { // prose: a sentence, lines of ~72 characters
                        int count = 4 + r.nextInt(16);
                        int col = 0;
                        for (int i = 0; i < count; i++) {
                            byte[] w = words[pick(r)];
                            System.arraycopy(w, 0, buf, p, w.length);
                            p += w.length;
                            col += w.length + 1;
                            buf[p++] = (byte) (i == count - 1 ? '.' : col > 72 ? '\n' : ' ');
                            if (col > 72) {
                                col = 0;
                            }
                        }
                        buf[p++] = (byte) (r.nextInt(8) == 0 ? '\n' : ' ');
                    }
                    case 1 -> { // log line
                        clock += r.nextInt(2000);
                        p = num(buf, p, clock / 1000);
                        buf[p++] = '.';
                        p = padded(buf, p, clock % 1000, 3);
                        buf[p++] = ' ';
                        byte[] lv = LEVELS[r.nextInt(LEVELS.length)];
                        System.arraycopy(lv, 0, buf, p, lv.length);
                        p += lv.length;
                        p = put(buf, p, " [worker-");
                        p = num(buf, p, r.nextInt(16));
                        p = put(buf, p, "] ");
                        for (int i = 0, k = 3 + r.nextInt(6); i < k; i++) {
                            byte[] w = words[pick(r)];
                            System.arraycopy(w, 0, buf, p, w.length);
                            p += w.length;
                            buf[p++] = ' ';
                        }
                        p = put(buf, p, "id=");
                        p = hex(buf, p, r.nextLong() & 0xFFFF_FFFFL);
                        p = put(buf, p, " took=");
                        p = num(buf, p, r.nextInt(r.nextInt(3) == 0 ? 5000 : 50));
                        p = put(buf, p, "ms\n");
                    }
                    case 2 -> { // CSV row
                        p = num(buf, p, clock++);
                        buf[p++] = ',';
                        for (int i = 0; i < 3; i++) {
                            byte[] w = words[pick(r)];
                            System.arraycopy(w, 0, buf, p, w.length);
                            p += w.length;
                            buf[p++] = ',';
                        }
                        p = num(buf, p, r.nextInt(100_000));
                        buf[p++] = '.';
                        p = padded(buf, p, r.nextInt(100), 2);
                        buf[p++] = ',';
                        p = num(buf, p, r.nextInt(12));
                        buf[p++] = '\n';
                    }
                    default -> { // code-like line
                        int indent = 4 * r.nextInt(4);
                        Arrays.fill(buf, p, p + indent, (byte) ' ');
                        p += indent;
                        byte[] c = CODE[r.nextInt(CODE.length)];
                        System.arraycopy(c, 0, buf, p, c.length);
                        p += c.length;
                        for (int i = 0, k = 1 + r.nextInt(4); i < k; i++) {
                            byte[] w = words[pick(r)];
                            System.arraycopy(w, 0, buf, p, w.length);
                            p += w.length;
                            buf[p++] = (byte) (i == k - 1 ? ';' : r.nextBoolean() ? '.' : '_');
                        }
                        buf[p++] = '\n';
                    }
                }
            }
        }

        private static int put(byte[] buf, int p, String s) {
            for (int i = 0; i < s.length(); i++) {
                buf[p++] = (byte) s.charAt(i);
            }
            return p;
        }

        private static int num(byte[] buf, int p, long v) {
            if (v == 0) {
                buf[p++] = '0';
                return p;
            }
            int start = p;
            while (v > 0) {
                buf[p++] = (byte) ('0' + v % 10);
                v /= 10;
            }
            for (int i = start, j = p - 1; i < j; i++, j--) {
                byte t = buf[i];
                buf[i] = buf[j];
                buf[j] = t;
            }
            return p;
        }

        private static int padded(byte[] buf, int p, long v, int width) {
            for (int i = width - 1; i >= 0; i--) {
                buf[p + i] = (byte) ('0' + v % 10);
                v /= 10;
            }
            return p + width;
        }

        private static int hex(byte[] buf, int p, long v) {
            for (int i = 7; i >= 0; i--) {
                buf[p + i] = (byte) "0123456789abcdef".charAt((int) (v & 15));
                v >>>= 4;
            }
            return p + 8;
        }
    }
}

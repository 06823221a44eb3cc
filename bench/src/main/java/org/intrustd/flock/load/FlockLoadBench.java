package org.intrustd.flock.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.intrustd.core.id.ApplianceId;

/**
 * The flock under load (issue 11, "Load and faults"): simulated appliances and browsers speaking
 * the real protocol to a flock in its own JVM ({@code intrustd flock} from {@code cli/target/lib},
 * {@code -Xmx1g}), measuring
 * <ul>
 *   <li>heap after a full GC and RSS with N registered idle appliances (goal: 100,000 in 1 GiB);
 *   <li>introductions/s with p50/p99/max latency (goal ≥ 2,000/s on 2 cores), against the same
 *       client through a bare Jetty WebSocket echo server ({@link EchoServer}) in the same run;
 *   <li>with {@code -Dbench.soak=60m}: churn for that long, heap after GC every minute, exit 1 when
 *       it keeps growing.
 * </ul>
 * Run from the repository root after {@code mvn -B -pl cli,bench -am package -DskipTests}:
 * {@code java -cp 'bench/target/lib/*' org.intrustd.flock.load.FlockLoadBench}. Options are system
 * properties, see {@link Options}. Each appliance is a socket in both JVMs: it starts itself again
 * under {@code ulimit -n} when it may raise the hard limit, and otherwise registers as many as the
 * limits allow and extrapolates. Writes {@code bench/results/flock-load-latest.json}
 * (or {@code -Dbench.results=FILE}); process output goes to {@code bench/results/logs/flock-load/}.
 */
public final class FlockLoadBench {
  static final int OPEN_FILES = 1_048_576;
  /** Ephemeral ports on one source address are ~28,000 (32768–60999); stay well under. */
  private static final int PER_SOURCE_ADDRESS = 20_000;
  private static final InetAddress BROWSER_SOURCE = address("127.0.1.1");
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * @param appliances idle appliances to reach ({@code bench.appliances})
   * @param steps counts at which to measure memory ({@code bench.steps}, comma-separated)
   * @param browsers simulated browser connections ({@code bench.browsers})
   * @param inFlight open introductions per browser ({@code bench.inflight})
   * @param perBrowser introductions/s each browser starts at most ({@code bench.rate}; 4 messages each,
   *     under the flock's 100 messages/s per connection)
   * @param paced the introductions/s of the latency runs ({@code bench.paced}): the goal rate, so that
   *     p99 is read below saturation (the throughput runs keep every browser at its cap, where latency
   *     only says how long the queue is)
   * @param warmup seconds before measuring introductions ({@code bench.warmup})
   * @param seconds seconds of introductions measured ({@code bench.seconds})
   * @param loops selector threads of the generator ({@code bench.loops})
   * @param heartbeat seconds between an appliance's pings ({@code bench.heartbeat}; flock.md: 15)
   * @param flockHeap the flock's {@code -Xmx} ({@code bench.flockHeap})
   * @param flockJavaOpts more JVM options for the flock, space-separated ({@code bench.flockJavaOpts})
   * @param soak churn for this long instead ({@code bench.soak}, e.g. {@code 60m}, {@code 90s}); zero: off
   * @param soakAppliances appliances kept registered in the soak ({@code bench.soakAppliances})
   * @param churn appliances replaced each second in the soak ({@code bench.churn})
   * @param soakRate introductions/s in the soak ({@code bench.soakRate})
   * @param cli where the flock's jars are ({@code bench.cli})
   */
  record Options(int appliances, List<Integer> steps, int browsers, int inFlight, double perBrowser, int paced,
      int warmup,
      int seconds, int loops, int heartbeat, String flockHeap, String flockJavaOpts, Duration soak,
      int soakAppliances, int churn, int soakRate, Path cli) {

    static Options fromProperties() {
      int appliances = Integer.getInteger("bench.appliances", 100_000);
      List<Integer> steps = new ArrayList<>();
      for (String s : System.getProperty("bench.steps", "5000,10000,50000,100000").split(",")) {
        int n = Integer.parseInt(s.strip());
        if (n <= appliances) {
          steps.add(n);
        }
      }
      if (steps.isEmpty() || steps.getLast() != appliances) {
        steps.add(appliances);
      }
      return new Options(appliances, List.copyOf(steps), Integer.getInteger("bench.browsers", 128),
          Integer.getInteger("bench.inflight", 4), Double.parseDouble(System.getProperty("bench.rate", "24")),
          Integer.getInteger("bench.paced", 2_000), Integer.getInteger("bench.warmup", 5), Integer.getInteger("bench.seconds", 20),
          Integer.getInteger("bench.loops", 2), Integer.getInteger("bench.heartbeat", 15),
          System.getProperty("bench.flockHeap", "1g"), System.getProperty("bench.flockJavaOpts", ""),
          duration(System.getProperty("bench.soak", "0s")), Integer.getInteger("bench.soakAppliances", 20_000),
          Integer.getInteger("bench.churn", 100), Integer.getInteger("bench.soakRate", 500),
          Path.of(System.getProperty("bench.cli", root().resolve("cli/target/lib").toString())));
    }
  }

  private final Options options;
  private final Path logs;
  private final Wire wire = new Wire();
  private final List<Loop> loops = new ArrayList<>();
  private final Tally[] tallies;
  /** Limits registrations in progress, so that the flock's accept queue never overflows. */
  private final Semaphore connecting = new Semaphore(512);
  private final Map<Long, SimAppliance> live = new ConcurrentHashMap<>();
  private final Map<String, Long> registrationFailures = new ConcurrentHashMap<>();
  private final Map<String, Long> drops = new ConcurrentHashMap<>();
  private final AtomicLong failed = new AtomicLong();
  private final Map<Long, Boolean> leaving = new ConcurrentHashMap<>();
  private long nextIndex;
  /** The main thread's own: each loop's random belongs to its thread. */
  private final java.util.SplittableRandom random = new java.util.SplittableRandom(7);

  private FlockLoadBench(Options options, Path logs) {
    this.options = options;
    this.logs = logs;
    this.tallies = new Tally[options.loops()];
    for (int i = 0; i < options.loops(); i++) {
      loops.add(new Loop("load-" + i, 42 + i));
      tallies[i] = new Tally();
    }
  }

  public static void main(String[] args) throws Exception {
    if (openFilesLimit("self") < OPEN_FILES / 2 && canRaiseLimits() && System.getProperty("bench.relaunched") == null) {
      System.exit(relaunchWithMoreFiles(args));
    }
    Options options = Options.fromProperties();
    Path logs = root().resolve("bench/results/logs/flock-load");
    Files.createDirectories(logs);
    Path results = Path.of(System.getProperty("bench.results",
        root().resolve(options.soak().isZero() ? "bench/results/flock-load-latest.json"
            : "bench/results/flock-soak-latest.json").toString()));
    FlockLoadBench bench = new FlockLoadBench(options, logs);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("date", Instant.now().toString());
    out.put("options", options.toString());
    out.put("machine", machine());
    int status;
    try {
      status = options.soak().isZero() ? bench.load(out) : bench.soak(out);
    } finally {
      bench.loops.forEach(Loop::close);
    }
    out.put("loadAverageAfter", loadAverage());
    Files.createDirectories(results.toAbsolutePath().getParent());
    JSON.writeValue(results.toFile(), out);
    System.out.printf("%nwrote %s; process output in %s%n", results, logs);
    System.exit(status);
  }

  // ---------------------------------------------------------------- the load run

  private int load(Map<String, Object> out) throws Exception {
    Options o = options;
    System.out.printf("flock load: %,d appliances (memory at %s), %d browsers × %d in flight × ≤ %.0f/s, %d loops; load average %s%n",
        o.appliances(), o.steps(), o.browsers(), o.inFlight(), o.perBrowser(), o.loops(), loadAverage());

    // Baseline: the same browsers and messages through a bare Jetty echo server.
    Map<String, Object> echo;
    Map<String, Object> echoPaced;
    double pacedPerBrowser = Math.min(o.perBrowser(), (double) o.paced() / o.browsers());
    if (pacedPerBrowser * o.browsers() < o.paced()) {
      System.out.printf("NOTE: %d browsers at ≤ %.0f/s each cannot offer %d/s: paced at %.0f/s (raise bench.browsers)%n",
          o.browsers(), o.perBrowser(), o.paced(), pacedPerBrowser * o.browsers());
    }
    if (!Boolean.parseBoolean(System.getProperty("bench.echo", "true"))) { // for quick experiments on the flock alone
      echo = Map.of("label", "echo baseline: skipped", "perSecond", Double.NaN, "serverCpuMsPerIntroduction", Double.NaN,
          "answerP50", Double.NaN, "answerP99", Double.NaN);
      echoPaced = echo;
    } else try (ChildJvm server = ChildJvm.start(ChildJvm.java(List.of("-Xmx" + o.flockHeap(), "-cp",
            System.getProperty("java.class.path"), EchoServer.class.getName(), "127.0.0.1", "0")),
        logs, "echo", "ECHO_READY", Duration.ofSeconds(60))) {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", Integer.parseInt(server.readyLine().split(" ")[1]));
      SimBrowser.Targets targets = new SimBrowser.Targets();
      List<SimBrowser> browsers = browsers(at, SimBrowser.Mode.ECHO, targets);
      // The echo server never looks at it; an ID of the real length keeps the messages' sizes.
      String[] ids = {ApplianceId.fromPublicKey(new byte[32]).toString()};
      echo = introductions("echo baseline, at the cap", browsers, targets, server, ids, o.perBrowser());
      echoPaced = introductions("echo baseline, paced", browsers, targets, server, ids, pacedPerBrowser);
      closeAll(browsers);
    }
    out.put("echo", echo);
    out.put("echoPaced", echoPaced);

    int port = freePort();
    List<String> flockCmd = flockCommand(port);
    List<Map<String, Object>> memory = new ArrayList<>();
    List<Map<String, Object>> intro = new ArrayList<>();
    try (ChildJvm flock = ChildJvm.start(flockCmd, logs, "flock", "INTRUSTD_READY", Duration.ofSeconds(60))) {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", port);
      List<Integer> steps = stepsWithin(flock, out);
      Map<String, Object> empty = memoryPoint(flock, 0);
      memory.add(empty);
      SimBrowser.Targets targets = new SimBrowser.Targets();
      List<SimBrowser> browsers = null;
      for (int step : steps) {
        long t0 = System.nanoTime();
        double cpu0 = flock.cpuSeconds();
        int before = live.size();
        grow(at, step, Duration.ofMinutes(10));
        double secs = (System.nanoTime() - t0) / 1e9;
        double rate = (live.size() - before) / secs;
        double cpuPerReg = (flock.cpuSeconds() - cpu0) * 1e3 / Math.max(1, live.size() - before);
        Thread.sleep(3_000); // let the last registrations' garbage become garbage
        Map<String, Object> point = memoryPoint(flock, live.size());
        point.put("registrationsPerSecond", Math.round(rate));
        point.put("flockCpuMsPerRegistration", round(cpuPerReg, 3));
        memory.add(point);
        if (step == steps.getFirst() || step == steps.getLast()) {
          if (browsers == null) {
            browsers = browsers(at, SimBrowser.Mode.FLOCK, targets);
          }
          String[] ids = liveIds();
          String n = String.format("%,d", live.size());
          Map<String, Object> r = introductions("flock, " + n + " registered, at the cap", browsers, targets, flock, ids,
              o.perBrowser());
          r.put("registered", live.size());
          intro.add(r);
          Map<String, Object> p = introductions("flock, " + n + " registered, paced", browsers, targets, flock, ids,
              pacedPerBrowser);
          p.put("registered", live.size());
          intro.add(p);
        }
      }
      String histogram = flock.jcmd("GC.class_histogram");
      Files.writeString(logs.resolve("flock-histogram.txt"), histogram);
      out.put("histogramTop", histogram.lines().limit(18).toList());
      out.put("applianceDrops", new TreeMap<>(drops));
      out.put("registrationFailures", new TreeMap<>(registrationFailures));
      if (browsers != null) {
        closeAll(browsers);
      }
    }
    out.put("memory", memory);
    double[] heapFit = fit(memory, "heapAfterGcMiB");
    double[] rssFit = fit(memory, "rssMiB");
    out.put("perApplianceKiB", Map.of("heap", round(heapFit[1] * 1024, 3), "rss", round(rssFit[1] * 1024, 3)));
    out.put("extrapolatedAtGoal", Map.of("appliances", o.appliances(),
        "heapMiB", round(heapFit[0] + heapFit[1] * o.appliances(), 0), "rssMiB", round(rssFit[0] + rssFit[1] * o.appliances(), 0)));
    out.put("introductions", intro);
    report(List.of(echo, echoPaced), memory, intro);
    return 0;
  }

  /** The flock as {@code ./intrustd flock} runs it (run_java), with a fixed heap. */
  private List<String> flockCommand(int port) {
    Options o = options;
    List<String> cmd = new ArrayList<>(List.of("-Xmx" + o.flockHeap(), "--enable-native-access=ALL-UNNAMED",
        "-Djava.util.logging.config.file=" + root().resolve("cli/src/main/resources/logging.properties")));
    if (!o.flockJavaOpts().isBlank()) {
      cmd.addAll(List.of(o.flockJavaOpts().strip().split("\\s+")));
    }
    cmd.addAll(List.of("-cp", o.cli() + "/*", "org.intrustd.cli.Main", "flock", "--host", "127.0.0.1",
        "--port", Integer.toString(port)));
    return ChildJvm.java(cmd);
  }

  /**
   * The memory steps that fit in both processes' open-files limits: each appliance is a socket
   * in the generator and one in the flock. Where the hard limit is low and cannot be raised (a
   * container without CAP_SYS_RESOURCE), the run stops there and the report extrapolates.
   */
  private List<Integer> stepsWithin(ChildJvm flock, Map<String, Object> out) {
    long own = openFilesLimit("self");
    long child = openFilesLimit(Long.toString(flock.pid()));
    // Reserve for the browsers, jars, log files, epoll and the like.
    int capacity = (int) Math.min(Integer.MAX_VALUE, Math.min(own, child) - options.browsers() - 600);
    out.put("openFilesLimit", Map.of("generator", own, "flock", child));
    if (capacity >= options.appliances()) {
      return options.steps();
    }
    System.out.printf("NOTE: open files are limited to %,d (generator) and %,d (flock), and this process may not raise"
        + " the hard limit (no CAP_SYS_RESOURCE): registering %,d appliances, not %,d; the report extrapolates.%n",
        own, child, capacity, options.appliances());
    List<Integer> steps = new ArrayList<>(options.steps().stream().filter(n -> n < capacity).toList());
    steps.add(capacity);
    out.put("cappedAt", capacity);
    return steps;
  }

  private Map<String, Object> memoryPoint(ChildJvm flock, int registered) throws Exception {
    long heap = flock.heapAfterGc();
    long rss = flock.rss();
    System.gc(); // the generator's own cost per simulated appliance, for the record
    long ownHeap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("registered", registered);
    p.put("heapAfterGcMiB", round(heap / 1048576.0, 1));
    p.put("rssMiB", round(rss / 1048576.0, 1));
    p.put("generatorHeapAfterGcMiB", round(ownHeap / 1048576.0, 1));
    p.put("generatorRssMiB", round(ownRss() / 1048576.0, 1));
    p.put("loadAverage", loadAverage());
    System.out.printf("  %,7d registered: flock heap after GC %7.1f MiB, RSS %7.1f MiB; generator heap %6.1f MiB,"
            + " RSS %6.1f MiB (load %s)%n", registered, heap / 1048576.0, rss / 1048576.0, ownHeap / 1048576.0,
        ownRss() / 1048576.0, loadAverage());
    return p;
  }

  private static long ownRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return -1;
  }

  private void report(List<Map<String, Object>> echo, List<Map<String, Object>> memory,
      List<Map<String, Object>> intro) {
    System.out.println();
    System.out.println("| registered | heap after GC (MiB) | RSS (MiB) | heap per appliance (KiB) | RSS per appliance (KiB) | registrations/s |");
    System.out.println("|---|---|---|---|---|---|");
    double heap0 = (double) memory.getFirst().get("heapAfterGcMiB");
    double rss0 = (double) memory.getFirst().get("rssMiB");
    for (Map<String, Object> p : memory) {
      int n = (int) p.get("registered");
      double heap = (double) p.get("heapAfterGcMiB");
      double rss = (double) p.get("rssMiB");
      System.out.printf("| %,d | %.1f | %.1f | %s | %s | %s |%n", n, heap, rss,
          n == 0 ? "–" : String.format("%.2f", (heap - heap0) * 1024 / n),
          n == 0 ? "–" : String.format("%.2f", (rss - rss0) * 1024 / n), p.getOrDefault("registrationsPerSecond", "–"));
    }
    double[] heapFit = fit(memory, "heapAfterGcMiB");
    double[] rssFit = fit(memory, "rssMiB");
    int goal = options.appliances();
    System.out.printf("%nper appliance (least squares over the points): heap %.2f KiB, RSS %.2f KiB; at %,d appliances:"
            + " heap ≈ %.0f MiB, RSS ≈ %.0f MiB; appliances in a 1 GiB heap ≈ %,.0f%n", heapFit[1] * 1024,
        rssFit[1] * 1024, goal, heapFit[0] + heapFit[1] * goal, rssFit[0] + rssFit[1] * goal,
        (1024 - heapFit[0]) / heapFit[1]);
    System.out.println();
    System.out.println("| run | introductions/s | answer p50 / p99 / max (ms) | done p50 / p99 / max (ms) | server CPU ms per introduction | failures |");
    System.out.println("|---|---|---|---|---|---|");
    List<Map<String, Object>> all = new ArrayList<>(echo);
    all.addAll(intro);
    for (Map<String, Object> r : all) {
      System.out.printf("| %s | %.0f | %s / %s / %s | %s / %s / %s | %s | %s |%n", r.get("label"), r.get("perSecond"),
          r.get("answerP50"), r.get("answerP99"), r.get("answerMax"), r.get("doneP50"), r.get("doneP99"), r.get("doneMax"),
          r.get("serverCpuMsPerIntroduction"), r.get("failures"));
    }
    for (int i = 0; i < intro.size(); i++) {
      Map<String, Object> r = intro.get(i);
      Map<String, Object> e = echo.get(i % 2); // at the cap, then paced, as the flock's runs
      System.out.printf("ratio %s / %s: introductions/s %.2f, server CPU per introduction %.2f, answer p50 %.2f, p99 %.2f%n",
          r.get("label"), e.get("label"), (double) r.get("perSecond") / (double) e.get("perSecond"),
          (double) r.get("serverCpuMsPerIntroduction") / (double) e.get("serverCpuMsPerIntroduction"),
          (double) r.get("answerP50") / (double) e.get("answerP50"), (double) r.get("answerP99") / (double) e.get("answerP99"));
    }
  }

  /** Least-squares {intercept, slope} of {@code key} (MiB) against registered appliances. */
  static double[] fit(List<Map<String, Object>> points, String key) {
    int n = points.size();
    double mx = points.stream().mapToDouble(p -> ((Number) p.get("registered")).doubleValue()).average().orElse(0);
    double my = points.stream().mapToDouble(p -> ((Number) p.get(key)).doubleValue()).average().orElse(0);
    double sxy = 0;
    double sxx = 0;
    for (Map<String, Object> p : points) {
      double x = ((Number) p.get("registered")).doubleValue() - mx;
      sxy += x * (((Number) p.get(key)).doubleValue() - my);
      sxx += x * x;
    }
    double slope = n < 2 || sxx == 0 ? Double.NaN : sxy / sxx;
    return new double[] {my - slope * mx, slope};
  }

  // ---------------------------------------------------------------- soak

  private int soak(Map<String, Object> out) throws Exception {
    Options o = options;
    int port = freePort();
    List<String> flockCmd = flockCommand(port);
    System.out.printf("flock soak for %s: %,d appliances, %d replaced a second, %d introductions/s; load average %s%n",
        o.soak(), o.soakAppliances(), o.churn(), o.soakRate(), loadAverage());
    List<Map<String, Object>> samples = new ArrayList<>();
    try (ChildJvm flock = ChildJvm.start(flockCmd, logs, "flock-soak", "INTRUSTD_READY", Duration.ofSeconds(60))) {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", port);
      grow(at, o.soakAppliances(), Duration.ofMinutes(10));
      SimBrowser.Targets targets = new SimBrowser.Targets();
      targets.ids = liveIds();
      List<SimBrowser> browsers = browsers(at, SimBrowser.Mode.FLOCK, targets);
      double perBrowser = (double) o.soakRate() / browsers.size();
      browsers.forEach(b -> b.pace(o.inFlight(), perBrowser));
      for (int i = 0; i < tallies.length; i++) {
        Tally t = tallies[i];
        loops.get(i).call(() -> {
          t.reset(true);
          return null;
        });
      }
      long start = System.nanoTime();
      long end = start + o.soak().toNanos();
      long nextSample = start;
      int minute = 0;
      while (true) {
        long now = System.nanoTime();
        if (now - nextSample >= 0) {
          Map<String, Object> s = soakSample(flock, minute++);
          samples.add(s);
          if (minute == 2) { // after a minute of churn: what a leak would be compared against
            Files.writeString(logs.resolve("flock-soak-histogram-start.txt"), flock.jcmd("GC.class_histogram"));
          }
          nextSample += TimeUnit.MINUTES.toNanos(1);
        }
        if (now - end >= 0) {
          break;
        }
        churn(at, o.churn());
        // Browsers ask for appliances registered a second ago: with 1 % replaced each second, a
        // list a minute old sent most introductions to appliances long gone (appliance-offline).
        targets.ids = liveIds();
        if (!flock.isAlive()) {
          throw new IllegalStateException("the flock died; see " + logs);
        }
        Thread.sleep(1_000);
      }
      browsers.forEach(b -> b.pace(0, 0));
      Files.writeString(logs.resolve("flock-soak-histogram-end.txt"), flock.jcmd("GC.class_histogram"));
      closeAll(browsers);
    }
    out.put("samples", samples);
    out.put("applianceDrops", new TreeMap<>(drops));
    String verdict = Leak.verdict(samples.stream().map(s -> (Double) s.get("heapAfterGcMiB")).toList());
    out.put("verdict", verdict);
    System.out.println(verdict);
    return verdict.startsWith("LEAK") ? 1 : 0;
  }

  private Map<String, Object> soakSample(ChildJvm flock, int minute) throws Exception {
    long heap = flock.heapAfterGc();
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("minute", minute);
    s.put("heapAfterGcMiB", round(heap / 1048576.0, 1));
    s.put("rssMiB", round(flock.rss() / 1048576.0, 1));
    s.put("registered", live.size());
    long completed = 0;
    Map<String, Long> failures = new TreeMap<>();
    for (int i = 0; i < tallies.length; i++) {
      Tally t = tallies[i];
      Tally.Snapshot snap = loops.get(i).call(() -> {
        Tally.Snapshot sn = t.snapshot();
        t.reset(true);
        return sn;
      });
      completed += snap.completed();
      snap.failures().forEach((k, v) -> failures.merge(k, v, Long::sum));
    }
    s.put("introductionsDone", completed);
    s.put("introductionFailures", failures);
    s.put("flockCpuSeconds", round(flock.cpuSeconds(), 1));
    s.put("loadAverage", loadAverage());
    System.out.printf("  minute %3d: heap after GC %6.1f MiB, RSS %6.1f MiB, %,d registered, %,d introductions, failures %s%n",
        minute, heap / 1048576.0, (double) s.get("rssMiB"), live.size(), completed, failures);
    return s;
  }

  /** Replaces {@code n} random registered appliances: most leave cleanly, one in ten just drops. */
  private void churn(InetSocketAddress flock, int n) {
    int left = 0;
    for (int k = 0; k < n && nextIndex > 0; k++) {
      for (int tries = 0; tries < 100; tries++) {
        SimAppliance a = live.get(random.nextLong(nextIndex));
        if (a != null && leaving.putIfAbsent(a.index(), Boolean.TRUE) == null) {
          boolean crash = k % 10 == 0;
          a.loop.execute(crash ? a::abort : a::close);
          left++;
          break;
        }
      }
    }
    // As many join as left, so that the population stays put (a 15-minute soak drifted +18 of 5,000).
    for (int k = 0; k < left; k++) {
      spawn(flock);
    }
  }

  // ---------------------------------------------------------------- introductions

  private Map<String, Object> introductions(String label, List<SimBrowser> browsers, SimBrowser.Targets targets,
      ChildJvm server, String[] ids, double perBrowser) throws Exception {
    Options o = options;
    requireConnected(browsers, label);
    targets.ids = ids;
    browsers.forEach(b -> b.pace(o.inFlight(), perBrowser));
    Thread.sleep(o.warmup() * 1000L);
    for (int i = 0; i < tallies.length; i++) {
      Tally t = tallies[i];
      loops.get(i).call(() -> {
        t.reset(true);
        return null;
      });
    }
    long t0 = System.nanoTime();
    double cpu0 = server.cpuSeconds();
    double own0 = ownCpuSeconds();
    Thread.sleep(o.seconds() * 1000L);
    List<Tally.Snapshot> snaps = new ArrayList<>();
    for (int i = 0; i < tallies.length; i++) {
      Tally t = tallies[i];
      snaps.add(loops.get(i).call(() -> {
        t.measuring = false;
        return t.snapshot();
      }));
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    double cpu = server.cpuSeconds() - cpu0;
    double own = ownCpuSeconds() - own0;
    browsers.forEach(b -> b.pace(0, 0));
    Thread.sleep(1_000); // let open introductions finish before anything else is measured
    requireConnected(browsers, label);

    long completed = snaps.stream().mapToLong(Tally.Snapshot::completed).sum();
    long started = snaps.stream().mapToLong(Tally.Snapshot::started).sum();
    long[] answer = Latencies.merged(snaps.stream().map(Tally.Snapshot::answer).toList());
    long[] done = Latencies.merged(snaps.stream().map(Tally.Snapshot::complete).toList());
    Map<String, Long> failures = new TreeMap<>();
    snaps.forEach(s -> s.failures().forEach((k, v) -> failures.merge(k, v, Long::sum)));
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("label", label);
    r.put("seconds", round(secs, 2));
    r.put("started", started);
    r.put("completed", completed);
    r.put("perSecond", round(completed / secs, 1));
    r.put("offeredCapPerSecond", round(browsers.size() * perBrowser, 0));
    r.put("answerP50", round(Latencies.millis(answer, 0.5), 2));
    r.put("answerP99", round(Latencies.millis(answer, 0.99), 2));
    r.put("answerMax", round(Latencies.millis(answer, 1.0), 2));
    r.put("doneP50", round(Latencies.millis(done, 0.5), 2));
    r.put("doneP99", round(Latencies.millis(done, 0.99), 2));
    r.put("doneMax", round(Latencies.millis(done, 1.0), 2));
    r.put("serverCpuSeconds", round(cpu, 2));
    r.put("serverCpuMsPerIntroduction", round(cpu * 1e3 / Math.max(1, completed), 4));
    r.put("generatorCpuMsPerIntroduction", round(own * 1e3 / Math.max(1, completed), 4));
    r.put("failures", failures);
    r.put("loadAverage", loadAverage());
    System.out.printf("  %s: %,.0f introductions/s (%,d in %.1f s), answer p50 %.2f p99 %.2f max %.2f ms; "
            + "server CPU %.3f ms/introduction; failures %s (load %s)%n", label, completed / secs, completed, secs,
        Latencies.millis(answer, 0.5), Latencies.millis(answer, 0.99), Latencies.millis(answer, 1.0),
        cpu * 1e3 / Math.max(1, completed), failures, loadAverage());
    return r;
  }

  private List<SimBrowser> browsers(InetSocketAddress server, SimBrowser.Mode mode, SimBrowser.Targets targets)
      throws InterruptedException {
    List<SimBrowser> browsers = new ArrayList<>();
    for (int i = 0; i < options.browsers(); i++) {
      Loop loop = loops.get(i % loops.size());
      SimBrowser b = new SimBrowser(loop, server, BROWSER_SOURCE, mode, wire, targets, tallies[i % loops.size()]);
      browsers.add(b);
      loop.execute(b::start);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!browsers.stream().allMatch(SimBrowser::isReady)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(browsers.stream().filter(b -> !b.isReady()).count() + " browsers not connected");
      }
      Thread.sleep(50);
    }
    return browsers;
  }

  /** A browser the flock disconnected (rate limit, overload) would skew every figure after it: stop. */
  private static void requireConnected(List<SimBrowser> browsers, String label) {
    long lost = browsers.stream().filter(b -> !b.isReady()).count();
    if (lost > 0) {
      throw new IllegalStateException(lost + " of " + browsers.size() + " browsers lost their connection during or before '"
          + label + "'; see the server's log");
    }
  }

  private static void closeAll(List<SimBrowser> browsers) throws InterruptedException {
    browsers.forEach(b -> b.loop.execute(b::close));
    Thread.sleep(500);
  }

  // ---------------------------------------------------------------- appliances

  /** Registers appliances until {@code target} are, within {@code patience}. */
  private void grow(InetSocketAddress flock, int target, Duration patience) throws InterruptedException {
    long deadline = System.nanoTime() + patience.toNanos();
    long t0 = System.nanoTime();
    long lastPrint = t0;
    while (live.size() < target) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + live.size() + " of " + target + " appliances registered in " + patience
            + "; failures " + registrationFailures);
      }
      int missing = target - live.size() - (512 - connecting.availablePermits());
      if (missing > 0 && connecting.tryAcquire(10, TimeUnit.MILLISECONDS)) {
        spawnAcquired(flock);
      } else {
        Thread.sleep(5);
      }
      if (System.nanoTime() - lastPrint > TimeUnit.SECONDS.toNanos(10)) {
        lastPrint = System.nanoTime();
        System.out.printf("    … %,d registered (%,.0f/s), %,d failed%n", live.size(),
            live.size() / ((lastPrint - t0) / 1e9), failed.get());
      }
    }
  }

  private void spawn(InetSocketAddress flock) {
    if (connecting.tryAcquire()) {
      spawnAcquired(flock);
    }
  }

  private void spawnAcquired(InetSocketAddress flock) {
    long index = nextIndex++;
    Loop loop = loops.get((int) (index % loops.size()));
    InetAddress source = address("127.0.0." + (2 + (index / PER_SOURCE_ADDRESS) % 200));
    SimAppliance a = new SimAppliance(loop, flock, source, index, TimeUnit.SECONDS.toNanos(options.heartbeat()), wire,
        events);
    loop.execute(a::start);
  }

  private final SimAppliance.Events events = new SimAppliance.Events() {
    @Override
    public void registered(SimAppliance appliance) {
      live.put(appliance.index(), appliance);
      connecting.release();
    }

    @Override
    public void failed(SimAppliance appliance, String why) {
      failed.incrementAndGet();
      registrationFailures.merge(why, 1L, Long::sum);
      connecting.release();
    }

    @Override
    public void ended(SimAppliance appliance, boolean wasRegistered, String why) {
      if (wasRegistered) {
        live.remove(appliance.index());
        if (leaving.remove(appliance.index()) == null) {
          drops.merge(why, 1L, Long::sum); // the flock closed it: a heartbeat missed, or worse
        }
      }
    }
  };

  private String[] liveIds() {
    return live.values().stream().map(SimAppliance::id).filter(java.util.Objects::nonNull).toArray(String[]::new);
  }

  // ---------------------------------------------------------------- helpers

  static Path root() {
    Path here = Path.of("").toAbsolutePath();
    return Files.isDirectory(here.resolve("bench")) ? here : here.getParent();
  }

  private static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }

  private static int freePort() throws IOException {
    try (var s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static Duration duration(String text) {
    String t = text.strip().toLowerCase(java.util.Locale.ROOT);
    long n = Long.parseLong(t.replaceAll("[a-z]+$", ""));
    return switch (t.replaceAll("^[0-9]+", "")) {
      case "", "s" -> Duration.ofSeconds(n);
      case "m", "min" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> throw new IllegalArgumentException("a duration is N, Ns, Nm or Nh, not '" + text + "'");
    };
  }

  private static double round(double v, int places) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return v;
    }
    double f = Math.pow(10, places);
    return Math.round(v * f) / f;
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }

  private static double ownCpuSeconds() {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return os.getProcessCpuTime() / 1e9;
  }

  private static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    m.put("java", System.getProperty("java.vm.version"));
    m.put("loadAverageBefore", loadAverage());
    return m;
  }

  /** The soft limit on open files of a process ({@code self} or a pid); the JVM raises it to the hard one. */
  static long openFilesLimit(String pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/limits"))) {
        if (line.startsWith("Max open files")) {
          return Long.parseLong(line.substring(26).strip().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: try as we are
    }
    return Long.MAX_VALUE;
  }

  /** Whether we may raise the hard limit: root alone is not enough, it takes CAP_SYS_RESOURCE (bit 24). */
  private static boolean canRaiseLimits() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          return (Long.parseLong(line.substring(7).strip(), 16) & (1L << 24)) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return false;
  }

  /** Starts this same command again under {@code ulimit -n} (we run as root), and waits for it. */
  private static int relaunchWithMoreFiles(String[] args) throws IOException, InterruptedException {
    List<String> jvm = new ArrayList<>(ManagementFactory.getRuntimeMXBean().getInputArguments());
    jvm.add("-Dbench.relaunched=true");
    jvm.addAll(List.of("-cp", System.getProperty("java.class.path"), FlockLoadBench.class.getName()));
    jvm.addAll(List.of(args));
    System.out.println("raising the open-files limit to " + OPEN_FILES + " (ulimit -n) and starting again");
    return new ProcessBuilder(ChildJvm.java(jvm)).inheritIO().start().waitFor();
  }
}

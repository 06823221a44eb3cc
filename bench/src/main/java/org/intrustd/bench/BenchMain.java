package org.intrustd.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the JMH micro-benchmarks and prints each subject as a ratio against the baseline measured
 * in the same run (time per operation, so a ratio of 2.0 means "twice the baseline's cost"), both
 * from the mean scores and from each benchmark's fastest iteration ("best").
 * Accepts JMH's own command line (e.g. {@code -f 2 -wi 5 StreamFrame}); without a pattern it runs
 * every {@code *Bench} class. Writes the figures as JSON to {@code bench/results/micro-latest.json}
 * (or {@code -Dbench.results=FILE}).
 *
 * <pre>java -cp 'bench/target/lib/*' org.intrustd.bench.BenchMain</pre>
 *
 * <p>The benchmark classes fork with a fixed, pre-touched 1 GiB heap: on the VM these figures
 * come from, first-touch page faults (and the host reclaiming idle pages) made allocation-heavy
 * benchmarks vary between 4 and 500 us per 64 KiB, which measured the VM rather than our code.
 */
public final class BenchMain {
  /** A subject benchmark, the baseline it is compared with, and bytes per operation (0: none). */
  record Pair(String subject, String baseline, String params, long bytesPerOp, String meaning) {}

  private static final String LINK = "org.intrustd.link.frame.StreamFrameBench.";
  private static final String SIGNAL = "org.intrustd.core.signal.SignalCodecBench.";
  private static final String ID = "org.intrustd.core.id.ApplianceIdBench.";
  private static final String HEAD = "org.intrustd.appliance.proxy.RequestHeadParserBench.";
  private static final String BODY = "org.intrustd.appliance.proxy.BodyFramerBench.";
  private static final String ACCESS = "org.intrustd.appliance.access.LinkAccessBench.";
  private static final String CHUNKER = "org.intrustd.backup.ChunkerBench.";
  private static final String LOG_LINE = "org.intrustd.cli.LogLineBench.";

  private static final List<Pair> PAIRS = List.of(
      new Pair(LINK + "decode", LINK + "baselineCopy", "", 65_536, "decode (view, no copy) vs copying the 64 KiB"),
      new Pair(LINK + "decodeThenCopy", LINK + "baselineCopy", "", 65_536, "decode + payload copy (as Exchange) vs copy"),
      new Pair(LINK + "encode", LINK + "baselineCopy", "", 65_536, "encode 64 KiB DATA vs copying the 64 KiB"),
      new Pair(SIGNAL + "decodeClient", SIGNAL + "baselineReadTree", "", 0, "introduce (~4 KB SDP) vs Jackson readTree"),
      new Pair(ID + "parse", ID + "baselineBase64", "", 0, "canonical ID vs Base64url decode of 32 bytes"),
      new Pair(ID + "parse", ID + "baselineHex", "", 0, "canonical ID vs HexFormat decode of 32 bytes"),
      new Pair(ID + "parseTyped", ID + "baselineBase64", "", 0, "hand-typed ID vs Base64url decode"),
      new Pair(HEAD + "feed", HEAD + "baselineIndexOf", "", 0, "browser head (new parser) vs indexOf(CRLFCRLF)"),
      new Pair(HEAD + "newParser", HEAD + "baselineIndexOf", "", 0, "parser allocation alone vs indexOf(CRLFCRLF)"),
      new Pair(BODY + "scan", BODY + "baselineCopy", "chunkSize=65536", 1 << 20, "1 MiB chunked (64 KiB chunks) vs copy"),
      new Pair(BODY + "scan", BODY + "baselineByteLoop", "chunkSize=65536", 1 << 20, "1 MiB chunked (64 KiB chunks) vs byte loop"),
      new Pair(BODY + "scan", BODY + "baselineCopy", "chunkSize=4096", 1 << 20, "1 MiB chunked (4 KiB chunks) vs copy"),
      new Pair(BODY + "scan", BODY + "baselineByteLoop", "chunkSize=4096", 1 << 20, "1 MiB chunked (4 KiB chunks) vs byte loop"),
      new Pair(ACCESS + "admitMember", ACCESS + "baselineParseHead", "", 0, "admit a member (session + token) vs parsing the head"),
      new Pair(ACCESS + "admitAnonymousPublic", ACCESS + "baselineParseHead", "", 0, "admit a visitor to a public app vs parsing the head"),
      new Pair(CHUNKER + "chunk", CHUNKER + "baselineGearEveryByte", "", 64L << 20, "FastCDC 64 MiB vs textbook gear loop"),
      new Pair(CHUNKER + "chunk", CHUNKER + "baselineSha256", "", 64L << 20, "FastCDC 64 MiB vs SHA-256 of it"),
      new Pair(LOG_LINE + "line", LOG_LINE + "baselineSimpleFormatter", "", 0, "console log line vs SimpleFormatter, same pattern"));

  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    CommandLineOptions cli = new CommandLineOptions(args);
    OptionsBuilder options = new OptionsBuilder();
    options.parent(cli);
    if (cli.getIncludes().isEmpty()) {
      options.include("org\\.intrustd\\..*Bench\\..*");
    }
    Collection<RunResult> results = run(options);
    Map<String, RunResult> byKey = new LinkedHashMap<>();
    for (RunResult r : results) {
      byKey.put(key(r), r);
    }
    report(byKey);
  }

  private static Collection<RunResult> run(OptionsBuilder options) throws RunnerException {
    return new Runner(options.build()).run();
  }

  private static String key(RunResult r) {
    StringBuilder k = new StringBuilder(r.getParams().getBenchmark());
    for (String p : r.getParams().getParamsKeys()) {
      k.append(' ').append(p).append('=').append(r.getParams().getParam(p));
    }
    return k.toString();
  }

  private static void report(Map<String, RunResult> byKey) throws IOException {
    System.out.println();
    System.out.println("Ratios against baselines measured in this run (time/op; lower is better for the subject):");
    System.out.printf(Locale.ROOT, "%-52s %14s %14s %8s %8s %10s%n", "subject vs baseline", "subject", "baseline", "ratio", "best", "MB/s");
    List<String> json = new ArrayList<>();
    for (Pair p : PAIRS) {
      String params = p.params().isEmpty() ? "" : " " + p.params();
      RunResult s = byKey.get(p.subject() + params);
      RunResult b = byKey.get(p.baseline() + params);
      if (s == null || b == null) {
        continue; // not selected in this run
      }
      double sv = nanos(s);
      double bv = nanos(b);
      double ratio = sv / bv;
      // Best iteration of each: on a machine shared with other work, interference only ever
      // adds time, so the fastest iterations are the least disturbed pair.
      double bestRatio = best(s) / best(b);
      String mbps = p.bytesPerOp() > 0 ? String.format(Locale.ROOT, "%.0f", p.bytesPerOp() / sv * 1e3) : "";
      String name = shortName(p.subject()) + " / " + shortName(p.baseline()) + params;
      System.out.printf(Locale.ROOT, "%-52s %11.1f ns %11.1f ns %8.2f %8.2f %10s%n", name, sv, bv, ratio, bestRatio, mbps);
      System.out.printf(Locale.ROOT, "    %s%n", p.meaning());
      json.add(String.format(Locale.ROOT,
          "    {\"subject\": \"%s\", \"baseline\": \"%s\", \"params\": \"%s\", \"subjectNs\": %.2f, \"subjectErrorNs\": %.2f, "
              + "\"baselineNs\": %.2f, \"baselineErrorNs\": %.2f, \"ratio\": %.3f, \"subjectBestNs\": %.2f, "
              + "\"baselineBestNs\": %.2f, \"bestRatio\": %.3f, \"meaning\": \"%s\"}",
          p.subject(), p.baseline(), p.params(), sv, errorNanos(s), bv, errorNanos(b), ratio, best(s), best(b), bestRatio,
          p.meaning()));
    }
    List<String> all = new ArrayList<>();
    for (Map.Entry<String, RunResult> e : byKey.entrySet()) {
      all.add(String.format(Locale.ROOT, "    {\"benchmark\": \"%s\", \"ns\": %.2f, \"errorNs\": %.2f, \"bestNs\": %.2f}",
          e.getKey(), nanos(e.getValue()), errorNanos(e.getValue()), best(e.getValue())));
    }
    Path out = Path.of(System.getProperty("bench.results", defaultResults()));
    Files.createDirectories(out.toAbsolutePath().getParent());
    String text = "{\n  \"date\": \"" + Instant.now() + "\",\n  \"java\": \"" + Runtime.version() + "\",\n  \"cpus\": "
        + Runtime.getRuntime().availableProcessors() + ",\n  \"ratios\": [\n" + String.join(",\n", json)
        + "\n  ],\n  \"benchmarks\": [\n" + String.join(",\n", all) + "\n  ]\n}\n";
    Files.writeString(out, text);
    System.out.println("wrote " + out);
  }

  private static String defaultResults() {
    return Files.isDirectory(Path.of("bench")) ? "bench/results/micro-latest.json" : "results/micro-latest.json";
  }

  private static String shortName(String benchmark) {
    int dot = benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1);
    return benchmark.substring(dot + 1);
  }

  /** The primary score in nanoseconds per operation, whatever unit the benchmark reports in. */
  private static double nanos(RunResult r) {
    return toNanos(r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreUnit());
  }

  /** The fastest measurement iteration, in nanoseconds per operation. */
  private static double best(RunResult r) {
    double min = Double.MAX_VALUE;
    for (org.openjdk.jmh.results.BenchmarkResult br : r.getBenchmarkResults()) {
      for (org.openjdk.jmh.results.IterationResult ir : br.getIterationResults()) {
        min = Math.min(min, toNanos(ir.getPrimaryResult().getScore(), ir.getPrimaryResult().getScoreUnit()));
      }
    }
    return min;
  }

  private static double errorNanos(RunResult r) {
    double e = r.getPrimaryResult().getScoreError();
    return Double.isNaN(e) ? 0 : toNanos(e, r.getPrimaryResult().getScoreUnit());
  }

  private static double toNanos(double v, String unit) {
    return switch (unit) {
      case "ns/op" -> v;
      case "us/op" -> v * 1e3;
      case "ms/op" -> v * 1e6;
      case "s/op" -> v * 1e9;
      default -> throw new IllegalStateException("unexpected unit " + unit + " (run in AverageTime mode)");
    };
  }
}

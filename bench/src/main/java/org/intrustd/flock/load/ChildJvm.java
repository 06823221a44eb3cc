package org.intrustd.flock.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server under test in its own JVM (the flock, or the echo baseline), so that its heap, RSS
 * and CPU are its own: started with its output in log files, measured through {@code jcmd} and
 * {@code /proc}, stopped with SIGTERM.
 */
final class ChildJvm implements AutoCloseable {
  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
  /** Linux reports process CPU in clock ticks of 1/100 s on every architecture we run on. */
  private static final double TICKS_PER_SECOND = 100;

  private final Process process;
  private final Path out;
  private final String readyLine;

  private ChildJvm(Process process, Path out, String readyLine) {
    this.process = process;
    this.out = out;
    this.readyLine = readyLine;
  }

  /** Starts {@code command} and waits for a stdout line starting with {@code ready}. */
  static ChildJvm start(List<String> command, Path logs, String name, String ready, Duration patience)
      throws IOException, InterruptedException {
    Files.createDirectories(logs);
    Path out = logs.resolve(name + ".out");
    Path err = logs.resolve(name + ".err");
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    long deadline = System.nanoTime() + patience.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<String> line = Files.readAllLines(out, StandardCharsets.UTF_8).stream()
          .filter(l -> l.startsWith(ready)).findFirst();
      if (line.isPresent()) {
        return new ChildJvm(p, out, line.get());
      }
      if (!p.isAlive()) {
        throw new IllegalStateException(name + " exited with " + p.exitValue() + " before it was ready; see " + err);
      }
      Thread.sleep(100);
    }
    p.destroyForcibly();
    throw new IllegalStateException(name + " not ready within " + patience + "; see " + out + " and " + err);
  }

  String readyLine() {
    return readyLine;
  }

  long pid() {
    return process.pid();
  }

  /** Used heap right after a full collection, in bytes ({@code jcmd GC.run}, then {@code GC.heap_info}). */
  long heapAfterGc() throws IOException, InterruptedException {
    jcmd("GC.run");
    Matcher m = HEAP_USED.matcher(jcmd("GC.heap_info"));
    if (!m.find()) {
      throw new IllegalStateException("no 'used' in jcmd GC.heap_info");
    }
    return Long.parseLong(m.group(1)) * 1024;
  }

  /** Resident set size in bytes. */
  long rss() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }

  /** User + system CPU time so far, in seconds. */
  double cpuSeconds() throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
  }

  String jcmd(String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid()), command).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + command + " failed: " + text);
    }
    return text;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  /** {@code java} with a raised descriptor limit (a flock of 100,000 appliances holds as many sockets). */
  static List<String> java(List<String> jvmAndMain) {
    List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + FlockLoadBench.OPEN_FILES + " 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"; exec \"$@\"",
        "java", Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(jvmAndMain);
    return cmd;
  }
}

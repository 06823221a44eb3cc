package org.intrustd.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.intrustd.appliance.apps.AppLauncher;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.apps.ProcessLauncher;
import org.intrustd.appliance.sandbox.SandboxLauncher;

/**
 * Stopped app → first byte of a response through the daemon's app supervisor, with the app in
 * its bubblewrap sandbox and as a plain child process (the baseline), alternating runs so that
 * both see the same machine. Apps: the Java hello app and Debian's python3 http.server (TCP,
 * through the socket bridge; the baseline cannot run it, so it is measured sandboxed only).
 *
 * <pre>java -cp 'bench/target/lib/*' org.intrustd.bench.AppStartBench [--runs 9] [--root .]</pre>
 */
public final class AppStartBench {
  public static void main(String[] args) throws Exception {
    int runs = 9;
    Path root = Path.of(".");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--root" -> root = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Path hello = root.resolve("apps/hello/target").toAbsolutePath().normalize();
    Path pyserve = root.resolve("apps/pyserve").toAbsolutePath().normalize();
    Path tmp = Files.createTempDirectory("app-start-bench",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
    Path helloNoCds = withoutCds(hello, tmp.resolve("hello-nocds"));
    Map<String, List<Double>> ms = new LinkedHashMap<>();
    Path sandboxState = tmp.resolve("sandboxed");
    Path plainState = tmp.resolve("plain");
    SandboxLauncher sandbox = SandboxLauncher.create(sandboxState);
    System.out.println("sandbox: " + sandbox.describeSetup());
    for (int run = -1; run < runs; run++) { // run -1 warms the page cache and the JVM up
      record(ms, run, "hello sandboxed", firstByte(sandbox, sandboxState, hello, "hello", "/health"));
      record(ms, run, "hello plain (baseline)", firstByte(new ProcessLauncher(), plainState, hello, "hello", "/health"));
      record(ms, run, "hello sandboxed, no CDS", firstByte(sandbox, sandboxState, helloNoCds, "hello-nocds", "/health"));
      record(ms, run, "pyserve sandboxed", firstByte(sandbox, sandboxState, pyserve, "pyserve", "/hello.json"));
    }
    ms.forEach((name, values) -> System.out.printf("%-24s median %7.1f ms   min %7.1f ms   (%d runs)%n", name,
        median(values), values.stream().mapToDouble(Double::doubleValue).min().orElse(0), values.size()));
    double ratio = median(ms.get("hello sandboxed")) / median(ms.get("hello plain (baseline)"));
    System.out.printf("ratio hello sandboxed / plain: %.3f (goal <= 1.1); sandboxed absolute %.0f ms (goal < 1000)%n",
        ratio, median(ms.get("hello sandboxed")));
    System.out.printf("ratio hello sandboxed with its AppCDS archive / without: %.3f%n",
        median(ms.get("hello sandboxed")) / median(ms.get("hello sandboxed, no CDS")));
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** A copy of the hello app named hello-nocds whose command has no AppCDS options. */
  private static Path withoutCds(Path hello, Path dir) throws IOException {
    Files.createDirectories(dir.resolve("lib"));
    try (var jars = Files.list(hello.resolve("lib"))) {
      for (Path jar : jars.toList()) {
        Files.copy(jar, dir.resolve("lib").resolve(jar.getFileName()));
      }
    }
    String manifest = Files.readString(hello.resolve("manifest.json")).replace("\"id\": \"hello\"", "\"id\": \"hello-nocds\"")
        .replaceAll("\"-X(X:SharedArchiveFile|X:\\+AutoCreateSharedArchive|log:cds)[^\"]*\",\\s*", "");
    Files.writeString(dir.resolve("manifest.json"), manifest);
    return dir;
  }

  private static void record(Map<String, List<Double>> ms, int run, String name, double value) {
    if (run >= 0) {
      ms.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }
  }

  /** Milliseconds from "app stopped" to the first byte of a GET through a fresh supervisor. */
  private static double firstByte(AppLauncher launcher, Path state, Path appDir, String app, String path)
      throws IOException {
    try (AppSupervisor apps = new AppSupervisor(AppRegistry.scan(List.of(appDir)), launcher, state,
        Duration.ofSeconds(30), Duration.ofMinutes(10), InstantSource.system())) {
      long t0 = System.nanoTime();
      Path socket = apps.acquire(app);
      try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        ch.connect(UnixDomainSocketAddress.of(socket));
        ch.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nHost: " + app + "\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII)));
        InputStream in = Channels.newInputStream(ch);
        if (in.read() < 0) {
          throw new IOException(app + " closed without answering");
        }
        double elapsed = (System.nanoTime() - t0) / 1e6;
        in.readAllBytes();
        apps.release(app);
        return elapsed;
      }
    }
  }

  private static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}

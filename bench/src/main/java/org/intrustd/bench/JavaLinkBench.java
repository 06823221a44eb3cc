package org.intrustd.bench;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.intrustd.client.ApplianceClient;
import org.intrustd.client.ChannelStream;
import org.intrustd.client.DeviceCredential;
import org.intrustd.client.HttpStream;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.webrtc.WebRtcLinkFactory;

/**
 * The Java end of a link as a device (or a paired appliance) uses it, for bench/e2e/devices.mjs:
 * set-up (flock introduction, signed answer, ICE, DTLS, SCTP, device-session resume, then a
 * channel and a 1-byte response) and a download through {@link ChannelStream}, in one JVM that
 * is warmed first. Prints one JSON line.
 *
 * <p>Usage: {@code JavaLinkBench FLOCK_URL APPLIANCE_ID DEVICES_DIR SETUP_RUNS DOWNLOAD_BYTES}
 */
public final class JavaLinkBench {
  private JavaLinkBench() {}

  public static void main(String[] args) throws Exception {
    URI flock = URI.create(args[0]);
    ApplianceId appliance = ApplianceId.parse(args[1]).orElseThrow();
    DeviceCredential device = DeviceCredential.load(Path.of(args[2]), appliance).orElseThrow();
    int runs = Integer.parseInt(args[3]);
    long bytes = Long.parseLong(args[4]);
    List<Double> setups = new ArrayList<>();
    List<Double> answers = new ArrayList<>(); // of which: until the signed answer is checked and applied
    List<Double> resumes = new ArrayList<>(); // of which: until the session channel opened and resumed
    try (LinkFactory links = WebRtcLinkFactory.create()) {
      for (int i = 0; i < runs + 2; i++) { // two warm-up links: class loading and JIT
        long t0 = System.nanoTime();
        try (ApplianceClient client = ApplianceClient.connect(flock, appliance, links, Duration.ofSeconds(10))) {
          long answered = System.nanoTime();
          if (client.resume(device).status() != 200) {
            throw new IllegalStateException("the device session does not resume");
          }
          long resumed = System.nanoTime();
          get(client, "/stream?bytes=1");
          if (i >= 2) {
            setups.add((System.nanoTime() - t0) / 1e6);
            answers.add((answered - t0) / 1e6);
            resumes.add((resumed - answered) / 1e6);
          }
        }
      }
      try (ApplianceClient client = ApplianceClient.connect(flock, appliance, links, Duration.ofSeconds(10))) {
        client.resume(device);
        get(client, "/stream?bytes=" + (16 << 20)); // warm the path
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        long got = get(client, "/stream?bytes=" + bytes);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
        if (got != bytes) {
          throw new IllegalStateException("received " + got + " of " + bytes + " bytes");
        }
        System.out.printf("JAVALINK {\"setupMs\":%s,\"setupMedianMs\":%.1f,\"answerMedianMs\":%.1f,\"resumeMedianMs\":%.1f,"
            + "\"downloadMBps\":%.2f,\"cpuSecondsPerGB\":%.2f}%n",
            setups, median(setups), median(answers), median(resumes), bytes / 1e6 / seconds, cpuSeconds / (bytes / 1e9));
      }
    }
    System.exit(0); // webrtc-java's native threads would otherwise keep the JVM up a moment
  }

  private static double median(List<Double> xs) {
    List<Double> sorted = new ArrayList<>(xs);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }

  /** GETs {@code path} from hello; the number of body bytes read. */
  private static long get(ApplianceClient client, String path) throws Exception {
    try (ChannelStream stream = client.open("http/hello")) {
      OutputStream out = stream.out();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: hello\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.close();
      InputStream in = stream.in();
      HttpStream.Head head = HttpStream.readHead(in).orElseThrow();
      if (HttpStream.status(head) != 200) {
        throw new IllegalStateException(head.startLine());
      }
      byte[] buf = new byte[1 << 16];
      long n = 0;
      for (int r; (r = in.read(buf)) > 0; ) {
        n += r;
      }
      return n;
    }
  }
}

package org.intrustd.appliance.proxy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link BodyFramer#scan} over a 1 MiB chunked request body, fed as the Exchange receives it: in
 * channel messages of at most 65,535 bytes. {@code chunkSize} is the body's chunk size (the shim
 * sends 64 KiB chunks for a ReadableStream; 4 KiB is a small-chunk client). Baselines over the
 * same messages: copying them (what forwarding to the app costs anyway) and a naive byte-by-byte
 * loop that looks at every byte (what a framer without the bulk DATA skip would cost at least).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BodyFramerBench {
  static final int BODY = 1 << 20;

  @Param({"65536", "4096"})
  public int chunkSize;

  private List<ByteBuffer> messages;

  @Setup
  public void setUp() {
    byte[] data = new byte[chunkSize];
    ThreadLocalRandom.current().nextBytes(data);
    ByteArrayOutputStream wire = new ByteArrayOutputStream(BODY + BODY / chunkSize * 12 + 8);
    for (int sent = 0; sent < BODY; sent += chunkSize) {
      wire.writeBytes((Integer.toHexString(chunkSize) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      wire.writeBytes(data);
      wire.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    wire.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    byte[] all = wire.toByteArray();
    messages = new ArrayList<>();
    for (int off = 0; off < all.length; off += 65_535) {
      messages.add(ByteBuffer.wrap(all, off, Math.min(65_535, all.length - off)).slice());
    }
  }

  @Benchmark
  public int scan() {
    BodyFramer framer = BodyFramer.chunked();
    int total = 0;
    for (ByteBuffer m : messages) {
      total += framer.scan(m);
    }
    if (!framer.isDone()) {
      throw new IllegalStateException("the body did not end: " + framer.failure());
    }
    return total;
  }

  /** Baseline: copy every message into a fresh buffer. */
  @Benchmark
  public int baselineCopy() {
    int total = 0;
    for (ByteBuffer m : messages) {
      ByteBuffer c = ByteBuffer.allocate(m.remaining()).put(m.duplicate()).flip();
      total += c.remaining();
    }
    return total;
  }

  /** Baseline: a byte-by-byte loop over every message (counts CRs, so it cannot be removed). */
  @Benchmark
  public int baselineByteLoop() {
    int crs = 0;
    for (ByteBuffer m : messages) {
      int start = m.position();
      int end = m.limit();
      for (int i = start; i < end; i++) {
        if (m.get(i) == '\r') {
          crs++;
        }
      }
    }
    return crs;
  }
}

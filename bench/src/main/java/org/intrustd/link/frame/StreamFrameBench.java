package org.intrustd.link.frame;

import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link StreamFrame} on full-size (64 KiB) channel messages, against a plain ByteBuffer copy of
 * the same bytes. decode alone is a view (no copy); the appliance's Exchange copies every DATA
 * payload right after decoding, so {@code decodeThenCopy} is the cost a received message really
 * pays. encode copies the payload into a fresh buffer, so its baseline is exactly that copy.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StreamFrameBench {
  private ByteBuffer message; // 0x00 + 65,535 payload bytes, as a DATA message arrives
  private StreamFrame.Data frame; // 65,535 payload bytes to send

  @Setup
  public void setUp() {
    byte[] bytes = new byte[StreamFrame.MAX_MESSAGE];
    ThreadLocalRandom.current().nextBytes(bytes);
    bytes[0] = StreamFrame.DATA;
    message = ByteBuffer.wrap(bytes);
    frame = new StreamFrame.Data(ByteBuffer.wrap(bytes, 1, StreamFrame.MAX_PAYLOAD).slice());
  }

  @Benchmark
  public Object decode() {
    return StreamFrame.decode(message.duplicate());
  }

  /** What Exchange.onMessage does with a DATA message: decode, then copy the payload out. */
  @Benchmark
  public Object decodeThenCopy() {
    if (StreamFrame.decode(message.duplicate()) instanceof StreamFrame.Decoded.Ok ok
        && ok.frame() instanceof StreamFrame.Data d) {
      ByteBuffer payload = d.payload();
      ByteBuffer c = ByteBuffer.allocate(payload.remaining());
      return c.put(payload.duplicate()).flip();
    }
    throw new IllegalStateException("not a DATA frame");
  }

  @Benchmark
  public ByteBuffer encode() {
    return StreamFrame.encode(frame);
  }

  /** Baseline: allocate a 64 KiB heap buffer and copy the same 64 KiB into it. */
  @Benchmark
  public ByteBuffer baselineCopy() {
    return ByteBuffer.allocate(message.remaining()).put(message.duplicate()).flip();
  }
}

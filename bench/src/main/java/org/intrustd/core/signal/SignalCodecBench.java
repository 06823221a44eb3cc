package org.intrustd.core.signal;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
 * {@link SignalCodec#decodeClient} of an {@code introduce} carrying a ~4 KB browser offer (audio,
 * video and a data channel, as Chromium writes it), against Jackson's {@code readTree} of the
 * same text with a default ObjectMapper: the difference is what the codec adds (size check,
 * duplicate detection, typed and bounded member access, session regex).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SignalCodecBench {
  private static final ObjectMapper PLAIN = new ObjectMapper();
  private String introduce;

  @Setup
  public void setUp() throws IOException {
    String sdp;
    try (InputStream in = SignalCodecBench.class.getResourceAsStream("/bench/chromium-offer.sdp")) {
      sdp = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\r\n", "\n").replace("\n", "\r\n");
    }
    introduce = SignalCodec.encode(new SignalMessage.Introduce("k7Qp2ZxW9aLm3RtY", 
        "F2EGSN4-XYLCSCW-JBQVRVG-G3YQMK5-AMML3ZD-Z36DH4H-NKAEDJ3-KZPXHQP", sdp));
    if (!(SignalCodec.decodeClient(introduce) instanceof Decoded.Ok<?>)) {
      throw new IllegalStateException("the introduce message does not decode");
    }
  }

  /** The JSON text's length, for the report. */
  public int length() {
    return introduce.length();
  }

  @Benchmark
  public Object decodeClient() {
    return SignalCodec.decodeClient(introduce);
  }

  /** Baseline: Jackson readTree of the same text, no validation. */
  @Benchmark
  public Object baselineReadTree() throws IOException {
    return PLAIN.readTree(introduce);
  }
}

package org.intrustd.appliance.proxy;

import java.nio.ByteBuffer;
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
import org.openjdk.jmh.annotations.State;

/**
 * {@link RequestHeadParser#feed} of a typical browser request head (Chromium's headers for a
 * same-origin fetch, ~650 bytes) arriving in one channel message, with a fresh parser per head as
 * the Exchange does, against a naive {@code indexOf("\r\n\r\n")} over the same bytes decoded as
 * Latin-1. {@code newParser} alone shows what the parser's fixed 64 KiB buffer costs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RequestHeadParserBench {
  public static final String HEAD = String.join("\r\n",
      "GET /stream?bytes=268435456 HTTP/1.1",
      "Host: hello",
      "Connection: keep-alive",
      "sec-ch-ua-platform: \"Linux\"",
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36",
      "sec-ch-ua: \"Chromium\";v=\"150\", \"Not_A Brand\";v=\"24\"",
      "sec-ch-ua-mobile: ?0",
      "Accept: */*",
      "Origin: http://198.18.0.1:8080",
      "Sec-Fetch-Site: same-origin",
      "Sec-Fetch-Mode: cors",
      "Sec-Fetch-Dest: empty",
      "Referer: http://198.18.0.1:8080/demo/index.html",
      "Accept-Encoding: gzip, deflate, br, zstd",
      "Accept-Language: en-GB,en;q=0.9,de;q=0.8",
      "Cookie: theme=dark; session=2f1b7c9e4d5a6b8c0e1f2a3b4c5d6e7f",
      "", "");
  private final byte[] bytes = HEAD.getBytes(StandardCharsets.ISO_8859_1);

  @Benchmark
  public Object feed() {
    RequestHeadParser.Result r = new RequestHeadParser().feed(ByteBuffer.wrap(bytes));
    if (!(r instanceof RequestHeadParser.Result.Done)) {
      throw new IllegalStateException("the head does not parse: " + r);
    }
    return r;
  }

  /** Only the allocation of a parser (its fixed 64 KiB head buffer). */
  @Benchmark
  public Object newParser() {
    return new RequestHeadParser();
  }

  /** Baseline: find the end of the head with String.indexOf on the Latin-1 text. */
  @Benchmark
  public int baselineIndexOf() {
    return new String(bytes, StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");
  }

  public int length() {
    return bytes.length;
  }
}

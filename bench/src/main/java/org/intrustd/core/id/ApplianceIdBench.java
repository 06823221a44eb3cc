package org.intrustd.core.id;

import java.util.Base64;
import java.util.HexFormat;
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
 * {@link ApplianceId#parse} of the canonical display form (and of a hand-typed form: lower case,
 * spaces, a '8' for a 'B'), against the JDK decoding the same 32 bytes from base64url and from
 * hex. parse also builds the canonical string again in the constructor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ApplianceIdBench {
  // From docs/spec/vectors/appliance-ids.json.
  private final String canonical = "F2EGSN4-XYLCSCW-JBQVRVG-G3YQMK5-AMML3ZD-Z36DH4H-NKAEDJ3-KZPXHQP";
  private final String typed = "  f2egsn4 xylcscw j8qvrvg g3yqmk5 amml3zd z36dh4h nkaedj3 kzpxhqp\t";
  // The same digest's 32 bytes in the JDK's formats.
  private final String base64url = Base64.getUrlEncoder().withoutPadding().encodeToString(digest());
  private final String hex = HexFormat.of().formatHex(digest());

  private static byte[] digest() {
    try { // the ID is the SHA-256 of this public key (the vector's)
      return java.security.MessageDigest.getInstance("SHA-256")
          .digest(Base64.getUrlDecoder().decode("M6ttL4HTNPoN8ZXOoLPHp9Lu1PjtX-MkwVrVdNIh1QM"));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Benchmark
  public Object parse() {
    return ApplianceId.parse(canonical);
  }

  @Benchmark
  public Object parseTyped() {
    return ApplianceId.parse(typed);
  }

  /** Baseline: JDK Base64 (url, unpadded) decode of 32 bytes. */
  @Benchmark
  public byte[] baselineBase64() {
    return Base64.getUrlDecoder().decode(base64url);
  }

  /** Baseline: JDK HexFormat decode of 32 bytes. */
  @Benchmark
  public byte[] baselineHex() {
    return HexFormat.of().parseHex(hex);
  }
}

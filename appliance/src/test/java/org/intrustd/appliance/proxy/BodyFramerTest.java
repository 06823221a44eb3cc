package org.intrustd.appliance.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.intrustd.appliance.proxy.RequestStream.Outcome;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Where request bodies end: the spec vectors cut at every offset, unit cases, and chunked bodies built at random. */
class BodyFramerTest {

  static Stream<HttpVectors.Valid> framedBodies() {
    return HttpVectors.VALID.stream().filter(v -> !v.framing().startsWith("upgrade:"));
  }

  static Stream<HttpVectors.Invalid> malformedBodies() {
    return HttpVectors.INVALID.stream().filter(v -> v.head().isPresent());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("framedBodies")
  void specBodiesEndExactlyWhereTheVectorSaysHoweverCut(HttpVectors.Valid v) {
    byte[] after = v.afterHead();
    for (int cut : RequestStream.singleCuts(after.length)) {
      assertThat(frame(framer(v.framing()), after, cut, -1)).as("cut at %d", cut).isEqualTo(v.bodyBytes());
    }
    assertThat(frame(framer(v.framing()), after, -1, 1)).as("byte by byte").isEqualTo(v.bodyBytes());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedBodies")
  void specMalformedBodiesFailAfterAValidHeadHoweverCut(HttpVectors.Invalid v) {
    int head = v.head().getAsInt();
    Outcome whole = RequestStream.whole(v.request());
    assertThat(whole).isInstanceOf(Outcome.BodyFailed.class);
    assertThat(((Outcome.BodyFailed) whole).headBytes()).isEqualTo(head);
    for (int cut : RequestStream.singleCuts(v.request().length)) {
      assertThat(RequestStream.cutAt(v.request(), List.of(cut))).as("cut at %d", cut).isInstanceOf(Outcome.BodyFailed.class);
    }
    assertThat(RequestStream.byteByByte(v.request())).isInstanceOf(Outcome.BodyFailed.class);
  }

  /**
   * Feeds {@code body} to {@code framer} in pieces (cut once at {@code cut}, or every {@code step}
   * bytes) and returns how many bytes it took as body, or -1 if it failed or did not finish.
   */
  static long frame(BodyFramer framer, byte[] body, int cut, int step) {
    long taken = 0;
    int from = 0;
    while (from < body.length && !framer.isDone()) {
      int to = step > 0 ? Math.min(body.length, from + step) : (from < cut ? cut : body.length);
      ByteBuffer piece = ByteBuffer.wrap(body, from, to - from).slice();
      int n = framer.scan(piece);
      if (framer.isFailed()) {
        return -1;
      }
      assertThat(piece.position()).isZero();
      assertThat(n).isBetween(0, piece.remaining());
      if (n < piece.remaining()) {
        assertThat(framer.isDone()).as("a scan stops early only at the end of the body").isTrue();
      }
      taken += n;
      from = to;
    }
    return framer.isDone() ? taken : -1;
  }

  static BodyFramer framer(String framing) {
    if (framing.equals("none")) {
      return BodyFramer.forLength(0);
    } else if (framing.equals("chunked")) {
      return BodyFramer.chunked();
    }
    return BodyFramer.forLength(Long.parseLong(framing.substring("length:".length())));
  }

  @Test
  void aZeroLengthBodyIsDoneAtOnceAndTakesNothing() {
    BodyFramer f = BodyFramer.forLength(0);
    assertThat(f.isDone()).isTrue();
    assertThat(f.scan(ascii("GET"))).isZero();
  }

  @Test
  void aLengthBodyLongerThanAnIntIsCountedAcrossScans() {
    BodyFramer f = BodyFramer.forLength(3L << 31);
    ByteBuffer big = ByteBuffer.allocate(1 << 20);
    long taken = 0;
    for (int i = 0; i < 3 << 11; i++) {
      taken += f.scan(big);
    }
    assertThat(taken).isEqualTo(3L << 31);
    assertThat(f.isDone()).isTrue();
    assertThat(f.scan(big)).isZero();
  }

  @Test
  void aChunkOfMoreThan2GiBIsFramedWithoutOverflow() {
    BodyFramer f = BodyFramer.chunked();
    assertThat(f.scan(ascii("80000000\r\n"))).isEqualTo(10);
    ByteBuffer big = ByteBuffer.allocate(1 << 20);
    for (int i = 0; i < 2048; i++) {
      assertThat(f.scan(big)).isEqualTo(1 << 20);
    }
    assertThat(f.scan(ascii("\r\n0\r\n\r\nX"))).isEqualTo(7);
    assertThat(f.isDone()).isTrue();
  }

  @Test
  void theLargestChunkSizeIsAcceptedAndOneMoreHexDigitIsNot() {
    assertThat(BodyFramer.chunked().scan(ascii("7fffffffffffffff\r\n"))).isEqualTo(18);
    BodyFramer f = BodyFramer.chunked();
    f.scan(ascii("7fffffffffffffff0"));
    assertThat(f.isFailed()).isTrue();
    assertThat(f.failure()).contains("too large");
  }

  @Test
  void aChunkExtensionLongerThan4KiBFails() {
    BodyFramer f = BodyFramer.chunked();
    f.scan(ascii("1;" + "x".repeat(5_000) + "\r\n"));
    assertThat(f.isFailed()).isTrue();
    assertThat(f.failure()).contains("longer than");
  }

  @Test
  void trailersLongerThan16KiBFail() {
    BodyFramer f = BodyFramer.chunked();
    f.scan(ascii("0\r\n" + ("X-T: " + "v".repeat(1_000) + "\r\n").repeat(17) + "\r\n"));
    assertThat(f.isFailed()).isTrue();
    assertThat(f.failure()).contains("trailers");
  }

  @Test
  void aFailedFramerTakesNothingMore() {
    BodyFramer f = BodyFramer.chunked();
    assertThat(f.scan(ascii("5\r\nhelloX"))).isZero();
    assertThat(f.isFailed()).isTrue();
    assertThat(f.scan(ascii("\r\n0\r\n\r\n"))).isZero();
    assertThat(f.isDone()).isFalse();
  }

  // ------------------------------------------------------------------ properties

  /** A chunked body's ingredients. */
  record ChunkedCase(List<byte[]> chunks, List<String> extensions, List<String> trailers, boolean upperCase,
      int leadingZeros, byte[] after, List<Integer> cuts) {}

  @Test
  void chunkedBodiesBuiltFromRandomChunksAreFramedExactly() {
    String alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    Gen<ChunkedCase> cases = r -> new ChunkedCase(Gen.bytes(1, 700).list(12).next(r),
        Gen.stringsOf(alnum, 0, 12).list(12).next(r), Gen.stringsOf(alnum.substring(0, 52), 1, 20).list(4).next(r),
        r.nextBoolean(), r.nextInt(4), Gen.bytes(0, 64).next(r), Gen.ints(0, 10_000).list(5).next(r));
    Property.forAll(500, cases, c -> framedExactly(c.chunks(), c.extensions(), c.trailers(), c.upperCase(),
        c.leadingZeros(), c.after(), c.cuts()));
  }

  private static void framedExactly(List<byte[]> chunks, List<String> extensions, List<String> trailers,
      boolean upperCase, int leadingZeros, byte[] after, List<Integer> cuts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int i = 0; i < chunks.size(); i++) {
      String size = "0".repeat(leadingZeros) + Integer.toHexString(chunks.get(i).length);
      body.writeBytes((upperCase ? size.toUpperCase() : size).getBytes(StandardCharsets.US_ASCII));
      if (i < extensions.size() && !extensions.get(i).isEmpty()) {
        body.writeBytes((";" + extensions.get(i) + "=\"" + i + "\"").getBytes(StandardCharsets.US_ASCII));
      }
      body.writeBytes(crlf());
      body.writeBytes(chunks.get(i));
      body.writeBytes(crlf());
    }
    body.writeBytes(("0".repeat(leadingZeros) + "0\r\n").getBytes(StandardCharsets.US_ASCII));
    for (String t : trailers) {
      body.writeBytes(("X-" + t + ": " + t + "\r\n").getBytes(StandardCharsets.US_ASCII));
    }
    body.writeBytes(crlf());
    int bodyLength = body.size();
    body.writeBytes(after);
    byte[] stream = body.toByteArray();

    BodyFramer framer = BodyFramer.chunked();
    long taken = 0;
    int from = 0;
    java.util.TreeSet<Integer> points = new java.util.TreeSet<>(cuts.stream().filter(c -> c < stream.length).toList());
    points.add(stream.length);
    for (int to : points) {
      if (to <= from) {
        continue;
      }
      int n = framer.scan(ByteBuffer.wrap(stream, from, to - from).slice());
      assertThat(framer.isFailed()).as(framer.failure()).isFalse();
      taken += n;
      from = to;
    }
    assertThat(framer.isDone()).isTrue();
    assertThat(taken).isEqualTo(bodyLength);
  }

  @Test
  void randomBytesNeverThrowAndNeverTakeMoreThanGiven() {
    Property.forAll(500, Gen.bytes(0, 300), Gen.ints(0, 300), BodyFramerTest::neverTakesMoreThanGiven);
  }

  private static void neverTakesMoreThanGiven(byte[] bytes, int cut) {
    BodyFramer framer = BodyFramer.chunked();
    int first = Math.min(cut, bytes.length);
    int a = framer.scan(ByteBuffer.wrap(bytes, 0, first).slice());
    int b = framer.scan(ByteBuffer.wrap(bytes, first, bytes.length - first).slice());
    assertThat(a).isBetween(0, first);
    assertThat(b).isBetween(0, bytes.length - first);
    assertThat(framer.isDone() && framer.isFailed()).isFalse();
  }

  private static byte[] crlf() {
    return new byte[] {'\r', '\n'};
  }

  private static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
  }
}

package org.intrustd.appliance.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.intrustd.appliance.proxy.RequestStream.Outcome;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The request-head parser against docs/spec/vectors/http-requests.json, cut at every offset, and fuzzed. */
class RequestHeadParserTest {

  static Stream<HttpVectors.Valid> valid() {
    return HttpVectors.VALID.stream();
  }

  static Stream<HttpVectors.Invalid> refused() {
    return HttpVectors.INVALID.stream().filter(v -> v.status().isPresent());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void specValidRequestsParseToTheirMethodTargetAndFraming(HttpVectors.Valid v) {
    Outcome expected = new Outcome.Accepted(v.method(), v.target(), v.framing(), v.headBytes(), v.bodyBytes(),
        v.trailing(), true);
    assertThat(RequestStream.whole(v.request())).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void specValidRequestsGiveTheSameOutcomeCutAtEveryOffsetAndByteByByte(HttpVectors.Valid v) {
    assertSameOutcomeHoweverCut(v.request(), v.headBytes(), v.headBytes() + v.bodyBytes());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void specInvalidHeadsAreRefusedWithTheirStatus(HttpVectors.Invalid v) {
    assertThat(RequestStream.whole(v.request())).isEqualTo(new Outcome.Refused(v.status().getAsInt()));
    assertSameOutcomeHoweverCut(v.request());
  }

  private static void assertSameOutcomeHoweverCut(byte[] request, int... interesting) {
    Outcome whole = RequestStream.whole(request);
    for (int cut : RequestStream.singleCuts(request.length, interesting)) {
      assertThat(RequestStream.cutAt(request, List.of(cut))).as("cut at %d", cut).isEqualTo(whole);
    }
    if (request.length <= 8_192) {
      for (int a = 1; a < request.length; a += 7) {
        for (int b = a + 1; b < request.length; b += 13) {
          assertThat(RequestStream.cutAt(request, List.of(a, b))).as("cut at %d and %d", a, b).isEqualTo(whole);
        }
      }
    }
    assertThat(RequestStream.byteByByte(request)).as("byte by byte").isEqualTo(whole);
  }

  @Test
  void fieldsKeepTheirOrderAndSpellingAndValuesLoseOnlySpacesAndTabs() {
    RequestHead head = parse("GET /p HTTP/1.1\r\nHost: hello\r\nx-One:  a b \t\r\nX-TWO:\tc\r\nx-one: d\r\n\r\n");
    assertThat(head.fields()).containsExactly(new RequestHead.Field("Host", "hello"),
        new RequestHead.Field("x-One", "a b"), new RequestHead.Field("X-TWO", "c"), new RequestHead.Field("x-one", "d"));
    assertThat(head.first("X-ONE")).contains("a b");
  }

  @Test
  void theParserStopsAtTheEndOfTheHeadAndLeavesTheRest() {
    ByteBuffer in = bytes("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
    RequestHeadParser parser = new RequestHeadParser();
    assertThat(parser.feed(in)).isInstanceOf(RequestHeadParser.Result.Done.class);
    assertThat(in.remaining()).isEqualTo(4);
    // Once done, it reads nothing more and keeps its answer.
    assertThat(parser.feed(in)).isInstanceOf(RequestHeadParser.Result.Done.class);
    assertThat(in.remaining()).isEqualTo(4);
  }

  @Test
  void aFailedParserStaysFailedAndReadsNothingMore() {
    RequestHeadParser parser = new RequestHeadParser();
    assertThat(parser.feed(bytes("GET / HTTP/1.0\r\n\r\n"))).isEqualTo(new RequestHeadParser.Result.Failed(505,
        "only HTTP/1.1 is spoken on a channel"));
    ByteBuffer more = bytes("GET / HTTP/1.1\r\n\r\n");
    assertThat(parser.feed(more)).isInstanceOf(RequestHeadParser.Result.Failed.class);
    assertThat(more.remaining()).isEqualTo(18);
  }

  @Test
  void aHeadThatNeverEndsIsRefusedWith431AtTheFirstByteOverTheLimit() {
    RequestHeadParser parser = new RequestHeadParser();
    byte[] filler = new byte[HttpVectors.MAX_HEAD];
    java.util.Arrays.fill(filler, (byte) 'a');
    assertThat(parser.feed(ByteBuffer.wrap(filler))).isInstanceOf(RequestHeadParser.Result.NeedMore.class);
    assertThat(parser.feed(bytes("a"))).isInstanceOf(RequestHeadParser.Result.Failed.class)
        .extracting(r -> ((RequestHeadParser.Result.Failed) r).status()).isEqualTo(431);
  }

  @Test
  void tooManyFieldsAre431() {
    StringBuilder s = new StringBuilder("GET / HTTP/1.1\r\n");
    for (int i = 0; i <= RequestHeadParser.MAX_FIELDS; i++) {
      s.append("X-").append(i).append(": v\r\n");
    }
    assertThat(RequestStream.whole(s.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1)))
        .isEqualTo(new Outcome.Refused(431));
  }

  @Test
  void theUpgradeProtocolIsLowerCasedAndTheFieldKeptAsSent() {
    RequestHead head = parse("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n");
    assertThat(head.framing()).isEqualTo(new RequestHead.BodyFraming.Upgrade("websocket"));
    assertThat(head.first("upgrade")).contains("WebSocket");
  }

  @Test
  void failureReasonsArePrintableAndShort() {
    RequestHeadParser.Result r = new RequestHeadParser().feed(bytes("GET / HTTP/1.1\r\nX\u0001" + "y".repeat(500)
        + " : 1\r\n\r\n"));
    assertThat(r).isInstanceOf(RequestHeadParser.Result.Failed.class);
    String reason = ((RequestHeadParser.Result.Failed) r).reason();
    assertThat(reason).matches("[\\x20-\\x7e]*").hasSizeLessThan(200);
  }

  // ------------------------------------------------------------------ properties

  @Test
  void randomBytesEndInNeedMoreDoneOrFailedAndNeverThrow() {
    Gen<Object[]> inputs = r -> new Object[] {Gen.bytes(0, 600).next(r), r.nextBoolean(), Gen.ints(0, 700).next(r)};
    Property.forAll(500, inputs, in -> randomBytesEndWell((byte[]) in[0], (Boolean) in[1], (Integer) in[2]));
  }

  private static void randomBytesEndWell(byte[] bytes, boolean withRequestLine, int cut) {
    byte[] stream = withRequestLine ? concat("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1), bytes) : bytes;
    RequestHeadParser parser = new RequestHeadParser();
    ByteBuffer in = ByteBuffer.wrap(stream);
    RequestHeadParser.Result r = parser.feed(in.slice(0, Math.min(cut, stream.length)));
    in.position(Math.min(cut, stream.length));
    RequestHeadParser.Result last = r instanceof RequestHeadParser.Result.NeedMore ? parser.feed(in) : r;
    assertThat(last).isInstanceOfAny(RequestHeadParser.Result.NeedMore.class, RequestHeadParser.Result.Done.class,
        RequestHeadParser.Result.Failed.class);
    assertThat(RequestStream.cutAt(stream, List.of(cut))).isEqualTo(RequestStream.whole(stream));
  }

  @Test
  void mutatedSpecRequestsGiveTheSameOutcomeHoweverCut() {
    Property.forAll(1000, mutatedRequests(), Gen.ints(0, 400).list(4), RequestHeadParserTest::sameOutcomeHoweverCut);
  }

  private static void sameOutcomeHoweverCut(byte[] stream, List<Integer> cuts) {
    Outcome whole = RequestStream.whole(stream);
    assertThat(whole).isNotNull();
    if (whole instanceof Outcome.Refused refused) {
      assertThat(refused.status()).isIn(400, 431, 501, 505);
    }
    assertThat(RequestStream.cutAt(stream, cuts)).isEqualTo(whole);
  }

  /** A change of one of the spec's requests: a byte replaced, inserted or removed. */
  record Mutation(int kind, double where, byte value) {}

  private static Gen<byte[]> mutatedRequests() {
    Gen<Byte> interesting = Gen.of((byte) '\r', (byte) '\n', (byte) ':', (byte) ' ', (byte) '\t',
        (byte) ';', (byte) '0', (byte) 'F', (byte) 0, (byte) 0x7f, (byte) 0xff, (byte) ',');
    Gen<Byte> anyByte = r -> (byte) r.nextInt(256);
    Gen<Mutation> mutation = r -> new Mutation(r.nextInt(3), r.nextDouble(), Gen.oneOf(interesting, anyByte).next(r));
    List<byte[]> seeds = HttpVectors.allRequests().stream().filter(b -> b.length < 4_096).toList();
    return r -> {
      List<Mutation> mutations = mutation.list(6).next(r);
      return mutate(seeds.get(r.nextInt(seeds.size())), mutations.isEmpty() ? List.of(mutation.next(r)) : mutations);
    };
  }

  private static byte[] mutate(byte[] seed, List<Mutation> mutations) {
    List<Byte> b = new ArrayList<>();
    for (byte x : seed) {
      b.add(x);
    }
    for (Mutation m : mutations) {
      int at = (int) (m.where() * b.size());
      switch (m.kind()) {
        case 0 -> {
          if (at < b.size()) {
            b.set(at, m.value());
          }
        }
        case 1 -> b.add(at, m.value());
        default -> {
          if (at < b.size()) {
            b.remove(at);
          }
        }
      }
    }
    byte[] out = new byte[b.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.get(i);
    }
    return out;
  }

  // ------------------------------------------------------------------ helpers

  static RequestHead parse(String text) {
    RequestHeadParser.Result r = new RequestHeadParser().feed(bytes(text));
    assertThat(r).isInstanceOf(RequestHeadParser.Result.Done.class);
    return ((RequestHeadParser.Result.Done) r).head();
  }

  static ByteBuffer bytes(String text) {
    return ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

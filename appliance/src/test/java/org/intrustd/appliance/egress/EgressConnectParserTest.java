package org.intrustd.appliance.egress;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.intrustd.appliance.egress.ConnectParser.Result;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The CONNECT head parser without sockets: examples, every cut, and random bytes. */
class EgressConnectParserTest {

  private static Result whole(String head) {
    ConnectParser p = new ConnectParser();
    Result r = p.feed(ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
    return r instanceof Result.NeedMore ? p.endOfInput() : r;
  }

  @Test
  void aConnectGivesItsTargetAndLeavesTheBytesAfterTheHead() throws Exception {
    ByteBuffer in = ByteBuffer.wrap("CONNECT Example.COM:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\u0016\u0003\u0001"
        .getBytes(StandardCharsets.ISO_8859_1));
    ConnectParser p = new ConnectParser();

    assertThat(p.feed(in)).isEqualTo(new Result.Connect(new Target(new HostRule.Host.Name("example.com"), 443)));
    assertThat(in.remaining()).isEqualTo(3);
    assertThat(p.feed(in)).isInstanceOf(Result.Connect.class);
    assertThat(in.remaining()).as("done: reads no more").isEqualTo(3);
  }

  @Test
  void addressTargetsAreAddressesAndIpv6IsInBrackets() throws Exception {
    assertThat(whole("CONNECT [2001:DB8::1]:8443 HTTP/1.1\r\n\r\n")).isEqualTo(new Result.Connect(
        new Target(new HostRule.Host.Address(InetAddress.getByName("2001:db8::1")), 8443)));
    assertThat(whole("CONNECT 198.51.100.7:80 HTTP/1.0\r\n\r\n")).isEqualTo(new Result.Connect(
        new Target(new HostRule.Host.Address(InetAddress.getByName("198.51.100.7")), 80)));
  }

  static Stream<Arguments> badHeads() {
    return Stream.of(
        Arguments.of("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        Arguments.of("POST http://example.com/ HTTP/1.1\r\n\r\n", 405),
        Arguments.of("connect example.com:443 HTTP/1.1\r\n\r\n", 405),
        Arguments.of("CONNECT example.com:443 HTTP/2.0\r\n\r\n", 505),
        Arguments.of("CONNECT example.com:443 HTTP/1.1 \r\n\r\n", 400),
        Arguments.of("CONNECT  example.com:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT example.com HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT example.com:65536 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT example.com:0443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT *.example.com:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT ::1:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT [::1%eth0]:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT [1.2.3.4]:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT 0x7f.0.0.1:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT 127.000.0.1:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT 2130706433:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT 0x7f000001:443 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("CONNECT example.com:443 HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        Arguments.of("CONNECT example.com:443 HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400),
        Arguments.of("CONNECT example.com:443 HTTP/1.1\r\nX: \u0001\r\n\r\n", 400),
        Arguments.of("CONNECT example.com:443 HTTP/1.1\r\n", 400),
        Arguments.of("", 400));
  }

  @ParameterizedTest
  @MethodSource("badHeads")
  void badHeadsAreRefusedWithTheirStatus(String head, int status) {
    assertThat(whole(head)).isInstanceOfSatisfying(Result.Refused.class, r -> {
      assertThat(r.status()).isEqualTo(status);
      assertThat(r.reason()).isNotBlank();
    });
  }

  @Test
  void aHeadLongerThan8KiBIsRefusedAsSoonAsItIsTooLong() {
    ConnectParser p = new ConnectParser();
    ByteBuffer in = ByteBuffer.wrap(("CONNECT a.example:1 HTTP/1.1\r\nX: " + "a".repeat(20_000)).getBytes(StandardCharsets.US_ASCII));
    assertThat(p.feed(in)).isEqualTo(new Result.Refused(431, "the request head is longer than 8192 bytes"));
    assertThat(in.position()).isEqualTo(ConnectParser.MAX_HEAD_BYTES);
    assertThat(p.state()).isEqualTo(ConnectParser.State.FAILED);
  }

  @Test
  void aHeadOfExactly8KiBIsAccepted() {
    String start = "CONNECT a.example:1 HTTP/1.1\r\nX: ";
    String head = start + "a".repeat(ConnectParser.MAX_HEAD_BYTES - start.length() - 4) + "\r\n\r\n";
    assertThat(head).hasSize(ConnectParser.MAX_HEAD_BYTES);
    assertThat(whole(head)).isInstanceOf(Result.Connect.class);
  }

  @Test
  void tooManyFieldsAreRefused() {
    assertThat(whole("CONNECT a.example:1 HTTP/1.1\r\n" + "X: y\r\n".repeat(65) + "\r\n"))
        .isEqualTo(new Result.Refused(431, "more than 64 header fields"));
  }

  @Test
  void theOutcomeIsTheSameHoweverTheHeadIsCut() {
    String head = "CONNECT [2001:db8::7]:443 HTTP/1.1\r\nHost: [2001:db8::7]:443\r\nProxy-Connection: keep-alive\r\n\r\nrest";
    byte[] bytes = head.getBytes(StandardCharsets.US_ASCII);
    Result expected = whole(head);
    assertThat(expected).isInstanceOf(Result.Connect.class);
    for (int cut = 0; cut <= bytes.length; cut++) {
      ConnectParser p = new ConnectParser();
      ByteBuffer first = ByteBuffer.wrap(bytes, 0, cut);
      Result r = p.feed(first);
      ByteBuffer second = ByteBuffer.wrap(bytes, cut, bytes.length - cut);
      if (r instanceof Result.NeedMore) {
        r = p.feed(second);
      }
      assertThat(r).as("cut at %d", cut).isEqualTo(expected);
      assertThat(first.remaining() + second.remaining()).as("left after a cut at %d", cut).isEqualTo(4);
    }
  }

  @Test
  void randomBytesInRandomPiecesNeverThrowAndAlwaysEndInAnAnswer() {
    Gen<byte[]> input = Gen.oneOf(Gen.bytes(0, 10_000),
        Gen.stringsOf("CONNECT :[]0123456789abcdef.*-\r\n Host", 0, 300).map(s -> s.getBytes(StandardCharsets.ISO_8859_1)),
        Gen.bytes(0, 200).map(b -> concat("CONNECT example.com:443 HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII), b)));
    Property.forAll(3_000, input, Gen.ints(1, 64), (bytes, piece) -> {
      ConnectParser p = new ConnectParser();
      Result r = new Result.NeedMore();
      SplittableRandom random = new SplittableRandom(bytes.length);
      int at = 0;
      while (at < bytes.length && r instanceof Result.NeedMore) {
        int n = Math.min(bytes.length - at, 1 + random.nextInt(piece));
        ByteBuffer buf = ByteBuffer.wrap(bytes, at, n);
        r = p.feed(buf);
        at += n - buf.remaining();
        assertThat(buf.remaining() == 0 || !(r instanceof Result.NeedMore)).isTrue();
      }
      if (r instanceof Result.NeedMore) {
        r = p.endOfInput();
      }
      assertThat(r).isNotInstanceOf(Result.NeedMore.class);
      assertThat(p.state()).isNotEqualTo(ConnectParser.State.READING);
      if (r instanceof Result.Refused f) {
        assertThat(f.status()).isBetween(400, 505);
      }
    });
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

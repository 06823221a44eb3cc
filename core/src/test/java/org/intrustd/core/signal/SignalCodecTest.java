package org.intrustd.core.signal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Registered;
import org.intrustd.core.spec.SpecVectors;
import org.junit.jupiter.api.Test;

class SignalCodecTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void specValidMessagesDecodeAndReEncodeToTheSameObject() throws Exception {
    for (JsonNode v : SpecVectors.load("flock-messages.json").get("valid")) {
      String text = v.get("json").asText();
      String reEncoded = switch (v.get("endpoint").asText()) {
        case "appliance" -> SignalCodec.encode(ok(SignalCodec.decodeAppliance(text), text));
        case "client" -> SignalCodec.encode(ok(SignalCodec.decodeClient(text), text));
        default -> throw new AssertionError(v);
      };
      ObjectNode expected = (ObjectNode) JSON.readTree(text);
      expected.remove("future");
      assertThat(JSON.readTree(reEncoded)).as(text).isEqualTo(expected);
    }
  }

  @Test
  void specInvalidMessagesAreRejectedWithTheirCode() {
    for (JsonNode v : SpecVectors.load("flock-messages.json").get("invalid")) {
      String text = v.get("json").asText();
      Decoded<?> decoded = v.get("endpoint").asText().equals("appliance")
          ? SignalCodec.decodeAppliance(text) : SignalCodec.decodeClient(text);
      assertThat(decoded).as(v.get("why").asText()).isInstanceOf(Decoded.Invalid.class);
      assertThat(((Decoded.Invalid<?>) decoded).code().wire()).as(v.get("why").asText()).isEqualTo(v.get("code").asText());
    }
  }

  @Test
  void anIntroductionKeepsItsSdpByteForByte() {
    String sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 AB:CD\r\n\u00e9\u2713";
    String text = SignalCodec.encode(new Introduce("s-1", "ID", sdp));
    assertThat(ok(SignalCodec.decodeClient(text), text)).isEqualTo(new Introduce("s-1", "ID", sdp));
  }

  @Property
  void candidatesRoundTrip(@ForAll("sessions") String session, @ForAll("printable") String candidate,
      @ForAll("optionalMid") Optional<String> mid) {
    Candidate c = new Candidate(session, candidate, mid, 3);
    assertThat(SignalCodec.decodeClient(SignalCodec.encode((ClientMessage) c))).isEqualTo(new Decoded.Ok<>(c));
    assertThat(SignalCodec.decodeAppliance(SignalCodec.encode((ApplianceMessage) c))).isEqualTo(new Decoded.Ok<>(c));
  }

  @Property
  void iceServersRoundTrip(@ForAll("printable") String url, @ForAll("optionalMid") Optional<String> user) {
    Registered r = new Registered("X", List.of(new IceServer(List.of(url), user, user)));
    assertThat(SignalCodec.decodeAppliance(SignalCodec.encode(r))).isEqualTo(new Decoded.Ok<>(r));
  }

  @Property(tries = 2000)
  void arbitraryTextIsAValueNeverAnException(@ForAll("jsonish") String text) {
    assertThat(SignalCodec.decodeClient(text)).isNotNull();
    assertThat(SignalCodec.decodeAppliance(text)).isNotNull();
  }

  @Provide
  Arbitrary<String> sessions() {
    return Arbitraries.strings().withChars("abcXYZ019_-").ofMinLength(1).ofMaxLength(64);
  }

  @Provide
  Arbitrary<String> printable() {
    return Arbitraries.strings().ofMaxLength(200);
  }

  @Provide
  Arbitrary<Optional<String>> optionalMid() {
    return Arbitraries.strings().ofMaxLength(10).optional();
  }

  /** Mostly almost-valid messages: real members and types, mutated. */
  @Provide
  Arbitrary<String> jsonish() {
    Arbitrary<String> token = Arbitraries.of("{", "}", "[", "]", ",", ":", "\"type\"", "\"introduce\"", "\"candidate\"",
        "\"session\"", "\"s\"", "\"sdp\"", "\"appliance\"", "null", "1", "-1", "1e99", "\"\\u0000\"", "true", "\"",
        "\"register\"", "\"publicKey\"", "\"AAAA\"", "\"sdpMLineIndex\"", "\"iceServers\"", "\"urls\"");
    return Arbitraries.oneOf(token.list().ofMaxSize(30).map(l -> String.join("", l)), Arbitraries.strings().ofMaxLength(100));
  }

  private static <T> T ok(Decoded<T> decoded, String text) {
    assertThat(decoded).as(text).isInstanceOf(Decoded.Ok.class);
    return ((Decoded.Ok<T>) decoded).message();
  }
}

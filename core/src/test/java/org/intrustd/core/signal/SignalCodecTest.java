package org.intrustd.core.signal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Registered;
import org.intrustd.core.spec.SpecVectors;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
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

  private static final Gen<String> SESSIONS = Gen.stringsOf("abcXYZ019_-", 1, 64);
  private static final Gen<Optional<String>> MIDS = Gen.strings(10).optional();

  @Test
  void candidatesRoundTrip() {
    Gen<Candidate> candidates = r -> new Candidate(SESSIONS.next(r), Gen.strings(200).next(r), MIDS.next(r),
        Gen.ints(0, 65_535).next(r));
    Property.forAll(500, candidates, c -> {
      assertThat(SignalCodec.decodeClient(SignalCodec.encode((ClientMessage) c))).isEqualTo(new Decoded.Ok<>(c));
      assertThat(SignalCodec.decodeAppliance(SignalCodec.encode((ApplianceMessage) c))).isEqualTo(new Decoded.Ok<>(c));
    });
  }

  @Test
  void iceServersRoundTrip() {
    Property.forAll(500, Gen.strings(200), MIDS, (url, user) -> {
      Registered r = new Registered("X", List.of(new IceServer(List.of(url), user, user)));
      assertThat(SignalCodec.decodeAppliance(SignalCodec.encode(r))).isEqualTo(new Decoded.Ok<>(r));
    });
  }

  /** Mostly almost-valid messages: real members and types, shuffled and mutated. */
  @Test
  void arbitraryTextIsAValueNeverAnException() {
    Gen<String> token = Gen.of("{", "}", "[", "]", ",", ":", "\"type\"", "\"introduce\"", "\"candidate\"",
        "\"session\"", "\"s\"", "\"sdp\"", "\"appliance\"", "null", "1", "-1", "1e99", "\"\\u0000\"", "true", "\"",
        "\"register\"", "\"publicKey\"", "\"AAAA\"", "\"sdpMLineIndex\"", "\"iceServers\"", "\"urls\"");
    Gen<String> jsonish = Gen.oneOf(token.list(30).map(l -> String.join("", l)), Gen.strings(100));
    Property.forAll(3000, jsonish, text -> {
      assertThat(SignalCodec.decodeClient(text)).isNotNull();
      assertThat(SignalCodec.decodeAppliance(text)).isNotNull();
    });
  }

  private static <T> T ok(Decoded<T> decoded, String text) {
    assertThat(decoded).as(text).isInstanceOf(Decoded.Ok.class);
    return ((Decoded.Ok<T>) decoded).message();
  }
}

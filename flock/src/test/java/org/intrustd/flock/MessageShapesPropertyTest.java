package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.ErrorCode;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every message type of both endpoints, with each member missing, plausible, or any JSON value
 * (nested, huge, negative, fractional, escaped), members repeated, reordered and added: the
 * codec answers a value, never an exception, and the flock answers a protocol message (an
 * {@code error} with a code of the spec when it refuses), never an internal error (1011).
 * {@link GarbagePropertyTest} covers text that is not JSON at all.
 */
class MessageShapesPropertyTest {
  /** Members of each type, as the spec names them; flock-sent types are there to be refused. */
  private static final Map<String, List<String>> CLIENT_TYPES = Map.of(
      "introduce", List.of("session", "appliance", "sdp"),
      "candidate", List.of("session", "candidate", "sdpMid", "sdpMLineIndex"),
      "bye", List.of("session", "reason"),
      "ping", List.of(),
      "hello", List.of("iceServers"),
      "answer", List.of("session", "appliance", "publicKey", "sdp", "signature"),
      "pong", List.of(),
      "error", List.of("code", "message", "session"));
  private static final Map<String, List<String>> APPLIANCE_TYPES = Map.of(
      "register", List.of("publicKey", "name", "signature"),
      "answer", List.of("session", "sdp", "signature"),
      "candidate", List.of("session", "candidate", "sdpMid", "sdpMLineIndex"),
      "bye", List.of("session", "reason"),
      "ping", List.of(),
      "challenge", List.of("nonce"),
      "registered", List.of("appliance", "iceServers"),
      "offer", List.of("session", "sdp", "iceServers"),
      "error", List.of("code", "message", "session"));
  private static final List<String> CODES = Arrays.stream(ErrorCode.values()).map(ErrorCode::wire).toList();
  private static final String SOMEONE = new Identity(Ed25519.generate()).id().toString();

  private Harness harness;

  @AfterEach
  void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void theCodecAnswersEveryShapeWithAValueAndRoundTripsWhatItAccepts() {
    Property.forAll(4000, message(CLIENT_TYPES), message(APPLIANCE_TYPES), (client, appliance) -> {
      switch (SignalCodec.decodeClient(client)) {
        case Decoded.Ok<ClientMessage> ok -> {
          String again = SignalCodec.encode(ok.message());
          assertThat(SignalCodec.decodeClient(again)).isInstanceOf(Decoded.Ok.class);
          assertThat(SignalCodec.encode(((Decoded.Ok<ClientMessage>) SignalCodec.decodeClient(again)).message()))
              .isEqualTo(again);
        }
        case Decoded.Invalid<ClientMessage> bad -> assertThat(bad.code()).isNotNull();
      }
      switch (SignalCodec.decodeAppliance(appliance)) {
        case Decoded.Ok<ApplianceMessage> ok -> {
          String again = SignalCodec.encode(ok.message());
          assertThat(SignalCodec.encode(((Decoded.Ok<ApplianceMessage>) SignalCodec.decodeAppliance(again)).message()))
              .isEqualTo(again);
        }
        case Decoded.Invalid<ApplianceMessage> bad -> assertThat(bad.code()).isNotNull();
      }
    });
  }

  @Test
  void theFlockAnswersEveryShapeWithAProtocolMessage() {
    harness = new Harness();
    Gen<String> clients = message(CLIENT_TYPES);
    Gen<String> appliances = message(APPLIANCE_TYPES);
    Gen<Shapes> shapes = r -> new Shapes(clients.next(r), appliances.next(r), r.nextBoolean());
    Property.forAll(120, shapes, shape -> {
      WsPeer c = harness.client();
      check(c, shape.client(), SignalCodec.decodeClient(shape.client()), true);
      WsPeer a = shape.registered() ? harness.appliance(new Identity(Ed25519.generate())) : harness.applianceSocket();
      if (!shape.registered()) {
        a.nextAppliance(Challenge.class);
      }
      check(a, shape.appliance(), SignalCodec.decodeAppliance(shape.appliance()), false);
      c.abort();
      a.abort();
    });
  }

  /** One try: a message for /client, one for /appliance, and whether that appliance registered first. */
  private record Shapes(String client, String appliance, boolean registered) {}

  /**
   * The flock's reply to {@code text}: the codec's refusal as an error and a 1008/1009 close;
   * otherwise a well-formed message, and an error only with a code of the spec.
   */
  private static void check(WsPeer peer, String text, Decoded<?> decoded, boolean client) {
    peer.send(text); // an introduction names nobody registered: every message gets a reply
    String reply = peer.next(Duration.ofSeconds(5));
    Object message = client ? ok(SignalCodec.decodeClient(reply), reply) : ok(SignalCodec.decodeAppliance(reply), reply);
    if (decoded instanceof Decoded.Invalid<?> bad) {
      assertThat(message).isInstanceOf(Error.class);
      assertThat(((Error) message).code()).isEqualTo(bad.code().wire());
      assertThat(peer.closeStatus()).isIn(1008, 1009);
    } else if (message instanceof Error error) {
      assertThat(CODES).contains(error.code());
      if (peer.isClosed()) {
        assertThat(peer.closeStatus()).isIn(1008, 1009);
      }
    }
  }

  private static <T> T ok(Decoded<T> decoded, String text) {
    assertThat(decoded).as("the flock sent: " + text).isInstanceOf(Decoded.Ok.class);
    return ((Decoded.Ok<T>) decoded).message();
  }

  /** A JSON object of one of {@code types}, its members mutated. */
  private static Gen<String> message(Map<String, List<String>> types) {
    List<String> names = new ArrayList<>(types.keySet());
    Collections.sort(names); // a seed reproduces the same input
    return r -> {
      String type = names.get(r.nextInt(names.size()));
      List<String> members = new ArrayList<>();
      switch (r.nextInt(20)) {
        case 0 -> { } // no type
        case 1 -> members.add("\"type\":" + value(r, 2));
        default -> members.add("\"type\":\"" + type + "\"");
      }
      for (String member : types.get(type)) {
        int roll = r.nextInt(10);
        if (roll == 0) {
          continue;
        }
        String v = roll < 7 ? plausible(member, r) : value(r, 3);
        members.add(quote(member) + ":" + v);
        if (r.nextInt(15) == 0) {
          members.add(quote(member) + ":" + value(r, 1)); // repeated
        }
      }
      if (r.nextInt(5) == 0) {
        members.add(quote(Gen.of("pad", "x", "Type", "session ", "").next(r)) + ":" + value(r, 2));
      }
      if (r.nextInt(3) == 0) {
        Collections.shuffle(members, new java.util.Random(r.nextLong()));
      }
      return "{" + String.join(",", members) + "}";
    };
  }

  private static String plausible(String member, SplittableRandom r) {
    return switch (member) {
      case "session" -> quote(Gen.of("s", "s-1_A", "", "x".repeat(65), "x".repeat(200), "bad session!", "é").next(r));
      case "appliance" -> quote(Gen.of(SOMEONE, SOMEONE.toLowerCase(), "not-an-id", "", SOMEONE + "x").next(r));
      case "sdp" -> quote(Gen.of("v=0", "", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", "x".repeat(5000)).next(r));
      case "candidate" -> quote(Gen.of("candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host", "", "x").next(r));
      case "sdpMid" -> Gen.of("\"0\"", "\"\"", "null", "0").next(r);
      case "sdpMLineIndex" -> Gen.of("0", "1", "-1", "65535", "65536", "2147483648", "1.5", "\"0\"", "null").next(r);
      case "publicKey", "signature", "nonce" -> quote(Base64.getEncoder().withoutPadding()
          .encodeToString(Gen.bytes(0, 70).next(r)) + Gen.of("", "", "=", "!", "==").next(r));
      case "name", "reason", "message" -> quote(Gen.of("box", "", "done", "y".repeat(300), "\u0000\n").next(r));
      case "code" -> quote(Gen.oneOf(Gen.of(CODES.toArray(String[]::new)), Gen.of("nope", "")).next(r));
      case "iceServers" -> Gen.of("[]", "[{\"urls\":[\"stun:x:3478\"]}]", "[{\"urls\":\"stun:x\"}]",
          "[{\"urls\":[],\"username\":\"u\",\"credential\":\"c\"}]", "[null]", "{}").next(r);
      default -> value(r, 1);
    };
  }

  /** Any JSON value, {@code depth} levels of arrays and objects at most. */
  private static String value(SplittableRandom r, int depth) {
    int kinds = depth > 0 ? 6 : 4;
    return switch (r.nextInt(kinds)) {
      case 0 -> quote(Gen.strings(40).next(r).codePoints()
          .filter(c -> c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE)
          .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString());
      case 1 -> Gen.of("0", "-0", "1", "-1", "1.5", "1e999", "-1e-999", "9223372036854775808", "1E2", "0.0000001",
          String.valueOf(r.nextLong())).next(r);
      case 2 -> Gen.of("true", "false", "null").next(r);
      case 3 -> quote(Gen.stringsOf("abcXYZ0189-_=:/ ", 0, 30).next(r));
      case 4 -> "[" + java.util.stream.IntStream.range(0, r.nextInt(4)).mapToObj(i -> value(r, depth - 1))
          .collect(Collectors.joining(",")) + "]";
      default -> "{" + java.util.stream.IntStream.range(0, r.nextInt(4))
          .mapToObj(i -> quote(Gen.of("urls", "a", "type", "session").next(r)) + ":" + value(r, depth - 1))
          .collect(Collectors.joining(",")) + "}";
    };
  }

  private static String quote(String s) {
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
  }
}

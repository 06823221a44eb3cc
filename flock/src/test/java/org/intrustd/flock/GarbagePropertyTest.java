package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Whatever text a peer sends, the flock keeps serving everyone else. */
class GarbagePropertyTest {
  private static final String TYPES_AND_MEMBERS = "type session appliance sdp candidate sdpMid sdpMLineIndex "
      + "reason publicKey signature nonce name iceServers urls code message";
  private static final String TYPES = "challenge register registered ping pong offer answer candidate bye error "
      + "hello introduce x";

  private Harness harness;
  private Identity identity;
  private WsPeer appliance;

  @BeforeEach
  void start() {
    harness = new Harness();
    identity = new Identity(Ed25519.generate());
    appliance = harness.appliance(identity);
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  @Test
  void randomTextNeverBreaksTheFlock() {
    Property.forAll(150, garbage(), Gen.of(true, false), this::sendGarbageThenCheckTheFlockStillWorks);
  }

  private void sendGarbageThenCheckTheFlockStillWorks(String text, boolean toApplianceEndpoint) {
    WsPeer victim = toApplianceEndpoint ? harness.applianceSocket() : harness.client();
    if (toApplianceEndpoint) {
      victim.nextAppliance(Challenge.class);
    }
    victim.send(text);
    // Every client message is answered (pong or error) and an unregistered appliance gets an
    // error for anything: either way a well-formed reply, never silence or a crash.
    String reply = victim.next();
    assertThat(toApplianceEndpoint ? SignalCodec.decodeAppliance(reply) : SignalCodec.decodeClient(reply))
        .isInstanceOf(Decoded.Ok.class);
    victim.abort();

    WsPeer client = harness.client();
    client.send(new Introduce("s", identity.id().toString(), "v=0"));
    Offer offer = appliance.nextAppliance(Offer.class);
    assertThat(offer.sdp()).isEqualTo("v=0");
    client.send(new Bye("s", "done"));
    appliance.nextAppliance(Bye.class);
    client.abort();
  }

  private static Gen<String> garbage() {
    Gen<String> any = Gen.strings(300).map(s -> s.codePoints()
        .filter(c -> c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString());
    Gen<String> member = Gen.of(TYPES_AND_MEMBERS.split(" "));
    Gen<String> value = Gen.oneOf(
        Gen.of(TYPES.split(" ")).map(t -> "\"" + t + "\""),
        Gen.stringsOf("abcXYZ0189-_=", 0, 90).map(s -> "\"" + s + "\""),
        Gen.ints(Integer.MIN_VALUE, Integer.MAX_VALUE).map(String::valueOf),
        Gen.of("null", "true", "[]", "{}", "[\"stun:x\"]", "[{\"urls\":[\"turn:y\"]}]", "1e999", "-0"));
    Gen<String> pair = r -> "\"" + member.next(r) + "\":" + value.next(r);
    Gen<String> object = pair.list(7).map(pairs -> "{" + String.join(",", pairs) + "}");
    Gen<String> typed = r -> {
      List<String> pairs = pair.list(6).next(r);
      return "{\"type\":\"" + Gen.of(TYPES.split(" ")).next(r) + "\"" + pairs.stream().map(p -> "," + p).reduce("", String::concat) + "}";
    };
    return Gen.oneOf(any, object, typed);
  }
}

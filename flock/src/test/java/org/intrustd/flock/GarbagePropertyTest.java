package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;

/** Whatever text a peer sends, the flock keeps serving everyone else. */
class GarbagePropertyTest {
  private static final String TYPES_AND_MEMBERS = "type session appliance sdp candidate sdpMid sdpMLineIndex "
      + "reason publicKey signature nonce name iceServers urls code message";
  private static final String TYPES = "challenge register registered ping pong offer answer candidate bye error "
      + "hello introduce x";

  private Harness harness;
  private Identity identity;
  private WsPeer appliance;

  @BeforeProperty
  void start() {
    harness = new Harness();
    identity = new Identity(Ed25519.generate());
    appliance = harness.appliance(identity);
  }

  @AfterProperty
  void stop() {
    harness.close();
  }

  @Property(tries = 150)
  void randomTextNeverBreaksTheFlock(@ForAll("garbage") String text, @ForAll boolean toApplianceEndpoint) {
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

  @Provide
  Arbitrary<String> garbage() {
    Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(300)
        .filter(s -> s.codePoints().noneMatch(c -> c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE));
    Arbitrary<String> member = Arbitraries.of(TYPES_AND_MEMBERS.split(" "));
    Arbitrary<String> value = Arbitraries.oneOf(
        Arbitraries.of(TYPES.split(" ")).map(t -> "\"" + t + "\""),
        Arbitraries.strings().alpha().numeric().withChars("-_=").ofMaxLength(90).map(s -> "\"" + s + "\""),
        Arbitraries.integers().map(String::valueOf),
        Arbitraries.of("null", "true", "[]", "{}", "[\"stun:x\"]", "[{\"urls\":[\"turn:y\"]}]", "1e999", "-0"));
    Arbitrary<String> pair = Combinators.combine(member, value).as((m, v) -> "\"" + m + "\":" + v);
    Arbitrary<String> object = pair.list().ofMaxSize(7).map(pairs -> "{" + String.join(",", pairs) + "}");
    Arbitrary<String> typed = Combinators.combine(Arbitraries.of(TYPES.split(" ")), pair.list().ofMaxSize(6))
        .as((t, pairs) -> "{\"type\":\"" + t + "\"" + pairs.stream().map(p -> "," + p).reduce("", String::concat) + "}");
    return Arbitraries.oneOf(any, object, typed);
  }
}

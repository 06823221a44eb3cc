package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.intrustd.core.signal.SignalMessage.Pong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile or broken peers lose their own connection and nothing else. */
class AbuseTest {
  private final FakeClock frozen = new FakeClock();
  private final Harness harness = new Harness(FlockConfig.defaults().withClock(frozen));
  private final Identity identity = new Identity(Ed25519.generate());

  @AfterEach
  void closeAll() {
    harness.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "not json", "[]", "42", "null", "{}", "{\"type\":7}", "{\"type\":\"nope\"}",
      "{\"type\":\"introduce\",\"session\":\"s\",\"appliance\":3,\"sdp\":\"v=0\"}",
      "{\"type\":\"introduce\",\"session\":\"bad session!\",\"appliance\":\"x\",\"sdp\":\"v=0\"}",
      "{\"type\":\"ping\"} trailing", "{\"type\":\"ping\",\"type\":\"ping\"}",
      "{\"type\":\"hello\",\"iceServers\":[]}", "{\"type\":\"pong\"}"})
  void aMalformedOrMisdirectedClientMessageClosesOnlyThatConnection(String garbage) {
    WsPeer bystander = harness.client();
    WsPeer client = harness.client();

    client.send(garbage);

    assertThat(client.nextClient(Error.class).code()).isEqualTo("bad-message");
    assertThat(client.closeStatus()).isEqualTo(1008);
    assertServes(bystander);
  }

  @ParameterizedTest
  @ValueSource(strings = {"garbage", "{\"type\":\"offer\",\"session\":\"s\",\"sdp\":\"x\"}",
      "{\"type\":\"error\",\"code\":\"x\",\"message\":\"y\"}", "{\"type\":\"introduce\"}"})
  void aMalformedOrMisdirectedApplianceMessageClosesOnlyThatConnection(String garbage) {
    WsPeer appliance = harness.appliance(identity);
    WsPeer intruder = harness.appliance(new Identity(Ed25519.generate()));

    intruder.send(garbage);

    assertThat(intruder.nextAppliance(Error.class).code()).isEqualTo("bad-message");
    assertThat(intruder.closeStatus()).isEqualTo(1008);
    appliance.send(new Ping());
    appliance.nextAppliance(Pong.class);
  }

  @Test
  void binaryMessagesAreBadOnBothEndpoints() {
    WsPeer bystander = harness.client();
    WsPeer client = harness.client();
    WsPeer appliance = harness.applianceSocket();
    appliance.nextAppliance(Challenge.class);

    client.sendBinary(new byte[] {1, 2, 3});
    appliance.sendBinary("{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));

    assertThat(client.nextClient(Error.class).code()).isEqualTo("bad-message");
    assertThat(client.closeStatus()).isEqualTo(1008);
    assertThat(appliance.nextAppliance(Error.class).code()).isEqualTo("bad-message");
    assertThat(appliance.closeStatus()).isEqualTo(1008);
    assertServes(bystander);
  }

  @Test
  void aMessageOfExactlyTheLimitIsAcceptedAndOneByteMoreIsTooLarge() {
    WsPeer bystander = harness.client();
    WsPeer client = harness.client();

    client.send(paddedPing(SignalCodec.MAX_MESSAGE_BYTES));
    client.nextClient(Pong.class);
    client.send(paddedPing(SignalCodec.MAX_MESSAGE_BYTES + 1));

    assertThat(client.nextClient(Error.class).code()).isEqualTo("message-too-large");
    assertThat(client.closeStatus()).isEqualTo(1009);
    assertServes(bystander);
  }

  @Test
  void multiByteCharactersCountAsTheirUtf8Bytes() {
    WsPeer client = harness.client();
    // 32,000 × 'é' is 32,000 chars but 64,000 bytes; 22,000 × '€' is 66,000 bytes.
    client.send("{\"type\":\"ping\",\"pad\":\"" + "é".repeat(32_000) + "\"}");
    client.nextClient(Pong.class);

    client.send("{\"type\":\"ping\",\"pad\":\"" + "€".repeat(22_000) + "\"}");

    assertThat(client.nextClient(Error.class).code()).isEqualTo("message-too-large");
    assertThat(client.closeStatus()).isEqualTo(1009);
  }

  @Test
  void overTheBurstIsRateLimitedWhileOtherConnectionsKeepTheirOwnBudget() {
    WsPeer bystander = harness.client();
    WsPeer client = harness.client();
    int burst = Limits.DEFAULTS.burst();

    for (int i = 0; i < burst; i++) { // the clock stands still: no refill beyond the burst
      client.send(new Ping());
    }
    for (int i = 0; i < burst; i++) {
      client.nextClient(Pong.class);
    }
    client.send(new Ping());

    assertThat(client.nextClient(Error.class).code()).isEqualTo("rate-limited");
    assertThat(client.closeStatus()).isEqualTo(1008);
    assertServes(bystander);
  }

  @Test
  void theRateRefillsWithTime() {
    WsPeer client = harness.client();
    for (int i = 0; i < Limits.DEFAULTS.burst(); i++) {
      client.send(new Ping());
      client.nextClient(Pong.class);
    }

    frozen.advance(Duration.ofMillis(20)); // 100/s: two more messages

    client.send(new Ping());
    client.nextClient(Pong.class);
    client.send(new Ping());
    client.nextClient(Pong.class);
    client.send(new Ping());
    assertThat(client.nextClient(Error.class).code()).isEqualTo("rate-limited");
  }

  @Test
  void aWellBehavedIntroductionStillWorksAfterAbuseElsewhere() {
    WsPeer appliance = harness.appliance(identity);
    WsPeer abuser = harness.clientSocket();
    abuser.sendBinary(new byte[70_000]);
    assertThat(abuser.closeStatus()).isIn(1008, 1009);

    WsPeer client = harness.clientSocket();
    client.nextClient(Hello.class);
    client.send(new Introduce("s", identity.id().toString(), "v=0"));
    assertThat(appliance.nextAppliance(Offer.class).sdp()).isEqualTo("v=0");
  }

  /** A ping padded with an ignored member to exactly {@code bytes} UTF-8 bytes. */
  private static String paddedPing(int bytes) {
    String head = "{\"type\":\"ping\",\"pad\":\"";
    String tail = "\"}";
    return head + "x".repeat(bytes - head.length() - tail.length()) + tail;
  }

  private static void assertServes(WsPeer client) {
    client.send(new Ping());
    client.nextClient(Pong.class);
  }
}

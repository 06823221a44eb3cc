package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.intrustd.core.signal.SignalMessage.Pong;
import org.intrustd.core.signal.SignalMessage.Register;
import org.intrustd.core.signal.SignalMessage.Registered;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RegistrationTest {
  private Harness harness;
  private final Identity identity = new Identity(Ed25519.generate());

  @AfterEach
  void closeAll() {
    harness.close();
  }

  @Test
  void aValidSignatureRegistersTheCanonicalIdWithNoIceServersByDefault() {
    harness = new Harness();
    WsPeer appliance = harness.applianceSocket();
    Challenge challenge = appliance.nextAppliance(Challenge.class);
    assertThat(challenge.nonce()).hasSize(32);

    appliance.send(new Register(identity.publicKey(), "kitchen", identity.signRegistration(challenge.nonce())));

    Registered registered = appliance.nextAppliance(Registered.class);
    assertThat(registered.appliance()).isEqualTo(identity.id().toString());
    assertThat(registered.iceServers()).isEmpty();
    appliance.send(new Ping());
    appliance.nextAppliance(Pong.class);
  }

  @Test
  void configuredIceServersGoToAppliancesAndClients() {
    IceServer turn = new IceServer(List.of("turn:turn.example.test:3478"), Optional.of("u"), Optional.of("p"));
    harness = new Harness(FlockConfig.defaults().withIceServers(List.of(turn)));
    WsPeer client = harness.clientSocket();
    assertThat(client.nextClient(Hello.class).iceServers()).singleElement()
        .satisfies(s -> assertThat(s.urls()).containsExactly("turn:turn.example.test:3478"));
    WsPeer appliance = harness.applianceSocket();
    Challenge challenge = appliance.nextAppliance(Challenge.class);
    appliance.send(new Register(identity.publicKey(), "kitchen", identity.signRegistration(challenge.nonce())));
    assertThat(appliance.nextAppliance(Registered.class).iceServers()).singleElement()
        .satisfies(s -> assertThat(s.credential()).contains("p"));
  }

  @Test
  void eachEndOfEachIntroductionGetsFreshTurnCredentials() {
    FakeClock clock = new FakeClock();
    byte[] secret = "a secret shared with coturn".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    harness = new Harness(FlockConfig.defaults().withTurn(TurnRelay.at("198.51.100.7:3478", secret, Duration.ofHours(24)))
        .withClock(clock));
    WsPeer appliance = harness.applianceSocket();
    Challenge challenge = appliance.nextAppliance(Challenge.class);
    appliance.send(new Register(identity.publicKey(), "kitchen", identity.signRegistration(challenge.nonce())));
    IceServer atRegistration = appliance.nextAppliance(Registered.class).iceServers().getFirst();
    assertThat(atRegistration.username()).contains((clock.instant().getEpochSecond() + 86_400) + ":intrustd");
    clock.advance(Duration.ofSeconds(5)); // later credentials say so
    WsPeer client = harness.clientSocket();
    IceServer forClient = client.nextClient(Hello.class).iceServers().getFirst();
    client.send(new Introduce("s1", identity.id().toString(), "v=0"));
    IceServer forAppliance = appliance.nextAppliance(Offer.class).iceServers().getFirst();
    for (IceServer s : List.of(forClient, forAppliance)) {
      assertThat(s.urls()).containsExactly("turn:198.51.100.7:3478?transport=udp", "turn:198.51.100.7:3478?transport=tcp");
      assertThat(s.username()).contains((clock.instant().getEpochSecond() + 86_400) + ":intrustd");
      assertThat(s.credential()).contains(TurnRelay.password(secret, s.username().orElseThrow()));
    }
  }

  @Test
  void aBadSignatureIsAnsweredAndCloses() {
    harness = new Harness();
    WsPeer appliance = harness.applianceSocket();
    Challenge challenge = appliance.nextAppliance(Challenge.class);
    Identity other = new Identity(Ed25519.generate());

    appliance.send(new Register(identity.publicKey(), "kitchen", other.signRegistration(challenge.nonce())));

    assertThat(appliance.nextAppliance(Error.class).code()).isEqualTo("bad-signature");
    assertThat(appliance.closeStatus()).isEqualTo(1008);
    WsPeer client = harness.client();
    client.send(new Introduce("s1", identity.id().toString(), "v=0"));
    assertThat(client.nextClient(Error.class).code()).isEqualTo("appliance-offline");
  }

  @Test
  void aFlockThatAdmitsOneApplianceRefusesOthers() {
    Identity stranger = new Identity(Ed25519.generate());
    harness = new Harness(FlockConfig.defaults().admitting(java.util.Set.of(identity.id())));
    WsPeer refused = harness.applianceSocket();
    Challenge challenge = refused.nextAppliance(Challenge.class);
    refused.send(new Register(stranger.publicKey(), "stranger", stranger.signRegistration(challenge.nonce())));
    assertThat(refused.nextAppliance(Error.class).code()).isEqualTo("not-admitted");
    assertThat(refused.closeStatus()).isEqualTo(1008);

    WsPeer admitted = harness.applianceSocket();
    challenge = admitted.nextAppliance(Challenge.class);
    admitted.send(new Register(identity.publicKey(), "kitchen", identity.signRegistration(challenge.nonce())));
    assertThat(admitted.nextAppliance(Registered.class).appliance()).isEqualTo(identity.id().toString());
  }

  @Test
  void aSignatureOverAnotherNonceIsBad() {
    harness = new Harness();
    WsPeer appliance = harness.applianceSocket();
    appliance.nextAppliance(Challenge.class);

    appliance.send(new Register(identity.publicKey(), "kitchen", identity.signRegistration(new byte[32])));

    assertThat(appliance.nextAppliance(Error.class).code()).isEqualTo("bad-signature");
    assertThat(appliance.closeStatus()).isEqualTo(1008);
  }

  @Test
  void theChallengeExpiresAfterTheConfiguredTime() {
    harness = new Harness(FlockConfig.defaults()
        .withLimits(Limits.DEFAULTS.withChallengeExpiry(Duration.ofMillis(200))));
    WsPeer appliance = harness.applianceSocket();
    appliance.nextAppliance(Challenge.class);

    assertThat(appliance.nextAppliance(Error.class).code()).isEqualTo("challenge-expired");
    assertThat(appliance.closeStatus()).isEqualTo(1008);
  }

  @Test
  void aRegisterAfterTheDeadlineIsChallengeExpiredEvenBeforeTheSweep() {
    FakeClock clock = new FakeClock();
    harness = new Harness(FlockConfig.defaults().withClock(clock));
    WsPeer appliance = harness.applianceSocket();
    Challenge challenge = appliance.nextAppliance(Challenge.class);
    clock.advance(Duration.ofSeconds(11));

    appliance.send(new Register(identity.publicKey(), "kitchen", identity.signRegistration(challenge.nonce())));

    assertThat(appliance.nextAppliance(Error.class).code()).isEqualTo("challenge-expired");
    assertThat(appliance.closeStatus()).isEqualTo(1008);
  }

  @Test
  void onlyRegisterIsAcceptedBeforeRegistered() {
    harness = new Harness();
    WsPeer appliance = harness.applianceSocket();
    appliance.nextAppliance(Challenge.class);

    appliance.send(new Ping());

    assertThat(appliance.nextAppliance(Error.class).code()).isEqualTo("bad-message");
    assertThat(appliance.closeStatus()).isEqualTo(1008);
  }

  @Test
  void aSecondRegisterOnTheSameConnectionIsBad() {
    harness = new Harness();
    WsPeer appliance = harness.appliance(identity);

    appliance.send(new Register(identity.publicKey(), "again", identity.signRegistration(new byte[32])));

    assertThat(appliance.nextAppliance(Error.class).code()).isEqualTo("bad-message");
    assertThat(appliance.closeStatus()).isEqualTo(1008);
  }

  @Test
  void reRegistrationReplacesTheOldConnectionAndNewIntroductionsReachTheNewOne() {
    harness = new Harness();
    WsPeer old = harness.appliance(identity);
    WsPeer client = harness.client();
    client.send(new Introduce("early", identity.id().toString(), "v=0 early"));
    old.nextAppliance(Offer.class);

    WsPeer renewed = harness.appliance(identity);

    assertThat(old.closeStatus()).isEqualTo(4001);
    assertThat(client.nextClient(Bye.class).reason())
        .isEqualTo("appliance-offline");
    client.send(new Introduce("late", identity.id().toString(), "v=0 late"));
    assertThat(renewed.nextAppliance(Offer.class).sdp()).isEqualTo("v=0 late");
  }

  @Test
  void aRegisteredApplianceSilentForLongerThanTheIdleLimitIsClosed() {
    FakeClock clock = new FakeClock();
    harness = new Harness(FlockConfig.defaults().withClock(clock));
    WsPeer appliance = harness.appliance(identity);

    clock.advance(Duration.ofSeconds(40));
    appliance.send(new Ping()); // heard at 40 s: the idle period starts again
    appliance.nextAppliance(Pong.class);
    clock.advance(Duration.ofSeconds(40));
    assertThat(appliance.quietFor(Duration.ofMillis(1200))).isTrue();
    assertThat(appliance.isClosed()).isFalse();

    clock.advance(Duration.ofSeconds(6));
    assertThat(appliance.closeStatus()).isEqualTo(1001);
    WsPeer client = harness.client();
    client.send(new Introduce("s", identity.id().toString(), "v=0"));
    assertThat(client.nextClient(Error.class).code()).isEqualTo("appliance-offline");
  }
}

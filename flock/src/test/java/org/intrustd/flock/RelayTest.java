package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.crypto.SigningInput;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.ApplianceAnswer;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.intrustd.core.signal.SignalMessage.Pong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RelayTest {
  private static final String OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n";
  private static final String ANSWER = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n";

  private Harness harness = new Harness();
  private final Identity identity = new Identity(Ed25519.generate());

  @AfterEach
  void closeAll() {
    harness.close();
  }

  @Test
  void offerAnswerAndCandidatesAreRelayedWithSessionTranslationAndThePublicKey() {
    WsPeer appliance = harness.appliance(identity);
    WsPeer client = harness.client();
    // Any parseable form reaches the appliance; the answer names the canonical form.
    client.send(new Introduce("mine-1", identity.id().toString().toLowerCase().replace("-", ""), OFFER));

    Offer offer = appliance.nextAppliance(Offer.class);
    assertThat(offer.sdp()).isEqualTo(OFFER);
    assertThat(offer.session()).isNotEqualTo("mine-1").matches("[A-Za-z0-9_-]{16,64}");

    appliance.send(new ApplianceAnswer(offer.session(), ANSWER, identity.signAnswer(offer.sdp(), ANSWER)));
    ClientAnswer answer = client.nextClient(ClientAnswer.class);
    assertThat(answer.session()).isEqualTo("mine-1");
    assertThat(answer.appliance()).isEqualTo(identity.id().toString());
    assertThat(answer.publicKey()).isEqualTo(identity.publicKey());
    assertThat(identity.id().matches(answer.publicKey())).isTrue();
    assertThat(Ed25519.verify(answer.publicKey(), SigningInput.answer(OFFER, answer.sdp()), answer.signature()))
        .isTrue();

    client.send(new Candidate("mine-1", "candidate:1 1 udp 1 127.0.0.1 5000 typ host", Optional.of("0"), 0));
    assertThat(appliance.nextAppliance(Candidate.class)).isEqualTo(
        new Candidate(offer.session(), "candidate:1 1 udp 1 127.0.0.1 5000 typ host", Optional.of("0"), 0));
    appliance.send(new Candidate(offer.session(), "", Optional.empty(), 1));
    assertThat(client.nextClient(Candidate.class)).isEqualTo(new Candidate("mine-1", "", Optional.empty(), 1));

    appliance.send(new Bye(offer.session(), "refused"));
    assertThat(client.nextClient(Bye.class)).isEqualTo(new Bye("mine-1", "refused"));
  }

  @Test
  void twoClientsUsingTheSameSessionIdGetDistinctApplianceSessions() {
    WsPeer appliance = harness.appliance(identity);
    WsPeer alice = harness.client();
    WsPeer bob = harness.client();
    alice.send(new Introduce("s", identity.id().toString(), "alice"));
    Offer first = appliance.nextAppliance(Offer.class);
    bob.send(new Introduce("s", identity.id().toString(), "bob"));
    Offer second = appliance.nextAppliance(Offer.class);
    assertThat(first.session()).isNotEqualTo(second.session());

    appliance.send(new Candidate(second.session(), "c", Optional.empty(), 0));

    assertThat(bob.nextClient(Candidate.class).session()).isEqualTo("s");
    assertThat(alice.quietFor(Duration.ofMillis(200))).isTrue();
  }

  @Test
  void anInvalidApplianceIdIsRefusedForThatSessionOnly() {
    WsPeer client = harness.client();

    client.send(new Introduce("s1", "not-an-id", OFFER));

    assertThat(client.nextClient(Error.class))
        .satisfies(e -> assertThat(e.code()).isEqualTo("invalid-appliance-id"))
        .satisfies(e -> assertThat(e.session()).contains("s1"));
    assertStillServes(client);
  }

  @Test
  void anUnregisteredApplianceIsOffline() {
    WsPeer client = harness.client();

    client.send(new Introduce("s1", identity.id().toString(), OFFER));

    Error error = client.nextClient(Error.class);
    assertThat(error.code()).isEqualTo("appliance-offline");
    assertThat(error.session()).contains("s1");
    assertStillServes(client);
  }

  @Test
  void reusingAnOpenSessionIsRefused() {
    WsPeer appliance = harness.appliance(identity);
    WsPeer client = harness.client();
    client.send(new Introduce("s1", identity.id().toString(), OFFER));
    appliance.nextAppliance(Offer.class);

    client.send(new Introduce("s1", identity.id().toString(), OFFER));

    assertThat(client.nextClient(Error.class).code()).isEqualTo("session-exists");
    assertThat(appliance.quietFor(Duration.ofMillis(200))).isTrue();
  }

  @Test
  void aClientHoldsAtMostItsIntroductionLimit() {
    harness.close();
    harness = new Harness(FlockConfig.defaults().withLimits(Limits.DEFAULTS.withSessions(2, 64)));
    WsPeer appliance = harness.appliance(identity);
    WsPeer client = harness.client();
    client.send(new Introduce("s1", identity.id().toString(), OFFER));
    client.send(new Introduce("s2", identity.id().toString(), OFFER));
    appliance.nextAppliance(Offer.class);
    Offer second = appliance.nextAppliance(Offer.class);

    client.send(new Introduce("s3", identity.id().toString(), OFFER));
    assertThat(client.nextClient(Error.class)).isEqualTo(
        new Error("too-many-sessions", "at most 2 sessions per connection", Optional.of("s3")));

    appliance.send(new Bye(second.session(), "done"));
    client.nextClient(Bye.class);
    client.send(new Introduce("s3", identity.id().toString(), OFFER));
    appliance.nextAppliance(Offer.class);
  }

  @Test
  void anApplianceHoldsAtMostItsSessionLimit() {
    harness.close();
    harness = new Harness(FlockConfig.defaults().withLimits(Limits.DEFAULTS.withSessions(16, 1)));
    WsPeer appliance = harness.appliance(identity);
    harness.client().send(new Introduce("s1", identity.id().toString(), OFFER));
    appliance.nextAppliance(Offer.class);
    WsPeer second = harness.client();

    second.send(new Introduce("s1", identity.id().toString(), OFFER));

    assertThat(second.nextClient(Error.class).code()).isEqualTo("too-many-sessions");
    assertThat(appliance.quietFor(Duration.ofMillis(200))).isTrue();
  }

  @Test
  void messagesForSessionsThatAreNotOpenAreUnknownAndDropped() {
    WsPeer appliance = harness.appliance(identity);
    WsPeer client = harness.client();

    client.send(new Candidate("nope", "c", Optional.empty(), 0));
    assertThat(client.nextClient(Error.class))
        .isEqualTo(new Error("unknown-session", "no open session 'nope'", Optional.of("nope")));
    client.send(new Bye("nope", "x"));
    assertThat(client.nextClient(Error.class).code()).isEqualTo("unknown-session");
    appliance.send(new ApplianceAnswer("nope", ANSWER, new byte[64]));
    assertThat(appliance.nextAppliance(Error.class).session()).contains("nope");
    assertStillServes(client);
  }

  @Test
  void anApplianceCannotAnswerAnotherAppliancesSession() {
    Identity otherIdentity = new Identity(Ed25519.generate());
    WsPeer appliance = harness.appliance(identity);
    WsPeer intruder = harness.appliance(otherIdentity);
    WsPeer client = harness.client();
    client.send(new Introduce("s1", identity.id().toString(), OFFER));
    Offer offer = appliance.nextAppliance(Offer.class);

    intruder.send(new ApplianceAnswer(offer.session(), "v=0 forged", otherIdentity.signAnswer(OFFER, "v=0 forged")));

    assertThat(intruder.nextAppliance(Error.class).code()).isEqualTo("unknown-session");
    assertThat(client.quietFor(Duration.ofMillis(200))).isTrue();
    appliance.send(new ApplianceAnswer(offer.session(), ANSWER, identity.signAnswer(OFFER, ANSWER)));
    assertThat(client.nextClient(ClientAnswer.class).sdp()).isEqualTo(ANSWER);
  }

  @Test
  void aClientByeEndsTheSessionOnBothSides() {
    WsPeer appliance = harness.appliance(identity);
    WsPeer client = harness.client();
    client.send(new Introduce("s1", identity.id().toString(), OFFER));
    Offer offer = appliance.nextAppliance(Offer.class);

    client.send(new Bye("s1", "changed my mind"));

    assertThat(appliance.nextAppliance(Bye.class)).isEqualTo(new Bye(offer.session(), "changed my mind"));
    appliance.send(new Candidate(offer.session(), "late", Optional.empty(), 0));
    assertThat(appliance.nextAppliance(Error.class).code()).isEqualTo("unknown-session");
  }

  @Test
  void aClientDisconnectSendsByeForEachOfItsSessions() {
    WsPeer appliance = harness.appliance(identity);
    WsPeer client = harness.client();
    client.send(new Introduce("s1", identity.id().toString(), OFFER));
    client.send(new Introduce("s2", identity.id().toString(), OFFER));
    Set<String> sessions = new HashSet<>();
    sessions.add(appliance.nextAppliance(Offer.class).session());
    sessions.add(appliance.nextAppliance(Offer.class).session());

    client.closeNormally();

    Bye first = appliance.nextAppliance(Bye.class);
    Bye second = appliance.nextAppliance(Bye.class);
    assertThat(Set.of(first.session(), second.session())).isEqualTo(sessions);
    assertThat(first.reason()).isEqualTo(ClientEndpoint.CLIENT_GONE);
  }

  @Test
  void anApplianceDisconnectSendsApplianceOfflineToItsClientsWithinOneSecond() {
    WsPeer appliance = harness.appliance(identity);
    WsPeer alice = harness.client();
    WsPeer bob = harness.client();
    alice.send(new Introduce("a", identity.id().toString(), OFFER));
    bob.send(new Introduce("b", identity.id().toString(), OFFER));
    appliance.nextAppliance(Offer.class);
    appliance.nextAppliance(Offer.class);

    appliance.abort();

    assertThat(alice.nextClient(Duration.ofSeconds(1))).isEqualTo(new Bye("a", "appliance-offline"));
    assertThat(bob.nextClient(Duration.ofSeconds(1))).isEqualTo(new Bye("b", "appliance-offline"));
    alice.send(new Introduce("a2", identity.id().toString(), OFFER));
    assertThat(alice.nextClient(Error.class).code()).isEqualTo("appliance-offline");
  }

  private static void assertStillServes(WsPeer peer) {
    peer.send(new Ping());
    peer.nextClient(Pong.class);
  }
}

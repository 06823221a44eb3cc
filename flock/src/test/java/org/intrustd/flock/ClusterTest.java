package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.topic.ITopic;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.ApplianceAnswer;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two flock nodes in one JVM, each with its own Hazelcast member on loopback, form one flock:
 * signalling crosses between them in order, and a node's death is survived.
 */
class ClusterTest {
  /** Failure detection well inside the 10 s promise, and a short join, to keep the test quick. */
  private static final Duration HEARTBEAT = Duration.ofSeconds(1);
  private static final Duration DEAD_AFTER = Duration.ofSeconds(3);
  private static final Duration FAILOVER = Duration.ofSeconds(10);

  private Harness a;
  private Harness b;
  private final Identity identity = new Identity(Ed25519.generate());

  @BeforeEach
  void startTwoNodes() {
    int portA = freePort();
    int portB = freePort();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    String name = "test-" + UUID.randomUUID().toString().substring(0, 8); // never joins another test's cluster
    a = new Harness(Flock.start(FlockConfig.defaults(), cluster(name, portA, members)));
    b = new Harness(Flock.start(FlockConfig.defaults(), cluster(name, portB, members)));
    awaitTrue("both nodes see each other", () -> registry(a).members() == 2 && registry(b).members() == 2);
  }

  @AfterEach
  void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
  }

  @Test
  void anApplianceOnOneNodeIsIntroducedToAClientOnTheOtherAndTheWholeExchangeArrivesInOrder() {
    WsPeer appliance = a.appliance(identity);
    // 'registered' goes out before the cluster map is written; the map then names node A.
    awaitTrue("B sees the appliance on A", () -> registry(b).nodeOf(identity.id()).equals(Optional.of(registry(a).node())));

    WsPeer client = b.client();
    client.send(new Introduce("s1", identity.id().toString(), "offer sdp"));
    // Trickle ICE right behind the offer, without waiting: must not overtake it.
    for (int i = 0; i < 40; i++) {
      client.send(new Candidate("s1", "candidate:c" + i, Optional.of("0"), 0));
    }
    client.send(new Candidate("s1", "", Optional.empty(), 0));

    Offer offer = appliance.nextAppliance(Offer.class);
    assertThat(offer.sdp()).isEqualTo("offer sdp");
    String flockSession = offer.session();
    assertThat(flockSession).isNotEqualTo("s1");
    for (int i = 0; i < 40; i++) {
      Candidate c = appliance.nextAppliance(Candidate.class);
      assertThat(c.session()).isEqualTo(flockSession);
      assertThat(c.candidate()).isEqualTo("candidate:c" + i);
    }
    assertThat(appliance.nextAppliance(Candidate.class).candidate()).isEmpty();

    byte[] signature = identity.signAnswer("offer sdp", "answer sdp");
    appliance.send(new ApplianceAnswer(flockSession, "answer sdp", signature));
    for (int i = 0; i < 40; i++) {
      appliance.send(new Candidate(flockSession, "candidate:a" + i, Optional.empty(), 1));
    }
    ClientAnswer answer = client.nextClient(ClientAnswer.class);
    assertThat(answer.session()).isEqualTo("s1");
    assertThat(answer.appliance()).isEqualTo(identity.id().toString());
    assertThat(answer.publicKey()).isEqualTo(identity.publicKey());
    assertThat(answer.signature()).isEqualTo(signature);
    for (int i = 0; i < 40; i++) {
      Candidate c = client.nextClient(Candidate.class);
      assertThat(c.session()).isEqualTo("s1");
      assertThat(c.candidate()).isEqualTo("candidate:a" + i);
      assertThat(c.sdpMLineIndex()).isEqualTo(1);
    }

    client.send(new Bye("s1", "done"));
    Bye bye = appliance.nextAppliance(Bye.class);
    assertThat(bye.session()).isEqualTo(flockSession);
    assertThat(bye.reason()).isEqualTo("done");

    // The other way round: the appliance ends the next session.
    client.send(new Introduce("s2", identity.id().toString(), "offer 2"));
    Offer second = appliance.nextAppliance(Offer.class);
    appliance.send(new Bye(second.session(), "refused"));
    Bye toClient = client.nextClient(Bye.class);
    assertThat(toClient.session()).isEqualTo("s2");
    assertThat(toClient.reason()).isEqualTo("refused");
  }

  @Test
  void aClientThatLeavesEndsItsSessionsOnTheApplianceNode() {
    WsPeer appliance = a.appliance(identity);
    awaitRegistered(identity, a, b);
    WsPeer client = b.client();
    client.send(new Introduce("s1", identity.id().toString(), "v=0"));
    String flockSession = appliance.nextAppliance(Offer.class).session();
    client.closeNormally();
    Bye bye = appliance.nextAppliance(Bye.class);
    assertThat(bye.session()).isEqualTo(flockSession);
    assertThat(bye.reason()).isEqualTo(ClientEndpoint.CLIENT_GONE);
  }

  @Test
  void anApplianceThatGoesOfflineEndsTheSessionsOfClientsOnOtherNodes() {
    WsPeer appliance = a.appliance(identity);
    awaitRegistered(identity, a, b);
    WsPeer client = b.client();
    client.send(new Introduce("s1", identity.id().toString(), "v=0"));
    appliance.nextAppliance(Offer.class);
    appliance.closeNormally();
    Bye bye = client.nextClient(Bye.class);
    assertThat(bye.session()).isEqualTo("s1");
    assertThat(bye.reason()).isEqualTo("appliance-offline");
    awaitTrue("the cluster forgets the appliance", () -> registry(b).nodeOf(identity.id()).isEmpty());
    client.send(new Introduce("s2", identity.id().toString(), "v=0"));
    assertThat(client.nextClient(Error.class).code()).isEqualTo("appliance-offline");
  }

  @Test
  void registeringOnAnotherNodeReplacesTheOldConnection() {
    WsPeer old = a.appliance(identity);
    WsPeer moved = b.appliance(identity);
    assertThat(old.closeStatus()).isEqualTo(Endpoint.REPLACED);
    assertThat(registry(a).nodeOf(identity.id())).contains(registry(b).node());
    WsPeer client = a.client();
    client.send(new Introduce("s1", identity.id().toString(), "v=0"));
    assertThat(moved.nextAppliance(Offer.class).sdp()).isEqualTo("v=0");
  }

  @Test
  void whenANodeDiesItsAppliancesAreForgottenAndOneThatReRegistersElsewhereIsReachedThere() {
    Identity stays = new Identity(Ed25519.generate());
    WsPeer appliance = a.appliance(identity);
    a.appliance(stays); // never comes back
    awaitRegistered(identity, a, b);
    awaitRegistered(stays, a, b);
    UUID nodeA = registry(a).node();

    a.flock.crash();
    assertThat(appliance.closeStatus()).isNotZero();
    // The appliance knows both URLs: it registers on the survivor, not refused as a duplicate.
    WsPeer again = b.appliance(identity);
    awaitRegistered(identity, b, b);
    WsPeer client = b.client();
    client.send(new Introduce("s1", identity.id().toString(), "v=0"));
    assertThat(again.nextAppliance(Offer.class).sdp()).isEqualTo("v=0");

    awaitTrue("the survivor forgets the dead node's appliances",
        () -> registry(b).members() == 1 && registry(b).nodeOf(stays.id()).isEmpty());
    assertThat(registry(b).nodeOf(identity.id())).isPresent().get().isNotEqualTo(nodeA);
    client.send(new Introduce("s2", stays.id().toString(), "v=0"));
    Error offline = client.nextClient(Error.class);
    assertThat(offline.code()).isEqualTo("appliance-offline");
    assertThat(offline.session()).contains("s2");
  }

  @Test
  void introductionsInFlightThroughADeadNodeFailWithNodeLost() {
    // A client on B introduced to an appliance on A, and the other way round.
    WsPeer applianceOnA = a.appliance(identity);
    Identity other = new Identity(Ed25519.generate());
    WsPeer applianceOnB = b.appliance(other);
    awaitRegistered(identity, a, b);
    awaitRegistered(other, b, a);
    WsPeer clientOnB = b.client();
    clientOnB.send(new Introduce("s1", identity.id().toString(), "v=0"));
    applianceOnA.nextAppliance(Offer.class); // in flight: no answer yet
    WsPeer clientOnA = a.client();
    clientOnA.send(new Introduce("s9", other.id().toString(), "v=0"));
    String fromDeadClient = applianceOnB.nextAppliance(Offer.class).session();

    a.flock.crash();

    Error lost = clientOnB.nextClient(Error.class, FAILOVER);
    assertThat(lost.code()).isEqualTo("node-lost");
    assertThat(lost.session()).contains("s1");
    Bye gone = applianceOnB.nextAppliance(Bye.class, FAILOVER);
    assertThat(gone.session()).isEqualTo(fromDeadClient);
    assertThat(gone.reason()).isEqualTo(ClientEndpoint.CLIENT_GONE);
    // The session is over on the survivor: a late candidate is unknown, not relayed to nowhere.
    clientOnB.send(new Candidate("s1", "candidate:late", Optional.empty(), 0));
    assertThat(clientOnB.nextClient(Error.class).code()).isEqualTo("unknown-session");
  }

  @Test
  void garbageFromAnotherNodeIsDroppedAndTheNodeKeepsRelaying() {
    WsPeer appliance = a.appliance(identity);
    awaitRegistered(identity, a, b);
    UUID nodeA = registry(a).node();
    UUID nodeB = registry(b).node();
    HazelcastInstance memberB = Hazelcast.getAllHazelcastInstances().stream()
        .filter(hz -> hz.getCluster().getLocalMember().getUuid().equals(nodeB)).findFirst().orElseThrow();
    ITopic<String> toA = memberB.getTopic(ClusteredRegistry.TOPIC_PREFIX + nodeA);
    Gen<String> header = Gen.of("introduce " + nodeB + " " + identity.id(), "to-appliance " + nodeB + " -",
        "to-client " + nodeB + " -", "replaced " + nodeB + " " + identity.id(), "introduce " + UUID.randomUUID() + " -");
    Gen<String> body = Gen.oneOf(Gen.strings(120), Gen.of("{}", "[]", "{\"type\":\"offer\"}",
        "{\"type\":\"offer\",\"session\":\"s\",\"sdp\":\"x\"}", "{\"type\":\"bye\",\"session\":\"nope\",\"reason\":\"r\"}",
        "{\"type\":\"error\",\"code\":\"x\",\"message\":\"y\"}", "{\"type\":\"candidate\",\"session\":\"s\"}"));
    Property.forAll(300, header, body, (head, text) -> toA.publish(head + "\n" + text));
    Property.forAll(100, Gen.strings(200), toA::publish);

    // A well-formed offer in that stream reached the appliance: take it and whatever else came.
    while (!appliance.quietFor(Duration.ofMillis(500))) {
      // drain
    }
    assertThat(appliance.isClosed()).isFalse();
    WsPeer client = b.client();
    client.send(new Introduce("s1", identity.id().toString(), "after the garbage"));
    assertThat(appliance.nextAppliance(Offer.class).sdp()).isEqualTo("after the garbage");
  }

  @Test
  void aSingleNodeStartsNoHazelcastMember() {
    int before = Hazelcast.getAllHazelcastInstances().size();
    try (Harness single = new Harness()) {
      single.client();
      assertThat(Hazelcast.getAllHazelcastInstances()).hasSize(before);
      assertThat(single.flock.registry()).isInstanceOf(LocalApplianceRegistry.class);
    }
  }

  private static ClusterConfig cluster(String name, int port, List<String> members) {
    return ClusterConfig.of("127.0.0.1", port, members).withName(name).withFailureDetection(HEARTBEAT, DEAD_AFTER)
        .withJoinTimeout(Duration.ofSeconds(1));
  }

  /** Waits until {@code viewer} sees {@code who} registered on {@code node}. */
  private static void awaitRegistered(Identity who, Harness node, Harness viewer) {
    UUID expected = registry(node).node();
    awaitTrue("the cluster map names the node", () -> registry(viewer).nodeOf(who.id()).equals(Optional.of(expected)));
  }

  private static ClusteredRegistry registry(Harness node) {
    return (ClusteredRegistry) node.flock.registry();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void awaitTrue(String what, BooleanSupplier condition) {
    Instant deadline = Instant.now().plus(FAILOVER);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("not within " + FAILOVER + ": " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}

package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.intrustd.appliance.peers.PairingLink;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pairing codes and paired appliances in the access database (docs/spec/peers.md). */
class PeerStoreTest {
  private static final String PEER = ApplianceId.fromPublicKey(new byte[32]).toString();

  @TempDir
  Path tmp;

  @Test
  void aCodeWorksOnceAsTypedAndNotAfterItLapses() {
    Instant now = Instant.now();
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      AccessStore.Invite invite = store.invite(List.of("mail", "hello"), now);
      assertThat(invite.code()).matches("[A-Z2-9]{5}-[A-Z2-9]{5}");
      assertThat(store.inviteExpiries(now)).containsExactly(invite.expires());
      assertThat(store.redeemInvite("nope-nope!", now)).isEmpty();
      String typed = " " + invite.code().toLowerCase().replace("-", " ") + " ";
      assertThat(store.redeemInvite(typed, now)).contains(List.of("mail", "hello"));
      assertThat(store.redeemInvite(invite.code(), now)).as("once only").isEmpty();

      AccessStore.Invite late = store.invite(List.of(), now);
      assertThat(store.redeemInvite(late.code(), now.plus(AccessStore.INVITE_WAIT))).isEmpty();
    }
  }

  @Test
  void liveCodesAreCapped() {
    Instant now = Instant.now();
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      for (int i = 0; i < 16; i++) {
        store.invite(List.of(), now);
      }
      assertThatThrownBy(() -> store.invite(List.of(), now)).isInstanceOf(AccessException.class)
          .extracting(e -> ((AccessException) e).status()).isEqualTo(429);
      assertThat(store.invite(List.of(), now.plus(AccessStore.INVITE_WAIT)).code()).as("lapsed codes make room").isNotEmpty();
    }
  }

  @Test
  void pairingChangesAndUnpairingAllRevokeOpenChannels() {
    AtomicInteger revocations = new AtomicInteger();
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      store.onRevoke(revocations::incrementAndGet);
      store.pair(PEER, "Bob's box", List.of("hello"), Instant.now());
      assertThat(store.peer(PEER)).hasValueSatisfying(p -> {
        assertThat(p.name()).isEqualTo("Bob's box");
        assertThat(p.allow()).containsExactly("hello");
        assertThat(p.lastSeen()).isEmpty();
      });
      store.peerSeen(PEER, Instant.now());
      assertThat(store.peer(PEER).orElseThrow().lastSeen()).isPresent();
      assertThat(store.allowPeer(PEER, List.of())).isTrue();
      assertThat(store.peer(PEER).orElseThrow().allow()).isEmpty();
      store.pair(PEER, "Bob's new box", List.of("mail"), Instant.now());
      assertThat(store.peers()).extracting(AccessStore.Peer::name).containsExactly("Bob's new box");
      assertThat(store.unpair(PEER)).isTrue();
      assertThat(store.unpair(PEER)).isFalse();
      assertThat(store.peer(PEER)).isEmpty();
      assertThat(revocations.get()).isGreaterThanOrEqualTo(4);
    }
  }

  @Test
  void pairingLinksRoundTripAndGarbageIsRefused() {
    ApplianceId id = ApplianceId.parse(PEER).orElseThrow();
    PairingLink link = new PairingLink(id, "K7QMR-2XPAB");
    assertThat(link.toString()).isEqualTo("intrustd+pair://" + PEER + "/K7QMR-2XPAB");
    assertThat(PairingLink.parse(" INTRUSTD+PAIR://" + PEER.toLowerCase() + "/k7qmr 2xpab ")).hasValueSatisfying(p -> {
      assertThat(p.appliance()).isEqualTo(id);
      assertThat(p.code()).isEqualTo("k7qmr 2xpab");
    });
    for (String bad : List.of("", "intrustd+pair://", "intrustd+pair://" + PEER, "https://" + PEER + "/K7QMR-2XPAB",
        "intrustd+pair://NOTANID/K7QMR-2XPAB", "intrustd+pair://" + PEER + "/short", "intrustd+pair://" + PEER + "/K7QMR/2XPAB")) {
      assertThat(PairingLink.parse(bad)).as(bad).isEmpty();
    }
    Property.forAll(2000, Gen.strings(120), s -> PairingLink.parse(s)); // never throws
    Property.forAll(500, Gen.strings(40), s -> PairingLink.parse("intrustd+pair://" + PEER + "/" + s));
  }
}

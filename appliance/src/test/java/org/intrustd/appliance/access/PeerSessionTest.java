package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.appliance.testing.UnixHttp;
import org.intrustd.core.access.TrustedHeaders;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.identity.Identity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The callee's side of a peer link (docs/spec/peers.md) through the session API: a proof is
 * good only from the key behind the ID, for this appliance and this link's fingerprint; a code
 * pairs once; the paired peer opens what it was allowed, with X-Intrustd-Peer; an unpaired one
 * opens only the apps that meet strangers.
 */
class PeerSessionTest {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final String FINGERPRINT = "sha-256 AA:BB";

  @TempDir
  Path tmp;
  private PersonaStore personas;
  private AccessStore store;
  private LinkAccess links;
  private SessionApi api;
  private Path socket;
  private ApplianceId me;
  private final Identity peer = new Identity(Ed25519.generate());
  private final Identity impostor = new Identity(Ed25519.generate());

  @BeforeEach
  void start() throws Exception {
    Path db = tmp.resolve("a.db");
    personas = PersonaStore.open(db);
    store = AccessStore.open(db);
    me = ApplianceId.fromPublicKey(new byte[32]);
    links = new LinkAccess(me, store, personas, Set.of(), InstantSource.system());
    socket = tmp.resolve("session.sock");
    api = SessionApi.start(socket, me, personas, store, links, new LoginLimiter(InstantSource.system()),
        InstantSource.system(), Claim.start(personas), () -> "Alice's box");
    links.register("l1", FINGERPRINT);
  }

  @AfterEach
  void stop() {
    api.close();
    store.close();
    personas.close();
  }

  private record Answer(int status, JsonNode body) {}

  private Answer post(String path, String json) throws Exception {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    String head = "POST " + path + " HTTP/1.1\r\nHost: intrustd\r\nX-Intrustd-Link: l1\r\nContent-Length: "
        + body.length + "\r\n\r\n";
    String text = UnixHttp.exchange(socket, (head + json).getBytes(StandardCharsets.UTF_8));
    return new Answer(Integer.parseInt(text.substring(9, 12)),
        new ObjectMapper().readTree(text.substring(text.indexOf("\r\n\r\n") + 4)));
  }

  /** A proof body: {@code claimed} names itself, {@code key} supplies the public key and signs. */
  private static String proof(ApplianceId claimed, Identity key, String target, String fingerprint, String extra) {
    return "{\"appliance\": \"" + claimed + "\", \"publicKey\": \"" + B64.encodeToString(key.publicKey())
        + "\", \"proof\": \"" + B64.encodeToString(key.signPeer(target, fingerprint)) + "\"" + extra + "}";
  }

  @Test
  void onlyTheKeyBehindTheIdForThisApplianceAndLinkProvesAPeer() throws Exception {
    store.pair(peer.id().toString(), "Bob's box", List.of("hello"), Instant.now());
    String target = me.toString();
    assertThat(post("/v1/peer/hello", proof(peer.id(), impostor, target, FINGERPRINT, "")).status())
        .as("another key claiming the peer's ID").isEqualTo(401);
    assertThat(post("/v1/peer/hello", proof(peer.id(), peer, target, "sha-256 CC:DD", "")).status())
        .as("a proof made for another link").isEqualTo(401);
    assertThat(post("/v1/peer/hello", proof(peer.id(), peer, peer.id().toString(), FINGERPRINT, "")).status())
        .as("a proof made for another appliance").isEqualTo(401);
    assertThat(post("/v1/peer/hello", proof(me, peer, target, FINGERPRINT, "")).status())
        .as("naming this appliance itself").isEqualTo(400);
    assertThat(links.admit("l1", "hello")).as("nothing bound yet").isInstanceOf(LinkAccess.Decision.Refused.class);

    Answer ok = post("/v1/peer/hello", proof(peer.id(), peer, target, FINGERPRINT, ""));
    assertThat(ok.status()).as(ok.body().toString()).isEqualTo(200);
    assertThat(ok.body().at("/peer/name").asText()).isEqualTo("Alice's box");
    LinkAccess.Decision admitted = links.admit("l1", "hello");
    assertThat(admitted).isInstanceOf(LinkAccess.Decision.Admitted.class);
    assertThat(((LinkAccess.Decision.Admitted) admitted).headers()).containsEntry(TrustedHeaders.PEER, peer.id().toString());
    assertThat(((LinkAccess.Decision.Admitted) admitted).grant()).isEqualTo("peer:" + peer.id());
    assertThat(links.admit("l1", "photos")).as("not allowed").isInstanceOf(LinkAccess.Decision.Refused.class);

    store.unpair(peer.id().toString());
    assertThat(links.admit("l1", "hello")).as("unpaired at once").isInstanceOf(LinkAccess.Decision.Refused.class);
  }

  @Test
  void anUnpairedApplianceProvesItselfButOpensOnlyAppsThatMeetStrangers() throws Exception {
    String target = me.toString();
    Answer hello = post("/v1/peer/hello", proof(peer.id(), peer, target, FINGERPRINT, ""));
    assertThat(hello.status()).as(hello.body().toString()).isEqualTo(200);
    assertThat(hello.body().at("/peer/paired").asBoolean(true)).isFalse();
    assertThat(hello.body().at("/peer/name").isMissingNode()).as("a stranger is not told this appliance's name").isTrue();
    assertThat(hello.body().at("/peer/allow").size()).isZero();
    assertThat(links.admit("l1", "mail")).as("no app meets strangers yet").isInstanceOf(LinkAccess.Decision.Refused.class);

    Set<String> meet = java.util.concurrent.ConcurrentHashMap.newKeySet();
    links.openToStrangers(meet::contains);
    meet.add("mail");
    LinkAccess.Decision d = links.admit("l1", "mail");
    assertThat(d).isInstanceOf(LinkAccess.Decision.Admitted.class);
    LinkAccess.Decision.Admitted admitted = (LinkAccess.Decision.Admitted) d;
    assertThat(admitted.headers()).containsEntry(TrustedHeaders.PEER, peer.id().toString())
        .containsEntry(TrustedHeaders.PEER_PAIRED, "false");
    assertThat(admitted.headers().get(TrustedHeaders.PERMISSIONS)).as("a stranger holds nothing").isNull();
    assertThat(admitted.grant()).isEqualTo("appliance:" + peer.id());
    assertThat(links.admit("l1", "photos")).isInstanceOf(LinkAccess.Decision.Refused.class);

    // The owner takes the grant back: the open channel closes at once.
    java.util.concurrent.CountDownLatch revoked = new java.util.concurrent.CountDownLatch(1);
    links.opened("l1", "mail", reason -> revoked.countDown());
    meet.remove("mail");
    links.enforce();
    assertThat(revoked.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

    assertThat(links.admit("l2-unknown", "mail")).isInstanceOf(LinkAccess.Decision.Refused.class);
    links.register("l3", "sha-256 EE:FF");
    meet.add("mail");
    assertThat(links.admit("l3", "mail")).as("a link on which no appliance proved itself")
        .isInstanceOf(LinkAccess.Decision.Refused.class);
  }

  @Test
  void aPairedApplianceIsToldSoAndACodePairsItOnce() throws Exception {
    String target = me.toString();
    assertThat(post("/v1/peer/pair", proof(peer.id(), peer, target, FINGERPRINT, ", \"code\": \"AAAAA-AAAAA\"")).status())
        .isEqualTo(401);
    AccessStore.Invite invite = store.invite(List.of("hello"), Instant.now());
    String withCode = ", \"code\": \"" + invite.code() + "\", \"name\": \"Bob's\\u0007 box\"";
    Answer paired = post("/v1/peer/pair", proof(peer.id(), peer, target, FINGERPRINT, withCode));
    assertThat(paired.status()).as(paired.body().toString()).isEqualTo(200);
    assertThat(paired.body().at("/peer/allow/0").asText()).isEqualTo("hello");
    assertThat(paired.body().at("/peer/paired").asBoolean()).isTrue();
    assertThat(store.peer(peer.id().toString()).orElseThrow().name()).as("control characters dropped").isEqualTo("Bob's  box");
    assertThat(post("/v1/peer/pair", proof(impostor.id(), impostor, target, FINGERPRINT, withCode)).status())
        .as("a code pairs once").isEqualTo(401);
    LinkAccess.Decision d = links.admit("l1", "hello");
    assertThat(((LinkAccess.Decision.Admitted) d).headers()).containsEntry(TrustedHeaders.PEER_PAIRED, "true");
  }
}

package org.intrustd.appliance.interapp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.peers.PeerLinks;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.appliance.testing.Apps;
import org.intrustd.appliance.testing.InProcessLauncher;
import org.intrustd.appliance.testing.TestAccess;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.access.LinkAccess;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.core.access.Permission;
import org.intrustd.core.access.TrustedHeaders;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One app calling another through the daemon, only when the owner granted it. */
class AppCallGatewayTest {
  @TempDir
  Path tmp;
  private AppSupervisor apps;
  private Grants grants;
  private AppCallGateway gateway;
  private Path daemonSocket;
  private TestAccess access;
  private PeerLinks peers;

  @BeforeEach
  void start() {
    Path state = tmp.resolve("state");
    apps = new AppSupervisor(AppRegistry.scan(List.of(Apps.hello(tmp.resolve("apps/photos"), "photos"),
        Apps.hello(tmp.resolve("apps/notes"), "notes"))), new InProcessLauncher(), state, Duration.ofSeconds(30),
        Duration.ofMinutes(10), InstantSource.system());
    grants = Grants.load(state);
    daemonSocket = apps.paths("photos").daemonSocket();
    access = new TestAccess(state, Map.of("photos", Set.of("view", "edit")));
    // A flock that cannot be reached: a call that passes the checks ends in 504, one that does not in 403.
    peers = new PeerLinks(new Identity(Ed25519.generate()), null, () -> URI.create("ws://127.0.0.1:1/"), access.store);
    gateway = AppCallGateway.start("photos", daemonSocket, grants, apps, access.tokens,
        new AppDirectory(access.personas, access.store, grants), peers);
  }

  @AfterEach
  void stop() {
    gateway.close();
    peers.close();
    apps.close();
    access.close();
  }

  private String call(String request) {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(daemonSocket));
      ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
      try (InputStream in = Channels.newInputStream(ch)) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void withoutAGrantTheCallIsRefusedAndTheTargetNeverStarts() {
    String answer = call("GET /echo?msg=hi HTTP/1.1\r\nHost: notes\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 403").contains("application/problem+json")
        .contains("intrustd app grant photos app:notes");
    assertThat(apps.running()).isEmpty();
  }

  @Test
  void withAGrantTheTargetAnswersAndSeesTheTrustedCaller() {
    grants.grant("photos", "app:notes", List.of());
    String answer = call("POST /echo HTTP/1.1\r\nHost: notes\r\nX-Intrustd-Caller-App: admin\r\n"
        + "Content-Length: 5\r\n\r\nhello");
    assertThat(answer).startsWith("HTTP/1.1 200").contains("X-Seen-Caller-App: photos").endsWith("hello")
        .doesNotContain("admin");
    assertThat(apps.running()).containsExactly("notes");
  }

  @Test
  void aSecondRequestOnTheSameConnectionNeverReachesTheTarget() {
    grants.grant("photos", "app:notes", List.of());
    String answer = call("POST /echo HTTP/1.1\r\nHost: notes\r\nContent-Length: 2\r\n\r\nok"
        + "GET /echo?msg=smuggled HTTP/1.1\r\nHost: notes\r\nX-Intrustd-Caller-App: admin\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 200").endsWith("ok").doesNotContain("smuggled");
  }

  @Test
  void revokingTakesEffectForTheNextCall() {
    grants.grant("photos", "app:notes", List.of());
    assertThat(call("GET /echo?msg=1 HTTP/1.1\r\nHost: notes\r\n\r\n")).startsWith("HTTP/1.1 200");
    grants.revoke("photos", "app:notes");
    assertThat(call("GET /echo?msg=2 HTTP/1.1\r\nHost: notes\r\n\r\n")).startsWith("HTTP/1.1 403");
  }

  @Test
  void unknownTargetsAndGarbageGetAProblem() {
    assertThat(call("GET / HTTP/1.1\r\nHost: nobody\r\n\r\n")).startsWith("HTTP/1.1 404").contains("no app named 'nobody'");
    assertThat(call("GET / HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 404");
    assertThat(call("\u0000\u0001garbage\r\n\r\n")).startsWith("HTTP/1.1 400");
    assertThat(call("GET /echo?msg=x HTTP/1.1\r\nHost: photos\r\n\r\n")).as("not even itself without a grant")
        .startsWith("HTTP/1.1 403");
  }

  // ------------------------------------------------------------------ calls to other appliances

  @Test
  void anotherApplianceIsCalledOnlyAsItsGrantsAllow() {
    String stranger = new Identity(Ed25519.generate()).id().toString();
    String friend = new Identity(Ed25519.generate()).id().toString();
    access.store.pair(friend, "Bob's box", List.of("photos"), java.time.Instant.now());
    String toStranger = "GET /x HTTP/1.1\r\nHost: photos." + stranger + "\r\n\r\n";
    String toFriend = "GET /x HTTP/1.1\r\nHost: photos." + friend.toLowerCase(java.util.Locale.ROOT) + "\r\n\r\n";
    String otherAppOfStranger = "GET /x HTTP/1.1\r\nHost: notes." + stranger + "\r\n\r\n";

    assertThat(call(toFriend)).startsWith("HTTP/1.1 403").contains("intrustd app grant photos peer");
    assertThat(call(toStranger)).startsWith("HTTP/1.1 403").contains("intrustd app grant photos strangers");
    grants.grant("photos", Grants.PEER, List.of());
    assertThat(call(toFriend)).as("past the checks: the flock is unreachable").startsWith("HTTP/1.1 504");
    assertThat(call(toStranger)).as("peer is for paired appliances only").startsWith("HTTP/1.1 403");
    grants.revoke("photos", Grants.PEER);

    grants.grant("photos", Grants.STRANGERS, List.of());
    assertThat(call(toStranger)).startsWith("HTTP/1.1 504");
    assertThat(call(toFriend)).as("a paired appliance is also any appliance").startsWith("HTTP/1.1 504");
    assertThat(call(otherAppOfStranger)).as("only the namesake").startsWith("HTTP/1.1 403").contains("only its namesake");
    grants.revoke("photos", Grants.STRANGERS);
    assertThat(call(toStranger)).startsWith("HTTP/1.1 403");
  }

  @Test
  void anAppIsToldThePersonasAndOnlyWithAGrantThePairedAppliances() {
    access.personas.create("zoe", "Zoë", PersonaStore.Role.MEMBER, "zoe's long password");
    String friend = new Identity(Ed25519.generate()).id().toString();
    access.store.pair(friend, "Bob's box", List.of("photos"), java.time.Instant.now());
    assertThat(call("GET /v1/personas HTTP/1.1\r\nHost: intrustd\r\n\r\n")).startsWith("HTTP/1.1 200")
        .contains("\"name\":\"zoe\"").contains("Zo\u00eb").doesNotContain("password").doesNotContain("member");
    String peersCall = "GET /v1/peers HTTP/1.1\r\nHost: intrustd\r\n\r\n";
    assertThat(call(peersCall)).startsWith("HTTP/1.1 403").contains("intrustd app grant photos peer");
    grants.grant("photos", Grants.STRANGERS, List.of());
    assertThat(call(peersCall)).startsWith("HTTP/1.1 200").contains(friend).contains("Bob's box");
    assertThat(call("POST /v1/peers HTTP/1.1\r\nHost: intrustd\r\nContent-Length: 0\r\n\r\n")).startsWith("HTTP/1.1 405");
  }

  // ------------------------------------------------------------------ tokens minted by apps

  /** A request to photos from `persona` (logged in on a fresh link), as the proxy admits it: its X-Intrustd-Request. */
  private String requestFrom(String persona, String linkId) {
    access.links.register(linkId, "sha-256 AA");
    AccessStore.NewSession s = access.store.createSession(persona, new byte[] {1}, "test");
    access.links.bindSession(linkId, s.session());
    LinkAccess.Decision d = access.links.admit(linkId, "photos");
    assertThat(d).isInstanceOf(LinkAccess.Decision.Admitted.class);
    return ((LinkAccess.Decision.Admitted) d).headers().get(TrustedHeaders.REQUEST);
  }

  private String mint(String json) {
    return call("POST /v1/tokens HTTP/1.1\r\nHost: intrustd\r\nContent-Length: " + json.getBytes(StandardCharsets.UTF_8).length
        + "\r\n\r\n" + json);
  }

  @Test
  void anAppMintsATokenForThePersonBehindARequestOnlyWithinWhatTheyHold() {
    access.personas.create("bob", "Bob", PersonaStore.Role.MEMBER, "bob's password");
    access.store.grant(AccessStore.persona("bob"), Permission.parse("intrustd+perm://photos/view?album=a"));
    String request = requestFrom("bob", "l1");
    String ok = mint("{\"request\": \"" + request + "\", \"permissions\": [\"intrustd+perm://photos/view?album=a\"],"
        + " \"label\": \"album a\", \"expiresIn\": \"7d\"}");
    assertThat(ok).startsWith("HTTP/1.1 200").contains("\"secret\":\"it1_").contains("\"createdFromApp\":\"photos\"")
        .contains("\"persona\":\"bob\"");
    // Beyond what bob holds, beyond what photos defines, for another app, or without a real request: refused.
    assertThat(mint("{\"request\": \"" + request + "\", \"permissions\": [\"intrustd+perm://photos/view?album=b\"]}"))
        .startsWith("HTTP/1.1 403").contains("bob does not hold");
    assertThat(mint("{\"request\": \"" + request + "\", \"permissions\": [\"intrustd+perm://photos/delete\"]}"))
        .startsWith("HTTP/1.1 403").contains("only share permissions it defines");
    assertThat(mint("{\"request\": \"" + request + "\", \"permissions\": [\"intrustd+perm://notes/view\"]}"))
        .startsWith("HTTP/1.1 403");
    assertThat(mint("{\"request\": \"made-up\", \"permissions\": [\"intrustd+perm://photos/view?album=a\"]}"))
        .startsWith("HTTP/1.1 403").contains("X-Intrustd-Request");
    assertThat(mint("not json")).startsWith("HTTP/1.1 400");
    // The app lists and revokes what it minted, and nothing else.
    String list = call("GET /v1/tokens HTTP/1.1\r\nHost: intrustd\r\n\r\n");
    assertThat(list).startsWith("HTTP/1.1 200").contains("album a");
    String id = access.store.tokens(false).get(0).id();
    assertThat(call("DELETE /v1/tokens/" + id + " HTTP/1.1\r\nHost: intrustd\r\n\r\n")).startsWith("HTTP/1.1 200");
    assertThat(access.store.token(id).orElseThrow().revoked()).isPresent();
  }

  @Test
  void aTokenMintedByAnAppNarrowsWhenThePersonaLosesTheGrant() {
    access.personas.create("carol", "Carol", PersonaStore.Role.MEMBER, "carol's password");
    Permission view = Permission.parse("intrustd+perm://photos/view");
    access.store.grant(AccessStore.persona("carol"), view);
    String answer = mint("{\"request\": \"" + requestFrom("carol", "l2") + "\", \"permissions\": [\"" + view + "\"]}");
    String secret = answer.replaceAll("(?s).*\"secret\":\"(it1_[^\"]+)\".*", "$1");
    access.links.register("visitor", "sha-256 BB");
    access.links.attachToken("visitor", access.store.redeem(secret, java.time.Instant.now()));
    assertThat(access.links.admit("visitor", "photos")).isInstanceOf(LinkAccess.Decision.Admitted.class);
    access.store.revokeGrant(AccessStore.persona("carol"), view);
    assertThat(access.links.admit("visitor", "photos")).isInstanceOf(LinkAccess.Decision.Refused.class);
  }

  @Test
  void aPermissionSharedByOpenersCanBeSharedByAMemberWhoMayOpenTheApp() {
    access.personas.create("dave", "Dave", PersonaStore.Role.MEMBER, "dave's password");
    Permission open = Permission.open("photos");
    access.store.grant(AccessStore.persona("dave"), open);
    String request = requestFrom("dave", "l3");
    String album = "{\"request\": \"" + request + "\", \"permissions\": [\"intrustd+perm://photos/view?album=7\"]}";
    assertThat(mint(album)).as("by default only holders share").startsWith("HTTP/1.1 403").contains("dave does not hold");
    access.links.sharedByOpeners((app, name) -> app.equals("photos") && name.equals("view"));
    String answer = mint(album);
    assertThat(answer).startsWith("HTTP/1.1 200").contains("\"persona\":\"dave\"");
    assertThat(mint("{\"request\": \"" + request + "\", \"permissions\": [\"intrustd+perm://photos/edit\"]}"))
        .as("only the permissions the manifest marks").startsWith("HTTP/1.1 403");
    String secret = answer.replaceAll("(?s).*\"secret\":\"(it1_[^\"]+)\".*", "$1");
    access.links.register("visitor", "sha-256 CC");
    access.links.attachToken("visitor", access.store.redeem(secret, java.time.Instant.now()));
    LinkAccess.Decision admitted = access.links.admit("visitor", "photos");
    assertThat(admitted).isInstanceOf(LinkAccess.Decision.Admitted.class);
    assertThat(((LinkAccess.Decision.Admitted) admitted).headers().get(TrustedHeaders.PERMISSIONS))
        .contains("intrustd+perm://photos/view?album=7").doesNotContain("intrustd+perm://intrustd/open");
    // Once dave may no longer open photos, what he shared stops working too.
    access.store.revokeGrant(AccessStore.persona("dave"), open);
    assertThat(access.links.admit("visitor", "photos")).isInstanceOf(LinkAccess.Decision.Refused.class);
  }
}

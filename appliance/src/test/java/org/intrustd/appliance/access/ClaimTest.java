package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Set;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.appliance.testing.UnixHttp;
import org.intrustd.core.id.ApplianceId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The first-run claim through the session API, as a browser on a link would make it. */
class ClaimTest {
  @TempDir
  Path tmp;
  private PersonaStore personas;
  private AccessStore store;
  private LinkAccess links;
  private Claim claim;
  private SessionApi api;
  private Path socket;
  private String deviceKey;

  @BeforeEach
  void start() throws Exception {
    Path db = tmp.resolve("a.db");
    personas = PersonaStore.open(db);
    store = AccessStore.open(db);
    ApplianceId id = ApplianceId.fromPublicKey(new byte[32]);
    links = new LinkAccess(id, store, personas, Set.of("hello"), InstantSource.system());
    claim = Claim.start(personas);
    links.requireClaim(claim::claimed);
    socket = tmp.resolve("session.sock");
    api = SessionApi.start(socket, id, personas, store, links, new LoginLimiter(InstantSource.system()),
        InstantSource.system(), claim, () -> "test box");
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    deviceKey = Base64.getUrlEncoder().withoutPadding().encodeToString(g.generateKeyPair().getPublic().getEncoded());
  }

  @AfterEach
  void stop() {
    api.close();
    store.close();
    personas.close();
  }

  private record Answer(int status, JsonNode body) {}

  private Answer post(String link, String path, String json) throws Exception {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    String head = "POST " + path + " HTTP/1.1\r\nHost: intrustd\r\nX-Intrustd-Link: " + link + "\r\nContent-Length: "
        + body.length + "\r\n\r\n";
    String text = UnixHttp.exchange(socket, (head + json).getBytes(StandardCharsets.UTF_8));
    return new Answer(Integer.parseInt(text.substring(9, 12)),
        new ObjectMapper().readTree(text.substring(text.indexOf("\r\n\r\n") + 4)));
  }

  private String claimJson(String code) {
    return "{\"code\": \"" + code + "\", \"persona\": \"alice\", \"password\": \"alice's long password\","
        + " \"displayName\": \"Alice\", \"deviceKey\": \"" + deviceKey + "\"}";
  }

  @Test
  void untilClaimedOnlyPublicAppsOpenAndTheCodeMakesTheOwnerOnce() throws Exception {
    links.register("l1", "sha-256 AA");
    String code = claim.code().orElseThrow();
    assertThat(code).matches("[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}");
    assertThat(links.admit("l1", "hello")).isInstanceOf(LinkAccess.Decision.Admitted.class);
    LinkAccess.Decision closed = links.admit("l1", "photos");
    assertThat(closed).isInstanceOf(LinkAccess.Decision.Refused.class);
    assertThat(((LinkAccess.Decision.Refused) closed).detail()).contains("not been claimed");

    Answer wrong = post("l1", "/v1/claim", claimJson("AAAAA-AAAAA"));
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.body().get("detail").asText()).contains("wrong claim code");

    // Typed by hand: lower case, a space instead of the dash.
    Answer ok = post("l1", "/v1/claim", claimJson(code.toLowerCase().replace('-', ' ')));
    assertThat(ok.status()).as(ok.body().toString()).isEqualTo(200);
    assertThat(ok.body().at("/persona/role").asText()).isEqualTo("owner");
    assertThat(ok.body().at("/newSession/secret").asText()).startsWith("is1_");
    assertThat(ok.body().get("claimed").asBoolean()).isTrue();
    assertThat(claim.code()).isEmpty();
    assertThat(links.admit("l1", "photos")).isInstanceOf(LinkAccess.Decision.Admitted.class);

    links.register("l2", "sha-256 BB");
    Answer again = post("l2", "/v1/claim", claimJson(code));
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.body().get("detail").asText()).contains("claimed already");
    assertThat(personas.list()).hasSize(1);
  }

  @Test
  void guessingTheCodeIsRateLimited() throws Exception {
    links.register("l1", "sha-256 AA");
    for (int i = 0; i < LoginLimiter.FREE_PER_PEER; i++) {
      assertThat(post("l1", "/v1/claim", claimJson("BBBBB-BBBB" + (i + 2))).status()).isEqualTo(401);
    }
    Answer limited = post("l1", "/v1/claim", claimJson(claim.code().orElseThrow()));
    assertThat(limited.status()).isEqualTo(429);
    assertThat(claim.code()).isPresent();
  }

  @Test
  void anOwnerAddedLocallyClaimsTheApplianceToo() {
    assertThat(claim.code()).isPresent();
    personas.create("bob", "Bob", PersonaStore.Role.OWNER, "bob's long password");
    assertThat(claim.code()).isEmpty();
    assertThat(claim.claimed()).isTrue();
  }
}

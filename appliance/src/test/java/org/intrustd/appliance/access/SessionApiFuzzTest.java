package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Set;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.appliance.testing.UnixHttp;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whatever a client sends the session API, it answers with a 4xx problem or a 200, never a 500 or nothing. */
class SessionApiFuzzTest {
  private static final Set<Integer> EXPECTED = Set.of(200, 400, 401, 404, 405, 409, 410, 413, 429, 431);

  @TempDir
  Path tmp;
  private PersonaStore personas;
  private AccessStore store;
  private SessionApi api;
  private Path socket;

  @BeforeEach
  void start() throws Exception {
    Path db = tmp.resolve("a.db");
    personas = PersonaStore.open(db);
    personas.create("alice", "Alice", PersonaStore.Role.OWNER, "alice's password");
    store = AccessStore.open(db);
    ApplianceId id = ApplianceId.fromPublicKey(new byte[32]);
    LinkAccess links = new LinkAccess(id, store, personas, Set.of(), InstantSource.system());
    links.register("l1", "sha-256 AA:BB");
    socket = tmp.resolve("session.sock");
    api = SessionApi.start(socket, id, personas, store, links, new LoginLimiter(InstantSource.system()),
        InstantSource.system(), Claim.start(personas), () -> "test box");
  }

  @AfterEach
  void stop() {
    api.close();
    store.close();
    personas.close();
  }

  private int status(byte[] request) throws Exception {
    String response = UnixHttp.exchange(socket, request);
    assertThat(response).startsWith("HTTP/1.1 ");
    return Integer.parseInt(response.substring(9, 12));
  }

  private static byte[] request(String method, String path, String link, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    String head = method + " " + path + " HTTP/1.1\r\nHost: intrustd\r\n" + (link == null ? "" : "X-Intrustd-Link: " + link + "\r\n")
        + "Content-Length: " + b.length + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[h.length + b.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(b, 0, all, h.length, b.length);
    return all;
  }

  @Test
  void randomRequestsGetAClearAnswer() {
    Gen<String> field = Gen.of("persona", "password", "deviceKey", "session", "proof", "token", "current", "new", "label",
        "code", "displayName");
    Gen<String> value = Gen.oneOf(Gen.of("\"alice\"", "\"alice's password\"", "null", "1", "[]", "{}", "true",
        "\"it1_AAAA\"", "\"is1_" + "A".repeat(43) + "\"", "\"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\""),
        Gen.strings(30).map(s -> "\"" + s.replace("\\", "").replace("\"", "") + "\""));
    Gen<String> body = Gen.oneOf(Gen.strings(60), Gen.ints(0, 4).map(n -> {
      StringBuilder s = new StringBuilder("{");
      java.util.SplittableRandom r = new java.util.SplittableRandom(n * 7919L);
      for (int i = 0; i < n; i++) {
        s.append(i == 0 ? "" : ",").append('"').append(field.next(r)).append("\":").append(value.next(r));
      }
      return s.append('}').toString();
    }));
    Gen<String> path = Gen.of("/v1/session", "/v1/login", "/v1/claim", "/v1/sessions", "/v1/avatar", "/v1/resume", "/v1/logout", "/v1/tokens", "/v1/password",
        "/v1/x", "/", "/v1/login?x=%zz", "/%");
    Property.forAll(300, Gen.of("GET", "POST", "DELETE"), path, (method, p) -> {
      Property.forAll(2, body, b -> {
        for (String link : new String[] {"l1", "gone", null}) {
          try {
            int s = status(request(method, p, link, b));
            assertThat(EXPECTED).as("%s %s %s → %d", method, p, b, s).contains(s);
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }
      });
    });
  }
}

package org.intrustd.appliance.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.install.Installer;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.appliance.testing.Apps;
import org.intrustd.appliance.testing.InProcessLauncher;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir
  Path tmp;
  private AppSupervisor apps;
  private Grants grants;
  private ControlServer server;
  private ControlClient client;
  private final List<String> changes = new ArrayList<>();

  @BeforeEach
  void start() {
    Path state = tmp.resolve("state");
    AppRegistry registry = AppRegistry.scan(List.of(Apps.hello(tmp.resolve("apps/hello"), "hello"),
        Apps.hello(tmp.resolve("apps/photos"), "photos")));
    apps = new AppSupervisor(registry, new InProcessLauncher(), state, Duration.ofSeconds(30),
        Duration.ofMinutes(10), InstantSource.system());
    grants = Grants.load(state);
    grants.onChange(changes::add);
    Path db = state.resolve("appliance.db");
    server = ControlServer.start(state.resolve("control.sock"),
        org.intrustd.core.id.ApplianceId.fromPublicKey(new byte[32]), apps, grants,
        new Installer(state, registry, apps, id -> {}, id -> {}), PersonaStore.open(db),
        org.intrustd.appliance.access.AccessStore.open(db),
        org.intrustd.appliance.access.AccessLog.open(db, org.intrustd.appliance.access.AccessLog.Detail.PATH),
        () -> new ControlServer.Status("test box", java.net.URI.create("ws://127.0.0.1:1"), false, 0, state,
            java.util.Optional.empty()));
    client = new ControlClient(state.resolve("control.sock"));
  }

  @AfterEach
  void stop() {
    server.close();
    apps.close();
  }

  private JsonNode ok(String method, String target, String body) throws IOException {
    ControlClient.Response r = client.call(method, target, body == null ? null : JSON.readTree(body));
    assertThat(r.status()).as("%s %s: %s", method, target, r.body()).isEqualTo(200);
    return r.body();
  }

  private ControlClient.Response refused(String method, String target, String body, int status) throws IOException {
    ControlClient.Response r = client.call(method, target, body == null ? null : JSON.readTree(body));
    assertThat(r.status()).as("%s %s: %s", method, target, r.body()).isEqualTo(status);
    assertThat(r.body().path("status").asInt()).isEqualTo(status);
    return r;
  }

  @Test
  void theSocketIsTheOwnersAlone() throws IOException {
    assertThat(Files.getPosixFilePermissions(tmp.resolve("state/control.sock")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
  }

  @Test
  void listsStartsAndStopsApps() throws IOException {
    JsonNode list = ok("GET", "/v1/apps", null);
    assertThat(list.path("apps")).hasSize(2);
    assertThat(list.path("apps").get(0).path("id").asText()).isEqualTo("hello");
    assertThat(list.path("apps").get(0).path("running").asBoolean()).isFalse();
    assertThat(list.path("apps").get(0).path("limits").path("memoryMiB").asInt()).isEqualTo(512);
    assertThat(ok("POST", "/v1/apps/hello/start", null).path("running").asBoolean()).isTrue();
    assertThat(apps.running()).containsExactly("hello");
    assertThat(ok("POST", "/v1/apps/hello/stop", null).path("running").asBoolean()).isFalse();
    assertThat(apps.running()).isEmpty();
  }

  @Test
  void grantsAndRevokesAreKeptAndAnnounced() throws IOException {
    JsonNode app = ok("POST", "/v1/apps/photos/grants", "{\"permission\": \"internet\", \"hosts\": [\"example.org:443\"]}");
    assertThat(app.path("grants").toString()).isEqualTo("[\"internet\"]");
    assertThat(app.path("internetHosts").toString()).isEqualTo("[\"example.org:443\"]");
    ok("POST", "/v1/apps/photos/grants", "{\"permission\": \"app:hello\"}");
    assertThat(Grants.load(tmp.resolve("state")).of("photos").openApps()).containsExactly("hello");
    assertThat(grants.mayOpen("photos", "hello")).isTrue();
    assertThat(grants.mayOpen("hello", "photos")).as("grants go one way").isFalse();
    assertThat(ok("DELETE", "/v1/apps/photos/grants/internet", null).path("grants").toString())
        .isEqualTo("[\"app:hello\"]");
    assertThat(changes).containsExactly("photos", "photos", "photos");
    assertThat(Grants.load(tmp.resolve("state")).of("photos").internet()).isEmpty();
    refused("DELETE", "/v1/apps/photos/grants/internet", null, 404);
  }

  @Test
  void badRequestsGetAClearProblem() throws IOException {
    assertThat(refused("GET", "/v1/apps/nope", null, 404).detail()).contains("no app named 'nope'");
    refused("GET", "/v2/things", null, 404);
    refused("DELETE", "/v1/apps", null, 405);
    refused("POST", "/v1/apps/hello/grants", "{\"permission\": 5}", 400);
    assertThat(refused("POST", "/v1/apps/hello/grants", "{\"permission\": \"root\"}", 400).detail())
        .contains("unknown permission 'root'");
    assertThat(refused("POST", "/v1/apps/hello/grants", "{\"permission\": \"internet\", \"hosts\": [\"example.org\"]}",
        400).detail()).contains("example.org");
    assertThat(refused("POST", "/v1/apps/hello/grants", "{\"permission\": \"app:nope\"}", 404).detail())
        .contains("no app named 'nope'");
    refused("POST", "/v1/apps/hello/grants", "{\"permission\": \"internet\", \"hosts\": \"x\"}", 400);
    refused("GET", "/v1/apps/hello/logs?lines=0", null, 400);
    refused("GET", "/v1/apps/%zz", null, 400);
    assertThat(raw("POST /v1/apps/hello/grants HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{x}"))
        .startsWith("HTTP/1.1 400");
    assertThat(raw("POST /v1/apps/hello/grants HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"))
        .startsWith("HTTP/1.1 413");
  }

  @Test
  void garbageNeverStopsTheServer() throws IOException {
    Property.forAll(60, Gen.bytes(0, 300), bytes -> {
      String answer = raw(new String(bytes, StandardCharsets.ISO_8859_1));
      assertThat(answer).satisfiesAnyOf(a -> assertThat(a).isEmpty(), a -> assertThat(a).startsWith("HTTP/1.1 "));
    });
    ok("GET", "/v1/apps", null);
  }

  @Test
  void personasThroughTheApiNeverEchoPasswords() throws IOException {
    JsonNode alice = ok("POST", "/v1/personas", "{\"name\": \"alice\", \"role\": \"owner\", \"password\": \"a long password\"}");
    assertThat(alice.path("role").asText()).isEqualTo("owner");
    assertThat(alice.toString()).doesNotContain("a long password").doesNotContain("argon2");
    assertThat(ok("GET", "/v1/personas", null).path("personas")).hasSize(1);
    assertThat(refused("POST", "/v1/personas", "{\"name\": \"x\", \"role\": \"owner\", \"password\": \"a long password\"}",
        409).detail()).isEqualTo("the appliance already has an owner");
    refused("POST", "/v1/personas", "{\"name\": \"y\"}", 400);
    ok("POST", "/v1/personas/alice/password", "{\"password\": \"another long one\"}");
    refused("DELETE", "/v1/personas/alice", null, 409);
    refused("PUT", "/v1/personas", null, 405);
  }

  @Test
  void anAbsentDaemonIsNotRunning() {
    assertThatThrownBy(() -> new ControlClient(tmp.resolve("elsewhere.sock")).call("GET", "/v1/apps", null))
        .isInstanceOf(ControlClient.NotRunning.class).hasMessageContaining("no appliance daemon is running");
  }

  /** Sends raw bytes, half-closes, and returns whatever comes back. */
  private String raw(String request) {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(tmp.resolve("state/control.sock")));
      ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
      ch.shutdownOutput();
      try (InputStream in = Channels.newInputStream(ch)) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      return "";
    }
  }

  @Test
  void appGrantsMayBeNamedAsDaemonPermissions() throws IOException {
    ok("POST", "/v1/apps/photos/grants", "{\"permission\": \"intrustd+perm://intrustd/call?app=hello\"}");
    assertThat(grants.of("photos").openApps()).containsExactly("hello");
    ok("DELETE", "/v1/apps/photos/grants/intrustd%2Bperm:%2F%2Fintrustd%2Fcall%3Fapp%3Dhello", null);
    assertThat(grants.of("photos").openApps()).isEmpty();
    ok("POST", "/v1/apps/photos/grants", "{\"permission\": \"intrustd+perm://intrustd/internet\", \"hosts\": [\"example.org:443\"]}");
    assertThat(grants.of("photos").internet()).isPresent();
    refused("POST", "/v1/apps/photos/grants", "{\"permission\": \"intrustd+perm://intrustd/admin\"}", 400);
  }

  @Test
  void statusGivesTheOverview() throws IOException {
    JsonNode s = ok("GET", "/v1/status", null);
    assertThat(s.get("name").asText()).isEqualTo("test box");
    assertThat(s.at("/flock/registered").asBoolean()).isFalse();
    assertThat(s.get("claimed").asBoolean()).isFalse();
    assertThat(s.get("apps").findValuesAsText("id")).containsExactlyInAnyOrder("hello", "photos");
    assertThat(s.at("/storage/dataBytes").asLong()).isZero();
    assertThat(s.at("/storage/freeBytes").asLong()).isPositive();
    refused("POST", "/v1/status", "{}", 405);
  }
}

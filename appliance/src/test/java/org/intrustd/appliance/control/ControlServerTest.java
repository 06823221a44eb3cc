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
  private final java.util.concurrent.atomic.AtomicReference<org.intrustd.appliance.settings.Settings> settings =
      new java.util.concurrent.atomic.AtomicReference<>(
          new org.intrustd.appliance.settings.Settings("test box", java.net.URI.create("ws://127.0.0.1:1")));

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
        org.intrustd.appliance.access.AccessLog.open(db, org.intrustd.appliance.access.AccessLog.Detail.PATH), null, null,
        () -> new ControlServer.Status(settings.get().name(), settings.get().flock(), false, 0, state,
            java.util.Optional.empty()),
        next -> {
          if (next.name().equals("unsaveable")) {
            throw new IOException("disk full");
          }
          settings.set(next);
        });
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

  /** One raw request on the control socket; the response's status and JSON body. */
  private ControlClient.Response raw(byte[] request) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(tmp.resolve("state/control.sock")));
      ByteBuffer out = ByteBuffer.wrap(request);
      while (out.hasRemaining()) {
        ch.write(out);
      }
      String response = new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
      int status = Integer.parseInt(response.substring(9, 12));
      return new ControlClient.Response(status, JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4)));
    }
  }

  private ControlClient.Response uploadBundle(String query, byte[] bundle) throws IOException {
    byte[] head = ("POST /v1/apps/bundle" + query + " HTTP/1.1\r\nHost: intrustd\r\nContent-Length: " + bundle.length
        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] request = java.util.Arrays.copyOf(head, head.length + bundle.length);
    System.arraycopy(bundle, 0, request, head.length, bundle.length);
    return raw(request);
  }

  private byte[] bundle(org.intrustd.appliance.bundles.PublisherKey key, String id, String version) throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src/" + id + "-" + version));
    Files.writeString(src.resolve("manifest.json"), "{\"id\": \"" + id + "\", \"version\": \"" + version
        + "\", \"run\": {\"command\": [\"in-process\"]}, \"healthCheck\": \"/health\"}");
    Path file = tmp.resolve(id + "-" + version + ".bundle");
    org.intrustd.appliance.bundles.BundleWriter.write(src, key, file);
    return Files.readAllBytes(file);
  }

  private org.intrustd.appliance.bundles.PublisherKey trustNewPublisher() throws IOException {
    var key = org.intrustd.appliance.bundles.PublisherKey.generate();
    Path publishers = Files.createDirectories(Installer.publishersDir(tmp.resolve("state")));
    key.savePublic(publishers.resolve("me.pub"));
    return key;
  }

  @Test
  void bundlesUploadedAsTheBodyAreInstalledThenUpdatedAndLeaveNoFileBehind() throws Exception {
    var key = trustNewPublisher();
    byte[] v1 = bundle(key, "diary", "1.0");

    ControlClient.Response installed = uploadBundle("", v1);
    assertThat(installed.status()).as(installed.body().toString()).isEqualTo(200);
    assertThat(installed.body().get("action").asText()).isEqualTo("installed");
    assertThat(installed.body().get("version").asText()).isEqualTo("1.0");
    assertThat(installed.body().get("removable").asBoolean()).isTrue();
    assertThat(ok("GET", "/v1/apps/hello", null).get("removable").asBoolean()).as("from an apps directory").isFalse();

    ControlClient.Response again = uploadBundle("?action=install", v1);
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.body().get("detail").asText()).contains("already installed");

    ControlClient.Response updated = uploadBundle("?action=update&app=diary", bundle(key, "diary", "1.1"));
    assertThat(updated.status()).as(updated.body().toString()).isEqualTo(200);
    assertThat(updated.body().get("action").asText()).isEqualTo("updated");
    assertThat(updated.body().get("version").asText()).isEqualTo("1.1");
    ControlClient.Response wrongApp = uploadBundle("?action=update&app=hello", bundle(key, "diary", "1.2"));
    assertThat(wrongApp.status()).isEqualTo(409);
    assertThat(wrongApp.body().get("detail").asText()).contains("not 'hello'");
    ControlClient.Response auto = uploadBundle("", bundle(key, "diary", "1.3"));
    assertThat(auto.body().get("action").asText()).isEqualTo("updated");

    try (var left = Files.list(tmp.resolve("state/downloads"))) {
      assertThat(left.toList()).as("uploads are deleted once used").isEmpty();
    }
  }

  @Test
  void badBundleUploadsGetAClearProblem() throws Exception {
    assertThat(uploadBundle("", new byte[] {1, 2, 3}).body().get("detail").asText()).contains("no publisher is trusted");
    trustNewPublisher();
    assertThat(uploadBundle("", new byte[] {1, 2, 3}).status()).isEqualTo(422);
    assertThat(uploadBundle("", bundle(org.intrustd.appliance.bundles.PublisherKey.generate(), "x", "1")).status())
        .as("signed by a publisher nobody trusts").isEqualTo(422);
    assertThat(uploadBundle("?action=remove", new byte[] {1}).status()).isEqualTo(400);
    assertThat(uploadBundle("?action=update", new byte[] {1}).status()).as("no app=").isEqualTo(400);
    ControlClient.Response chunked = raw(("POST /v1/apps/bundle HTTP/1.1\r\nHost: intrustd\r\nTransfer-Encoding: chunked"
        + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    assertThat(chunked.status()).isEqualTo(411);
    ControlClient.Response huge = raw(("POST /v1/apps/bundle HTTP/1.1\r\nHost: intrustd\r\nContent-Length: "
        + (ControlServer.MAX_BUNDLE + 1) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    assertThat(huge.status()).isEqualTo(413);
    assertThat(ok("GET", "/v1/status", null).get("name").asText()).as("still serving").isEqualTo("test box");
  }

  @Test
  void settingsAreShownChangedAndValidated() throws IOException {
    JsonNode s = ok("GET", "/v1/settings", null);
    assertThat(s.get("name").asText()).isEqualTo("test box");
    assertThat(s.get("flock").asText()).isEqualTo("ws://127.0.0.1:1");
    assertThat(s.get("storage").get("dataDir").asText()).endsWith("state/data");
    JsonNode renamed = ok("PUT", "/v1/settings", "{\"name\": \"  Kitchen box \"}");
    assertThat(renamed.get("name").asText()).as("trimmed").isEqualTo("Kitchen box");
    assertThat(renamed.get("flock").asText()).as("unchanged").isEqualTo("ws://127.0.0.1:1");
    assertThat(ok("PUT", "/v1/settings", "{\"flock\": \"wss://flock.example.org\"}").get("flock").asText())
        .isEqualTo("wss://flock.example.org");
    assertThat(ok("GET", "/v1/status", null).get("name").asText()).isEqualTo("Kitchen box");
    for (String bad : List.of("{\"name\": \"\"}", "{\"name\": \"" + "x".repeat(65) + "\"}", "{\"name\": \"a\\u0007b\"}",
        "{\"flock\": \"http://flock.example.org\"}", "{\"flock\": \"ws://\"}", "{\"flock\": \"not a url\"}",
        "{\"flock\": 7}", "{\"name\": [\"x\"]}")) {
      refused("PUT", "/v1/settings", bad, 400);
    }
    assertThat(settings.get().name()).as("nothing bad was applied").isEqualTo("Kitchen box");
    refused("POST", "/v1/settings", "{}", 405);
    assertThat(refused("PUT", "/v1/settings", "{\"name\": \"unsaveable\"}", 500).detail())
        .as("a failed save is an error, not a crash").contains("cannot save the settings: disk full");
    assertThat(ok("GET", "/v1/settings", null).get("name").asText()).isEqualTo("Kitchen box");
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

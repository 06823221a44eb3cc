package org.intrustd.appliance.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.apps.ProcessLauncher;
import org.intrustd.appliance.bundles.BundleException;
import org.intrustd.appliance.bundles.BundleWriter;
import org.intrustd.appliance.bundles.PublisherKey;
import org.intrustd.appliance.testing.Apps;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Install, update (with roll-back) and remove of real bundles holding a small Python server,
 * run as child processes; a crash midway is a real kill -9 of another JVM doing the update.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class InstallerTest {
  @TempDir
  Path tmp;
  private Path state;
  private PublisherKey publisher;
  private AppRegistry registry;
  private AppSupervisor apps;
  private Installer installer;
  private final List<String> added = new ArrayList<>();
  private final List<String> removed = new ArrayList<>();

  /** The app: /health answers the status in its "health" file; /version its version; /note keeps data. */
  static final String SERVER = """
      import http.server, os, socketserver, sys, time
      HERE = os.path.dirname(os.path.abspath(__file__))
      time.sleep(float(open(os.path.join(HERE, "delay")).read()))
      class H(http.server.BaseHTTPRequestHandler):
          def address_string(self): return "daemon"
          def do_GET(self):
              data = os.environ["INTRUSTD_APP_DATA"]
              if self.path == "/health": status, body = int(open(os.path.join(HERE, "health")).read()), b"ok"
              elif self.path == "/version": status, body = 200, open(os.path.join(HERE, "version")).read().encode()
              elif self.path.startswith("/note?"):
                  with open(os.path.join(data, "note"), "w") as f: f.write(self.path[6:])
                  status, body = 200, b"saved"
              elif self.path == "/note": status, body = 200, open(os.path.join(data, "note")).read().encode()
              else: status, body = 404, b"no"
              self.send_response(status); self.send_header("Content-Length", str(len(body))); self.end_headers()
              self.wfile.write(body)
      class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer): daemon_threads = True
      p = os.environ["INTRUSTD_APP_SOCKET"]
      if os.path.exists(p): os.unlink(p)
      S(p, H).serve_forever()
      """;

  @BeforeEach
  void setUp() throws IOException {
    state = tmp.resolve("state");
    publisher = PublisherKey.generate();
    Files.createDirectories(Installer.publishersDir(state));
    publisher.savePublic(Installer.publishersDir(state).resolve("me.pub"));
    start();
  }

  private void start() {
    registry = AppRegistry.scan(List.of(Apps.hello(tmp.resolve("builtin/hello"), "hello")));
    apps = new AppSupervisor(registry, new ProcessLauncher(), state, Duration.ofSeconds(10), Duration.ofMinutes(10),
        InstantSource.system());
    installer = new Installer(state, registry, apps, added::add, removed::add);
    installer.recover();
  }

  @AfterEach
  void stop() {
    apps.close();
  }

  /** A signed bundle of the Python app at {@code version}, answering its health check with {@code health}. */
  static Path bundle(Path tmp, PublisherKey key, String id, String version, int health, double delaySeconds) {
    try {
      // Named by the publisher too: two keys must never write the same file.
      String name = id + "-" + version + "-" + health + "-" + key.id().toString().substring(0, 7);
      Path dir = tmp.resolve("src-" + name);
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("manifest.json"), "{\"id\": \"" + id + "\", \"version\": \"" + version + "\","
          + " \"run\": {\"command\": [\"/usr/bin/python3\", \"-I\", \"server.py\"]}, \"healthCheck\": \"/health\"}");
      Files.writeString(dir.resolve("server.py"), SERVER);
      Files.writeString(dir.resolve("health"), Integer.toString(health));
      Files.writeString(dir.resolve("version"), version);
      Files.writeString(dir.resolve("delay"), Double.toString(delaySeconds));
      Path out = tmp.resolve(name + ".itb");
      BundleWriter.write(dir, key, out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path bundle(String version, int health) {
    return bundle(tmp, publisher, "notes", version, health, 0);
  }

  private String get(String path) {
    Path socket = apps.acquire("notes");
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
      try (InputStream in = Channels.newInputStream(ch)) {
        String r = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        return r.substring(r.indexOf("\r\n\r\n") + 4);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      apps.release("notes");
    }
  }

  @Test
  void aRepositoryInstallsItsLatestVersionThenUpdatesToANewerOne() throws IOException {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Files.copy(bundle("1.0", 200), repo.resolve("notes-1.0.itb"));
    org.intrustd.appliance.bundles.RepositoryIndex.write(repo, publisher);
    assertThat(installer.installFrom(repo.toUri(), "notes").manifest().version()).isEqualTo("1.0");
    assertThat(get("/version")).isEqualTo("1.0");
    Files.copy(bundle("2.0", 200), repo.resolve("notes-2.0.itb"));
    org.intrustd.appliance.bundles.RepositoryIndex.write(repo, publisher);
    assertThat(installer.installFrom(repo.toUri(), "notes").manifest().version()).isEqualTo("2.0");
    assertThat(get("/version")).isEqualTo("2.0");
    try (var left = Files.list(state.resolve("downloads"))) {
      assertThat(left.toList()).as("the fetched bundles are deleted").isEmpty();
    }
  }

  @Test
  void installUpdateAndRemoveKeepTheData() throws IOException {
    installer.install(bundle("1.0", 200));
    assertThat(added).containsExactly("notes");
    assertThat(get("/version")).isEqualTo("1.0");
    assertThat(get("/note?kept")).isEqualTo("saved");

    installer.update("notes", bundle("1.1", 200));
    assertThat(get("/version")).isEqualTo("1.1");
    assertThat(get("/note")).isEqualTo("kept");
    assertThat(Files.readSymbolicLink(state.resolve("installed/notes/current")).toString()).isEqualTo("1.1");
    assertThat(state.resolve("installed/notes/1.0")).doesNotExist();

    installer.remove("notes", false);
    assertThat(removed).containsExactly("notes");
    assertThat(registry.find("notes")).isEmpty();
    assertThat(state.resolve("installed/notes")).doesNotExist();
    assertThat(state.resolve("data/notes/note")).hasContent("kept");
    installer.install(bundle("1.1", 200));
    assertThat(get("/note")).as("a reinstall finds its data").isEqualTo("kept");
    installer.remove("notes", true);
    assertThat(state.resolve("data/notes")).doesNotExist();
  }

  @Test
  void anUpdateThatFailsItsHealthCheckLeavesTheOldVersionServing() throws IOException {
    installer.install(bundle("1.0", 200));
    assertThat(get("/note?precious")).isEqualTo("saved");
    assertThatThrownBy(() -> installer.update("notes", bundle("2.0", 500))).isInstanceOf(AppException.class)
        .hasMessageContaining("app 'notes' stays at version 1.0: version 2.0 did not start");
    assertThat(get("/version")).isEqualTo("1.0");
    assertThat(get("/note")).isEqualTo("precious");
    assertThat(state.resolve("installed/notes/2.0")).doesNotExist();
    assertThat(registry.find("notes").orElseThrow().manifest().version()).isEqualTo("1.0");
    // and after a restart of the daemon too
    apps.close();
    start();
    assertThat(get("/version")).isEqualTo("1.0");
  }

  @Test
  void badBundlesAreRefusedWithTheReason() throws IOException {
    Path good = bundle("1.0", 200);
    byte[] bytes = Files.readAllBytes(good);
    bytes[bytes.length - 10] ^= 1;
    Path tampered = Files.write(tmp.resolve("tampered.itb"), bytes);
    assertThatThrownBy(() -> installer.install(tampered)).isInstanceOf(BundleException.class);
    Path untrusted = bundle(tmp, PublisherKey.generate(), "notes", "1.0", 200, 0);
    assertThatThrownBy(() -> installer.install(untrusted)).isInstanceOf(BundleException.class)
        .hasMessageContaining("untrusted publisher");
    assertThat(registry.find("notes")).isEmpty();
    installer.install(good);
    assertThatThrownBy(() -> installer.install(good)).hasMessageContaining("already installed; update it instead");
    assertThatThrownBy(() -> installer.update("notes", good)).hasMessageContaining("already at version 1.0");
    Path other = bundle(tmp, publisher, "other", "1.0", 200, 0);
    assertThatThrownBy(() -> installer.update("notes", other)).hasMessageContaining("that bundle is app 'other'");
    assertThatThrownBy(() -> installer.remove("hello", false)).hasMessageContaining("not from a bundle; remove it there");
    Path hello = bundle(tmp, publisher, "hello", "9.0", 200, 0);
    assertThatThrownBy(() -> installer.install(hello)).hasMessageContaining("already installed");
  }

  @Test
  void leftoversOfACrashAreCleanedAtStartUp() throws IOException {
    installer.install(bundle("1.0", 200));
    apps.close();
    // What a crash can leave: a version never switched to, a half-made symlink, an install
    // that never got its "current", a removal midway.
    Files.createDirectories(state.resolve("installed/notes/2.0"));
    Files.createSymbolicLink(state.resolve("installed/notes/current.new"), Path.of("2.0"));
    Files.createDirectories(state.resolve("installed/half/1.0"));
    Files.createDirectories(state.resolve("installed/.gone.removing/1.0"));
    start();
    assertThat(state.resolve("installed/notes/2.0")).doesNotExist();
    assertThat(state.resolve("installed/notes/current.new")).doesNotExist();
    assertThat(state.resolve("installed/half")).doesNotExist();
    assertThat(state.resolve("installed/.gone.removing")).doesNotExist();
    assertThat(get("/version")).isEqualTo("1.0");
  }

  /** A real kill -9 of a JVM in the middle of an update (while the new version starts). */
  @Test
  void killedDuringAnUpdateTheOldVersionRunsAfterRestartWithItsData() throws Exception {
    installer.install(bundle("1.0", 200));
    assertThat(get("/note?survives")).isEqualTo("saved");
    apps.close();
    Path slow = bundle(tmp, publisher, "notes", "2.0", 200, 30);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process updater = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        UpdateThenWait.class.getName(), state.toString(), slow.toString()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("updater.log").toFile()).start();
    Path unpacked = state.resolve("installed/notes/2.0/manifest.json");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(unpacked) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(unpacked).as("the update got as far as unpacking: " + Files.readString(tmp.resolve("updater.log"))).exists();
    Thread.sleep(300); // the new version is starting now (it sleeps 30 s before listening)
    updater.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    updater.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    start();
    assertThat(get("/version")).isEqualTo("1.0");
    assertThat(get("/note")).isEqualTo("survives");
    assertThat(state.resolve("installed/notes/2.0")).doesNotExist();
  }

  /** Runs in another JVM: starts an appliance's installer and updates one app. */
  public static final class UpdateThenWait {
    public static void main(String[] args) {
      Path state = Path.of(args[0]);
      AppRegistry registry = AppRegistry.scan(List.of());
      AppSupervisor apps = new AppSupervisor(registry, new ProcessLauncher(), state, Duration.ofSeconds(60),
          Duration.ofMinutes(10), InstantSource.system());
      Installer installer = new Installer(state, registry, apps, id -> {}, id -> {});
      installer.recover();
      installer.update("notes", Path.of(args[1]));
    }
  }
}

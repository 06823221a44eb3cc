package org.intrustd.appliance.bundles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.intrustd.appliance.bundles.Fixtures.key;
import static org.intrustd.appliance.bundles.Fixtures.trust;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.intrustd.appliance.bundles.BundleException.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Signed indexes, and fetching bundles from a directory and over HTTP. */
class RepositoryTest {
  private static final PublisherKey PUBLISHER = key(0);
  private static final PublisherKey OTHER = key(1);
  private static final TrustedPublishers TRUST = trust(PUBLISHER, OTHER);

  /** The published repository, packed once: packing is the slow part. */
  @TempDir
  static Path published;

  @TempDir
  Path dir;

  private Path repo;
  private HttpServer server;
  /** Responses the test server gives instead of the file, by path. */
  private final Map<String, byte[]> overrides = new ConcurrentHashMap<>();

  @BeforeAll
  static void publish() throws IOException {
    Path repo = Files.createDirectories(published.resolve("repo"));
    pack(repo, "hello", "1.9.0", PUBLISHER);
    pack(repo, "hello", "1.10.0", PUBLISHER);
    pack(repo, "hello", "1.10.0-rc.1", PUBLISHER);
    pack(repo, "notes", "0.1", OTHER);
    Files.writeString(repo.resolve("README"), "not a bundle, not listed");
    RepositoryIndex.write(repo, PUBLISHER);
  }

  /** A copy per test, which it may damage. */
  @BeforeEach
  void copy() throws IOException {
    repo = Files.createDirectories(dir.resolve("repo"));
    for (String name : Fixtures.list(published.resolve("repo"))) {
      Files.copy(published.resolve("repo").resolve(name), repo.resolve(name));
    }
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private static void pack(Path repo, String id, String version, PublisherKey key) {
    Path app = Fixtures.app(published.resolve("src/" + id + "-" + version), id, version);
    BundleWriter.write(app, key, repo.resolve(id + "-" + version + ".itb"));
  }

  private URI serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/apps/", exchange -> {
      String name = exchange.getRequestURI().getPath().substring("/apps/".length());
      byte[] body = overrides.containsKey(name) ? overrides.get(name)
          : Files.exists(repo.resolve(name)) ? Files.readAllBytes(repo.resolve(name)) : null;
      exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        if (body != null) {
          out.write(body);
        }
      }
    });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/apps");
  }

  @Test
  void aLocalRepositoryListsItsBundlesAndFetchesTheLatestVerified() throws Exception {
    try (Repository r = Repository.open(repo, TRUST)) {
      assertThat(r.bundles()).extracting(e -> e.appId() + " " + e.version())
          .containsExactly("hello 1.9.0", "hello 1.10.0-rc.1", "hello 1.10.0", "notes 0.1");
      RepositoryEntry latest = r.latest("hello").orElseThrow();
      assertThat(latest.version()).isEqualTo("1.10.0");
      assertThat(latest.file()).isEqualTo("hello-1.10.0.itb");
      assertThat(latest.size()).isEqualTo(Files.size(repo.resolve(latest.file())));
      assertThat(r.latest("nothing")).isEmpty();

      Path downloads = Files.createDirectories(dir.resolve("downloads"));
      Bundle bundle = r.fetch(latest, downloads);
      assertThat(bundle.header().version()).isEqualTo("1.10.0");
      assertThat(bundle.unpack(dir.resolve("installed/hello")).version()).isEqualTo("1.10.0");
      assertThat(r.fetch(r.latest("notes").orElseThrow(), downloads).header().publisher()).isEqualTo(OTHER.id());
    }
    try (Repository byUri = Repository.open(repo.toUri(), TRUST)) {
      assertThat(byUri.bundles()).hasSize(4);
    }
  }

  @Test
  void anIndexByAnUntrustedKeyOrAlteredIsRefused() throws Exception {
    assertThatThrownBy(() -> Repository.open(repo, trust(OTHER)))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED));

    ObjectMapper json = new ObjectMapper();
    ObjectNode envelope = (ObjectNode) json.readTree(repo.resolve("index.json").toFile());
    String inner = new String(Base64.getUrlDecoder().decode(envelope.get("index").asText()), StandardCharsets.UTF_8);
    String altered = inner.replace("1.9.0", "1.99.0");
    assertThat(altered).isNotEqualTo(inner);
    envelope.put("index", Base64.getUrlEncoder().withoutPadding().encodeToString(altered.getBytes(StandardCharsets.UTF_8)));
    json.writeValue(repo.resolve("index.json").toFile(), envelope);
    assertThatThrownBy(() -> Repository.open(repo, TRUST))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));

    Files.writeString(repo.resolve("index.json"), "{\"format\": \"something else\"}");
    assertThatThrownBy(() -> Repository.open(repo, TRUST)).hasMessageContaining("not an Intrustd repository index");
    Files.delete(repo.resolve("index.json"));
    assertThatThrownBy(() -> Repository.open(repo, TRUST)).hasMessageContaining("index.json");
  }

  @Test
  void aBundleReplacedAfterIndexingIsRefusedAndNothingIsKept() throws Exception {
    Path downloads = Files.createDirectories(dir.resolve("downloads"));
    try (Repository r = Repository.open(repo, TRUST)) {
      RepositoryEntry entry = r.latest("hello").orElseThrow();
      // A validly signed bundle, but not the one the index lists.
      Files.copy(repo.resolve("hello-1.9.0.itb"), repo.resolve(entry.file()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      assertThatThrownBy(() -> r.fetch(entry, downloads))
          .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isIn(Reason.TAMPERED, Reason.TRUNCATED));
      assertThat(Fixtures.list(downloads)).isEmpty();
    }
  }

  @Test
  void theIndexWriterRefusesTwoBundlesOfTheSameVersionAndOddFileNames() throws Exception {
    Files.copy(repo.resolve("hello-1.9.0.itb"), repo.resolve("hello-copy.itb"));
    assertThatThrownBy(() -> RepositoryIndex.write(repo, PUBLISHER)).hasMessageContaining("hello 1.9.0 twice");
    Files.move(repo.resolve("hello-copy.itb"), repo.resolve("hello copy.itb"));
    assertThatThrownBy(() -> RepositoryIndex.write(repo, PUBLISHER)).hasMessageContaining("hello copy.itb");
    Files.delete(repo.resolve("hello copy.itb"));
    Files.write(repo.resolve("broken.itb"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> RepositoryIndex.write(repo, PUBLISHER)).hasMessageStartingWith("broken.itb: not an Intrustd bundle");
  }

  @Test
  void anHttpRepositoryServesTheSameBundles() throws Exception {
    URI base = serve();
    Path downloads = Files.createDirectories(dir.resolve("downloads"));
    try (Repository r = Repository.open(base, TRUST)) {
      assertThat(r.bundles()).hasSize(4);
      Bundle bundle = r.fetch(r.latest("hello").orElseThrow(), downloads);
      assertThat(Files.readAllBytes(bundle.file())).isEqualTo(Files.readAllBytes(repo.resolve("hello-1.10.0.itb")));
    }
  }

  @Test
  void anHttpServerThatSendsMoreOrOtherBytesOrNothingIsRefused() throws Exception {
    URI base = serve();
    Path downloads = Files.createDirectories(dir.resolve("downloads"));
    try (Repository r = Repository.open(URI.create(base + "/"), TRUST)) {
      RepositoryEntry entry = r.latest("hello").orElseThrow();
      byte[] good = Files.readAllBytes(repo.resolve(entry.file()));

      overrides.put(entry.file(), java.util.Arrays.copyOf(good, good.length + 100_000));
      assertThatThrownBy(() -> r.fetch(entry, downloads)).hasMessageContaining("larger than the index says");

      byte[] flipped = good.clone();
      flipped[flipped.length - 1] ^= 1;
      overrides.put(entry.file(), flipped);
      assertThatThrownBy(() -> r.fetch(entry, downloads)).hasMessageContaining("does not match the SHA-256");

      overrides.put(entry.file(), java.util.Arrays.copyOf(good, 10));
      assertThatThrownBy(() -> r.fetch(entry, downloads))
          .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.TRUNCATED));
      assertThat(Fixtures.list(downloads)).isEmpty();
    }
    overrides.put("index.json", new byte[RepositoryIndex.MAX_BYTES + 1]);
    assertThatThrownBy(() -> Repository.open(base, TRUST))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.OVERSIZE));
    assertThatThrownBy(() -> Repository.open(URI.create(base + "/missing/"), TRUST)).hasMessageContaining("HTTP 404");
    assertThatThrownBy(() -> Repository.open(URI.create("ftp://example.com/"), TRUST)).hasMessageContaining("http(s) URL");
  }

  @Test
  void indexEntriesThatCouldEscapeTheRepositoryAreRefused() {
    for (String file : List.of("../etc/passwd", "/etc/passwd", ".hidden", "a/b.itb", "")) {
      RepositoryEntry evil = new RepositoryEntry("hello", "1.0", file, 10, new byte[32], PUBLISHER.publicKey());
      byte[] index = RepositoryIndex.encode(List.of(evil), PUBLISHER);
      assertThatThrownBy(() -> RepositoryIndex.decode(index, TRUST)).as(file).hasMessageContaining(".file");
    }
  }
}

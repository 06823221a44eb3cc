package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StaticFilesTest {
  @TempDir
  static Path root;

  private Harness harness;

  @BeforeEach
  void serve() throws IOException {
    Path web = Files.createDirectories(root.resolve("web"));
    Files.writeString(web.resolve("index.html"), "<!doctype html><title>shim</title>");
    Files.writeString(web.resolve("shim.js"), "export const x = 1;");
    Files.writeString(web.resolve("mod.mjs"), "export const y = 2;");
    Files.writeString(web.resolve("style.css"), "body{}");
    Files.writeString(web.resolve("data.json"), "{}");
    Files.write(web.resolve("code.wasm"), new byte[] {0, 'a', 's', 'm', 1, 0, 0, 0});
    Files.createDirectories(web.resolve("empty"));
    Path app = Files.createDirectories(root.resolve("app"));
    Files.writeString(app.resolve("index.html"), "<!doctype html><title>app</title>");
    harness = new Harness(FlockConfig.defaults().withStatic("/", web).withStatic("/apps/hello", app));
  }

  @AfterEach
  void closeAll() {
    harness.close();
  }

  @ParameterizedTest
  @CsvSource({
      "/shim.js, text/javascript", "/mod.mjs, text/javascript", "/style.css, text/css",
      "/index.html, text/html", "/data.json, application/json", "/code.wasm, application/wasm"})
  void filesAreServedWithTheirContentType(String path, String type) throws Exception {
    HttpResponse<byte[]> response = get(path);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith(type));
    assertThat(response.body()).isEqualTo(Files.readAllBytes(root.resolve("web").resolve(path.substring(1))));
  }

  @Test
  void aDirectoryServesItsIndexAndTheLongestPrefixWins() throws Exception {
    assertThat(new String(get("/").body())).contains("<title>shim</title>");
    assertThat(new String(get("/apps/hello/").body())).contains("<title>app</title>");
  }

  @Test
  void directoriesAreNotListedAndMissingFilesAreNotFound() throws Exception {
    assertThat(get("/empty/").statusCode()).isIn(403, 404);
    assertThat(get("/nothing.js").statusCode()).isEqualTo(404);
    assertThat(get("/../../etc/passwd").statusCode()).isIn(400, 404);
  }

  private HttpResponse<byte[]> get(String path) throws Exception {
    URI base = harness.flock.uri();
    URI uri = URI.create("http://" + base.getHost() + ":" + base.getPort() + path);
    return harness.http().send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }
}

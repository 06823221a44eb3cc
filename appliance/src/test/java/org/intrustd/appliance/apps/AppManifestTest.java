package org.intrustd.appliance.apps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AppManifestTest {
  @TempDir
  Path dir;

  private Path write(String json) throws IOException {
    return Files.writeString(dir.resolve("manifest.json"), json);
  }

  @Test
  void aFullManifestIsReadAsWritten() throws IOException {
    AppManifest m = AppManifest.read(write("""
        {"id": "hello", "name": "Hello", "version": "0.1.0", "description": "Test app",
         "run": {"command": ["${java}", "-cp", "lib/*", "org.intrustd.hello.HelloApp"]},
         "healthCheck": "/health", "futureMember": {"ignored": true}}
        """));
    assertThat(m).isEqualTo(new AppManifest("hello", "Hello", "0.1.0", "Test app",
        List.of("${java}", "-cp", "lib/*", "org.intrustd.hello.HelloApp"), Optional.of("/health")));
  }

  @Test
  void optionalMembersHaveDefaults() throws IOException {
    AppManifest m = AppManifest.read(write("{\"id\": \"a-1\", \"run\": {\"command\": [\"/bin/true\"]}, \"healthCheck\": null}"));
    assertThat(m.name()).isEqualTo("a-1");
    assertThat(m.version()).isEqualTo("0");
    assertThat(m.description()).isEmpty();
    assertThat(m.healthCheck()).isEmpty();
  }

  @Test
  void listeningModeRuntimeAndLimitsAreRead() throws IOException {
    AppManifest m = AppManifest.read(write("""
        {"id": "web", "run": {"command": ["/usr/bin/python3", "-m", "http.server"], "runtime": "system",
         "listen": {"tcp": 8000}}, "healthCheck": "/", "limits": {"memoryMiB": 64, "processes": 16}}
        """));
    assertThat(m.listen()).isEqualTo(new AppManifest.Listen.TcpPort(8000));
    assertThat(m.limits()).isEqualTo(new AppManifest.Limits(64, 16, AppManifest.Limits.DEFAULT.cpuWeight()));
    assertThat(m.limits().memoryBytes()).isEqualTo(64L << 20);
    AppManifest plain = AppManifest.read(write("{\"id\": \"a\", \"run\": {\"command\": [\"x\"], \"listen\": \"unix\"}}"));
    assertThat(plain.listen()).isEqualTo(new AppManifest.Listen.UnixSocket());
    assertThat(plain.limits()).isEqualTo(AppManifest.Limits.DEFAULT);
  }

  @Test
  void publisherVolumesAndPermissionsAreRead() throws IOException {
    AppManifest m = AppManifest.read(write("""
        {"id": "photos", "publisher": "Intrustd", "run": {"command": ["x"]}, "volumes": ["originals", "thumbs"],
         "permissions": {"defines": [{"name": "view", "description": "See the photos of an album", "sharedBy": "open"},
                                     {"name": "edit", "description": "Change an album", "sharedBy": "holders"},
                                     {"name": "list", "description": "List the albums"}],
                         "requests": ["internet", "app:backups"]}}
        """));
    assertThat(m.publisher()).contains("Intrustd");
    assertThat(m.volumes()).containsExactly("originals", "thumbs");
    assertThat(m.defines()).containsExactly(new AppManifest.Permission("view", "See the photos of an album", true),
        new AppManifest.Permission("edit", "Change an album"), new AppManifest.Permission("list", "List the albums", false));
    assertThat(m.requests()).containsExactly("internet", "app:backups");
  }

  @Test
  void theLongestAppIdIsAccepted() throws IOException {
    String id = "a" + "-".repeat(62);
    assertThat(AppManifest.read(write("{\"id\": \"" + id + "\", \"run\": {\"command\": [\"x\"]}}")).id()).isEqualTo(id);
  }

  static Stream<Arguments> malformed() {
    String run = "\"run\": {\"command\": [\"x\"]}";
    return Stream.of(
        Arguments.of("not JSON", "{\"id\": ", "cannot read"),
        Arguments.of("an empty file", "", "is not a JSON object"),
        Arguments.of("an array", "[{\"id\": \"x\"}]", "is not a JSON object"),
        Arguments.of("a string", "\"hello\"", "is not a JSON object"),
        Arguments.of("no id", "{" + run + "}", "'id' must be a non-empty string"),
        Arguments.of("an id that is a number", "{\"id\": 7, " + run + "}", "'id' must be a non-empty string"),
        Arguments.of("an empty id", "{\"id\": \"\", " + run + "}", "'id' must be a non-empty string"),
        Arguments.of("an upper-case id", "{\"id\": \"Hello\", " + run + "}", "app id 'Hello' must match"),
        Arguments.of("an id with a slash", "{\"id\": \"../etc\", " + run + "}", "app id '../etc' must match"),
        Arguments.of("an id starting with '-'", "{\"id\": \"-x\", " + run + "}", "app id '-x' must match"),
        Arguments.of("the daemon's own id", "{\"id\": \"intrustd\", " + run + "}", "is the daemon's own"),
        Arguments.of("an id of 64 characters", "{\"id\": \"" + "a".repeat(64) + "\", " + run + "}", "must match"),
        Arguments.of("no run", "{\"id\": \"x\"}", "run.command must be a non-empty array of strings"),
        Arguments.of("run without command", "{\"id\": \"x\", \"run\": {}}", "run.command must be a non-empty array"),
        Arguments.of("a command string", "{\"id\": \"x\", \"run\": {\"command\": \"x y\"}}", "run.command must be"),
        Arguments.of("an empty command", "{\"id\": \"x\", \"run\": {\"command\": []}}", "run.command must be"),
        Arguments.of("a command with a number", "{\"id\": \"x\", \"run\": {\"command\": [\"x\", 1]}}", "run.command must be"),
        Arguments.of("a command with null", "{\"id\": \"x\", \"run\": {\"command\": [null]}}", "run.command must be"),
        Arguments.of("a numeric health check", "{\"id\": \"x\", " + run + ", \"healthCheck\": 200}",
            "'healthCheck' must be a non-empty string"),
        Arguments.of("an empty health check", "{\"id\": \"x\", " + run + ", \"healthCheck\": \"\"}",
            "'healthCheck' must be a non-empty string"),
        Arguments.of("an unknown runtime", "{\"id\": \"x\", \"run\": {\"command\": [\"x\"], \"runtime\": \"nix\"}}",
            "run.runtime must be \"system\""),
        Arguments.of("a listen mode that is a number", "{\"id\": \"x\", \"run\": {\"command\": [\"x\"], \"listen\": 80}}",
            "run.listen must be \"unix\" or {\"tcp\": <port 1-65535>}"),
        Arguments.of("a TCP port out of range",
            "{\"id\": \"x\", \"run\": {\"command\": [\"x\"], \"listen\": {\"tcp\": 70000}}, \"healthCheck\": \"/\"}",
            "run.listen must be"),
        Arguments.of("a TCP app without a health check",
            "{\"id\": \"x\", \"run\": {\"command\": [\"x\"], \"listen\": {\"tcp\": 8000}}}",
            "healthCheck is required for an app reached over TCP"),
        Arguments.of("limits that are not an object", "{\"id\": \"x\", " + run + ", \"limits\": 5}",
            "limits must be an object"),
        Arguments.of("a memory limit too small", "{\"id\": \"x\", " + run + ", \"limits\": {\"memoryMiB\": 1}}",
            "limits.memoryMiB must be an integer from 16 to"),
        Arguments.of("a process limit as a string", "{\"id\": \"x\", " + run + ", \"limits\": {\"processes\": \"9\"}}",
            "limits.processes must be an integer"),
        Arguments.of("a volume with a slash", "{\"id\": \"x\", " + run + ", \"volumes\": [\"../etc\"]}",
            "volumes must hold distinct names"),
        Arguments.of("a volume twice", "{\"id\": \"x\", " + run + ", \"volumes\": [\"a\", \"a\"]}",
            "volumes must hold distinct names"),
        Arguments.of("permissions as a list", "{\"id\": \"x\", " + run + ", \"permissions\": []}",
            "permissions must be an object"),
        Arguments.of("a defined permission without description",
            "{\"id\": \"x\", " + run + ", \"permissions\": {\"defines\": [{\"name\": \"view\"}]}}",
            "permissions.defines entries need a distinct name"),
        Arguments.of("sharedBy neither holders nor open", "{\"id\": \"x\", " + run
            + ", \"permissions\": {\"defines\": [{\"name\": \"view\", \"description\": \"d\", \"sharedBy\": \"anyone\"}]}}",
            "sharedBy must be \"holders\""),
        Arguments.of("a request for root", "{\"id\": \"x\", " + run + ", \"permissions\": {\"requests\": [\"root\"]}}",
            "permissions.requests holds \"internet\", \"peer\", \"strangers\" or \"app:<app-id>\", not \"root\""),
        Arguments.of("a relative health check", "{\"id\": \"x\", " + run + ", \"healthCheck\": \"health\"}",
            "healthCheck must be a path starting with '/'"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void aMalformedManifestIsAnAppExceptionNamingTheFileAndTheProblem(String what, String json, String message)
      throws IOException {
    Path file = write(json);
    assertThatThrownBy(() -> AppManifest.read(file)).isInstanceOf(AppException.class)
        .hasMessageContaining(file.toString()).hasMessageContaining(message);
  }

  @Test
  void aMissingFileIsAnAppException() {
    Path file = dir.resolve("absent.json");
    assertThatThrownBy(() -> AppManifest.read(file)).isInstanceOf(AppException.class)
        .hasMessageContaining("cannot read " + file);
  }
}

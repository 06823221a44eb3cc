package org.intrustd.appliance.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.List;
import java.util.stream.Stream;

/** Test apps for the sandbox tests, and one-shot HTTP requests to an app's socket. */
final class SandboxedApps {
  private SandboxedApps() {}

  /** Copies the probe app (test resources) to {@code dir}, renamed to {@code id}. */
  static Path installProbe(Path dir, String id) throws IOException {
    Path source = Path.of("src/test/resources/apps/probe");
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(source)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    Path manifest = dir.resolve("manifest.json");
    Files.writeString(manifest, Files.readString(manifest).replace("\"id\": \"probe\"", "\"id\": \"" + id + "\""));
    return dir;
  }

  /** GET {@code target} from the app on {@code socket}; the whole response, or an exception if cut. */
  static String get(Path socket, String target) {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(ByteBuffer.wrap(("GET " + target + " HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII)));
      try (InputStream in = Channels.newInputStream(ch)) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The JSON body of a probe's answer. */
  static JsonNode probe(Path socket, String target) {
    String response = get(socket, target);
    int body = response.indexOf("\r\n\r\n");
    if (!response.startsWith("HTTP/1.0 200") || body < 0) {
      throw new AssertionError("probe " + target + " answered: " + response);
    }
    try {
      return new ObjectMapper().readTree(response.substring(body + 4));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<String> lines(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }
}

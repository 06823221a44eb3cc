package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TURN credentials as the flock mints them: the spec's vectors (computed with OpenSSL), and a
 * real coturn with use-auth-secret that allocates a relay for a fresh credential and refuses a
 * wrong or expired one.
 */
class TurnRelayTest {
  private static final String SECRET = "s3cret-for-testing-only";

  @TempDir
  Path tmp;

  @Test
  void passwordsMatchTheSpecVectors() {
    JsonNode all;
    try {
      all = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Path.of(System.getProperty("intrustd.spec.dir",
          "../docs/spec"), "vectors", "turn-credentials.json").toFile());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    for (JsonNode v : all.get("vectors")) {
      assertThat(TurnRelay.password(v.get("secret").asText().getBytes(StandardCharsets.UTF_8), v.get("username").asText()))
          .as(v.toString()).isEqualTo(v.get("password").asText());
    }
  }

  @Test
  void aMintedCredentialNamesItsExpiryAndTheRelaysUrls() {
    TurnRelay relay = TurnRelay.at("192.0.2.1:3478", SECRET.getBytes(StandardCharsets.UTF_8), Duration.ofHours(24));
    IceServer s = relay.mint(Instant.ofEpochSecond(1_700_000_000));
    assertThat(s.urls()).containsExactly("turn:192.0.2.1:3478?transport=udp", "turn:192.0.2.1:3478?transport=tcp");
    assertThat(s.username()).contains((1_700_000_000L + 86_400) + ":intrustd");
    assertThat(s.credential()).contains(TurnRelay.password(SECRET.getBytes(StandardCharsets.UTF_8), s.username().orElseThrow()));
  }

  @Test
  void coturnAllocatesForAFreshCredentialAndRefusesAWrongOrExpiredOne() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Path log = tmp.resolve("turnserver.log");
    Process turn = new ProcessBuilder("turnserver", "-n", "-v", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
        "--listening-port", Integer.toString(port), "--use-auth-secret", "--static-auth-secret", SECRET, "--realm", "intrustd",
        "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--userdb", tmp.resolve("turndb").toString(),
        "--pidfile", tmp.resolve("turn.pid").toString(), "--log-file", "stdout")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); !Files.readString(log).contains("Total"); ) {
        assertThat(System.nanoTime()).as("coturn started: " + Files.readString(log)).isLessThan(end);
        Thread.sleep(50);
      }
      TurnRelay relay = TurnRelay.at("127.0.0.1:" + port, SECRET.getBytes(StandardCharsets.UTF_8), Duration.ofHours(1));
      IceServer fresh = relay.mint(Instant.now());
      IceServer expired = relay.mint(Instant.now().minus(Duration.ofHours(2)));
      IceServer other = relay.mint(Instant.now().plus(Duration.ofMinutes(5))); // a user name of its own
      allocate(port, fresh.username().orElseThrow(), fresh.credential().orElseThrow());
      allocate(port, other.username().orElseThrow(), "d3Jvbmcgd3Jvbmcgd3Jvbmc=");
      allocate(port, expired.username().orElseThrow(), expired.credential().orElseThrow());
      String seen = Files.readString(log);
      String success = ">: incoming packet ALLOCATE processed, success";
      assertThat(seen).contains("user <" + fresh.username().orElseThrow() + success);
      assertThat(seen).as("a wrong password").doesNotContain("user <" + other.username().orElseThrow() + success);
      assertThat(seen).as("an expired credential").doesNotContain("user <" + expired.username().orElseThrow() + success);
    } finally {
      turn.destroy();
      turn.waitFor(5, TimeUnit.SECONDS);
    }
  }

  /** One allocation attempt by coturn's own test client (it gives up after a few seconds either way). */
  private static void allocate(int port, String user, String password) throws IOException, InterruptedException {
    Process client = new ProcessBuilder(List.of("turnutils_uclient", "-u", user, "-w", password, "-p", Integer.toString(port),
        "-n", "1", "-m", "1", "-e", "127.0.0.1", "-X", "127.0.0.1"))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!client.waitFor(4, TimeUnit.SECONDS)) {
      client.destroyForcibly().waitFor();
    }
  }
}

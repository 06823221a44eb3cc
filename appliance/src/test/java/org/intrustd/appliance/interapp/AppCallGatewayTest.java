package org.intrustd.appliance.interapp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.appliance.testing.Apps;
import org.intrustd.appliance.testing.InProcessLauncher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One app calling another through the daemon, only when the owner granted it. */
class AppCallGatewayTest {
  @TempDir
  Path tmp;
  private AppSupervisor apps;
  private Grants grants;
  private AppCallGateway gateway;
  private Path daemonSocket;

  @BeforeEach
  void start() {
    Path state = tmp.resolve("state");
    apps = new AppSupervisor(AppRegistry.scan(List.of(Apps.hello(tmp.resolve("apps/photos"), "photos"),
        Apps.hello(tmp.resolve("apps/notes"), "notes"))), new InProcessLauncher(), state, Duration.ofSeconds(30),
        Duration.ofMinutes(10), InstantSource.system());
    grants = Grants.load(state);
    daemonSocket = apps.paths("photos").daemonSocket();
    gateway = AppCallGateway.start("photos", daemonSocket, grants, apps);
  }

  @AfterEach
  void stop() {
    gateway.close();
    apps.close();
  }

  private String call(String request) {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(daemonSocket));
      ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
      try (InputStream in = Channels.newInputStream(ch)) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void withoutAGrantTheCallIsRefusedAndTheTargetNeverStarts() {
    String answer = call("GET /echo?msg=hi HTTP/1.1\r\nHost: notes\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 403").contains("application/problem+json")
        .contains("intrustd app grant photos app:notes");
    assertThat(apps.running()).isEmpty();
  }

  @Test
  void withAGrantTheTargetAnswersAndSeesTheTrustedCaller() {
    grants.grant("photos", "app:notes", List.of());
    String answer = call("POST /echo HTTP/1.1\r\nHost: notes\r\nX-Intrustd-Caller-App: admin\r\n"
        + "Content-Length: 5\r\n\r\nhello");
    assertThat(answer).startsWith("HTTP/1.1 200").contains("X-Seen-Caller-App: photos").endsWith("hello")
        .doesNotContain("admin");
    assertThat(apps.running()).containsExactly("notes");
  }

  @Test
  void aSecondRequestOnTheSameConnectionNeverReachesTheTarget() {
    grants.grant("photos", "app:notes", List.of());
    String answer = call("POST /echo HTTP/1.1\r\nHost: notes\r\nContent-Length: 2\r\n\r\nok"
        + "GET /echo?msg=smuggled HTTP/1.1\r\nHost: notes\r\nX-Intrustd-Caller-App: admin\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 200").endsWith("ok").doesNotContain("smuggled");
  }

  @Test
  void revokingTakesEffectForTheNextCall() {
    grants.grant("photos", "app:notes", List.of());
    assertThat(call("GET /echo?msg=1 HTTP/1.1\r\nHost: notes\r\n\r\n")).startsWith("HTTP/1.1 200");
    grants.revoke("photos", "app:notes");
    assertThat(call("GET /echo?msg=2 HTTP/1.1\r\nHost: notes\r\n\r\n")).startsWith("HTTP/1.1 403");
  }

  @Test
  void unknownTargetsAndGarbageGetAProblem() {
    assertThat(call("GET / HTTP/1.1\r\nHost: nobody\r\n\r\n")).startsWith("HTTP/1.1 404").contains("no app named 'nobody'");
    assertThat(call("GET / HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 404");
    assertThat(call("\u0000\u0001garbage\r\n\r\n")).startsWith("HTTP/1.1 400");
    assertThat(call("GET /echo?msg=x HTTP/1.1\r\nHost: photos\r\n\r\n")).as("not even itself without a grant")
        .startsWith("HTTP/1.1 403");
  }
}

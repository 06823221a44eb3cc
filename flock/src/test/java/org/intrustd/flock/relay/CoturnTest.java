package org.intrustd.flock.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay the flock runs itself: a real coturn, started, used, killed, restarted and stopped. */
class CoturnTest {
  @TempDir
  Path tmp;

  @Test
  void servesFreshCredentialsKeepsItsSecretPrivateAndStopsWithTheFlock() throws Exception {
    Coturn coturn = Coturn.start(settings(freePort(), List.of()));
    long pid = pidOf(coturn);
    try {
      Path conf = tmp.resolve("relay/turnserver.conf");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(conf))).isEqualTo("rw-------");
      String secret = Files.readAllLines(conf).stream().filter(l -> l.startsWith("static-auth-secret="))
          .map(l -> l.substring("static-auth-secret=".length())).findFirst().orElseThrow();
      assertThat(secret).hasSizeGreaterThanOrEqualTo(43);
      String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
      assertThat(cmdline).contains("turnserver").doesNotContain(secret);
      assertThat(Files.readString(conf)).contains("no-cli", "no-multicast-peers", "use-auth-secret",
          "denied-peer-ip=10.0.0.0-10.255.255.255", "denied-peer-ip=127.0.0.0-127.255.255.255");

      assertThat(coturn.allocations()).isZero();
      IceServer credential = coturn.relay().mint(Instant.now());
      allocate(coturn, credential.username().orElseThrow(), credential.credential().orElseThrow());
      assertThat(Files.readString(coturn.log())).contains("user <" + credential.username().orElseThrow()
          + ">: incoming packet ALLOCATE processed, success");
      long allocated = coturn.allocations();
      assertThat(allocated).isPositive();
      allocate(coturn, credential.username().orElseThrow(), credential.credential().orElseThrow());
      assertThat(coturn.allocations()).isGreaterThan(allocated);
    } finally {
      coturn.close();
    }
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("coturn stopped").isFalse();
    assertThat(coturn.running()).isFalse();
  }

  @Test
  void aRelayThatDiesIsStartedAgainWithTheSameSecret() throws Exception {
    try (Coturn coturn = Coturn.start(settings(freePort(), List.of()))) {
      IceServer before = coturn.relay().mint(Instant.now());
      long first = pidOf(coturn);
      ProcessHandle.of(first).orElseThrow().destroyForcibly();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (!(coturn.running() && pidOf(coturn) != first)) {
        assertThat(System.nanoTime()).as("restarted").isLessThan(end);
        Thread.sleep(100);
      }
      allocate(coturn, before.username().orElseThrow(), before.credential().orElseThrow());
      assertThat(Files.readString(coturn.log())).contains("user <" + before.username().orElseThrow()
          + ">: incoming packet ALLOCATE processed, success");
    }
  }

  /** A flock killed with SIGKILL runs no shutdown hook: the kernel kills its coturn (setpriv --pdeathsig). */
  @Test
  void aFlockKilledOutrightTakesItsRelayWithIt() throws Exception {
    Process flock = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), Child.class.getName(), tmp.resolve("relay").toString(), Integer.toString(freePort()))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      String line = new java.io.BufferedReader(new java.io.InputStreamReader(flock.getInputStream())).readLine();
      assertThat(line).as("the child's coturn pid").isNotNull().matches("[0-9]+");
      ProcessHandle coturn = ProcessHandle.of(Long.parseLong(line)).orElseThrow();
      Thread.sleep(1000); // the child's main thread, which started the relay, has returned by now
      assertThat(coturn.isAlive()).as("coturn outlives the thread that started it").isTrue();
      flock.destroyForcibly().waitFor();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (coturn.isAlive()) {
        assertThat(System.nanoTime()).as("coturn gone with the flock").isLessThan(end);
        Thread.sleep(50);
      }
    } finally {
      flock.destroyForcibly();
    }
  }

  /** A stand-in flock: starts a relay, prints its pid, and waits (from main, which returns: the relay must outlive it). */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      Coturn coturn = Coturn.start(new Coturn.Settings(Path.of(args[0]), "127.0.0.1", Integer.parseInt(args[1]), List.of(),
          Duration.ofHours(1), Optional.empty()));
      Thread.ofPlatform().start(() -> {
        try {
          Thread.sleep(Duration.ofMinutes(5));
        } catch (InterruptedException e) {
          // done
        }
      });
      System.out.println(coturn.pid());
      System.out.flush();
    }
  }

  @Test
  void saysWhatIsMissingOrWrong() throws Exception {
    Coturn.Settings missing = new Coturn.Settings(tmp.resolve("relay"), "127.0.0.1", 3478, List.of(), Duration.ofHours(1),
        Optional.of(tmp.resolve("no-such-turnserver")));
    assertThatThrownBy(() -> Coturn.start(missing)).isInstanceOf(RelayException.class).hasMessageContaining("no-such-turnserver");
    assertThatThrownBy(() -> new Coturn.Settings(tmp, "relay.example", 3478, List.of(), Duration.ofHours(1), Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theConfigurationAllowsWhatItIsToldOnTopOfTheDenials() {
    String conf = Coturn.configuration(settings(3478, List.of(AddressRange.parse("198.18.0.0/15"))), "s");
    assertThat(conf).contains("allowed-peer-ip=198.18.0.0-198.19.255.255", "denied-peer-ip=198.18.0.0-198.19.255.255",
        "listening-ip=127.0.0.1", "relay-ip=127.0.0.1", "listening-port=3478", "fingerprint", "no-tls", "no-dtls");
    assertThat(conf.indexOf("allowed-peer-ip")).isGreaterThan(conf.lastIndexOf("denied-peer-ip"));
  }

  private Coturn.Settings settings(int port, List<AddressRange> allowed) {
    return new Coturn.Settings(tmp.resolve("relay"), "127.0.0.1", port, allowed, Duration.ofHours(1), Optional.empty());
  }

  private static int freePort() throws IOException {
    try (ServerSocket probe = new ServerSocket(0)) {
      return probe.getLocalPort();
    }
  }

  private static long pidOf(Coturn coturn) {
    return coturn.pid();
  }

  /** One allocation by coturn's own test client (it gives up after a few seconds either way). */
  private static void allocate(Coturn coturn, String user, String password) throws IOException, InterruptedException {
    String hostPort = coturn.stun().urls().get(0).substring("stun:".length());
    String port = hostPort.substring(hostPort.lastIndexOf(':') + 1);
    Process client = new ProcessBuilder(List.of("turnutils_uclient", "-u", user, "-w", password, "-p", port, "-n", "1", "-m",
        "1", "-e", "127.0.0.1", "-X", "127.0.0.1"))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!client.waitFor(4, TimeUnit.SECONDS)) {
      client.destroyForcibly().waitFor();
    }
  }
}

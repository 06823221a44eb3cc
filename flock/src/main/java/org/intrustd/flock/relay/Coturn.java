package org.intrustd.flock.relay;

import java.io.File;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.flock.TurnRelay;

/**
 * A coturn {@code turnserver} that this flock starts, supervises and stops: the STUN server and
 * TURN relay of docs/relay.md. It gets a fresh shared secret at every start (written to its
 * configuration file, mode 0600, never on a command line where {@code ps} would show it), its
 * own port (UDP and TCP), no CLI or telnet interface, no TLS, no multicast peers, and must not
 * relay to private or special-purpose addresses ({@link AddressRange#PRIVATE_AND_SPECIAL})
 * except those {@link Settings#allowedPeers} names. Its output comes to the flock through a
 * pipe and goes to {@code turnserver.log} in its directory, kept to {@link #LOG_LIMIT} bytes and
 * one older file ({@link RelayLog}). When it dies it is started again (with the same secret, so
 * that credentials the flock handed out stay good), at most every {@link #MAX_BACKOFF}; when the
 * flock dies, even by SIGKILL, it dies too (see {@link #command}). Thread-safe.
 */
public final class Coturn implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Coturn.class.getName());
  static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  /** Bytes of log before {@code turnserver.log} moves to {@code turnserver.log.1} (a verbose line is ~150 bytes). */
  static final long LOG_LIMIT = 16L << 20;
  /** What coturn prints once its listeners and relay threads run. */
  private static final String STARTED = "Total General servers";
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * How to run it.
   *
   * @param dir where its configuration, log, pid file and user database go (made if missing)
   * @param address the IP it listens on and that browsers and appliances reach it at
   * @param port its UDP and TCP port
   * @param allowedPeers private or special blocks it may still relay to (a test network, a LAN
   *     the owner wants reachable); coturn lets these override the denied ones
   * @param lifetime how long a credential the flock mints for it lasts
   * @param binary the {@code turnserver} program; empty: looked up on the PATH
   */
  public record Settings(Path dir, String address, int port, List<AddressRange> allowedPeers, Duration lifetime,
      Optional<Path> binary) {
    public Settings {
      allowedPeers = List.copyOf(allowedPeers);
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("the relay's port must be 1-65535, not " + port);
      }
      if (address.contains("/")) {
        throw new IllegalArgumentException("the relay's address is one IP, not a block: " + address);
      }
      AddressRange.parse(address); // an IP literal: coturn listens on it and clients dial it
    }
  }

  private final Settings settings;
  private final Path binary;
  private final byte[] secret;
  private final Path log;
  private final RelayLog output;
  private final Thread supervisor;
  /** The first start's outcome, which {@link #start} waits for (the supervisor makes every start, see {@link #command}). */
  private final java.util.concurrent.CompletableFuture<Void> firstStart = new java.util.concurrent.CompletableFuture<>();
  private final Thread onExit = new Thread(this::close, "coturn-stop");
  private volatile Process process;
  private volatile boolean closed;

  private Coturn(Settings settings, Path binary, byte[] secret) {
    this.settings = settings;
    this.binary = binary;
    this.secret = secret;
    this.log = settings.dir().resolve("turnserver.log");
    this.output = new RelayLog(log, LOG_LIMIT);
    this.supervisor = Thread.ofPlatform().daemon().name("coturn-supervisor").unstarted(this::supervise);
  }

  /** Writes its configuration, starts it and waits until it serves; {@link RelayException} when it cannot. */
  public static Coturn start(Settings settings) {
    Path binary = settings.binary().orElseGet(() -> onPath("turnserver").orElseThrow(() -> new RelayException(
        "the relay needs coturn's turnserver, which is not installed (Debian: apt-get install coturn;"
            + " ./intrustd installs it)", null)));
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String text = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    try {
      Files.createDirectories(settings.dir());
      writePrivate(settings.dir().resolve("turnserver.conf"), configuration(settings, text));
    } catch (IOException e) {
      throw new RelayException("cannot write the relay's configuration in " + settings.dir() + ": " + e.getMessage(), e);
    }
    Coturn coturn = new Coturn(settings, binary, text.getBytes(StandardCharsets.US_ASCII));
    coturn.supervisor.start();
    try {
      coturn.firstStart.join();
    } catch (java.util.concurrent.CompletionException e) {
      coturn.close();
      throw e.getCause() instanceof RelayException r ? r : new RelayException("the relay did not start: " + e.getCause(), e);
    }
    // At JVM exit the relay goes at once: a SIGTERM to the whole process group reaches coturn too,
    // and the supervisor must not start it again behind a flock that is going away.
    Runtime.getRuntime().addShutdownHook(coturn.onExit);
    LOG.log(Level.INFO, "relay (coturn) serving " + settings.address() + ":" + settings.port() + " UDP and TCP, log "
        + coturn.log);
    return coturn;
  }

  /** The relay for the flock to mint credentials for (its secret is this run's). */
  public TurnRelay relay() {
    return TurnRelay.at(hostPort(), secret, settings.lifetime());
  }

  /** The same server as a plain STUN server (server-reflexive candidates need no credential). */
  public IceServer stun() {
    return new IceServer(List.of("stun:" + hostPort()), Optional.empty(), Optional.empty());
  }

  /** Its log file (allocations, refusals, errors). */
  public Path log() {
    return log;
  }

  /** Whether its process runs now. */
  public boolean running() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** The current process's id, -1 when none runs (for tests and diagnostics). */
  long pid() {
    Process p = process;
    return p == null ? -1 : p.pid();
  }

  private String hostPort() {
    String a = settings.address();
    return (a.contains(":") ? "[" + a + "]" : a) + ":" + settings.port();
  }

  /**
   * coturn's configuration. Every line is there for a reason: {@code fingerprint} because
   * WebRTC sends and expects it; {@code no-tls}/{@code no-dtls} because the link is DTLS
   * already and the relay sees only ciphertext; {@code no-cli} so that no telnet admin port
   * opens; {@code no-multicast-peers} and the denied blocks so that the relay reaches only the
   * internet; {@code log-file=stdout} because its output comes to the flock, which keeps the log.
   */
  static String configuration(Settings s, String secret) {
    List<String> lines = new ArrayList<>(List.of(
        "# Written by the intrustd flock at each start; the secret changes every time.",
        "listening-ip=" + s.address(),
        "relay-ip=" + s.address(),
        "listening-port=" + s.port(),
        "realm=intrustd",
        "use-auth-secret",
        "static-auth-secret=" + secret,
        "fingerprint",
        "no-tls",
        "no-dtls",
        "no-cli",
        "no-multicast-peers",
        "no-software-attribute",
        "userdb=" + s.dir().resolve("turndb"),
        "pidfile=" + s.dir().resolve("turnserver.pid"),
        "log-file=stdout",
        "simple-log",
        // One line per allocation, refresh and permission (not per packet): what an operator
        // needs to see who used the relay and why one was refused.
        "verbose"));
    for (AddressRange r : AddressRange.PRIVATE_AND_SPECIAL) {
      lines.add("denied-peer-ip=" + r.coturn());
    }
    for (AddressRange r : s.allowedPeers()) {
      lines.add("allowed-peer-ip=" + r.coturn());
    }
    return String.join("\n", lines) + "\n";
  }

  /**
   * The command line: {@code turnserver -c FILE}, under {@code setpriv --pdeathsig KILL} where
   * util-linux has it (every Debian), so that the kernel kills coturn when the flock goes,
   * however it goes; without it a flock killed by SIGKILL left coturn holding its port. The
   * signal comes when the <em>thread</em> that started the process ends, which is why the
   * supervisor, a thread that lasts as long as the relay, makes every start.
   */
  private List<String> command() {
    List<String> command = new ArrayList<>();
    onPath("setpriv").ifPresent(setpriv -> command.addAll(List.of(setpriv.toString(), "--pdeathsig", "KILL", "--")));
    // -c: our file instead of /etc/turnserver.conf (-n would make it read none at all).
    command.addAll(List.of(binary.toString(), "-c", settings.dir().resolve("turnserver.conf").toString()));
    return command;
  }

  /** Starts coturn, its output read into the log by a thread of its own, and waits until it serves. */
  private Process launch() {
    Process p;
    try {
      p = new ProcessBuilder(command()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new RelayException("cannot start " + binary + ": " + e.getMessage(), e);
    }
    java.util.concurrent.CountDownLatch serving = new java.util.concurrent.CountDownLatch(1);
    Thread.ofPlatform().daemon().name("coturn-output").start(() -> {
      try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          output.append(line);
          if (line.contains(STARTED)) {
            serving.countDown();
          }
        }
      } catch (IOException e) {
        // the pipe closed: coturn is gone
      }
    });
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    try {
      while (!serving.await(50, TimeUnit.MILLISECONDS)) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          p.destroyForcibly();
          throw new RelayException("the relay (coturn) did not start on " + hostPort() + "; its log says:\n"
              + String.join("\n", output.tail()), null);
        }
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new RelayException("interrupted while the relay started", e);
    }
    return p;
  }

  /** Starts coturn again whenever it dies, until closed; waits longer after each quick death. */
  private void supervise() {
    try {
      process = launch();
      firstStart.complete(null);
    } catch (RelayException e) {
      firstStart.completeExceptionally(e);
      return;
    }
    Duration backoff = Duration.ofSeconds(1);
    while (!closed) {
      Process p = process;
      long started = System.nanoTime();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        return; // closing
      }
      if (closed) {
        return;
      }
      LOG.log(Level.WARNING, "the relay (coturn) exited with status " + p.exitValue() + "; starting it again in "
          + backoff.toSeconds() + " s (log: " + log + ")");
      backoff = System.nanoTime() - started > MAX_BACKOFF.toNanos() ? Duration.ofSeconds(1) : backoff;
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        return;
      }
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
      synchronized (this) {
        if (closed) {
          return;
        }
        try {
          process = launch();
        } catch (RelayException e) {
          LOG.log(Level.WARNING, e.getMessage());
        }
      }
    }
  }

  /**
   * Relay allocations granted since this relay started (a Prometheus counter reads it on each
   * scrape), counted in its output: coturn has no metrics of its own in Debian's build.
   */
  public long allocations() {
    return output.allocations();
  }

  /** Stops coturn (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (Thread.currentThread() != onExit) {
      try {
        Runtime.getRuntime().removeShutdownHook(onExit);
      } catch (IllegalStateException e) {
        // the JVM is exiting: the hook runs (or ran) anyway
      }
    }
    // coturn first, then its supervisor: the supervisor's end would kill it at once (pdeathsig).
    Process p = process;
    if (p != null) {
      p.destroy();
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    supervisor.interrupt();
    output.close();
  }

  /** Created with mode 0600 before the secret is written into it. */
  private static void writePrivate(Path file, String content) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, content, StandardOpenOption.TRUNCATE_EXISTING);
  }

  static Optional<Path> onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }
}

package org.intrustd.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.flock.FlockConfig;
import org.intrustd.flock.TurnRelay;
import org.intrustd.flock.relay.AddressRange;
import org.intrustd.flock.relay.Coturn;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** Options that describe a flock, shared by {@code flock} and {@code demo}. */
final class FlockOptions {
  @Option(names = "--host", description = "Address to listen on (default: ${DEFAULT-VALUE}).", defaultValue = "127.0.0.1")
  String host;

  @Option(names = "--port", description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).",
      defaultValue = "8480")
  int port;

  @Option(names = "--static", paramLabel = "/PREFIX=DIR", description = "Serve the files of DIR under /PREFIX (repeatable).")
  List<String> statics = new ArrayList<>();

  @Option(names = "--stun", paramLabel = "HOST:PORT",
      description = "A STUN server to hand appliances and browsers (repeatable), e.g. the coturn beside this flock;"
          + " none by default: no public server is ever assumed.")
  List<String> stun = new ArrayList<>();

  @Option(names = "--turn", paramLabel = "HOST:PORT",
      description = "A TURN relay (coturn with use-auth-secret) for whose secret the flock mints credentials, per link.")
  String turn;

  @Option(names = "--turn-secret-file", paramLabel = "FILE",
      description = "The secret shared with the TURN relay (its static-auth-secret), the file's first line.")
  Path turnSecretFile;

  @Option(names = "--turn-hours", paramLabel = "N", defaultValue = "24",
      description = "How long a minted TURN credential lasts, in hours (a relayed link needs it that long; default: ${DEFAULT-VALUE}).")
  int turnHours;

  @Option(names = "--relay",
      description = "Start a TURN relay and STUN server (coturn's turnserver) beside the flock, with a fresh secret,"
          + " and hand out credentials for it (docs/relay.md).")
  boolean relay;

  @Option(names = "--relay-address", paramLabel = "IP",
      description = "The IP the relay listens on and browsers and appliances reach it at (default: --host, unless that"
          + " is a wildcard).")
  String relayAddress;

  @Option(names = "--relay-port", paramLabel = "PORT", defaultValue = "3478",
      description = "The relay's UDP and TCP port (default: ${DEFAULT-VALUE}).")
  int relayPort;

  @Option(names = "--relay-allow-peer", paramLabel = "CIDR",
      description = "A private or special block the relay may still forward to (repeatable; by default it reaches"
          + " public addresses only, never this host's networks).")
  List<String> relayAllowPeers = new ArrayList<>();

  @Option(names = "--relay-dir", paramLabel = "DIR",
      description = "Where the relay's configuration (mode 0600) and log go (default: $XDG_STATE_HOME/intrustd/relay,"
          + " or ~/.local/state/intrustd/relay).")
  Path relayDir;

  /**
   * Starts the relay that {@code --relay} asks for, and returns it with {@code config} now
   * minting credentials for it and naming it as a STUN server; empty without {@code --relay}.
   */
  java.util.Optional<Relayed> startRelay(picocli.CommandLine cmd, FlockConfig config) {
    if (!relay) {
      return java.util.Optional.empty();
    }
    if (turn != null) {
      throw new ParameterException(cmd, "--relay starts a relay of its own: leave out --turn");
    }
    String address = relayAddress != null ? relayAddress : host;
    if (address.equals("0.0.0.0") || address.equals("::") || address.equals("[::]")) {
      throw new ParameterException(cmd, "--relay: say with --relay-address which IP browsers and appliances reach it at");
    }
    List<AddressRange> allowed = new ArrayList<>();
    for (String block : relayAllowPeers) {
      try {
        allowed.add(AddressRange.parse(block));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(cmd, "--relay-allow-peer: " + e.getMessage());
      }
    }
    if (turnHours < 1 || turnHours > 24 * 30) {
      throw new ParameterException(cmd, "--turn-hours must be 1 to 720");
    }
    Coturn.Settings settings;
    try {
      settings = new Coturn.Settings(relayDir != null ? relayDir : defaultRelayDir(), address, relayPort, allowed,
          java.time.Duration.ofHours(turnHours), java.util.Optional.empty());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cmd, "--relay: " + e.getMessage());
    }
    Coturn coturn = Coturn.start(settings);
    List<IceServer> ice = new ArrayList<>(config.iceServers());
    ice.add(coturn.stun());
    return java.util.Optional.of(new Relayed(config.withIceServers(ice).withTurn(coturn.relay()), coturn));
  }

  /** A flock configuration with the relay it mints credentials for. */
  record Relayed(FlockConfig config, Coturn coturn) {}

  private static Path defaultRelayDir() {
    String xdg = System.getenv("XDG_STATE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
    return base.resolve("intrustd").resolve("relay");
  }

  FlockConfig toConfig(picocli.CommandLine cmd) {
    if (port < 0 || port > 65_535) {
      throw new ParameterException(cmd, "--port must be 0-65535, not " + port);
    }
    FlockConfig config = FlockConfig.defaults().withHost(host).withPort(port);
    for (String mount : statics) {
      config = withStatic(cmd, config, mount);
    }
    List<IceServer> ice = new ArrayList<>();
    for (String server : stun) {
      if (!server.matches(HOST_PORT)) {
        throw new ParameterException(cmd, "--stun wants HOST:PORT, not '" + server + "'");
      }
      ice.add(new IceServer(List.of("stun:" + server), Optional.empty(), Optional.empty()));
    }
    if (!ice.isEmpty()) {
      config = config.withIceServers(ice);
    }
    if ((turn == null) != (turnSecretFile == null)) {
      throw new ParameterException(cmd, "--turn and --turn-secret-file go together");
    }
    if (turn != null) {
      if (!turn.matches(HOST_PORT)) {
        throw new ParameterException(cmd, "--turn wants HOST:PORT, not '" + turn + "'");
      }
      if (turnHours < 1 || turnHours > 24 * 30) {
        throw new ParameterException(cmd, "--turn-hours must be 1 to 720");
      }
      String secret;
      try {
        secret = Files.readString(turnSecretFile).lines().findFirst().orElse("").strip();
      } catch (java.io.IOException e) {
        throw new ParameterException(cmd, "--turn-secret-file: cannot read " + turnSecretFile + ": " + e.getMessage());
      }
      if (secret.length() < 16) {
        throw new ParameterException(cmd, "--turn-secret-file: the secret must be at least 16 characters");
      }
      config = config.withTurn(TurnRelay.at(turn, secret.getBytes(java.nio.charset.StandardCharsets.UTF_8),
          java.time.Duration.ofHours(turnHours)));
    }
    return config;
  }

  private static final String HOST_PORT = "[A-Za-z0-9.\\-]+:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}";

  static FlockConfig withStatic(picocli.CommandLine cmd, FlockConfig config, String mount) {
    int eq = mount.indexOf('=');
    if (eq <= 0) {
      throw new ParameterException(cmd, "--static wants /PREFIX=DIR, not '" + mount + "'");
    }
    Path dir = Path.of(mount.substring(eq + 1));
    if (!Files.isDirectory(dir)) {
      throw new ParameterException(cmd, "--static: '" + dir + "' is not a directory");
    }
    try {
      return config.withStatic(mount.substring(0, eq), dir);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cmd, "--static: " + e.getMessage());
    }
  }
}

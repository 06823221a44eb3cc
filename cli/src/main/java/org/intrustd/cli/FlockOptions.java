package org.intrustd.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.flock.FlockConfig;
import org.intrustd.flock.TurnRelay;
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

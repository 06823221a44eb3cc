package org.intrustd.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.flock.FlockConfig;
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
      if (!server.matches("[A-Za-z0-9.\\-]+:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}")) {
        throw new ParameterException(cmd, "--stun wants HOST:PORT, not '" + server + "'");
      }
      ice.add(new IceServer(List.of("stun:" + server), Optional.empty(), Optional.empty()));
    }
    return ice.isEmpty() ? config : config.withIceServers(ice);
  }

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

package org.intrustd.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.intrustd.flock.Flock;
import org.intrustd.flock.FlockConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "flock", mixinStandardHelpOptions = true,
    description = "Run a flock: the rendezvous server that introduces browsers to appliances.",
    footer = {"", "Every option can also be set in the --config file, as KEY=VALUE with the option's name without"
        + " its dashes (lists comma-separated); the command line wins. docs/flock.md lists them all."})
final class FlockCommand implements Callable<Integer> {
  @Mixin
  FlockOptions options = new FlockOptions();

  @Mixin
  OperationsOptions operations = new OperationsOptions();

  @Option(names = "--config", paramLabel = "FILE",
      description = "A .properties file of options (port=8480, tls-cert=..., ...); the command line wins.")
  Path config;

  @Mixin
  ClusterOptions cluster = new ClusterOptions();

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    CommandLine cmd = spec.commandLine();
    if (config != null) {
      ConfigFile.apply(cmd, config);
    }
    if (operations.jsonLogs(cmd)) {
      JsonLogFormatter.install();
    }
    FlockConfig configured = operations.apply(cmd, options.toConfig(cmd));
    Optional<FlockOptions.Relayed> relay = options.startRelay(cmd, configured);
    FlockConfig flockConfig = relay.map(FlockOptions.Relayed::config).orElse(configured);
    Flock flock;
    try {
      flock = cluster.toConfig(cmd).map(c -> Flock.start(flockConfig, c)).orElseGet(() -> Flock.start(flockConfig));
    } catch (RuntimeException e) {
      relay.ifPresent(r -> r.coturn().close());
      throw e;
    }
    String scheme = flock.uri().getScheme().equals("wss") ? "https" : "http";
    String http = scheme + "://" + flock.uri().getHost() + ":" + flock.port();
    System.out.println("flock listening on " + flock.uri());
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("flock", flock.uri().toString().replaceAll("/$", ""));
    facts.put("http", http);
    flock.opsPort().ifPresent(port -> {
      String host = flockConfig.serving().ops().orElseThrow().host();
      facts.put("ops", "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
    });
    relay.ifPresent(r -> {
      flock.countRelayAllocations(r.coturn()::allocations);
      System.out.println("relay (coturn) at " + r.coturn().stun().urls().get(0).substring("stun:".length())
          + ", log " + r.coturn().log());
      facts.put("relayLog", r.coturn().log().toString());
    });
    Ready.announce(facts);
    Ready.runUntilStopped(() -> {
      flock.close();
      relay.ifPresent(r -> r.coturn().close());
    });
    return 0;
  }
}

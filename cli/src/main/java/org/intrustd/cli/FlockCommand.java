package org.intrustd.cli;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.intrustd.flock.Flock;
import org.intrustd.flock.FlockConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "flock", mixinStandardHelpOptions = true,
    description = "Run a flock: the rendezvous server that introduces browsers to appliances.")
final class FlockCommand implements Callable<Integer> {
  @Mixin
  FlockOptions options = new FlockOptions();

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    FlockConfig config = options.toConfig(spec.commandLine());
    Optional<FlockOptions.Relayed> relay = options.startRelay(spec.commandLine(), config);
    Flock flock;
    try {
      flock = Flock.start(relay.map(FlockOptions.Relayed::config).orElse(config));
    } catch (RuntimeException e) {
      relay.ifPresent(r -> r.coturn().close());
      throw e;
    }
    String http = "http://" + flock.uri().getHost() + ":" + flock.port();
    System.out.println("flock listening on " + flock.uri());
    Map<String, String> facts = new java.util.LinkedHashMap<>(Map.of("flock", flock.uri().toString().replaceAll("/$", ""),
        "http", http));
    relay.ifPresent(r -> {
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

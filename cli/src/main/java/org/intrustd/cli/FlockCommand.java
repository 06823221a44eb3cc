package org.intrustd.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import org.intrustd.flock.Flock;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "flock", mixinStandardHelpOptions = true,
    description = "Run a flock: the rendezvous server that introduces browsers to appliances.")
final class FlockCommand implements Callable<Integer> {
  @Mixin
  FlockOptions options = new FlockOptions();

  @Mixin
  ClusterOptions cluster = new ClusterOptions();

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    var config = options.toConfig(spec.commandLine());
    Flock flock = cluster.toConfig(spec.commandLine()).map(c -> Flock.start(config, c)).orElseGet(() -> Flock.start(config));
    String http = "http://" + flock.uri().getHost() + ":" + flock.port();
    System.out.println("flock listening on " + flock.uri());
    Ready.announce(Map.of("flock", flock.uri().toString().replaceAll("/$", ""), "http", http));
    Ready.runUntilStopped(flock::close);
    return 0;
  }
}

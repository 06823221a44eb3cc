package org.intrustd.cli;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.intrustd.appliance.ApplianceConfig;
import org.intrustd.appliance.ApplianceDaemon;
import org.intrustd.link.webrtc.WebRtcLinkFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "appliance", mixinStandardHelpOptions = true,
    description = "Run the appliance daemon: register with a flock and serve the installed apps peer to peer.")
final class ApplianceCommand implements Callable<Integer> {
  @Mixin
  ApplianceOptions options = new ApplianceOptions();

  @Option(names = "--flock", required = true, description = "The flock's URL, e.g. ws://127.0.0.1:8480; repeat it"
      + " with the other nodes of a clustered flock, tried in turn when one fails (docs/flock-cluster.md).")
  List<URI> flocks;

  @Override
  public Integer call() throws Exception {
    URI flock = flocks.getFirst();
    ApplianceConfig config = options.config(flock).withMoreFlocks(flocks.subList(1, flocks.size()));
    ApplianceDaemon daemon = ApplianceDaemon.start(config, options.launcher(), WebRtcLinkFactory.create());
    System.out.println("appliance " + daemon.id() + " registering with " + flock);
    if (!daemon.awaitRegistered(10_000)) {
      System.out.println("still waiting for the flock at " + flock + "; retrying in the background");
    }
    Map<String, String> facts = new java.util.LinkedHashMap<>(Map.of("applianceId", daemon.id().toString(),
        "flock", flock.toString()));
    daemon.claimCode().ifPresent(code -> {
      System.out.println("not claimed yet: claim this appliance with the one-time code " + code);
      facts.put("claimCode", code);
    });
    daemon.lanPort().ifPresent(port -> facts.put("lanPort", Integer.toString(port)));
    Ready.announce(facts);
    Ready.runUntilStopped(daemon::close);
    return 0;
  }
}

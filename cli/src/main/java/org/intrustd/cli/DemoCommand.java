package org.intrustd.cli;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.intrustd.appliance.ApplianceConfig;
import org.intrustd.appliance.ApplianceDaemon;
import org.intrustd.appliance.settings.Settings;
import org.intrustd.appliance.settings.SettingsStore;
import org.intrustd.flock.Flock;
import org.intrustd.flock.FlockConfig;
import org.intrustd.link.webrtc.WebRtcLinkFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a local flock and an appliance with the hello app, and print the demo page's URL.")
final class DemoCommand implements Callable<Integer> {
  @Mixin
  FlockOptions flockOptions = new FlockOptions();

  @Mixin
  ApplianceOptions applianceOptions = new ApplianceOptions();

  @Option(names = "--web", paramLabel = "DIR", required = true,
      description = "The web folder holding shim/dist and demo (the launcher passes it).")
  Path web;

  @Option(names = "--admin", paramLabel = "DIR",
      description = "The admin app's folder (apps/admin), served under /admin (the launcher passes it).")
  Path admin;

  @Option(names = "--photos", paramLabel = "DIR",
      description = "The photos app's web folder (apps/photos/web), served under /photos (the launcher passes it).")
  Path photos;

  @Option(names = "--backups", paramLabel = "DIR",
      description = "The backups app's web folder (apps/backups/web), served under /backups (the launcher passes it).")
  Path backups;

  @Option(names = "--mail", paramLabel = "DIR",
      description = "The mail app's web folder (apps/mail/web), served under /mail (the launcher passes it).")
  Path mail;

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    for (Path dir : new Path[] {web.resolve("shim/dist"), web.resolve("demo")}) {
      if (!Files.isDirectory(dir)) {
        throw new ParameterException(spec.commandLine(), dir + " is missing (build the shim: npm run build)");
      }
    }
    for (Path dir : new Path[] {admin, photos, backups, mail}) {
      if (dir != null && !Files.isDirectory(dir)) {
        throw new ParameterException(spec.commandLine(), dir + " is not a directory");
      }
    }
    FlockConfig flockConfig = flockOptions.toConfig(spec.commandLine())
        .withStatic("/shim", web.resolve("shim/dist")).withStatic("/demo", web.resolve("demo"));
    if (admin != null) {
      flockConfig = flockConfig.withStatic("/admin", admin);
    }
    if (photos != null) {
      flockConfig = flockConfig.withStatic("/photos", photos);
    }
    if (backups != null) {
      flockConfig = flockConfig.withStatic("/backups", backups);
    }
    if (mail != null) {
      flockConfig = flockConfig.withStatic("/mail", mail);
    }
    java.util.Optional<FlockOptions.Relayed> relay = flockOptions.startRelay(spec.commandLine(), flockConfig);
    Flock flock;
    try {
      flock = Flock.start(relay.map(FlockOptions.Relayed::config).orElse(flockConfig));
    } catch (RuntimeException e) {
      relay.ifPresent(r -> r.coturn().close());
      throw e;
    }
    URI flockUri = URI.create("ws://" + flock.uri().getHost() + ":" + flock.port());
    ApplianceDaemon daemon;
    try {
      ApplianceConfig config = applianceOptions.config(flockUri);
      keepTheDemoFlock(config);
      daemon = ApplianceDaemon.start(config, applianceOptions.launcher(), WebRtcLinkFactory.create());
    } catch (RuntimeException e) {
      flock.close();
      relay.ifPresent(r -> r.coturn().close());
      throw e;
    }
    daemon.awaitRegistered(10_000);
    String url = "http://" + flock.uri().getHost() + ":" + flock.port() + "/demo/?appliance=" + daemon.id();
    System.out.println();
    System.out.println("  Intrustd is running: a local flock and your appliance.");
    System.out.println("  Appliance ID: " + daemon.id());
    System.out.println("  Open in a browser: " + url);
    if (admin != null) {
      System.out.println("  Administer it:     " + url.replace("/demo/", "/admin/"));
    }
    if (photos != null) {
      System.out.println("  Your photos:       " + url.replace("/demo/", "/photos/"));
    }
    if (backups != null) {
      System.out.println("  Your backups:      " + url.replace("/demo/", "/backups/"));
    }
    if (mail != null) {
      System.out.println("  Your mail:         " + url.replace("/demo/", "/mail/"));
    }
    relay.ifPresent(r -> System.out.println("  Relay (coturn):    " + r.coturn().stun().urls().get(0).substring("stun:".length())
        + ", log " + r.coturn().log()));
    daemon.claimCode().ifPresent(code -> System.out.println("  Claim code (makes you its owner, once): " + code));
    System.out.println("  Stop with Ctrl-C.");
    System.out.println();
    Map<String, String> facts = new java.util.LinkedHashMap<>(Map.of("applianceId", daemon.id().toString(),
        "flock", flockUri.toString(), "url", url));
    daemon.claimCode().ifPresent(code -> facts.put("claimCode", code));
    daemon.lanPort().ifPresent(port -> facts.put("lanPort", Integer.toString(port)));
    Ready.announce(facts);
    Ready.runUntilStopped(() -> {
      daemon.close();
      flock.close();
      relay.ifPresent(r -> r.coturn().close());
    });
    return 0;
  }

  /**
   * The demo's page talks to the demo's own flock, so its appliance registers there whatever
   * flock was saved in its settings (in the admin app, say): the saved name is kept.
   */
  static void keepTheDemoFlock(ApplianceConfig config) throws java.io.IOException {
    SettingsStore store = new SettingsStore(config.stateDir());
    java.util.Optional<Settings> saved = store.load();
    if (saved.isPresent() && !saved.get().flock().equals(config.flock())) {
      System.out.println("  (the saved flock " + saved.get().flock() + " is set aside: the demo uses its own)");
      store.save(new Settings(saved.get().name(), config.flock()));
    }
  }
}

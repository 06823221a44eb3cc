package org.intrustd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.intrustd.appliance.control.ControlClient;
import org.intrustd.appliance.lan.LanBrowser;
import org.intrustd.client.ClientException;
import org.intrustd.core.id.ApplianceId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code intrustd claim}: becomes the owner of a new appliance from a laptop on its LAN, with
 * the one-time code it printed, over an end-to-end link to it (its LAN flock, found by mDNS).
 */
@Command(name = "claim", mixinStandardHelpOptions = true,
    description = "Claim a new appliance on this LAN with the one-time code it printed: become its owner.",
    footer = {"", "The appliance is found by mDNS (intrustd discover lists the LAN's);",
        "with --flock it is reached through that flock instead. The code is asked",
        "if not given; the new owner's password is asked twice (or read from",
        "standard input with --password-stdin).",
        "", "Examples:", "  intrustd claim", "  intrustd claim --appliance XXXXXXX-... --code ABCDE-FGHJK --persona alice",
        "", "Exit codes: 0 claimed; 1 refused (wrong code, claimed already) or unreachable; 2 bad usage."})
final class ClaimCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--appliance", paramLabel = "ID",
      description = "The appliance to claim (default: the only unclaimed one on this LAN).")
  String appliance;

  @Option(names = "--flock", paramLabel = "URL", description = "Reach the appliance through this flock, not the LAN.")
  URI flock;

  @Option(names = "--code", paramLabel = "CODE", description = "The one-time claim code the appliance printed.")
  String code;

  @Option(names = "--persona", paramLabel = "NAME", defaultValue = "owner",
      description = "The owner persona's name (default: ${DEFAULT-VALUE}).")
  String persona;

  @Option(names = "--display-name", paramLabel = "TEXT", description = "The owner's name as people see it.")
  String displayName;

  @Option(names = "--password-stdin", description = "Read the new password from the first line of standard input.")
  boolean passwordStdin;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    var cl = spec.commandLine();
    try {
      ApplianceId id;
      URI route;
      if (flock != null) {
        if (appliance == null) {
          throw new ParameterException(cl, "with --flock, say which appliance: --appliance ID");
        }
        id = Remote.parseId(cl, appliance);
        route = Remote.route(cl, id, flock);
      } else {
        LanBrowser.Found target = unclaimedOnLan(appliance == null ? null : Remote.parseId(cl, appliance));
        id = target.record().id();
        route = Remote.lanFlock(target);
        cl.getOut().printf("claiming \"%s\" (%s) at %s%n", target.record().name(), id, route);
      }
      String theCode = code != null ? code : askCode();
      String password = Passwords.newPassword(cl, passwordStdin);
      ObjectNode body = JSON.createObjectNode().put("code", theCode).put("persona", persona).put("password", password)
          .put("displayName", displayName == null ? persona : displayName).put("deviceKey", Remote.deviceKey())
          .put("label", "cli");
      try (Remote r = Remote.connect(route, id)) {
        ControlClient.Response answer = r.call(Remote.SESSION, "POST", "/v1/claim", body);
        if (!answer.ok()) {
          cl.getErr().println("intrustd: " + answer.detail());
          return ControlCommand.REFUSED;
        }
        r.logout();
      }
      cl.getOut().printf("claimed %s: '%s' is its owner. Log in from a browser, or run commands on it with%n"
          + "  intrustd status --appliance %s --login %s%n", id, persona, id, persona);
      return 0;
    } catch (ClientException e) {
      cl.getErr().println("intrustd: " + e.getMessage());
      return ControlCommand.REFUSED;
    }
  }

  private LanBrowser.Found unclaimedOnLan(ApplianceId wanted) {
    if (wanted != null) {
      LanBrowser.Found f = LanBrowser.find(wanted, Duration.ofSeconds(5), List.of())
          .orElseThrow(() -> new ClientException("appliance " + wanted + " did not answer on this LAN"
              + " (intrustd discover lists those that do)"));
      if (f.record().claimed()) {
        throw new ClientException("\"" + f.record().name() + "\" is claimed already: log in instead");
      }
      return f;
    }
    List<LanBrowser.Found> open = LanBrowser.browse(Duration.ofSeconds(3), List.of()).stream().filter(f -> !f.record().claimed()).toList();
    if (open.isEmpty()) {
      throw new ClientException("no unclaimed appliance answered on this LAN (intrustd discover lists what is there)");
    }
    if (open.size() > 1) {
      StringBuilder list = new StringBuilder("more than one unclaimed appliance on this LAN: choose with --appliance ID");
      open.forEach(f -> list.append(String.format("%n  %-24s %s", f.record().name(), f.record().id())));
      throw new ClientException(list.toString());
    }
    return open.getFirst();
  }

  private String askCode() {
    java.io.Console console = System.console();
    if (console == null) {
      throw new ParameterException(spec.commandLine(), "no terminal to ask for the claim code: use --code");
    }
    String typed = console.readLine("claim code (printed by the appliance when it started): ");
    if (typed == null || typed.isBlank()) {
      throw new ParameterException(spec.commandLine(), "no claim code given");
    }
    return typed.strip();
  }
}

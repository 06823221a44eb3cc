package org.intrustd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.intrustd.appliance.lan.LanBrowser;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code intrustd discover}: the appliances announcing themselves on this LAN. */
@Command(name = "discover", mixinStandardHelpOptions = true,
    description = "List the Intrustd appliances on this LAN (mDNS/DNS-SD, _intrustd._tcp).",
    footer = {"", "Examples:", "  intrustd discover", "  intrustd discover --wait 5 --json",
        "", "Exit codes: 0 listed (even none); 2 bad usage."})
final class DiscoverCommand implements Callable<Integer> {
  @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "3",
      description = "How long to listen for answers (default: ${DEFAULT-VALUE}).")
  int waitSeconds;

  @Option(names = "--interface", paramLabel = "NAME",
      description = "Browse on this network interface (repeatable; default: the one with the default route).")
  List<String> interfaces = new ArrayList<>();

  @Option(names = "--json", description = "Print the appliances as JSON.")
  boolean json;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (waitSeconds < 1 || waitSeconds > 60) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--wait must be 1-60 seconds");
    }
    List<LanBrowser.Found> found = LanBrowser.browse(Duration.ofSeconds(waitSeconds), interfaces);
    var out = spec.commandLine().getOut();
    if (json) {
      ObjectMapper m = new ObjectMapper();
      ArrayNode list = m.createArrayNode();
      for (LanBrowser.Found f : found) {
        ObjectNode o = list.addObject().put("id", f.record().id().toString()).put("name", f.record().name())
            .put("claimed", f.record().claimed()).put("port", f.record().port());
        f.addresses().forEach(o.putArray("addresses")::add);
      }
      out.println(m.createObjectNode().set("appliances", list).toPrettyString());
      return 0;
    }
    if (found.isEmpty()) {
      out.println("no appliance answered on this LAN within " + waitSeconds + " s");
    }
    for (LanBrowser.Found f : found) {
      out.printf("%-24s %s  %s:%d%s%n", f.record().name(), f.record().id(), String.join(",", f.addresses()),
          f.record().port(), f.record().claimed() ? "" : "  NOT CLAIMED (intrustd claim)");
    }
    return 0;
  }
}

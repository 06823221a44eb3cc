package org.intrustd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.intrustd.appliance.doctor.Doctor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code intrustd doctor}: what this host gives an appliance, and what to fix. Exit 1 when a check fails. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = "Check this host for what an appliance needs (sandbox, limits, clock, disk, flock) and say what to fix.",
    footer = {"", "Examples:", "  intrustd doctor", "  intrustd doctor --flock wss://flock.example.org --json",
        "", "Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 bad usage."})
final class DoctorCommand implements Callable<Integer> {
  @Mixin
  StateOption state = new StateOption();

  @Option(names = "--flock", paramLabel = "URL", description = "Also check that this flock answers.")
  URI flock;

  @Option(names = "--json", description = "Print the checks as JSON.")
  boolean json;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    List<Doctor.Check> checks = Doctor.forHost(state.state(), Optional.ofNullable(flock)).run();
    var out = spec.commandLine().getOut();
    if (json) {
      ObjectMapper m = new ObjectMapper();
      ArrayNode list = m.createArrayNode();
      checks.forEach(c -> list.addObject().put("name", c.name()).put("status", c.status().name().toLowerCase(Locale.ROOT))
          .put("detail", c.detail()).put("fix", c.fix()));
      out.println(m.createObjectNode().set("checks", list).toPrettyString());
    } else {
      for (Doctor.Check c : checks) {
        String mark = switch (c.status()) {
          case OK -> "ok  ";
          case WARN -> "WARN";
          case FAIL -> "FAIL";
        };
        out.printf("%s %-8s %s%n", mark, c.name(), c.detail());
        if (!c.fix().isEmpty()) {
          out.printf("              fix: %s%n", c.fix());
        }
      }
    }
    return checks.stream().anyMatch(c -> c.status() == Doctor.Status.FAIL) ? 1 : 0;
  }
}

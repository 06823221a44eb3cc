package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

/** {@code intrustd status}: the running appliance at a glance. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the running appliance: its ID, flock, links, apps and storage.",
    footer = {"", "Exit codes: 0 shown, 3 no appliance runs with this state directory."})
final class StatusCommand extends ControlCommand {
  @Override
  public Integer call() {
    return call("GET", "/v1/status", null, StatusCommand::text);
  }

  static String text(JsonNode s) {
    StringBuilder out = new StringBuilder();
    out.append(String.format("appliance %s  \"%s\"%n", s.path("appliance").asText(), s.path("name").asText()));
    out.append(String.format("flock     %s %s%n", s.at("/flock/registered").asBoolean() ? "registered with" : "NOT registered with",
        s.at("/flock/url").asText()));
    out.append(String.format("lan       %s%n", s.path("lan").isObject()
        ? "announced by mDNS; its LAN flock listens on port " + s.at("/lan/port").asInt() : "off"));
    out.append(String.format("links     %d%n", s.path("links").asInt()));
    out.append(String.format("personas  %d (%s)%n", s.path("personas").asInt(),
        s.path("claimed").asBoolean() ? "claimed" : "not claimed: add the owner with intrustd persona add NAME --role owner"));
    out.append(String.format("storage   %d MiB of app data in %s; %d MiB free%n", s.at("/storage/dataBytes").asLong() >> 20,
        s.at("/storage/stateDir").asText(), s.at("/storage/freeBytes").asLong() >> 20));
    out.append("apps");
    if (s.path("apps").isEmpty()) {
      out.append("      none");
    }
    for (JsonNode a : s.path("apps")) {
      out.append(String.format("%n  %-20s %-10s %s", a.path("id").asText(), a.path("version").asText(),
          a.path("running").asBoolean() ? "running" : "stopped"));
    }
    return out.toString();
  }
}

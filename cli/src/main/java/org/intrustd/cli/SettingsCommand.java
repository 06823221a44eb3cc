package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code intrustd settings}: show the appliance's settings, or change them with options. */
@Command(name = "settings", mixinStandardHelpOptions = true,
    description = {"Show the appliance's settings, or change them: they apply at once (the appliance registers with a",
        "new flock within seconds) and are kept in the state directory, winning over the appliance command's --name and --flock at its next start."},
    footer = {"", "Examples:", "  intrustd settings", "  intrustd settings --name 'Kitchen box' --use-flock wss://flock.example.org",
        "", "Exit codes: 0 shown or changed, 1 refused (the message says why), 2 bad usage, 3 no appliance running."})
final class SettingsCommand extends ControlCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--name", paramLabel = "NAME", description = "The friendly name people see (1-64 characters).")
  String name;

  // not --flock: with --appliance, that names the flock through which a remote appliance is reached
  @Option(names = "--use-flock", paramLabel = "URL", description = "The flock to register with (ws:// or wss://).")
  String flock;

  @Override
  public Integer call() {
    if (name == null && flock == null) {
      return call("GET", "/v1/settings", null, SettingsCommand::text);
    }
    ObjectNode body = JSON.createObjectNode();
    if (name != null) {
      body.put("name", name);
    }
    if (flock != null) {
      body.put("flock", flock);
    }
    return call("PUT", "/v1/settings", body, SettingsCommand::text);
  }

  static String text(JsonNode s) {
    return String.format("name      %s%nflock     %s%nlan       %s%nstate     %s%ndata      %s", s.path("name").asText(),
        s.path("flock").asText(), s.path("lan").isObject() ? "on, port " + s.at("/lan/port").asInt() : "off",
        s.at("/storage/stateDir").asText(), s.at("/storage/dataDir").asText());
  }
}

package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Paired appliances (docs/peers.md): two owners pair their appliances with a one-time code, and
 * each says which of its apps the other may open. Apps granted {@code peer} then call apps there.
 */
@Command(name = "peer", mixinStandardHelpOptions = true,
    description = "Pair this appliance with another (a friend's, your second box) and manage paired appliances.",
    subcommands = {PeerCommand.Invite.class, PeerCommand.Pair.class, PeerCommand.ListPeers.class, PeerCommand.Allow.class,
        PeerCommand.Unpair.class},
    footer = {"", "Examples:",
        "  intrustd peer invite --allow mail              (on Alice's box: prints a pairing link for Bob)",
        "  intrustd peer pair intrustd+pair://ID/CODE --allow mail   (on Bob's box)",
        "  intrustd app grant mail peer                   (let the mail app call paired appliances)"})
final class PeerCommand {
  private PeerCommand() {}

  static List<String> split(List<String> apps) {
    List<String> out = new ArrayList<>();
    apps.forEach(a -> java.util.Arrays.stream(a.split(",")).map(String::strip).filter(x -> !x.isEmpty()).forEach(out::add));
    return out;
  }

  static ObjectNode allowBody(List<String> apps) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    split(apps).forEach(body.putArray("allow")::add);
    return body;
  }

  static String describe(JsonNode p) {
    List<String> allow = new ArrayList<>();
    p.path("allow").forEach(a -> allow.add(a.asText()));
    return String.format("%s  '%s'  may open here: %s%s", p.path("id").asText(), p.path("name").asText(),
        allow.isEmpty() ? "nothing" : String.join(", ", allow),
        p.path("lastSeen").isTextual() ? "  (last linked " + p.path("lastSeen").asText() + ")" : "");
  }

  @Command(name = "invite", mixinStandardHelpOptions = true,
      description = "Make a one-time pairing link (valid one hour) to give the other appliance's owner.")
  static final class Invite extends ControlCommand {
    @Option(names = "--allow", paramLabel = "APP[,APP...]", description = "Apps of this appliance the peer may open.")
    List<String> allow = new ArrayList<>();

    @Override
    public Integer call() {
      return call("POST", "/v1/peers/invites", allowBody(allow), r -> "Give this pairing link to the other owner"
          + " (it works once, until " + r.path("expires").asText() + "):\n  " + r.path("link").asText()
          + "\nThey run: intrustd peer pair " + r.path("link").asText() + " --allow APP,...");
    }
  }

  @Command(name = "pair", mixinStandardHelpOptions = true,
      description = "Pair with the appliance whose pairing link its owner gave you.")
  static final class Pair extends ControlCommand {
    @Parameters(index = "0", paramLabel = "LINK", description = "intrustd+pair://<appliance-id>/<code>")
    String link;

    @Option(names = "--allow", paramLabel = "APP[,APP...]", description = "Apps of this appliance the peer may open.")
    List<String> allow = new ArrayList<>();

    @Override
    public Integer call() {
      ObjectNode body = allowBody(allow).put("link", link);
      return call("POST", "/v1/peers", body, r -> {
        List<String> there = new ArrayList<>();
        r.path("allowedThere").forEach(a -> there.add(a.asText()));
        return "paired with " + describe(r) + "\nthis appliance may open there: "
            + (there.isEmpty() ? "nothing" : String.join(", ", there));
      });
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Paired appliances and live pairing links.")
  static final class ListPeers extends ControlCommand {
    @Override
    public Integer call() {
      return call("GET", "/v1/peers", null, r -> {
        List<String> out = new ArrayList<>();
        r.path("peers").forEach(p -> out.add(describe(p)));
        if (!r.path("invites").isEmpty()) {
          out.add(r.path("invites").size() + " pairing link(s) not used yet");
        }
        return out.isEmpty() ? "no paired appliances" : String.join("\n", out);
      });
    }
  }

  @Command(name = "allow", mixinStandardHelpOptions = true,
      description = "Set which apps of this appliance a paired appliance may open (none: nothing); applies at once.")
  static final class Allow extends ControlCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The paired appliance.")
    String id;

    @Parameters(index = "1..*", paramLabel = "APP", description = "The apps, space- or comma-separated.")
    List<String> apps = new ArrayList<>();

    @Override
    public Integer call() {
      return call("PUT", "/v1/peers/" + encode(id), allowBody(apps), PeerCommand::describe);
    }
  }

  @Command(name = "unpair", mixinStandardHelpOptions = true,
      description = "Forget a paired appliance; its open calls are cut at once, and it is told.")
  static final class Unpair extends ControlCommand {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return call("DELETE", "/v1/peers/" + encode(id), null, r -> "unpaired " + id);
    }
  }
}

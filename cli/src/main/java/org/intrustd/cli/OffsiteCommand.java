package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code intrustd backup offsite}: this appliance's apps, backed up to a paired appliance (docs/backups.md). */
@Command(name = "offsite", mixinStandardHelpOptions = true,
    description = {"Back up this appliance's apps to a paired appliance (a friend's), sealed here, on a schedule.",
        "With no subcommand: how the last run went."},
    subcommands = {OffsiteCommand.Set.class, OffsiteCommand.Run.class, OffsiteCommand.Off.class, OffsiteCommand.Key.class,
        OffsiteCommand.Snapshots.class, OffsiteCommand.RestoreApp.class, OffsiteCommand.Recover.class},
    footer = {"", "Examples:", "  intrustd peer pair intrustd+pair://... --allow hello   # once, with the friend's code",
        "  intrustd backup offsite set --peer F2EGSN4-... --every 24",
        "  intrustd backup offsite key > offsite-kit.txt   # keep it safe: without it the backups are lost with this box",
        "  intrustd backup offsite restore photos          # put the photos app's data back as the friend keeps it",
        "  intrustd backup offsite recover offsite-kit.txt # on a new box, paired with the friend: the lost box's apps back",
        "", "The friend's owner must give this appliance room in their backups app (a quota) first.",
        "Exit codes: 0 done; 1 refused (the message says why); 2 bad usage; 3 no appliance running."})
final class OffsiteCommand extends ControlCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() {
    return call("GET", "/v1/offsite", null, OffsiteCommand::text);
  }

  static String text(JsonNode s) {
    if (s.path("plan").isNull()) {
      return "off-site backups are not set up (intrustd backup offsite set --peer ID)";
    }
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "to        %s, every %d hours%n",
        s.at("/plan/peer").asText(), s.at("/plan/everyHours").asInt()));
    if (s.path("running").asBoolean()) {
      out.append("running   now\n");
    }
    JsonNode last = s.path("last");
    if (last.isObject()) {
      out.append(String.format("last run  %s: %s%n", last.path("startedAt").asText(), last.path("ok").asBoolean()
          ? "done, " + last.path("snapshots").size() + " snapshots, " + last.path("bytesAdded").asLong() + " bytes sent"
          : "FAILED: " + last.path("error").asText()));
    }
    out.append("success   ").append(s.path("lastSuccessAt").asText("never")).append('\n');
    if (s.path("overdue").asBoolean()) {
      out.append("OVERDUE   no success for more than two periods\n");
    }
    out.append("next      ").append(s.path("nextAt").asText("-"));
    return out.toString();
  }

  @Command(name = "set", mixinStandardHelpOptions = true, description = "Back up to this paired appliance (a first run starts now).")
  static final class Set extends ControlCommand {
    @Option(names = "--peer", required = true, paramLabel = "ID", description = "The paired appliance that keeps the backups.")
    String peer;

    @Option(names = "--every", defaultValue = "24", paramLabel = "HOURS", description = "Hours between runs (default: ${DEFAULT-VALUE}).")
    int every;

    @Override
    public Integer call() {
      return call("PUT", "/v1/offsite", JSON.createObjectNode().put("peer", peer).put("everyHours", every), OffsiteCommand::text);
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true, description = "Run a backup now (it goes on in the background).")
  static final class Run extends ControlCommand {
    @Override
    public Integer call() {
      return call("POST", "/v1/offsite/run", null, s -> (s.path("started").asBoolean() ? "started\n" : "one is running already\n")
          + text(s));
    }
  }

  @Command(name = "off", mixinStandardHelpOptions = true, description = "Stop backing up (what the friend keeps stays there).")
  static final class Off extends ControlCommand {
    @Override
    public Integer call() {
      return call("DELETE", "/v1/offsite", null, OffsiteCommand::text);
    }
  }

  @Command(name = "key", mixinStandardHelpOptions = true,
      description = {"Print the recovery kit (this appliance's ID, the friend's, and the repository password), to keep somewhere safe:",
          "it is the only way to read the backups, and rebuilds this appliance on a new box (offsite recover)."})
  static final class Key extends ControlCommand {
    @Override
    public Integer call() {
      return call("GET", "/v1/offsite/key", null, s -> s.path("kit").asText().stripTrailing());
    }
  }

  @Command(name = "recover", mixinStandardHelpOptions = true,
      description = {"Rebuild a lost appliance's apps on this one, from its recovery kit and the friend's copy.",
          "Pair with the friend first (with its backups app allowed). The friend's backups app hands the lost appliance's",
          "backups over to this one; the kit's key becomes this appliance's off-site key; each app installed here gets its",
          "latest data back (install the apps first); then off-site backups go on from here. Safe to run again."})
  static final class Recover extends ControlCommand {
    @Parameters(index = "0", paramLabel = "KIT", description = "The file 'offsite key' printed, or - to read it from standard input.")
    String kit;

    @Option(names = "--peer", paramLabel = "ID", description = "The friend that keeps the backups, if not the one the kit names.")
    String peer;

    @Override
    public Integer call() {
      String text;
      try {
        text = kit.equals("-") ? new String(System.in.readNBytes(64 * 1024), java.nio.charset.StandardCharsets.UTF_8)
            : java.nio.file.Files.readString(java.nio.file.Path.of(kit));
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        spec.commandLine().getErr().println("intrustd: cannot read the kit " + kit + ": " + e.getMessage());
        return REFUSED;
      }
      ObjectNode body = JSON.createObjectNode().put("kit", text);
      if (peer != null) {
        body.put("peer", peer);
      }
      return call("POST", "/v1/offsite/recover", body, Recover::text);
    }

    static String text(JsonNode r) {
      StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "appliance %s's backups are now this appliance's, kept by %s%n",
          r.path("from").asText(), r.path("peer").asText()));
      for (JsonNode x : r.path("restored")) {
        out.append(String.format(Locale.ROOT, "restored  %s from snapshot %s (%s): %d files%n", x.path("app").asText(),
            x.path("snapshot").asText().substring(0, 8), x.path("time").asText(), x.path("files").asLong()));
      }
      for (JsonNode x : r.path("notInstalled")) {
        out.append("not here  ").append(x.asText()).append(": install it, then run offsite restore ").append(x.asText())
            .append(" before it is next backed up\n");
      }
      for (JsonNode x : r.path("failed")) {
        out.append("FAILED    ").append(x.asText()).append('\n');
      }
      for (JsonNode x : r.path("warnings")) {
        out.append("warning   ").append(x.asText()).append('\n');
      }
      out.append("The kit you used has served: the backups have a new key now. Keep the new kit (intrustd backup offsite key).\n");
      out.append(r.path("failed").isEmpty() ? "off-site backups go on from here (intrustd backup offsite)"
          : "off-site backups stay off until every app is back: run recover again");
      return out.toString();
    }
  }

  @Command(name = "restore", mixinStandardHelpOptions = true,
      description = {"Put an app's data back from the friend's copy: its latest snapshot, or the one named.",
          "It is restored and checked beside the data first; then the app is stopped and the data swapped, the old data kept"
              + " beside as <data>.before-restore-<time>."})
  static final class RestoreApp extends ControlCommand {
    @Parameters(index = "0", paramLabel = "APP", description = "The app whose data to put back.")
    String app;

    @Option(names = "--snapshot", paramLabel = "ID", description = "This snapshot (a unique prefix of its ID; see snapshots), not the latest.")
    String snapshot;

    @Override
    public Integer call() {
      ObjectNode body = JSON.createObjectNode().put("app", app);
      if (snapshot != null) {
        body.put("snapshot", snapshot);
      }
      return call("POST", "/v1/offsite/restore", body, r -> String.format(Locale.ROOT,
          "restored %s from snapshot %s (%s): %d files, %d bytes%s", r.path("app").asText(), r.path("snapshot").asText().substring(0, 8),
          r.path("time").asText(), r.path("files").asLong(), r.path("bytes").asLong(), r.path("previous").isNull() ? ""
              : "\nthe data it replaced is kept in " + r.path("previous").asText()));
    }
  }

  @Command(name = "snapshots", mixinStandardHelpOptions = true, description = "List the snapshots the friend keeps (read back and opened here).")
  static final class Snapshots extends ControlCommand {
    @Override
    public Integer call() {
      return call("GET", "/v1/offsite/snapshots", null, s -> {
        StringBuilder out = new StringBuilder();
        for (JsonNode n : s.path("snapshots")) {
          out.append(String.format(Locale.ROOT, "%s  %s  %s  %d files%n", n.path("id").asText().substring(0, 8),
              n.path("time").asText(), n.path("tags").path(0).asText(""), n.path("files").asLong()));
        }
        return out.append(s.path("snapshots").size()).append(" snapshots").toString();
      });
    }
  }
}

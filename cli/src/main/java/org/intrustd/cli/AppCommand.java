package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code intrustd app ...}: the owner's commands for the apps of a running appliance, through
 * its control socket. Exit codes: 0 done, 1 the appliance refused (the message says why),
 * 2 bad usage, 3 no appliance is running with that state directory.
 */
@Command(name = "app", mixinStandardHelpOptions = true,
    description = "List, start, stop the apps of the running appliance, read their logs, grant and revoke permissions.",
    subcommands = {AppCommand.ListApps.class, AppCommand.Install.class, AppCommand.Update.class,
        AppCommand.Remove.class, AppCommand.Trust.class, AppCommand.Start.class, AppCommand.Stop.class,
        AppCommand.Logs.class, AppCommand.Grant.class, AppCommand.Revoke.class},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:done", "1:the appliance refused; the message says why", "2:bad usage",
        "3:no appliance is running with this state directory"})
final class AppCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  static String describe(JsonNode app) {
    List<String> grants = new ArrayList<>();
    app.path("grants").forEach(g -> grants.add(g.asText()));
    String hosts = app.has("internetHosts") && !app.path("internetHosts").isEmpty()
        ? " (internet: " + String.join(", ", JSON.convertValue(app.path("internetHosts"), String[].class)) + ")" : "";
    List<String> asks = new ArrayList<>();
    app.path("requests").forEach(r -> {
      if (!grants.contains(r.asText())) {
        asks.add(r.asText());
      }
    });
    return String.format("%-20s %-10s %-8s %s%s%s", app.path("id").asText(), app.path("version").asText(),
        app.path("running").asBoolean() ? "running" : "stopped", grants.isEmpty() ? "-" : String.join(" ", grants), hosts,
        asks.isEmpty() ? "" : "  (asks for: " + String.join(", ", asks) + ")");
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the installed apps.")
  static final class ListApps extends ControlCommand {
    @Override
    public Integer call() {
      return call("GET", "/v1/apps", null, body -> {
        StringBuilder out = new StringBuilder(String.format("%-20s %-10s %-8s %s", "APP", "VERSION", "STATE", "GRANTS"));
        body.path("apps").forEach(app -> out.append('\n').append(describe(app)));
        return out.toString();
      });
    }
  }

  /** Where a bundle comes from: a file, or the latest version in a repository. */
  static final class Source {
    @Option(names = "--repo", paramLabel = "URL|DIR", description = "A repository (signed index.json) to fetch from.")
    String repository;

    ObjectNode body(String bundle, String app) {
      ObjectNode body = JSON.createObjectNode();
      if (repository != null) {
        body.put("repository", repository).put("app", app);
      } else {
        // The daemon reads the file: give it a path that does not depend on our working directory.
        body.put("bundle", java.nio.file.Path.of(bundle).toAbsolutePath().toString());
      }
      return body;
    }
  }

  @Command(name = "install", mixinStandardHelpOptions = true,
      description = "Install an app from a signed bundle file, or (with --repo) the latest version of APP from a repository.")
  static final class Install extends ControlCommand {
    @Parameters(paramLabel = "BUNDLE|APP", description = "A bundle file, or with --repo an app id.")
    String what;

    @Mixin
    Source source = new Source();

    @Override
    public Integer call() {
      if (remote.remote() && source.repository == null) {
        return upload("/v1/apps/bundle?action=install", java.nio.file.Path.of(what), AppCommand::describe);
      }
      return call("POST", "/v1/apps", source.body(what, what), AppCommand::describe);
    }
  }

  @Command(name = "update", mixinStandardHelpOptions = true,
      description = "Update an app: the new version starts beside the old one and takes over only once healthy.")
  static final class Update extends ControlCommand {
    @Parameters(index = "0", paramLabel = "APP")
    String app;

    @Parameters(index = "1", paramLabel = "BUNDLE", arity = "0..1", description = "The bundle file (not with --repo).")
    String bundle;

    @Mixin
    Source source = new Source();

    @Override
    public Integer call() {
      if ((bundle == null) == (source.repository == null)) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give either a BUNDLE file or --repo");
      }
      if (remote.remote() && source.repository == null) {
        return upload("/v1/apps/bundle?action=update&app=" + encode(app), java.nio.file.Path.of(bundle), AppCommand::describe);
      }
      return call("POST", path(app) + "/update", source.body(bundle, app), AppCommand::describe);
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove an app; its data is kept unless --purge.")
  static final class Remove extends ControlCommand {
    @Parameters(paramLabel = "APP")
    String app;

    @Option(names = "--purge", description = "Delete the app's data too.")
    boolean purge;

    @Override
    public Integer call() {
      return call("DELETE", path(app) + (purge ? "?purge=true" : ""), null,
          body -> "removed " + app + (purge ? " and its data" : "; its data is kept"));
    }
  }

  @Command(name = "trust", mixinStandardHelpOptions = true,
      description = "Trust a publisher: bundles signed by this key (a .pub file from 'intrustd bundle keygen') may be installed.")
  static final class Trust implements Callable<Integer> {
    @Mixin
    StateOption state = new StateOption();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "KEY.pub")
    java.nio.file.Path key;

    @Override
    public Integer call() throws IOException {
      org.intrustd.appliance.bundles.TrustedPublishers checked = org.intrustd.appliance.bundles.TrustedPublishers.load(key);
      java.nio.file.Path dir = org.intrustd.appliance.install.Installer.publishersDir(state.state());
      java.nio.file.Files.createDirectories(dir);
      java.nio.file.Files.copy(key, dir.resolve(key.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      spec.commandLine().getOut().println("trusting publisher " + checked.ids().iterator().next() + " ("
          + dir.resolve(key.getFileName()) + ")");
      return 0;
    }
  }

  @Command(name = "start", mixinStandardHelpOptions = true, description = "Start an app now (it also starts on its first request).")
  static final class Start extends ControlCommand {
    @Parameters(paramLabel = "APP")
    String app;

    @Override
    public Integer call() {
      return call("POST", path(app) + "/start", null, AppCommand::describe);
    }
  }

  @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop an app now (it starts again on its next request).")
  static final class Stop extends ControlCommand {
    @Parameters(paramLabel = "APP")
    String app;

    @Override
    public Integer call() {
      return call("POST", path(app) + "/stop", null, AppCommand::describe);
    }
  }

  @Command(name = "logs", mixinStandardHelpOptions = true, description = "Print the end of an app's log.")
  static final class Logs extends ControlCommand {
    @Parameters(paramLabel = "APP")
    String app;

    @Option(names = {"-n", "--lines"}, description = "How many lines (default: ${DEFAULT-VALUE}).", defaultValue = "100")
    int lines;

    @Override
    public Integer call() {
      return call("GET", path(app) + "/logs?lines=" + lines, null, body -> {
        List<String> out = new ArrayList<>();
        body.path("lines").forEach(l -> out.add(l.asText()));
        return String.join("\n", out);
      });
    }
  }

  @Command(name = "grant", mixinStandardHelpOptions = true,
      description = "Grant a permission: internet (optionally only to --host HOST:PORT ...), app:<other-app>, peer"
          + " (call apps on paired appliances) or strangers (meet its namesake on any appliance, paired or not).")
  static final class Grant extends ControlCommand {
    @Parameters(index = "0", paramLabel = "APP")
    String app;

    @Parameters(index = "1", paramLabel = "PERMISSION", description = "internet | app:<app-id> | peer | strangers")
    String permission;

    @Option(names = "--host", paramLabel = "HOST:PORT",
        description = "With internet: a host it may reach (repeatable; *.example.org and :* allowed). None: any public host.")
    List<String> hosts = new ArrayList<>();

    @Override
    public Integer call() {
      ObjectNode body = JSON.createObjectNode().put("permission", permission);
      hosts.forEach(body.putArray("hosts")::add);
      return call("POST", path(app) + "/grants", body, AppCommand::describe);
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Take a permission back; connections it allowed are cut at once.")
  static final class Revoke extends ControlCommand {
    @Parameters(index = "0", paramLabel = "APP")
    String app;

    @Parameters(index = "1", paramLabel = "PERMISSION")
    String permission;

    @Override
    public Integer call() {
      return call("DELETE", path(app) + "/grants/" + encode(permission), null,
          AppCommand::describe);
    }
  }
}

package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.intrustd.appliance.ApplianceDaemon;
import org.intrustd.appliance.control.ControlClient;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every command that talks to a running appliance shares: which appliance, output
 * format, and the call to its control socket. Exit codes: 0 done, 1 refused (the message says
 * why), 2 bad usage (picocli), 3 no appliance running with that state directory.
 */
abstract class ControlCommand implements Callable<Integer> {
  static final int REFUSED = 1;
  static final int NOT_RUNNING = 3;

  @Mixin
  StateOption state = new StateOption();

  @Mixin
  RemoteOptions remote = new RemoteOptions();

  @Option(names = "--json", description = "Print the appliance's JSON answer instead of text.")
  boolean json;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  /** Calls the control API; prints the answer (text via {@code text}) and returns the exit code. */
  int call(String method, String target, JsonNode body, java.util.function.Function<JsonNode, String> text) {
    ControlClient.Response r;
    try {
      r = remote.remote() ? remoteCall(method, target, body)
          : new ControlClient(ApplianceDaemon.controlSocket(state.state())).call(method, target, body);
    } catch (org.intrustd.client.ClientException e) {
      spec.commandLine().getErr().println("intrustd: " + e.getMessage());
      return REFUSED;
    } catch (ControlClient.NotRunning e) {
      spec.commandLine().getErr().println("intrustd: " + e.getMessage());
      return NOT_RUNNING;
    } catch (IOException e) {
      spec.commandLine().getErr().println("intrustd: cannot talk to the appliance: " + e.getMessage());
      return REFUSED;
    }
    if (!r.ok()) {
      if (json) {
        spec.commandLine().getOut().println(r.body().toPrettyString());
      }
      spec.commandLine().getErr().println("intrustd: " + r.detail());
      return REFUSED;
    }
    spec.commandLine().getOut().println(json ? r.body().toPrettyString() : text.apply(r.body()));
    return 0;
  }

  /** The same call on a remote appliance's control API, logged in as {@code --login}. */
  private ControlClient.Response remoteCall(String method, String target, JsonNode body) {
    var cl = spec.commandLine();
    var id = Remote.parseId(cl, remote.appliance);
    String password = Passwords.loginPassword(cl, "password for " + remote.login + ": ");
    try (Remote r = Remote.connect(Remote.route(cl, id, remote.flock), id)) {
      var refused = r.login(remote.login, password);
      if (refused.isPresent()) {
        return refused.get();
      }
      try {
        return r.call(Remote.ADMIN, method, target, body);
      } finally {
        r.logout();
      }
    }
  }

  static String path(String app) {
    return "/v1/apps/" + encode(app);
  }

  static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8);
  }
}

package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Function;
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
  int call(String method, String target, JsonNode body, Function<JsonNode, String> text) {
    return answer(() -> remote.remote() ? remotely(r -> r.call(Remote.ADMIN, method, target, body))
        : new ControlClient(ApplianceDaemon.controlSocket(state.state())).call(method, target, body), text);
  }

  /**
   * Uploads {@code file} as the body of a POST to a remote appliance's control API, with a
   * progress bar on a terminal. (A local daemon reads files itself: pass it the path.)
   */
  int upload(String target, Path file, Function<JsonNode, String> text) {
    if (!Files.isRegularFile(file)) {
      spec.commandLine().getErr().println("intrustd: no such file: " + file);
      return REFUSED;
    }
    return answer(() -> remotely(r -> {
      try (ProgressBar bar = ProgressBar.onTerminal(spec.commandLine().getErr(), "uploading " + file.getFileName(),
          Files.size(file), json)) {
        return r.upload(Remote.ADMIN, target, file, bar);
      } catch (IOException e) {
        throw new org.intrustd.client.ClientException("cannot read " + file + ": " + e.getMessage(), e);
      }
    }), text);
  }

  /** How a command gets its answer. */
  @FunctionalInterface
  private interface Ask {
    ControlClient.Response get() throws IOException;
  }

  /** Prints an answer (text via {@code text}) and returns the exit code. */
  private int answer(Ask ask, Function<JsonNode, String> text) {
    ControlClient.Response r;
    try {
      r = ask.get();
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

  /** A call on a remote appliance's control API, signed in as {@link Remote#signedIn} says. */
  private ControlClient.Response remotely(Function<Remote, ControlClient.Response> call) {
    try (Remote r = Remote.signedIn(spec.commandLine(), remote)) {
      return call.apply(r);
    }
  }

  static String path(String app) {
    return "/v1/apps/" + encode(app);
  }

  static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8);
  }
}

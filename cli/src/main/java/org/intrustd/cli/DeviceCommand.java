package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.intrustd.appliance.control.ControlClient;
import org.intrustd.client.ClientException;
import org.intrustd.client.DeviceCredential;
import org.intrustd.core.id.ApplianceId;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Trusted devices (docs/devices.md): a laptop asks an appliance to enrol it, the owner approves
 * it for a persona, and from then on the laptop's commands reach the appliance with no password.
 */
@Command(name = "device", mixinStandardHelpOptions = true,
    description = "Enrol this machine as a trusted device of an appliance; approve, list and revoke devices.",
    subcommands = {DeviceCommand.Enroll.class, DeviceCommand.ListDevices.class, DeviceCommand.Approve.class,
        DeviceCommand.Reject.class, DeviceCommand.Revoke.class, DeviceCommand.Forget.class},
    footer = {"", "Examples:",
        "  intrustd device enroll --appliance ID --flock wss://flock.example/   (on the laptop)",
        "  intrustd device approve K7QM-2XPA --persona alice                    (on the appliance, or with --appliance)",
        "  intrustd status --appliance ID                                       (on the laptop: no password)"})
final class DeviceCommand {
  private DeviceCommand() {}

  @Command(name = "enroll", aliases = "enrol", mixinStandardHelpOptions = true,
      description = "Ask the appliance to trust this machine, and wait for its owner to approve.")
  static final class Enroll implements Callable<Integer> {
    private static final Duration POLL = Duration.ofSeconds(2);

    @Option(names = "--appliance", paramLabel = "ID", required = true, description = "The appliance to enrol with.")
    String appliance;

    @Option(names = "--flock", paramLabel = "URL",
        description = "The flock to reach it through, remembered for later commands (default: find it on this LAN).")
    URI flock;

    @Option(names = "--label", paramLabel = "TEXT", description = "What the owner sees (default: this host's name).")
    String label;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "600",
        description = "How long to wait for the approval (default: ${DEFAULT-VALUE}; 0: ask and return).")
    int waitSeconds;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      var cl = spec.commandLine();
      ApplianceId id = Remote.parseId(cl, appliance);
      try {
        URI route = flock != null ? Remote.route(cl, id, flock) : null;
        Optional<DeviceCredential> kept = DeviceCredential.load(DeviceCredential.defaultDir(), id);
        DeviceCredential device = kept.orElseGet(() -> DeviceCredential.create(id, Optional.ofNullable(route),
            label != null ? label : hostName()));
        URI via = route != null ? route : device.flock().orElseGet(() -> Remote.route(cl, id, null));
        try (Remote r = Remote.connect(via, id)) {
          if (kept.isPresent()) {
            ControlClient.Response resumed = Remote.response(r.client().resume(device));
            if (resumed.ok()) {
              cl.getOut().printf("this machine is enrolled with %s already, as '%s'%n", id,
                  resumed.body().path("persona").path("name").asText());
              return 0;
            }
            if (resumed.status() == 401) { // turned down, revoked or expired: start afresh
              device = DeviceCredential.create(id, Optional.ofNullable(route).or(device::flock),
                  label != null ? label : device.label());
            }
          }
          device.save(DeviceCredential.defaultDir());
          ControlClient.Response asked = Remote.response(r.client().json(Remote.SESSION, "POST", "/v1/enroll",
              device.enrolment()));
          if (!asked.ok()) {
            cl.getErr().println("intrustd: " + asked.detail());
            return ControlCommand.REFUSED;
          }
          String code = asked.body().path("enrolment").path("code").asText();
          cl.getOut().printf("Asked %s to enrol this machine as '%s'. Its code: %s%n"
              + "The owner approves it in the admin app (Devices), or on the appliance with%n"
              + "  intrustd device approve %s --persona NAME%n", id, device.label(), code, code);
          if (waitSeconds <= 0) {
            return 0;
          }
          cl.getOut().printf("waiting up to %d s for the approval...%n", waitSeconds);
          cl.getOut().flush();
          long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
          while (System.nanoTime() < deadline) {
            ControlClient.Response resumed = Remote.response(r.client().resume(device));
            if (resumed.ok()) {
              cl.getOut().printf("approved: this machine acts as '%s' on %s, with no password%n",
                  resumed.body().path("persona").path("name").asText(), id);
              return 0;
            }
            if (resumed.status() != 403) {
              cl.getErr().println("intrustd: the owner turned the request down, or it expired: " + resumed.detail());
              return ControlCommand.REFUSED;
            }
            Thread.sleep(POLL.toMillis());
          }
          cl.getErr().printf("intrustd: not approved within %d s; the request waits an hour in all:"
              + " run this again to go on waiting%n", waitSeconds);
          return ControlCommand.REFUSED;
        }
      } catch (ClientException e) {
        cl.getErr().println("intrustd: " + e.getMessage());
        return ControlCommand.REFUSED;
      } catch (IOException e) {
        cl.getErr().println("intrustd: cannot keep the device key: " + e.getMessage());
        return ControlCommand.REFUSED;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return ControlCommand.REFUSED;
      }
    }

    private static String hostName() {
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        return "device";
      }
    }
  }

  @Command(name = "forget", mixinStandardHelpOptions = true,
      description = "Delete this machine's key for an appliance (revoke it there too: intrustd device revoke).")
  static final class Forget implements Callable<Integer> {
    @Option(names = "--appliance", paramLabel = "ID", required = true)
    String appliance;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      ApplianceId id = Remote.parseId(spec.commandLine(), appliance);
      if (!DeviceCredential.forget(DeviceCredential.defaultDir(), id)) {
        spec.commandLine().getErr().println("intrustd: this machine is not enrolled with " + id);
        return ControlCommand.REFUSED;
      }
      spec.commandLine().getOut().println("forgot the device key for " + id);
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Enrolled devices and requests waiting for approval.")
  static final class ListDevices extends ControlCommand {
    @Override
    public Integer call() {
      return call("GET", "/v1/devices", null, r -> {
        List<String> out = new ArrayList<>();
        for (JsonNode q : r.path("requests")) {
          out.add(String.format("waiting   %-9s  %-24s asked %s", q.path("code").asText(), q.path("label").asText(),
              q.path("requested").asText()));
        }
        for (JsonNode d : r.path("devices")) {
          out.add(String.format("enrolled  %-16s  %-24s as %-12s last used %s", d.path("id").asText(),
              d.path("label").asText(), d.path("persona").asText(), d.path("lastUsed").asText()));
        }
        return out.isEmpty() ? "no devices" : String.join("\n", out);
      });
    }
  }

  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = "Approve a waiting device for a persona; it acts as that persona from now on.")
  static final class Approve extends ControlCommand {
    @Parameters(index = "0", paramLabel = "CODE", description = "The code the device showed (or the request's id).")
    String code;

    @Option(names = "--persona", required = true, description = "Who the device acts as.")
    String persona;

    @Override
    public Integer call() {
      return call("POST", "/v1/devices/requests/" + encode(code),
          com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("persona", persona),
          r -> "approved device " + r.path("id").asText() + " ('" + r.path("label").asText() + "') as '" + persona + "'");
    }
  }

  @Command(name = "reject", mixinStandardHelpOptions = true, description = "Turn a waiting device down.")
  static final class Reject extends ControlCommand {
    @Parameters(index = "0", paramLabel = "CODE")
    String code;

    @Override
    public Integer call() {
      return call("DELETE", "/v1/devices/requests/" + encode(code), null, r -> "turned down " + code);
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke an enrolled device; its open channels close at once.")
  static final class Revoke extends ControlCommand {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return call("DELETE", "/v1/devices/" + encode(id), null, r -> "revoked device " + id);
    }
  }
}

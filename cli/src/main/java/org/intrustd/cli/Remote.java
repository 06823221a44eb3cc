package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;
import org.intrustd.appliance.control.ControlClient;
import org.intrustd.appliance.lan.LanBrowser;
import org.intrustd.client.ApplianceClient;
import org.intrustd.client.ClientException;
import org.intrustd.client.DeviceCredential;
import org.intrustd.client.DeviceKeys;
import org.intrustd.client.HttpResult;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.webrtc.WebRtcLinkFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * A command's way to an appliance over an end-to-end link: find it (a flock, or its LAN flock
 * by mDNS), connect, verify its signed answer, and talk to its session API
 * ({@code intrustd/session}) and control API ({@code intrustd/admin}) as the admin app does.
 */
final class Remote implements AutoCloseable {
  static final String SESSION = "intrustd/session";
  static final String ADMIN = "intrustd/admin";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration STEP = Duration.ofSeconds(10);
  private static final Duration LAN_WAIT = Duration.ofSeconds(5);

  // One WebRTC engine per process, made on first use: a forward's reconnections share it.
  private static LinkFactory links;
  private final ApplianceClient client;
  private boolean loggedIn; // with a password: the session ends with the command

  private Remote(ApplianceClient client) {
    this.client = client;
  }

  /**
   * Connects to the appliance {@code options} name and signs in: as this machine's enrolled
   * device when it is one (docs/devices.md) and {@code --login} is not given, else as
   * {@code --login} with a password. A refusal is a {@link ClientException} with its reason.
   */
  static Remote signedIn(CommandLine cl, RemoteOptions options) {
    ApplianceId id = parseId(cl, options.appliance);
    Optional<DeviceCredential> device = options.login == null
        ? DeviceCredential.load(DeviceCredential.defaultDir(), id) : Optional.empty();
    String persona = options.login == null ? RemoteOptions.DEFAULT_LOGIN : options.login;
    String password = device.isPresent() ? null : Passwords.loginPassword(cl, "password for " + persona + ": ");
    URI flock = options.flock != null || device.flatMap(DeviceCredential::flock).isEmpty()
        ? route(cl, id, options.flock) : device.get().flock().get();
    Remote r = connect(flock, id);
    try {
      ControlClient.Response answer = device.isPresent()
          ? response(r.client.resume(device.get()))
          : r.call(SESSION, "POST", "/v1/login", JSON.createObjectNode().put("persona", persona).put("password", password)
              .put("deviceKey", deviceKey()).put("label", "cli"));
      if (!answer.ok()) {
        throw new ClientException(device.isPresent() && answer.status() == 401
            ? "this device's enrolment has ended (" + answer.detail() + "): enrol again, or use --login"
            : answer.detail());
      }
      r.loggedIn = device.isEmpty();
      return r;
    } catch (RuntimeException e) {
      r.close();
      throw e;
    }
  }

  /** The link's client, for streaming exchanges. */
  ApplianceClient client() {
    return client;
  }

  /** Whether this process loaded the WebRTC engine for a remote command. */
  static synchronized boolean used() {
    return links != null;
  }

  private static synchronized LinkFactory links() {
    if (links == null) {
      links = WebRtcLinkFactory.create();
    }
    return links;
  }

  /** Frees the WebRTC engine, once every link is closed. */
  static synchronized void shutdown() {
    if (links != null) {
      links.close();
    }
  }

  /** Connects to {@code appliance} through {@code flock}. */
  static Remote connect(URI flock, ApplianceId appliance) {
    return new Remote(ApplianceClient.connect(flock, appliance, links(), STEP));
  }

  /** The flock to reach {@code appliance} through: the one given, else its LAN flock. */
  static URI route(CommandLine cl, ApplianceId appliance, URI flock) {
    if (flock != null) {
      if (!"ws".equals(flock.getScheme()) && !"wss".equals(flock.getScheme())) {
        throw new ParameterException(cl, "--flock must be a ws:// or wss:// URL, not " + flock);
      }
      return flock;
    }
    return LanBrowser.find(appliance, LAN_WAIT, List.of()).map(Remote::lanFlock)
        .orElseThrow(() -> new ClientException("appliance " + appliance + " did not answer on this LAN within "
            + LAN_WAIT.toSeconds() + " s (intrustd discover lists those that do); give --flock URL to go through a flock"));
  }

  /** The ws:// URL of the LAN flock a presence record points to (an IPv4 address first). */
  static URI lanFlock(LanBrowser.Found found) {
    String address = found.addresses().stream().filter(a -> !a.startsWith("[")).findFirst()
        .orElse(found.addresses().getFirst());
    return URI.create("ws://" + address + ":" + found.record().port() + "/");
  }

  static ApplianceId parseId(CommandLine cl, String text) {
    return ApplianceId.parse(text).orElseThrow(() -> new ParameterException(cl, "not an appliance ID: " + text));
  }

  /** A fresh device key for one CLI session: the session is bound to a key nobody keeps. */
  static String deviceKey() {
    return DeviceKeys.encode(DeviceKeys.generate());
  }

  /** One JSON exchange; the answer as the control socket would give it. */
  ControlClient.Response call(String label, String method, String target, JsonNode body) {
    return response(client.json(label, method, target, body == null ? null : body.toString()));
  }

  /** POSTs a file as the body, reporting the bytes sent to {@code progress}. */
  ControlClient.Response upload(String label, String target, Path file, LongConsumer progress) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return response(client.request(label, "POST", target, Map.of("Content-Type", "application/octet-stream"), in,
          Files.size(file), progress));
    }
  }

  static ControlClient.Response response(HttpResult r) {
    JsonNode json;
    try {
      json = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
    } catch (java.io.IOException e) {
      json = JSON.createObjectNode().put("detail", "HTTP " + r.status() + " with a body that is not JSON");
    }
    return new ControlClient.Response(r.status(), json);
  }

  /** Ends the link's session (best effort: it is bound to a key that is about to be forgotten anyway). */
  void logout() {
    try {
      call(SESSION, "POST", "/v1/logout", null);
    } catch (ClientException e) {
      // the link is gone: the session stays bound to a device key nobody holds
    }
  }

  /** Ends a password session (a device's session lives on), then the link. */
  @Override
  public void close() {
    if (loggedIn) {
      logout();
    }
    client.close();
  }
}

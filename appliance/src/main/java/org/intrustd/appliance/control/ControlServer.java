package org.intrustd.appliance.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.intrustd.appliance.access.AccessLog;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.apps.InstalledApp;
import org.intrustd.appliance.bundles.BundleException;
import org.intrustd.appliance.install.Installer;
import org.intrustd.appliance.settings.Settings;
import org.intrustd.appliance.net.LocalHttp;
import org.intrustd.appliance.offsite.OffsiteBackups;
import org.intrustd.appliance.peers.PeerLinks;
import org.intrustd.appliance.net.LocalHttp.HttpProblem;
import org.intrustd.appliance.net.LocalHttp.Request;
import org.intrustd.appliance.net.UnixServer;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.appliance.personas.PersonaException;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.core.access.Permission;
import org.intrustd.core.id.ApplianceId;

/**
 * The owner's local control API: HTTP/1.1 with JSON on a Unix socket in the state directory
 * ({@code control.sock}, mode 0600, so only the daemon's own user, or root, can use it). The
 * {@code intrustd app ...} commands talk to it. One request per connection; problems are
 * {@code application/problem+json}. Written down in docs/spec/control.md.
 */
public final class ControlServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.control");
  static final int MAX_BODY = 128 * 1024;
  /** Where a bundle file is uploaded, and how large it may be. */
  static final String BUNDLE_UPLOAD = "/v1/apps/bundle";
  static final long MAX_BUNDLE = 2L << 30;
  private static final int MAX_LOG_LINES = 10_000;
  private static final ObjectMapper JSON = LocalHttp.JSON;

  private final AppSupervisor apps;
  private final Grants grants;
  private final Installer installer;
  private final SettingsChange settings;
  private final PersonaStore personas;
  private final AccessApi access;
  private final PeersApi peers;
  private final OffsiteApi offsite;
  private final ApplianceId appliance;
  private final java.util.function.Supplier<Status> status;
  private UnixServer server;

  /**
   * What the daemon is doing now, for {@code GET /v1/status}; {@code linkPaths} counts the
   * connected links by path ({@code direct-lan}, {@code direct-nat}, {@code relay}).
   */
  public record Status(String name, java.net.URI flock, boolean registered, int links, Path stateDir,
      java.util.Optional<Integer> lanPort, Map<String, Integer> linkPaths) {
    public Status {
      linkPaths = Map.copyOf(linkPaths);
    }

    public Status(String name, java.net.URI flock, boolean registered, int links, Path stateDir,
        java.util.Optional<Integer> lanPort) {
      this(name, flock, registered, links, stateDir, lanPort, Map.of());
    }
  }

  /** Saves and applies new settings (the daemon re-registers, re-announces). */
  @FunctionalInterface
  public interface SettingsChange {
    void apply(Settings next) throws IOException;
  }

  private ControlServer(ApplianceId appliance, AppSupervisor apps, Grants grants, Installer installer,
      PersonaStore personas, AccessApi access, PeersApi peers, OffsiteApi offsite, java.util.function.Supplier<Status> status,
      SettingsChange settings) {
    this.appliance = appliance;
    this.peers = peers;
    this.offsite = offsite;
    this.status = status;
    this.settings = settings;
    this.apps = apps;
    this.grants = grants;
    this.installer = installer;
    this.personas = personas;
    this.access = access;
  }

  public static ControlServer start(Path socket, ApplianceId appliance, AppSupervisor apps, Grants grants,
      Installer installer, PersonaStore personas, AccessStore accessStore, AccessLog accessLog, PeerLinks peerLinks,
      OffsiteBackups offsite, java.util.function.Supplier<Status> status, SettingsChange settings) {
    ControlServer control = new ControlServer(appliance, apps, grants, installer, personas,
        new AccessApi(appliance, accessStore, accessLog, personas, apps),
        new PeersApi(appliance, accessStore, peerLinks, () -> status.get().name()), new OffsiteApi(offsite, accessStore), status,
        settings);
    try {
      control.server = UnixServer.start(socket, "rw-------", "control-accept", control::serve);
    } catch (IOException e) {
      throw new AppException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
    return control;
  }

  private void serve(SocketChannel ch) {
    try (ch) {
      LocalHttp.respond(ch, LOG, "control", () -> {
        LocalHttp.Head head = LocalHttp.readHead(ch);
        try {
          if (head.head().method().equals("POST") && head.head().target().split("\\?", 2)[0].equals(BUNDLE_UPLOAD)) {
            return receiveBundle(ch, head);
          }
          return handle(new Request(head.head(), LocalHttp.readBody(ch, head.head(), head.rest(), MAX_BODY)));
        } catch (Grants.BadGrant e) {
          throw new HttpProblem(400, e.getMessage());
        } catch (PersonaException | AppException e) {
          throw new HttpProblem(409, e.getMessage());
        } catch (BundleException e) {
          throw new HttpProblem(422, "bundle refused (" + e.reason() + "): " + e.getMessage());
        }
      });
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "control connection: {0}", e.getMessage());
    }
  }

  /**
   * {@code POST /v1/apps/bundle[?action=install|update&app=ID]} with a bundle file as the body:
   * installs its app, or updates it when installed; {@code action} allows only the one it names
   * (an update of app {@code ID}). Streamed to a private file (bundles can be large), verified,
   * then deleted.
   */
  private byte[] receiveBundle(SocketChannel ch, LocalHttp.Head head) throws IOException {
    Map<String, String> query = new Request(head.head(), new byte[0]).query();
    String action = query.getOrDefault("action", "");
    if (!List.of("", "install", "update").contains(action)) {
      throw new HttpProblem(400, "action is install or update, not '" + action + "'");
    }
    Path file = installer.newUpload();
    try {
      LocalHttp.saveBody(ch, head.head(), head.rest(), file, MAX_BUNDLE);
      Installer.Added added = switch (action) {
        case "install" -> new Installer.Added(installer.install(file), false);
        case "update" -> {
          String id = query.get("app");
          if (id == null) {
            throw new HttpProblem(400, "say which app to update: app=ID");
          }
          yield new Installer.Added(installer.update(id, file), true);
        }
        default -> installer.installOrUpdate(file);
      };
      return LocalHttp.ok(describe(added.app()).put("action", added.updated() ? "updated" : "installed"));
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private byte[] handle(Request request) {
    String method = request.method();
    String target = request.head().target();
    Map<String, String> query = request.query();
    List<String> path = request.path();
    if (path.size() == 2 && path.get(0).equals("v1") && path.get(1).equals("status")) {
      LocalHttp.requireMethod(request, "GET");
      return LocalHttp.ok(status());
    }
    if (path.size() == 2 && path.get(0).equals("v1") && path.get(1).equals("settings")) {
      return LocalHttp.ok(settings(request));
    }
    if (path.size() >= 2 && path.get(0).equals("v1") && path.get(1).equals("personas")) {
      return personas(request, path);
    }
    if (path.size() >= 2 && path.get(0).equals("v1") && path.get(1).equals("peers")) {
      return LocalHttp.ok(peers.handle(request, path));
    }
    if (path.size() >= 2 && path.get(0).equals("v1") && path.get(1).equals("offsite")) {
      return LocalHttp.ok(offsite.handle(request, path));
    }
    if (path.size() >= 2 && path.get(0).equals("v1") && AccessApi.RESOURCES.contains(path.get(1))) {
      return LocalHttp.ok(access.handle(request, path));
    }
    if (path.size() < 2 || !path.get(0).equals("v1") || !path.get(1).equals("apps")) {
      throw new HttpProblem(404, "no such resource: " + target);
    }
    if (path.size() == 2 && method.equals("POST")) {
      JsonNode req = request.json();
      InstalledApp added = req.has("repository")
          ? installer.installFrom(uri(request, req), LocalHttp.text(req, "app"))
          : installer.install(localBundle(request, req));
      return LocalHttp.ok(describe(added));
    }
    if (path.size() == 2) {
      LocalHttp.requireMethod(request, "GET");
      ArrayNode list = JSON.createArrayNode();
      apps.installed().forEach(app -> list.add(describe(app)));
      return LocalHttp.ok(JSON.createObjectNode().set("apps", list));
    }
    InstalledApp app = apps.installed().stream().filter(a -> a.id().equals(path.get(2))).findFirst()
        .orElseThrow(() -> new HttpProblem(404, "no app named '" + path.get(2) + "'"));
    String action = path.size() > 3 ? path.get(3) : "";
    switch (action) {
      case "" -> {
        if (method.equals("DELETE")) {
          installer.remove(app.id(), "true".equals(query.get("purge")));
          return LocalHttp.ok(JSON.createObjectNode().put("removed", app.id()).put("dataKept", !"true".equals(query.get("purge"))));
        }
        LocalHttp.requireMethod(request, "GET");
        return LocalHttp.ok(describe(app));
      }
      case "update" -> {
        LocalHttp.requireMethod(request, "POST");
        JsonNode req = request.json();
        return LocalHttp.ok(describe(req.has("repository") ? installer.installFrom(uri(request, req), app.id())
            : installer.update(app.id(), localBundle(request, req))));
      }
      case "start" -> {
        LocalHttp.requireMethod(request, "POST");
        apps.acquire(app.id());
        apps.release(app.id());
        return LocalHttp.ok(describe(app));
      }
      case "stop" -> {
        LocalHttp.requireMethod(request, "POST");
        apps.stop(app.id());
        return LocalHttp.ok(describe(app));
      }
      case "logs" -> {
        LocalHttp.requireMethod(request, "GET");
        return logs(app, query);
      }
      case "grants" -> {
        return grantsOf(app, request, path);
      }
      default -> throw new HttpProblem(404, "no such resource: " + target);
    }
  }

  /**
   * {@code GET /v1/personas}, {@code POST /v1/personas} {name, displayName, role, password},
   * {@code POST /v1/personas/<name>/password} {password}, {@code DELETE /v1/personas/<name>}.
   * Passwords arrive in the body only, never in a URL.
   */
  private byte[] personas(Request request, List<String> path) {
    String method = request.method();
    if (path.size() == 2 && method.equals("GET")) {
      ArrayNode list = JSON.createArrayNode();
      personas.list().forEach(p -> list.add(describe(p)));
      return LocalHttp.ok(JSON.createObjectNode().set("personas", list));
    }
    if (path.size() == 2 && method.equals("POST")) {
      JsonNode req = request.json();
      String name = LocalHttp.text(req, "name");
      PersonaStore.Persona p = personas.create(name, req.hasNonNull("displayName") ? LocalHttp.text(req, "displayName") : name,
          PersonaStore.Role.parse(req.path("role").asText("member")), LocalHttp.text(req, "password"));
      LOG.log(Level.INFO, "persona {0} added as {1}", p.name(), p.role().label());
      return LocalHttp.ok(describe(p));
    }
    if (path.size() == 3 && method.equals("DELETE")) {
      personas.remove(path.get(2));
      access.store().forgetPersona(path.get(2));
      LOG.log(Level.INFO, "persona {0} removed", path.get(2));
      return LocalHttp.ok(JSON.createObjectNode().put("removed", path.get(2)));
    }
    if (path.size() == 4 && path.get(3).equals("avatar") && (method.equals("PUT") || method.equals("DELETE"))) {
      byte[] image = null;
      if (method.equals("PUT")) {
        try {
          image = java.util.Base64.getDecoder().decode(LocalHttp.text(request.json(), "data"));
        } catch (IllegalArgumentException e) {
          throw new HttpProblem(400, "'data' must be the image in base64");
        }
      }
      personas.setAvatar(path.get(2), image);
      LOG.log(Level.INFO, "avatar of persona {0} {1}", path.get(2), image == null ? "removed" : "set");
      return LocalHttp.ok(describe(personas.find(path.get(2)).orElseThrow()));
    }
    if (path.size() == 4 && path.get(3).equals("password") && method.equals("POST")) {
      personas.setPassword(path.get(2), LocalHttp.text(request.json(), "password"));
      access.store().revokeSessionsOf(path.get(2), java.util.Optional.empty());
      LOG.log(Level.INFO, "password of persona {0} changed", path.get(2));
      return LocalHttp.ok(describe(personas.find(path.get(2)).orElseThrow()));
    }
    throw new HttpProblem(405, "use GET or POST /v1/personas, POST /v1/personas/<name>/password,"
        + " PUT or DELETE /v1/personas/<name>/avatar, DELETE /v1/personas/<name>");
  }

  /** {@code GET /v1/status}: the overview the admin app's first page and {@code intrustd status} show. */
  /**
   * A bundle named by its path on the appliance, which only callers on the appliance itself may
   * do: through the link ({@code intrustd/admin}, which marks requests with X-Intrustd-Link) a
   * path would let a remote admin probe the appliance's files. Remote callers upload the file.
   */
  private static Path localBundle(Request request, JsonNode req) {
    if (request.head().first(org.intrustd.core.access.TrustedHeaders.LINK).isPresent()) {
      throw new HttpProblem(403, "a bundle is named by path only on the appliance itself: upload it to " + BUNDLE_UPLOAD);
    }
    return Path.of(LocalHttp.text(req, "bundle"));
  }

  /**
   * {@code GET /v1/settings}; {@code PUT} with {@code {"name"?, "flock"?}} changes them at once
   * and for good (settings.json), answering with the settings now in force.
   */
  private ObjectNode settings(Request request) {
    if (request.method().equals("PUT")) {
      JsonNode req = request.json();
      Status now = status.get();
      Optional<String> name = optionalText(req, "name");
      Optional<String> flock = optionalText(req, "flock");
      try {
        settings.apply(new Settings(now.name(), now.flock()).with(name, flock.map(Settings::parseFlock)));
      } catch (Settings.InvalidSettings e) {
        throw new HttpProblem(400, e.getMessage());
      } catch (IOException e) {
        throw new HttpProblem(500, "cannot save the settings: " + e.getMessage());
      }
    } else {
      LocalHttp.requireMethod(request, "GET");
    }
    Status now = status.get();
    ObjectNode out = JSON.createObjectNode().put("name", now.name()).put("flock", now.flock().toString());
    out.putObject("storage").put("stateDir", now.stateDir().toString())
        .put("dataDir", now.stateDir().resolve("data").toString());
    now.lanPort().ifPresentOrElse(port -> out.putObject("lan").put("port", port), () -> out.putNull("lan"));
    return out;
  }

  /** An optional string field; present but not a string is a 400. */
  private static Optional<String> optionalText(JsonNode req, String field) {
    JsonNode v = req.get(field);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isTextual()) {
      throw new HttpProblem(400, "'" + field + "' must be a string");
    }
    return Optional.of(v.textValue());
  }

  private ObjectNode status() {
    Status now = status.get();
    ObjectNode out = JSON.createObjectNode().put("appliance", appliance.toString()).put("name", now.name());
    out.putObject("flock").put("url", now.flock().toString()).put("registered", now.registered());
    out.put("links", now.links());
    ObjectNode paths = out.putObject("linkPaths");
    new java.util.TreeMap<>(now.linkPaths()).forEach(paths::put);
    now.lanPort().ifPresentOrElse(port -> out.putObject("lan").put("port", port), () -> out.putNull("lan"));
    out.put("claimed", personas.owner().isPresent()).put("personas", personas.list().size());
    ArrayNode list = out.putArray("apps");
    apps.installed().forEach(a -> list.addObject().put("id", a.id()).put("version", a.manifest().version())
        .put("running", apps.running().contains(a.id())));
    ObjectNode storage = out.putObject("storage").put("stateDir", now.stateDir().toString())
        .put("dataBytes", sizeOf(now.stateDir().resolve("data")));
    try {
      storage.put("freeBytes", Files.getFileStore(now.stateDir()).getUsableSpace());
    } catch (IOException e) {
      storage.putNull("freeBytes");
    }
    return out;
  }

  /** Bytes in the files under {@code dir} (0 if it does not exist); unreadable parts are skipped. */
  private static long sizeOf(Path dir) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    long[] total = {0};
    try {
      Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
          total[0] += attrs.size();
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
          return java.nio.file.FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      // a partial total is still an answer
    }
    return total[0];
  }

  /** A persona, with its picture as a data: URL (at most {@link PersonaStore#MAX_AVATAR} bytes) or null. */
  private ObjectNode describe(PersonaStore.Persona p) {
    return JSON.createObjectNode().put("name", p.name()).put("displayName", p.displayName())
        .put("role", p.role().label()).put("created", p.created().toString())
        .put("avatar", personas.avatar(p.name()).map(a -> "data:" + a.type() + ";base64,"
            + java.util.Base64.getEncoder().encodeToString(a.data())).orElse(null));
  }

  private byte[] grantsOf(InstalledApp app, Request request, List<String> path) {
    String method = request.method();
    if (path.size() == 4 && method.equals("POST")) {
      JsonNode req = request.json();
      JsonNode permission = req.get("permission");
      if (permission == null || !permission.isTextual()) {
        throw new HttpProblem(400, "the body must be {\"permission\": \"internet\" | \"app:<id>\" | \"peer\", \"hosts\": [...]}");
      }
      List<String> hosts = new ArrayList<>();
      JsonNode h = req.path("hosts");
      if (!h.isMissingNode() && !h.isArray()) {
        throw new HttpProblem(400, "hosts must be an array of \"host:port\" strings");
      }
      h.forEach(x -> hosts.add(x.asText()));
      String name = appGrantName(permission.textValue());
      if (name.startsWith(Grants.APP_PREFIX) && apps.installed().stream().noneMatch(a -> a.id().equals(name.substring(4)))) {
        throw new HttpProblem(404, "no app named '" + name.substring(4) + "' to grant access to");
      }
      grants.grant(app.id(), name, hosts);
      LOG.log(Level.INFO, "granted {0} to app {1}{2}", name, app.id(), hosts.isEmpty() ? "" : " for " + hosts);
      return LocalHttp.ok(describe(app));
    }
    if (path.size() == 5 && method.equals("DELETE")) {
      if (!grants.revoke(app.id(), appGrantName(path.get(4)))) {
        throw new HttpProblem(404, "app '" + app.id() + "' does not have the permission '" + path.get(4) + "'");
      }
      LOG.log(Level.INFO, "revoked {0} from app {1}", path.get(4), app.id());
      return LocalHttp.ok(describe(app));
    }
    throw new HttpProblem(405, "use POST /v1/apps/<id>/grants or DELETE /v1/apps/<id>/grants/<permission>");
  }

  /**
   * An app's grant by its short name ({@code internet}, {@code app:<id>}) or as the daemon-level
   * permission it is (docs/spec/access.md): {@code intrustd+perm://intrustd/internet} and
   * {@code intrustd+perm://intrustd/call?app=<id>}.
   */
  private static String appGrantName(String text) {
    if (!text.startsWith(Permission.SCHEME)) {
      return text;
    }
    Permission p = Permission.tryParse(text).orElseThrow(() -> new HttpProblem(400, "'" + text + "' is not a permission"));
    if (p.app().equals(Permission.DAEMON) && p.name().equals("internet") && p.params().isEmpty()) {
      return "internet";
    }
    if (p.app().equals(Permission.DAEMON) && (p.name().equals(Grants.PEER) || p.name().equals(Grants.STRANGERS))
        && p.params().isEmpty()) {
      return p.name();
    }
    if (p.app().equals(Permission.DAEMON) && p.name().equals("call") && p.params().size() == 1 && p.param("app").isPresent()) {
      return Grants.APP_PREFIX + p.param("app").get();
    }
    throw new HttpProblem(400, "apps are granted intrustd+perm://intrustd/internet or intrustd+perm://intrustd/call?app=<id>,"
        + " not " + text);
  }

  private byte[] logs(InstalledApp app, Map<String, String> query) {
    int lines = 100;
    if (query.containsKey("lines")) {
      try {
        lines = Integer.parseInt(query.get("lines"));
      } catch (NumberFormatException e) {
        lines = -1;
      }
      if (lines < 1 || lines > MAX_LOG_LINES) {
        throw new HttpProblem(400, "lines must be a number from 1 to " + MAX_LOG_LINES);
      }
    }
    Path log = apps.paths(app.id()).logFile();
    List<String> all;
    try {
      all = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new HttpProblem(500, "cannot read " + log + ": " + e.getMessage());
    }
    ArrayNode out = JSON.createArrayNode();
    all.subList(Math.max(0, all.size() - lines), all.size()).forEach(out::add);
    return LocalHttp.ok(JSON.createObjectNode().put("app", app.id()).set("lines", out));
  }

  private ObjectNode describe(InstalledApp app) {
    AppManifest m = app.manifest();
    ObjectNode node = JSON.createObjectNode().put("id", app.id()).put("name", m.name()).put("version", m.version())
        .put("directory", app.directory().toString()).put("running", apps.running().contains(app.id()))
        .put("status", apps.exitReason(app.id())).put("removable", installer.fromBundle(app));
    Grants.AppGrants g = grants.of(app.id());
    ArrayNode perms = node.putArray("grants");
    g.names().forEach(perms::add);
    g.internet().ifPresent(hosts -> {
      ArrayNode h = node.putArray("internetHosts");
      hosts.forEach(h::add);
    });
    node.putObject("limits").put("memoryMiB", m.limits().memoryMiB()).put("processes", m.limits().processes())
        .put("cpuWeight", m.limits().cpuWeight());
    m.publisher().ifPresent(p -> node.put("publisher", p));
    ArrayNode requests = node.putArray("requests");
    m.requests().forEach(requests::add);
    ArrayNode defines = node.putArray("defines");
    m.defines().forEach(d -> defines.addObject().put("name", d.name()).put("description", d.description())
        .put("sharedBy", d.sharedByOpeners() ? "open" : "holders"));
    return node;
  }

  /** The repository to install from: a URL, or (on the appliance itself only, as for bundles) a folder. */
  private static java.net.URI uri(Request request, JsonNode req) {
    String text = LocalHttp.text(req, "repository");
    java.net.URI uri;
    try {
      uri = new java.net.URI(text);
      uri = uri.getScheme() == null ? Path.of(text).toUri() : uri;
    } catch (java.net.URISyntaxException | java.nio.file.InvalidPathException e) {
      throw new HttpProblem(400, "'repository' is not a URL or a path: " + e.getMessage());
    }
    if ("file".equals(uri.getScheme()) && request.head().first(org.intrustd.core.access.TrustedHeaders.LINK).isPresent()) {
      throw new HttpProblem(403, "a repository is named by path only on the appliance itself: give an http(s) URL");
    }
    return uri;
  }

  @Override
  public void close() {
    server.close();
  }
}

package org.intrustd.appliance.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.apps.InstalledApp;
import org.intrustd.appliance.bundles.BundleException;
import org.intrustd.appliance.install.Installer;
import org.intrustd.appliance.net.UnixServer;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.appliance.personas.PersonaException;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.appliance.proxy.Problem;
import org.intrustd.appliance.proxy.RequestHead;
import org.intrustd.appliance.proxy.RequestHeadParser;

/**
 * The owner's local control API: HTTP/1.1 with JSON on a Unix socket in the state directory
 * ({@code control.sock}, mode 0600, so only the daemon's own user, or root, can use it). The
 * {@code intrustd app ...} commands talk to it. One request per connection; problems are
 * {@code application/problem+json}. Written down in docs/spec/control.md.
 */
public final class ControlServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.control");
  static final int MAX_BODY = 64 * 1024;
  private static final int MAX_LOG_LINES = 10_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AppSupervisor apps;
  private final Grants grants;
  private final Installer installer;
  private final PersonaStore personas;
  private UnixServer server;

  private ControlServer(AppSupervisor apps, Grants grants, Installer installer, PersonaStore personas) {
    this.apps = apps;
    this.grants = grants;
    this.installer = installer;
    this.personas = personas;
  }

  public static ControlServer start(Path socket, AppSupervisor apps, Grants grants, Installer installer,
      PersonaStore personas) {
    ControlServer control = new ControlServer(apps, grants, installer, personas);
    try {
      control.server = UnixServer.start(socket, "rw-------", "control-accept", control::serve);
    } catch (IOException e) {
      throw new AppException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
    return control;
  }

  private void serve(SocketChannel ch) {
    try (ch) {
      byte[] response;
      try {
        response = handle(read(ch));
      } catch (ControlProblem p) {
        response = p.problem().toResponse();
      } catch (Grants.BadGrant e) {
        response = new Problem(400, e.getMessage()).toResponse();
      } catch (PersonaException e) {
        response = new Problem(409, e.getMessage()).toResponse();
      } catch (BundleException e) {
        response = new Problem(422, "bundle refused (" + e.reason() + "): " + e.getMessage()).toResponse();
      } catch (AppException e) {
        response = new Problem(409, e.getMessage()).toResponse();
      } catch (RuntimeException e) {
        LOG.log(Level.ERROR, "control request failed", e);
        response = new Problem(500, "internal error: " + e).toResponse();
      }
      ch.write(ByteBuffer.wrap(response));
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "control connection: {0}", e.getMessage());
    }
  }

  /** A request: its head and its body (Content-Length only; small). */
  record Request(RequestHead head, byte[] body) {}

  private static Request read(SocketChannel ch) throws IOException {
    RequestHeadParser parser = new RequestHeadParser();
    ByteBuffer buf = ByteBuffer.allocate(8192);
    while (true) {
      if (ch.read(buf) < 0) {
        throw new ControlProblem(400, "the request ended before its head did");
      }
      buf.flip();
      RequestHeadParser.Result r = parser.feed(buf);
      if (r instanceof RequestHeadParser.Result.Failed f) {
        throw new ControlProblem(f.status(), f.reason());
      }
      if (r instanceof RequestHeadParser.Result.Done d) {
        long length = switch (d.head().framing()) {
          case RequestHead.BodyFraming.None n -> 0;
          case RequestHead.BodyFraming.Length l -> l.bytes();
          default -> throw new ControlProblem(400, "send the body with a Content-Length");
        };
        if (length > MAX_BODY) {
          throw new ControlProblem(413, "bodies are at most " + MAX_BODY + " bytes");
        }
        ByteBuffer body = ByteBuffer.allocate((int) length);
        body.put(buf.slice(buf.position(), Math.min(buf.remaining(), body.capacity())));
        while (body.hasRemaining()) {
          if (ch.read(body) < 0) {
            throw new ControlProblem(400, "the body is shorter than its Content-Length");
          }
        }
        return new Request(d.head(), body.array());
      }
      buf.compact();
    }
  }

  private byte[] handle(Request request) {
    String method = request.head().method();
    String target = request.head().target();
    int q = target.indexOf('?');
    String query = q < 0 ? "" : target.substring(q + 1);
    List<String> path = segments(q < 0 ? target : target.substring(0, q));
    if (path.size() >= 2 && path.get(0).equals("v1") && path.get(1).equals("personas")) {
      return personas(method, path, request.body());
    }
    if (path.size() < 2 || !path.get(0).equals("v1") || !path.get(1).equals("apps")) {
      throw new ControlProblem(404, "no such resource: " + target);
    }
    if (path.size() == 2 && method.equals("POST")) {
      JsonNode req = parseJson(request.body());
      InstalledApp added = req.has("repository")
          ? installer.installFrom(uri(req), text(req, "app"))
          : installer.install(Path.of(text(req, "bundle")));
      return ok(describe(added));
    }
    if (path.size() == 2) {
      requireMethod(method, "GET");
      ArrayNode list = JSON.createArrayNode();
      apps.installed().forEach(app -> list.add(describe(app)));
      return ok(JSON.createObjectNode().set("apps", list));
    }
    InstalledApp app = apps.installed().stream().filter(a -> a.id().equals(path.get(2))).findFirst()
        .orElseThrow(() -> new ControlProblem(404, "no app named '" + path.get(2) + "'"));
    String action = path.size() > 3 ? path.get(3) : "";
    switch (action) {
      case "" -> {
        if (method.equals("DELETE")) {
          installer.remove(app.id(), query.contains("purge=true"));
          return ok(JSON.createObjectNode().put("removed", app.id()).put("dataKept", !query.contains("purge=true")));
        }
        requireMethod(method, "GET");
        return ok(describe(app));
      }
      case "update" -> {
        requireMethod(method, "POST");
        JsonNode req = parseJson(request.body());
        return ok(describe(req.has("repository") ? installer.installFrom(uri(req), app.id())
            : installer.update(app.id(), Path.of(text(req, "bundle")))));
      }
      case "start" -> {
        requireMethod(method, "POST");
        apps.acquire(app.id());
        apps.release(app.id());
        return ok(describe(app));
      }
      case "stop" -> {
        requireMethod(method, "POST");
        apps.stop(app.id());
        return ok(describe(app));
      }
      case "logs" -> {
        requireMethod(method, "GET");
        return logs(app, query);
      }
      case "grants" -> {
        return grantsOf(app, method, path, request.body());
      }
      default -> throw new ControlProblem(404, "no such resource: " + target);
    }
  }

  /**
   * {@code GET /v1/personas}, {@code POST /v1/personas} {name, displayName, role, password},
   * {@code POST /v1/personas/<name>/password} {password}, {@code DELETE /v1/personas/<name>}.
   * Passwords arrive in the body only, never in a URL.
   */
  private byte[] personas(String method, List<String> path, byte[] body) {
    if (path.size() == 2 && method.equals("GET")) {
      ArrayNode list = JSON.createArrayNode();
      personas.list().forEach(p -> list.add(describe(p)));
      return ok(JSON.createObjectNode().set("personas", list));
    }
    if (path.size() == 2 && method.equals("POST")) {
      JsonNode req = parseJson(body);
      String name = text(req, "name");
      PersonaStore.Persona p = personas.create(name, req.hasNonNull("displayName") ? text(req, "displayName") : name,
          PersonaStore.Role.parse(req.path("role").asText("member")), text(req, "password"));
      LOG.log(Level.INFO, "persona {0} added as {1}", p.name(), p.role().label());
      return ok(describe(p));
    }
    if (path.size() == 3 && method.equals("DELETE")) {
      personas.remove(path.get(2));
      LOG.log(Level.INFO, "persona {0} removed", path.get(2));
      return ok(JSON.createObjectNode().put("removed", path.get(2)));
    }
    if (path.size() == 4 && path.get(3).equals("password") && method.equals("POST")) {
      personas.setPassword(path.get(2), text(parseJson(body), "password"));
      LOG.log(Level.INFO, "password of persona {0} changed", path.get(2));
      return ok(describe(personas.find(path.get(2)).orElseThrow()));
    }
    throw new ControlProblem(405, "use GET or POST /v1/personas, POST /v1/personas/<name>/password,"
        + " DELETE /v1/personas/<name>");
  }

  private static ObjectNode describe(PersonaStore.Persona p) {
    return JSON.createObjectNode().put("name", p.name()).put("displayName", p.displayName())
        .put("role", p.role().label()).put("created", p.created().toString());
  }

  private byte[] grantsOf(InstalledApp app, String method, List<String> path, byte[] body) {
    if (path.size() == 4 && method.equals("POST")) {
      JsonNode req = parseJson(body);
      JsonNode permission = req.get("permission");
      if (permission == null || !permission.isTextual()) {
        throw new ControlProblem(400, "the body must be {\"permission\": \"internet\" | \"app:<id>\", \"hosts\": [...]}");
      }
      List<String> hosts = new ArrayList<>();
      JsonNode h = req.path("hosts");
      if (!h.isMissingNode() && !h.isArray()) {
        throw new ControlProblem(400, "hosts must be an array of \"host:port\" strings");
      }
      h.forEach(x -> hosts.add(x.asText()));
      String name = permission.textValue();
      if (name.startsWith(Grants.APP_PREFIX) && apps.installed().stream().noneMatch(a -> a.id().equals(name.substring(4)))) {
        throw new ControlProblem(404, "no app named '" + name.substring(4) + "' to grant access to");
      }
      grants.grant(app.id(), name, hosts);
      LOG.log(Level.INFO, "granted {0} to app {1}{2}", name, app.id(), hosts.isEmpty() ? "" : " for " + hosts);
      return ok(describe(app));
    }
    if (path.size() == 5 && method.equals("DELETE")) {
      if (!grants.revoke(app.id(), path.get(4))) {
        throw new ControlProblem(404, "app '" + app.id() + "' does not have the permission '" + path.get(4) + "'");
      }
      LOG.log(Level.INFO, "revoked {0} from app {1}", path.get(4), app.id());
      return ok(describe(app));
    }
    throw new ControlProblem(405, "use POST /v1/apps/<id>/grants or DELETE /v1/apps/<id>/grants/<permission>");
  }

  private byte[] logs(InstalledApp app, String query) {
    int lines = 100;
    for (String kv : query.split("&")) {
      if (kv.startsWith("lines=")) {
        try {
          lines = Integer.parseInt(kv.substring(6));
        } catch (NumberFormatException e) {
          lines = -1;
        }
        if (lines < 1 || lines > MAX_LOG_LINES) {
          throw new ControlProblem(400, "lines must be a number from 1 to " + MAX_LOG_LINES);
        }
      }
    }
    Path log = apps.paths(app.id()).logFile();
    List<String> all;
    try {
      all = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new ControlProblem(500, "cannot read " + log + ": " + e.getMessage());
    }
    ArrayNode out = JSON.createArrayNode();
    all.subList(Math.max(0, all.size() - lines), all.size()).forEach(out::add);
    return ok(JSON.createObjectNode().put("app", app.id()).set("lines", out));
  }

  private ObjectNode describe(InstalledApp app) {
    AppManifest m = app.manifest();
    ObjectNode node = JSON.createObjectNode().put("id", app.id()).put("name", m.name()).put("version", m.version())
        .put("directory", app.directory().toString()).put("running", apps.running().contains(app.id()))
        .put("status", apps.exitReason(app.id()));
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
    m.defines().forEach(d -> defines.addObject().put("name", d.name()).put("description", d.description()));
    return node;
  }

  private static List<String> segments(String path) {
    List<String> out = new ArrayList<>();
    for (String s : path.split("/")) {
      if (!s.isEmpty()) {
        try {
          out.add(URLDecoder.decode(s, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          throw new ControlProblem(400, "bad escape in the path: " + e.getMessage());
        }
      }
    }
    return out;
  }

  private static void requireMethod(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new ControlProblem(405, "use " + allowed + " here");
    }
  }

  private static String text(JsonNode req, String field) {
    JsonNode v = req.get(field);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw new ControlProblem(400, "'" + field + "' must be a non-empty string");
    }
    return v.textValue();
  }

  private static java.net.URI uri(JsonNode req) {
    String text = text(req, "repository");
    try {
      java.net.URI uri = new java.net.URI(text);
      return uri.getScheme() == null ? Path.of(text).toUri() : uri;
    } catch (java.net.URISyntaxException e) {
      throw new ControlProblem(400, "'repository' is not a URL or a path: " + e.getMessage());
    }
  }

  private static JsonNode parseJson(byte[] body) {
    try {
      JsonNode node = JSON.readTree(body);
      if (node == null || !node.isObject()) {
        throw new ControlProblem(400, "the body must be a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw new ControlProblem(400, "the body is not JSON: " + e.getMessage());
    }
  }

  private static byte[] ok(JsonNode body) {
    byte[] json = body.toString().getBytes(StandardCharsets.UTF_8);
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + json.length
        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + json.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(json, 0, out, head.length, json.length);
    return out;
  }

  /** A request the API refuses, with its status. */
  static final class ControlProblem extends RuntimeException {
    private final int status;

    ControlProblem(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    Problem problem() {
      return new Problem(status, getMessage());
    }
  }

  @Override
  public void close() {
    server.close();
  }
}

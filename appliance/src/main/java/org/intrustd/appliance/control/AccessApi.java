package org.intrustd.appliance.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.intrustd.appliance.access.AccessException;
import org.intrustd.appliance.access.AccessLog;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.access.AppTokenApi;
import org.intrustd.appliance.access.DurationText;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.net.LocalHttp;
import org.intrustd.appliance.net.LocalHttp.HttpProblem;
import org.intrustd.appliance.net.LocalHttp.Request;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.core.access.Permission;
import org.intrustd.core.id.ApplianceId;

/**
 * The owner's side of access control on the control socket: grants to personas and to
 * {@code anyone}, tokens (mint, list, revoke), sessions (list, revoke) and the access log
 * (query). Every revocation reaches open channels through {@link AccessStore#onRevoke}.
 */
final class AccessApi {
  private static final System.Logger LOG = System.getLogger("intrustd.control");
  static final Set<String> RESOURCES = Set.of("grants", "tokens", "sessions", "devices", "access-log");
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = LocalHttp.JSON;

  private final ApplianceId appliance;
  private final AccessStore store;
  private final AccessLog log;
  private final PersonaStore personas;
  private final AppSupervisor apps;

  AccessApi(ApplianceId appliance, AccessStore store, AccessLog log, PersonaStore personas, AppSupervisor apps) {
    this.appliance = appliance;
    this.store = store;
    this.log = log;
    this.personas = personas;
    this.apps = apps;
  }

  AccessStore store() {
    return store;
  }

  JsonNode handle(Request request, List<String> path) {
    return switch (path.get(1)) {
      case "grants" -> grants(request, path);
      case "tokens" -> tokens(request, path);
      case "sessions" -> sessions(request, path);
      case "devices" -> devices(request, path);
      case "access-log" -> {
        LocalHttp.requireMethod(request, "GET");
        yield accessLog(request.query());
      }
      default -> throw new HttpProblem(404, "no such resource");
    };
  }

  /**
   * {@code GET /v1/grants?subject=persona:alice|anyone}, {@code POST /v1/grants}
   * {subject, permission}, {@code DELETE /v1/grants?subject=…&permission=…}.
   */
  private JsonNode grants(Request request, List<String> path) {
    if (path.size() != 2) {
      throw new HttpProblem(404, "no such resource");
    }
    switch (request.method()) {
      case "GET" -> {
        String subject = subject(request.query().get("subject"));
        ArrayNode out = JSON.createArrayNode();
        store.grantsOf(subject).forEach(p -> out.add(p.toString()));
        return JSON.createObjectNode().put("subject", subject).set("permissions", out);
      }
      case "POST" -> {
        JsonNode req = request.json();
        String subject = subject(LocalHttp.text(req, "subject"));
        Permission p = permission(LocalHttp.text(req, "permission"));
        store.grant(subject, p);
        LOG.log(Level.INFO, "granted {0} to {1}", p, subject);
        return JSON.createObjectNode().put("subject", subject).put("granted", p.toString());
      }
      case "DELETE" -> {
        String subject = subject(request.query().get("subject"));
        Permission p = permission(request.query().getOrDefault("permission", ""));
        if (!store.revokeGrant(subject, p)) {
          throw new HttpProblem(404, subject + " does not hold " + p);
        }
        LOG.log(Level.INFO, "revoked {0} from {1}", p, subject);
        return JSON.createObjectNode().put("subject", subject).put("revoked", p.toString());
      }
      default -> throw new HttpProblem(405, "use GET, POST or DELETE on /v1/grants");
    }
  }

  /**
   * {@code GET /v1/tokens[?all=true]}; {@code POST /v1/tokens} {permissions, label, persona?,
   * expires? (ISO instant) | expiresIn? (e.g. "7d", "12h", "30m"), maxUses?} answers the secret
   * once; {@code DELETE /v1/tokens/<id>} revokes.
   */
  private JsonNode tokens(Request request, List<String> path) {
    if (path.size() == 2 && request.method().equals("GET")) {
      ArrayNode out = JSON.createArrayNode();
      store.tokens("true".equals(request.query().get("all"))).forEach(t -> out.add(describe(t)));
      return JSON.createObjectNode().set("tokens", out);
    }
    if (path.size() == 2 && request.method().equals("POST")) {
      JsonNode req = request.json();
      List<Permission> perms = new ArrayList<>();
      JsonNode list = req.path("permissions");
      if (!list.isArray() || list.isEmpty()) {
        throw new HttpProblem(400, "'permissions' must be a non-empty array of intrustd+perm:// names");
      }
      list.forEach(p -> perms.add(permission(p.asText())));
      Optional<String> persona = req.hasNonNull("persona") ? Optional.of(LocalHttp.text(req, "persona")) : Optional.empty();
      persona.ifPresent(n -> personas.find(n).orElseThrow(() -> new HttpProblem(404, "no persona named '" + n + "'")));
      Optional<Instant> expires = expiry(req);
      OptionalLong maxUses = req.hasNonNull("maxUses") ? OptionalLong.of(positive(req.get("maxUses"))) : OptionalLong.empty();
      AccessStore.MintedToken minted = store.mint(new AccessStore.TokenSpec(perms, persona,
          req.hasNonNull("label") ? LocalHttp.text(req, "label") : "share link", "owner", Optional.empty(), expires,
          maxUses));
      LOG.log(Level.INFO, "token {0} minted for {1}", minted.token().id(), perms);
      ObjectNode out = describe(minted.token());
      out.put("secret", minted.secret());
      out.put("fragment", "intrustd-appliance=" + appliance + "&intrustd-token=" + minted.secret());
      return out;
    }
    if (path.size() == 3 && request.method().equals("DELETE")) {
      String id = path.get(2);
      if (store.token(id).isEmpty()) {
        throw new HttpProblem(404, "no token with id '" + id + "'");
      }
      boolean now = store.revokeToken(id);
      LOG.log(Level.INFO, "token {0} revoked", id);
      return describe(store.token(id).orElseThrow()).put("revokedNow", now);
    }
    throw new HttpProblem(405, "use GET or POST /v1/tokens, DELETE /v1/tokens/<id>");
  }

  /** {@code GET /v1/sessions[?persona=x]}, {@code DELETE /v1/sessions/<id>}. */
  private JsonNode sessions(Request request, List<String> path) {
    if (path.size() == 2 && request.method().equals("GET")) {
      ArrayNode out = JSON.createArrayNode();
      store.sessions(Optional.ofNullable(request.query().get("persona"))).forEach(s -> out.addObject()
          .put("id", s.id()).put("persona", s.persona()).put("label", s.label()).put("created", s.created().toString())
          .put("lastUsed", s.lastUsed().toString()).put("expires", s.expires().toString()).put("device", s.device()));
      return JSON.createObjectNode().set("sessions", out);
    }
    if (path.size() == 3 && request.method().equals("DELETE")) {
      if (!store.revokeSession(path.get(2))) {
        throw new HttpProblem(404, "no live session with id '" + path.get(2) + "'");
      }
      LOG.log(Level.INFO, "session {0} revoked", path.get(2));
      return JSON.createObjectNode().put("revoked", path.get(2));
    }
    throw new HttpProblem(405, "use GET /v1/sessions or DELETE /v1/sessions/<id>");
  }

  /**
   * Enrolled devices and the requests waiting for approval (docs/spec/devices.md):
   * {@code GET /v1/devices}; {@code POST /v1/devices/requests/<id or code>} {persona} approves;
   * {@code DELETE /v1/devices/requests/<id or code>} turns one down; {@code DELETE /v1/devices/<id>}
   * revokes an enrolled device at once.
   */
  private JsonNode devices(Request request, List<String> path) {
    Instant now = Instant.now();
    if (path.size() == 2 && request.method().equals("GET")) {
      ObjectNode out = JSON.createObjectNode();
      ArrayNode waiting = out.putArray("requests");
      store.deviceRequests(now).forEach(r -> waiting.addObject().put("id", r.id()).put("code", r.code())
          .put("label", r.label()).put("requested", r.requested().toString()).put("expires", r.expires().toString()));
      ArrayNode devices = out.putArray("devices");
      store.sessions(Optional.empty()).stream().filter(AccessStore.Session::device)
          .forEach(d -> devices.add(describe(d)));
      return out;
    }
    if (path.size() == 4 && path.get(2).equals("requests")) {
      AccessStore.DeviceRequest r = store.deviceRequest(path.get(3), now)
          .orElseThrow(() -> new HttpProblem(404, "no device waits for approval with id or code '" + path.get(3)
              + "' (requests expire after " + AccessStore.REQUEST_WAIT.toMinutes() + " minutes)"));
      switch (request.method()) {
        case "POST" -> {
          String persona = LocalHttp.text(request.json(), "persona");
          if (personas.find(persona).isEmpty()) {
            throw new HttpProblem(404, "no persona named '" + persona + "'");
          }
          AccessStore.Session device = store.approveDevice(r, persona);
          LOG.log(Level.INFO, "device {0} (''{1}'', code {2}) approved for ''{3}''", r.id(), r.label(), r.code(), persona);
          return describe(device);
        }
        case "DELETE" -> {
          store.rejectDevice(r.id());
          LOG.log(Level.INFO, "device request {0} (''{1}'', code {2}) turned down", r.id(), r.label(), r.code());
          return JSON.createObjectNode().put("rejected", r.id());
        }
        default -> { }
      }
    }
    if (path.size() == 3 && request.method().equals("DELETE")) {
      String id = path.get(2);
      if (store.session(id).filter(AccessStore.Session::device).isEmpty() || !store.revokeSession(id)) {
        throw new HttpProblem(404, "no enrolled device with id '" + id + "'");
      }
      LOG.log(Level.INFO, "device {0} revoked", id);
      return JSON.createObjectNode().put("revoked", id);
    }
    throw new HttpProblem(405, "use GET /v1/devices, POST or DELETE /v1/devices/requests/<id or code>,"
        + " DELETE /v1/devices/<id>");
  }

  private static ObjectNode describe(AccessStore.Session device) {
    return JSON.createObjectNode().put("id", device.id()).put("persona", device.persona()).put("label", device.label())
        .put("created", device.created().toString()).put("lastUsed", device.lastUsed().toString())
        .put("expires", device.expires().toString());
  }

  /** {@code GET /v1/access-log?app=&persona=&token=&since=&until=&limit=} (ISO instants). */
  private JsonNode accessLog(Map<String, String> q) {
    int limit = 100;
    if (q.containsKey("limit")) {
      try {
        limit = Integer.parseInt(q.get("limit"));
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > AccessLog.MAX_QUERY) {
        throw new HttpProblem(400, "limit must be a number from 1 to " + AccessLog.MAX_QUERY);
      }
    }
    try {
      log.flush(); // what happened just before the question is part of the answer
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<AccessLog.Entry> entries = log.query(new AccessLog.Query(Optional.ofNullable(q.get("app")),
        Optional.ofNullable(q.get("persona")), Optional.ofNullable(q.get("token")), instant(q.get("since"), "since"),
        instant(q.get("until"), "until"), limit));
    ArrayNode out = JSON.createArrayNode();
    for (AccessLog.Entry e : entries) {
      ObjectNode n = out.addObject().put("id", e.id()).put("at", e.at().toString()).put("link", e.link());
      e.persona().ifPresentOrElse(p -> n.put("persona", p), () -> n.putNull("persona"));
      ArrayNode t = n.putArray("tokens");
      e.tokens().forEach(t::add);
      n.put("app", e.app()).put("method", e.method()).put("target", e.target()).put("status", e.status())
          .put("bytesIn", e.bytesIn()).put("bytesOut", e.bytesOut()).put("millis", e.millis())
          .put("result", e.result()).put("grant", e.grant());
    }
    return JSON.createObjectNode().put("dropped", log.dropped()).set("entries", out);
  }

  private static ObjectNode describe(AccessStore.Token t) {
    return AppTokenApi.describe(t);
  }

  private String subject(String text) {
    if (text == null || text.isEmpty()) {
      throw new HttpProblem(400, "name the subject: persona:<name> or anyone");
    }
    if (text.equals(AccessStore.ANYONE)) {
      return text;
    }
    if (text.startsWith("persona:") && personas.find(text.substring(8)).isPresent()) {
      return text;
    }
    throw new HttpProblem(text.startsWith("persona:") ? 404 : 400,
        text.startsWith("persona:") ? "no persona named '" + text.substring(8) + "'"
            : "a subject is persona:<name> or anyone, not '" + text + "'");
  }

  private Permission permission(String text) {
    Permission p;
    try {
      p = Permission.parse(text);
    } catch (IllegalArgumentException e) {
      throw new HttpProblem(400, "'" + text + "' is not a permission: " + e.getMessage());
    }
    if (p.app().equals(Permission.DAEMON)) {
      return p;
    }
    if (!apps.isInstalled(p.app())) {
      throw new HttpProblem(404, "no app named '" + p.app() + "' on this appliance");
    }
    return p;
  }

  private static Optional<Instant> expiry(JsonNode req) {
    if (req.hasNonNull("expires")) {
      return instant(LocalHttp.text(req, "expires"), "expires");
    }
    if (req.hasNonNull("expiresIn")) {
      return Optional.of(Instant.now().plus(DurationText.parse(LocalHttp.text(req, "expiresIn"))));
    }
    return Optional.empty();
  }

  private static Optional<Instant> instant(String text, String field) {
    if (text == null || text.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(text));
    } catch (DateTimeParseException e) {
      throw new HttpProblem(400, "'" + field + "' must be an ISO-8601 instant such as 2026-11-25T18:00:00Z");
    }
  }

  private static long positive(JsonNode n) {
    if (!n.canConvertToLong() || n.asLong() < 1) {
      throw new AccessException(400, "maxUses must be a whole number of at least 1");
    }
    return n.asLong();
  }
}

package org.intrustd.appliance.access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import org.intrustd.appliance.net.LocalHttp;
import org.intrustd.appliance.net.LocalHttp.HttpProblem;
import org.intrustd.appliance.net.LocalHttp.Request;
import org.intrustd.appliance.net.UnixServer;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.core.access.Permission;
import org.intrustd.core.access.TrustedHeaders;
import org.intrustd.core.id.ApplianceId;

/**
 * The daemon's own API for the client at the far end of a link (docs/spec/access.md): log in,
 * resume a session, log out, present a token, see who you are. Clients reach it on a channel
 * labelled {@code intrustd/session}, so passwords and secrets travel only inside the
 * end-to-end channel; the proxy forwards those exchanges to this Unix socket (mode 0600, out of
 * every sandbox) with the trusted {@code X-Intrustd-Link} header, which names the link.
 */
public final class SessionApi implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.access");
  private static final int MAX_BODY = 16 * 1024;
  /** Argon2id takes tens of MiB per check; two at a time bounds the memory a login flood can take. */
  private static final Semaphore HASHING = new Semaphore(2);
  /** The limiter's persona key for claim attempts: wrong codes are slowed like wrong passwords. */
  private static final String CLAIM_KEY = "(claim)";

  private final ApplianceId appliance;
  private final PersonaStore personas;
  private final AccessStore store;
  private final LinkAccess links;
  private final LoginLimiter limiter;
  private final InstantSource clock;
  private final Claim claim;
  private UnixServer server;

  private SessionApi(ApplianceId appliance, PersonaStore personas, AccessStore store, LinkAccess links,
      LoginLimiter limiter, InstantSource clock, Claim claim) {
    this.claim = claim;
    this.appliance = appliance;
    this.personas = personas;
    this.store = store;
    this.links = links;
    this.limiter = limiter;
    this.clock = clock;
  }

  public static SessionApi start(Path socket, ApplianceId appliance, PersonaStore personas, AccessStore store,
      LinkAccess links, LoginLimiter limiter, InstantSource clock, Claim claim) throws IOException {
    SessionApi api = new SessionApi(appliance, personas, store, links, limiter, clock, claim);
    api.server = UnixServer.start(socket, "rw-------", "session-accept", api::serve);
    return api;
  }

  private void serve(SocketChannel ch) {
    try (ch) {
      LocalHttp.respond(ch, LOG, "session", () -> {
        Request request = LocalHttp.read(ch, MAX_BODY);
        String link = request.header(TrustedHeaders.LINK);
        if (link == null) {
          throw new HttpProblem(400, "no link: this API is reached through a link only");
        }
        return LocalHttp.ok(handle(request, link));
      });
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "session connection: {0}", e.getMessage());
    }
  }

  private JsonNode handle(Request request, String link) {
    List<String> path = request.path();
    String route = String.join("/", path);
    if (path.size() == 3 && route.startsWith("v1/sessions/")) {
      LocalHttp.requireMethod(request, "DELETE");
      return revokeOwn(link, path.get(2));
    }
    return switch (route) {
      case "v1/avatar" -> {
        LocalHttp.requireMethod(request, "GET");
        PersonaStore.Persona me = links.principal(link).persona()
            .orElseThrow(() -> new AccessException(401, "log in first"));
        yield LocalHttp.JSON.createObjectNode().put("avatar", personas.avatar(me.name())
            .map(a -> "data:" + a.type() + ";base64," + Base64.getEncoder().encodeToString(a.data())).orElse(null));
      }
      case "v1/sessions" -> {
        LocalHttp.requireMethod(request, "GET");
        yield ownSessions(link);
      }
      case "v1/session" -> {
        LocalHttp.requireMethod(request, "GET");
        yield describe(link);
      }
      case "v1/login" -> {
        LocalHttp.requireMethod(request, "POST");
        yield login(link, request.json());
      }
      case "v1/claim" -> {
        LocalHttp.requireMethod(request, "POST");
        yield claim(link, request.json());
      }
      case "v1/resume" -> {
        LocalHttp.requireMethod(request, "POST");
        yield resume(link, request.json());
      }
      case "v1/logout" -> {
        LocalHttp.requireMethod(request, "POST");
        links.principal(link).session().ifPresent(s -> store.revokeSession(s.id()));
        links.clearSession(link);
        yield describe(link);
      }
      case "v1/password" -> {
        LocalHttp.requireMethod(request, "POST");
        yield changePassword(link, request.json());
      }
      case "v1/tokens" -> {
        LocalHttp.requireMethod(request, "POST");
        AccessStore.Token t = store.redeem(LocalHttp.text(request.json(), "token"), clock.instant());
        links.attachToken(link, t);
        LOG.log(Level.INFO, "[{0}] token {1} (''{2}'') presented", link, t.id(), t.label());
        yield describe(link);
      }
      default -> throw new HttpProblem(404, "no such resource: /" + route);
    };
  }

  private JsonNode login(String link, JsonNode req) {
    String name = LocalHttp.text(req, "persona");
    String password = LocalHttp.text(req, "password");
    byte[] deviceKey = base64(LocalHttp.text(req, "deviceKey"), "deviceKey");
    DeviceProof.key(deviceKey);
    String label = req.path("label").asText("browser");
    limiter.check(name, link);
    Optional<PersonaStore.Persona> persona;
    HASHING.acquireUninterruptibly();
    try {
      persona = personas.verify(name, password);
    } finally {
      HASHING.release();
    }
    if (persona.isEmpty()) {
      limiter.failed(name, link);
      LOG.log(Level.INFO, "[{0}] failed login as ''{1}''", link, name);
      throw new AccessException(401, "wrong persona name or password");
    }
    limiter.succeeded(name, link);
    return startSession(link, name, deviceKey, label);
  }

  /** A new session for {@code persona} on this link; the answer carries its secret, this once. */
  private ObjectNode startSession(String link, String persona, byte[] deviceKey, String label) {
    AccessStore.NewSession created = store.createSession(persona, deviceKey,
        label.length() > 100 ? label.substring(0, 100) : label);
    links.bindSession(link, created.session());
    LOG.log(Level.INFO, "[{0}] logged in as ''{1}'' (session {2})", link, persona, created.session().id());
    ObjectNode out = describe(link);
    out.putObject("newSession").put("id", created.session().id()).put("secret", created.secret())
        .put("expires", created.session().expires().toString());
    return out;
  }

  /** The first-run claim: the code the appliance printed makes the caller its owner, logged in. */
  private JsonNode claim(String link, JsonNode req) {
    String code = LocalHttp.text(req, "code");
    String name = LocalHttp.text(req, "persona");
    String password = LocalHttp.text(req, "password");
    byte[] deviceKey = base64(LocalHttp.text(req, "deviceKey"), "deviceKey");
    DeviceProof.key(deviceKey);
    String displayName = req.hasNonNull("displayName") ? LocalHttp.text(req, "displayName") : name;
    limiter.check(CLAIM_KEY, link);
    PersonaStore.Persona owner;
    try {
      owner = claim.claim(code, name, displayName, password);
    } catch (AccessException e) {
      if (e.status() == 401) {
        limiter.failed(CLAIM_KEY, link);
        LOG.log(Level.WARNING, "[{0}] wrong claim code", link);
      }
      throw e;
    } catch (org.intrustd.appliance.personas.PersonaException e) {
      throw new AccessException(400, e.getMessage());
    }
    LOG.log(Level.WARNING, "[{0}] appliance claimed: ''{1}'' is its owner", link, owner.name());
    return startSession(link, owner.name(), deviceKey, req.path("label").asText("browser"));
  }

  private JsonNode resume(String link, JsonNode req) {
    String secret = LocalHttp.text(req, "session");
    byte[] proof = base64(LocalHttp.text(req, "proof"), "proof");
    AccessStore.Session session = store.resume(secret, clock.instant());
    String fingerprint = links.fingerprint(link).orElseThrow(() -> new AccessException(410, "this link has closed"));
    if (!DeviceProof.verify(session.deviceKey(), DeviceProof.message(appliance.toString(), fingerprint, session.id()),
        proof)) {
      LOG.log(Level.WARNING, "[{0}] session {1} presented without its device key's proof", link, session.id());
      throw new AccessException(401, "the session's device proof does not verify: it belongs to another browser");
    }
    links.bindSession(link, session);
    return describe(link);
  }

  private JsonNode changePassword(String link, JsonNode req) {
    LinkAccess.Principal p = links.principal(link);
    PersonaStore.Persona persona = p.persona().orElseThrow(() -> new AccessException(401, "log in first"));
    limiter.check(persona.name(), link);
    boolean ok;
    HASHING.acquireUninterruptibly();
    try {
      ok = personas.verify(persona.name(), LocalHttp.text(req, "current")).isPresent();
    } finally {
      HASHING.release();
    }
    if (!ok) {
      limiter.failed(persona.name(), link);
      throw new AccessException(401, "the current password is wrong");
    }
    try {
      personas.setPassword(persona.name(), LocalHttp.text(req, "new"));
    } catch (org.intrustd.appliance.personas.PersonaException e) {
      throw new AccessException(400, e.getMessage());
    }
    int ended = store.revokeSessionsOf(persona.name(), p.session().map(AccessStore.Session::id));
    LOG.log(Level.INFO, "[{0}] ''{1}'' changed their password; {2} other sessions ended", link, persona.name(), ended);
    return describe(link);
  }

  /** The logged-in persona's live sessions (its browsers), the link's own marked. */
  private JsonNode ownSessions(String link) {
    LinkAccess.Principal p = links.principal(link);
    PersonaStore.Persona persona = p.persona().orElseThrow(() -> new AccessException(401, "log in first"));
    ArrayNode out = LocalHttp.JSON.createArrayNode();
    for (AccessStore.Session s : store.sessions(Optional.of(persona.name()))) {
      out.addObject().put("id", s.id()).put("label", s.label()).put("created", s.created().toString())
          .put("lastUsed", s.lastUsed().toString()).put("expires", s.expires().toString())
          .put("current", p.session().map(c -> c.id().equals(s.id())).orElse(false));
    }
    return LocalHttp.JSON.createObjectNode().set("sessions", out);
  }

  /** Ends one of the logged-in persona's sessions (another browser of theirs, say a lost phone). */
  private JsonNode revokeOwn(String link, String id) {
    PersonaStore.Persona persona = links.principal(link).persona()
        .orElseThrow(() -> new AccessException(401, "log in first"));
    if (store.session(id).filter(s -> s.persona().equals(persona.name())).isEmpty()) {
      throw new AccessException(404, "you have no live session with id '" + id + "'");
    }
    store.revokeSession(id);
    LOG.log(Level.INFO, "[{0}] ''{1}'' ended their session {2}", link, persona.name(), id);
    return ownSessions(link);
  }

  /** {@code GET /v1/session}: the appliance, the persona (if logged in), tokens and permissions held. */
  private ObjectNode describe(String link) {
    LinkAccess.Principal p = links.principal(link);
    ObjectNode out = LocalHttp.JSON.createObjectNode().put("appliance", appliance.toString()).put("link", link)
        .put("claimed", claim.claimed());
    p.persona().ifPresentOrElse(x -> out.putObject("persona").put("name", x.name()).put("displayName", x.displayName())
        .put("role", x.role().label()), () -> out.putNull("persona"));
    p.session().ifPresentOrElse(s -> out.putObject("session").put("id", s.id()).put("expires", s.expires().toString()),
        () -> out.putNull("session"));
    ArrayNode tokens = out.putArray("tokens");
    p.tokens().forEach(t -> {
      ObjectNode n = tokens.addObject().put("id", t.id()).put("label", t.label());
      t.expires().ifPresent(e -> n.put("expires", e.toString()));
      ArrayNode perms = n.putArray("permissions");
      t.permissions().forEach(x -> perms.add(x.toString()));
    });
    ArrayNode perms = out.putArray("permissions");
    p.permissions().stream().map(Permission::toString).forEach(perms::add);
    return out;
  }

  private static byte[] base64(String text, String field) {
    try {
      return Base64.getUrlDecoder().decode(text.replace('+', '-').replace('/', '_').replace("=", ""));
    } catch (IllegalArgumentException e) {
      throw new HttpProblem(400, "'" + field + "' must be base64url");
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }
}

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
import org.intrustd.core.access.SessionProof;
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
  /** The limiter's key for pairing codes: guesses are slowed like wrong passwords. */
  private static final String PAIR_KEY = "(pair)";

  private final ApplianceId appliance;
  private final PersonaStore personas;
  private final AccessStore store;
  private final LinkAccess links;
  private final LoginLimiter limiter;
  private final InstantSource clock;
  private final Claim claim;
  private final java.util.function.Supplier<String> name;
  private UnixServer server;

  private SessionApi(ApplianceId appliance, PersonaStore personas, AccessStore store, LinkAccess links,
      LoginLimiter limiter, InstantSource clock, Claim claim, java.util.function.Supplier<String> name) {
    this.claim = claim;
    this.name = name;
    this.appliance = appliance;
    this.personas = personas;
    this.store = store;
    this.links = links;
    this.limiter = limiter;
    this.clock = clock;
  }

  public static SessionApi start(Path socket, ApplianceId appliance, PersonaStore personas, AccessStore store,
      LinkAccess links, LoginLimiter limiter, InstantSource clock, Claim claim, java.util.function.Supplier<String> name)
      throws IOException {
    SessionApi api = new SessionApi(appliance, personas, store, links, limiter, clock, claim, name);
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
      case "v1/peer/pair" -> {
        LocalHttp.requireMethod(request, "POST");
        yield pair(link, request.json());
      }
      case "v1/peer/hello" -> {
        LocalHttp.requireMethod(request, "POST");
        String peer = provePeer(link, request.json());
        if (store.peer(peer).isEmpty()) {
          LOG.log(Level.INFO, "[{0}] appliance {1}, not paired with this one, proved itself", link, peer);
        }
        yield asPeer(link, peer);
      }
      case "v1/peer/unpair" -> {
        LocalHttp.requireMethod(request, "POST");
        AccessStore.Peer peer = links.peer(link).orElseThrow(() -> new AccessException(401, "say hello as a peer first"));
        store.unpair(peer.id());
        LOG.log(Level.WARNING, "[{0}] appliance {1} (''{2}'') unpaired this one: forgotten", link, peer.id(), peer.name());
        yield describe(link);
      }
      case "v1/enroll" -> {
        LocalHttp.requireMethod(request, "POST");
        yield enroll(link, request.json());
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
    String label = shortText(req, "label", "browser");
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
    AccessStore.NewSession created = store.createSession(persona, deviceKey, label);
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
    return startSession(link, owner.name(), deviceKey, shortText(req, "label", "browser"));
  }

  /**
   * A device asks to be enrolled (docs/spec/devices.md) with its key and the hash of a session
   * secret it chose; once the owner approves, it resumes that session like a browser does.
   */
  private JsonNode enroll(String link, JsonNode req) {
    byte[] deviceKey = base64(LocalHttp.text(req, "deviceKey"), "deviceKey");
    DeviceProof.key(deviceKey);
    byte[] sessionHash = base64(LocalHttp.text(req, "sessionHash"), "sessionHash");
    if (sessionHash.length != 32) {
      throw new HttpProblem(400, "'sessionHash' must be the 32-byte SHA-256 of the session secret's bytes");
    }
    String label = shortText(req, "label", "device");
    AccessStore.DeviceRequest r = store.requestDevice(deviceKey, sessionHash, label, clock.instant());
    LOG.log(Level.INFO, "[{0}] device ''{1}'' asks to be enrolled: code {2}", link, label, r.code());
    ObjectNode out = describe(link);
    out.putObject("enrolment").put("id", r.id()).put("code", r.code()).put("expires", r.expires().toString());
    return out;
  }

  /**
   * The calling appliance proves it holds the identity key behind the ID it names, by signing
   * this appliance's ID and its own DTLS fingerprint on this link (docs/spec/peers.md): a proof
   * is good on this link only. Its ID, canonical; 401 otherwise.
   */
  private String provePeer(String link, JsonNode req) {
    ApplianceId peer = ApplianceId.parse(LocalHttp.text(req, "appliance"))
        .orElseThrow(() -> new HttpProblem(400, "'appliance' is not an appliance ID"));
    byte[] key = base64(LocalHttp.text(req, "publicKey"), "publicKey");
    byte[] proof = base64(LocalHttp.text(req, "proof"), "proof");
    if (peer.equals(appliance)) {
      throw new HttpProblem(400, "an appliance cannot pair with itself");
    }
    String fingerprint = links.fingerprint(link).orElseThrow(() -> new AccessException(410, "this link has closed"));
    if (!peer.matches(key) || !org.intrustd.core.crypto.Ed25519.verify(key,
        org.intrustd.core.crypto.SigningInput.peer(appliance.toString(), fingerprint), proof)) {
      LOG.log(Level.WARNING, "[{0}] a caller claimed to be appliance {1} without its key", link, peer);
      throw new AccessException(401, "the proof does not verify: this link is not from appliance " + peer);
    }
    return peer.toString();
  }

  /** Pairing: a proved appliance presents the one-time code this appliance's owner made. */
  private JsonNode pair(String link, JsonNode req) {
    String peer = provePeer(link, req);
    String code = LocalHttp.text(req, "code");
    String peerName = shortText(req, "name", peer);
    limiter.check(PAIR_KEY, link);
    Optional<List<String>> allow = store.redeemInvite(code, clock.instant());
    if (allow.isEmpty()) {
      limiter.failed(PAIR_KEY, link);
      LOG.log(Level.WARNING, "[{0}] appliance {1} presented a wrong or lapsed pairing code", link, peer);
      throw new AccessException(401, "wrong or lapsed pairing code: ask the owner for a new one");
    }
    limiter.succeeded(PAIR_KEY, link);
    store.pair(peer, peerName, allow.get(), clock.instant());
    LOG.log(Level.WARNING, "[{0}] paired with appliance {1} (''{2}''); it may open {3}", link, peer, peerName, allow.get());
    return asPeer(link, peer);
  }

  /**
   * Binds the link to the appliance that proved itself. For a paired one the answer names this
   * appliance and what the peer may open here; a stranger learns neither.
   */
  private ObjectNode asPeer(String link, String peer) {
    links.bindAppliance(link, peer);
    Optional<AccessStore.Peer> paired = store.peer(peer);
    ObjectNode out = describe(link);
    ObjectNode about = out.putObject("peer").put("appliance", appliance.toString()).put("paired", paired.isPresent());
    ArrayNode allow = about.putArray("allow");
    paired.ifPresent(p -> {
      store.peerSeen(peer, clock.instant());
      about.put("name", name.get());
      p.allow().forEach(allow::add);
    });
    return out;
  }

  private JsonNode resume(String link, JsonNode req) {
    String secret = LocalHttp.text(req, "session");
    byte[] proof = base64(LocalHttp.text(req, "proof"), "proof");
    AccessStore.Session session = store.resume(secret, clock.instant());
    String fingerprint = links.fingerprint(link).orElseThrow(() -> new AccessException(410, "this link has closed"));
    if (!DeviceProof.verify(session.deviceKey(), SessionProof.message(appliance.toString(), fingerprint, session.id()),
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
          .put("lastUsed", s.lastUsed().toString()).put("expires", s.expires().toString()).put("device", s.device())
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

  /**
   * A caller-chosen name shown to the owner (a session's label, a device's, a peer's): control
   * characters become spaces, at most 100 characters, {@code fallback} when absent or blank.
   */
  private static String shortText(JsonNode req, String field, String fallback) {
    String text = req.path(field).asText("").replaceAll("\\p{Cntrl}", " ").strip();
    return text.isEmpty() ? fallback : text.length() > 100 ? text.substring(0, 100) : text;
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

package org.intrustd.appliance.access;

import java.lang.System.Logger.Level;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.core.access.Permission;
import org.intrustd.core.access.TrustedHeaders;
import org.intrustd.core.id.ApplianceId;

/**
 * Who is at the other end of each link, and what they may open: the login session bound to
 * the link, the tokens presented on it, and the grants behind them. Every channel is admitted
 * here (the coarse check: may this caller open this app at all) and gets the trusted headers
 * the app sees. Open channels are remembered with the link, so that when a session, token,
 * grant or persona is revoked, {@link #enforce} closes every channel that would no longer be
 * admitted — WebSockets included — at once. Thread-safe.
 */
public final class LinkAccess {
  private static final System.Logger LOG = System.getLogger("intrustd.access");
  static final int MAX_TOKENS_PER_LINK = 16;

  /** An open channel that can be closed from outside. */
  public interface Revocable {
    void revoke(String reason);
  }

  /** The outcome of admitting a channel; {@code grant} names what let it through. */
  public sealed interface Decision {
    Optional<String> persona();

    List<String> tokens();

    record Admitted(Map<String, String> headers, Optional<String> persona, List<String> tokens, String grant)
        implements Decision {}

    record Refused(int status, String detail, Optional<String> persona, List<String> tokens) implements Decision {}
  }

  /** A permission and where it came from ({@code role:owner}, {@code persona:x}, {@code token:id}, {@code anyone}, {@code public}). */
  private record Held(Permission permission, String source) {}

  /** What the caller on a link is, right now. */
  public record Principal(Optional<PersonaStore.Persona> persona, Optional<AccessStore.Session> session,
      List<AccessStore.Token> tokens, List<Permission> permissions) {}

  private static final class LinkState {
    final String id;
    final String fingerprint;
    volatile String sessionId;
    volatile String appliance; // the appliance that proved itself on this link, paired or not (docs/spec/peers.md)
    final Set<String> tokenIds = new CopyOnWriteArraySet<>();
    final Set<Open> open = ConcurrentHashMap.newKeySet();

    LinkState(String id, String fingerprint) {
      this.id = id;
      this.fingerprint = fingerprint;
    }
  }

  private record Open(String app, Revocable channel) {}

  /**
   * Who made an admitted request, as of its admission: what an app may act for when it asks the
   * daemon to mint a token "for this request" (docs/spec/access.md, app API).
   */
  public record Requester(String app, String link, Optional<String> persona, List<Permission> holds, Instant expires) {}

  static final java.time.Duration REQUEST_LIFETIME = java.time.Duration.ofMinutes(10);
  private static final int MAX_REQUESTS = 10_000;
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
  private final Map<String, Requester> requests = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Requester> eldest) {
          return size() > MAX_REQUESTS;
        }
      });

  private final ApplianceId appliance;
  private final AccessStore store;
  private final PersonaStore personas;
  private final Set<String> publicApps;
  private final InstantSource clock;
  private volatile java.util.function.BooleanSupplier claimed = () -> true;
  private volatile java.util.function.BiPredicate<String, String> sharedByOpeners = (app, name) -> false;
  private volatile java.util.function.Predicate<String> openToStrangers = app -> false;
  private final Map<String, LinkState> links = new ConcurrentHashMap<>();

  public LinkAccess(ApplianceId appliance, AccessStore store, PersonaStore personas, Set<String> publicApps,
      InstantSource clock) {
    this.appliance = appliance;
    this.store = store;
    this.personas = personas;
    this.publicApps = Set.copyOf(publicApps);
    this.clock = clock;
  }

  /** Until {@code claimed} says so, only public apps open (see {@link Claim}). */
  public void requireClaim(java.util.function.BooleanSupplier claimed) {
    this.claimed = claimed;
  }

  /**
   * Which permissions anyone who may open their app may share ({@code (app, name)}: the
   * manifest's {@code "sharedBy": "open"}); by default, only those who hold a permission do.
   */
  public void sharedByOpeners(java.util.function.BiPredicate<String, String> rule) {
    this.sharedByOpeners = rule;
  }

  /**
   * Whether someone holding {@code holds} may hand {@code wanted} on in a token: they hold it,
   * or its app lets anyone who may open it share it. Checked when a token is minted and again
   * each time it is used, against what its persona holds then.
   */
  boolean mayShare(List<Permission> holds, Permission wanted) {
    return holds.stream().anyMatch(h -> h.implies(wanted))
        || sharedByOpeners.test(wanted.app(), wanted.name())
            && holds.stream().anyMatch(h -> h.implies(Permission.open(wanted.app())));
  }

  /** Which apps any appliance that proved itself may open, paired or not (the app's {@code strangers} grant). */
  public void openToStrangers(java.util.function.Predicate<String> apps) {
    this.openToStrangers = apps;
  }

  public void register(String linkId, String fingerprint) {
    links.put(linkId, new LinkState(linkId, fingerprint));
  }

  /** The link is gone: forget it (its channels closed with it). */
  public void unregister(String linkId) {
    links.remove(linkId);
  }

  public Optional<String> fingerprint(String linkId) {
    return Optional.ofNullable(links.get(linkId)).map(s -> s.fingerprint);
  }

  /** The caller on {@code linkId} logs in (or resumes) with {@code session}. */
  public void bindSession(String linkId, AccessStore.Session session) {
    state(linkId).sessionId = session.id();
  }

  /** The caller on {@code linkId} proved it is appliance {@code id} (paired with this one or not). */
  public void bindAppliance(String linkId, String id) {
    state(linkId).appliance = id;
  }

  /** The paired appliance on {@code linkId}, if it proved itself and is still paired. */
  public Optional<AccessStore.Peer> peer(String linkId) {
    return Optional.ofNullable(state(linkId).appliance).flatMap(store::peer);
  }

  /** Logs the link out; its channels that needed the login are closed. */
  public void clearSession(String linkId) {
    state(linkId).sessionId = null;
    enforce();
  }

  /** Adds a presented token to the link (at most {@value #MAX_TOKENS_PER_LINK}). */
  public void attachToken(String linkId, AccessStore.Token token) {
    LinkState s = state(linkId);
    if (!s.tokenIds.contains(token.id()) && s.tokenIds.size() >= MAX_TOKENS_PER_LINK) {
      throw new AccessException(409, "at most " + MAX_TOKENS_PER_LINK + " tokens on one link");
    }
    s.tokenIds.add(token.id());
  }

  /** The caller on a link as of now (expired or revoked credentials dropped). */
  public Principal principal(String linkId) {
    return standing(state(linkId)).principal();
  }

  /** A principal and where each of its permissions came from. */
  private record Standing(Principal principal, List<Held> held) {}

  private Standing standing(LinkState s) {
    Instant now = clock.instant();
    Optional<AccessStore.Session> session = Optional.ofNullable(s.sessionId).flatMap(store::session);
    Optional<PersonaStore.Persona> persona = session.flatMap(x -> personas.find(x.persona()));
    List<AccessStore.Token> tokens = new ArrayList<>();
    for (String id : s.tokenIds) {
      store.token(id).filter(t -> t.refusal(now).isEmpty()).ifPresent(tokens::add);
    }
    List<Held> held = held(persona, tokens, Optional.ofNullable(s.appliance).flatMap(store::peer));
    List<Permission> perms = held.stream().map(Held::permission).distinct().toList();
    return new Standing(new Principal(persona, session, tokens, perms), held);
  }

  /** Whether the caller on {@code linkId} may open {@code app}, and with which trusted headers. */
  public Decision admit(String linkId, String app) {
    LinkState s = links.get(linkId);
    if (s == null) {
      return new Decision.Refused(403, "this link is closing", Optional.empty(), List.of());
    }
    if (!publicApps.contains(app) && !claimed.getAsBoolean()) {
      return new Decision.Refused(403, "you may not open app '" + app + "': this appliance has not been claimed yet;"
          + " its owner claims it with the code it printed when it started", Optional.empty(), List.of());
    }
    Standing standing = standing(s);
    Principal p = standing.principal();
    List<Held> held = standing.held();
    Optional<String> personaName = p.persona().map(PersonaStore.Persona::name)
        .or(() -> p.tokens().stream().flatMap(t -> t.persona().stream()).findFirst());
    List<String> tokenIds = p.tokens().stream().map(AccessStore.Token::id).toList();
    Permission open = Permission.open(app);
    Optional<String> allowing = held.stream()
        .filter(h -> h.permission().implies(open) || h.permission().app().equals(app)).findFirst().map(Held::source);
    String proved = s.appliance;
    boolean paired = proved != null && store.peer(proved).isPresent();
    if (allowing.isEmpty() && proved != null && openToStrangers.test(app)) {
      allowing = Optional.of("appliance:" + proved);
    }
    if (allowing.isEmpty() && proved != null) {
      return new Decision.Refused(403, "appliance " + proved + " may not open app '" + app + "' here: " + (paired
          ? "this appliance's owner has not allowed it (intrustd peer allow)"
          : "it is not paired with this one, and the app does not meet appliances it is not paired with"),
          personaName, tokenIds);
    }
    if (allowing.isEmpty()) {
      String how = p.persona().isPresent() ? "ask the owner for access" : "log in, or open a link that grants it";
      return new Decision.Refused(403, "you may not open app '" + app + "': " + how, personaName, tokenIds);
    }
    Set<Permission> forApp = new LinkedHashSet<>();
    held.stream().map(Held::permission)
        .filter(x -> x.app().equals(app) || x.equals(Permission.ADMIN)).forEach(forApp::add);
    TrustedHeaders.Caller caller = new TrustedHeaders.Caller(appliance.toString(), Optional.of(linkId), personaName,
        p.persona().map(x -> x.role().label()), tokenIds, forApp, Optional.empty());
    Map<String, String> headers = new java.util.LinkedHashMap<>(TrustedHeaders.format(caller));
    if (proved != null) {
      headers.put(TrustedHeaders.PEER, proved);
      headers.put(TrustedHeaders.PEER_PAIRED, Boolean.toString(paired));
    }
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    String requestId = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(id);
    // Only a logged-in persona can have tokens minted for it; a token's visitor acts for no one.
    Optional<String> persona = p.persona().map(PersonaStore.Persona::name);
    // What the persona may share from this app: its own permissions, and the right to open it.
    List<Permission> holds = held.stream().map(Held::permission).filter(x -> forApp.contains(x) || x.implies(open)).toList();
    requests.put(requestId, new Requester(app, linkId, persona, holds, clock.instant().plus(REQUEST_LIFETIME)));
    headers.put(TrustedHeaders.REQUEST, requestId);
    return new Decision.Admitted(headers, personaName, tokenIds, allowing.get());
  }

  /** The requester behind a request id the daemon gave {@code app}, if it is recent. */
  public Optional<Requester> requester(String app, String requestId) {
    Requester r = requestId == null ? null : requests.get(requestId);
    return r != null && r.app().equals(app) && clock.instant().isBefore(r.expires()) ? Optional.of(r) : Optional.empty();
  }

  /** The pseudo-app under which admin channels are remembered; re-admitted only while the caller administers. */
  private static final String ADMIN = "(admin)";

  /** Remembers an admitted admin channel (see {@link #opened}); it is closed when the caller stops being an admin. */
  public Runnable openedAdmin(String linkId, Revocable channel) {
    return opened(linkId, ADMIN, channel);
  }

  /** Remembers an admitted channel until the returned action is run (when it ends). */
  public Runnable opened(String linkId, String app, Revocable channel) {
    LinkState s = links.get(linkId);
    if (s == null) {
      return () -> { };
    }
    Open o = new Open(app, channel);
    s.open.add(o);
    return () -> s.open.remove(o);
  }

  /**
   * Closes every open channel its caller may no longer open, and forgets credentials that
   * ended. Run after every revocation; cheap when nothing is open.
   */
  public void enforce() {
    for (LinkState s : links.values()) {
      if (s.sessionId != null && store.session(s.sessionId).isEmpty()) {
        s.sessionId = null;
      }
      Instant now = clock.instant();
      s.tokenIds.removeIf(id -> store.token(id).flatMap(t -> t.refusal(now)).isPresent()
          || store.token(id).isEmpty());
      for (Open o : s.open) {
        Optional<String> refusal = o.app().equals(ADMIN)
            ? (standing(s).principal().permissions().contains(Permission.ADMIN) ? Optional.empty()
                : Optional.of("administering this appliance needs its owner or an admin"))
            : admit(s.id, o.app()) instanceof Decision.Refused r ? Optional.of(r.detail()) : Optional.empty();
        if (refusal.isPresent()) {
          LOG.log(Level.INFO, "[{0}] closing a channel to {1}: access revoked", s.id, o.app());
          s.open.remove(o);
          // Off this thread: closing sends on the channel, which may wait on a slow peer.
          Thread.ofVirtual().start(() -> o.channel().revoke("access revoked: " + refusal.get()));
        }
      }
    }
  }

  /**
   * Whether any open channel rests on a session or token, which can end by expiring as well as
   * by revocation; the daemon then runs {@link #enforce} every second.
   */
  public boolean hasCredentialedChannels() {
    for (LinkState s : links.values()) {
      if (!s.open.isEmpty() && (s.sessionId != null || !s.tokenIds.isEmpty())) {
        return true;
      }
    }
    return false;
  }

  private List<Held> held(Optional<PersonaStore.Persona> persona, List<AccessStore.Token> tokens,
      Optional<AccessStore.Peer> peer) {
    List<Held> out = new ArrayList<>();
    persona.ifPresent(p -> out.addAll(personaHolds(p)));
    peer.ifPresent(p -> p.allow().forEach(app -> out.add(new Held(Permission.open(app), "peer:" + p.id()))));
    store.grantsOf(AccessStore.ANYONE).forEach(g -> out.add(new Held(g, AccessStore.ANYONE + " " + g)));
    publicApps.forEach(a -> out.add(new Held(Permission.open(a), "public")));
    for (AccessStore.Token t : tokens) {
      // A token acting as a persona never grants more than that persona holds now.
      List<Permission> ceiling = t.persona().flatMap(personas::find)
          .map(p -> personaHolds(p).stream().map(Held::permission).toList()).orElse(null);
      if (t.persona().isPresent() && ceiling == null) {
        continue; // its persona is gone
      }
      for (Permission perm : t.permissions()) {
        if (ceiling == null || mayShare(ceiling, perm)) {
          out.add(new Held(perm, "token:" + t.id()));
        }
      }
    }
    return out;
  }

  private List<Held> personaHolds(PersonaStore.Persona p) {
    if (p.role() != PersonaStore.Role.MEMBER) {
      return List.of(new Held(Permission.ADMIN, "role:" + p.role().label()));
    }
    return store.grantsOf(AccessStore.persona(p.name())).stream()
        .map(g -> new Held(g, AccessStore.persona(p.name()) + " " + g)).toList();
  }

  private LinkState state(String linkId) {
    LinkState s = links.get(linkId);
    if (s == null) {
      throw new AccessException(410, "this link has closed");
    }
    return s;
  }
}

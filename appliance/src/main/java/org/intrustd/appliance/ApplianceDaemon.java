package org.intrustd.appliance;

import java.io.IOException;
import java.net.URI;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.intrustd.appliance.access.AccessLog;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.access.AppTokenApi;
import org.intrustd.appliance.access.Claim;
import org.intrustd.appliance.access.LinkAccess;
import org.intrustd.appliance.access.LoginLimiter;
import org.intrustd.appliance.access.SessionApi;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppLauncher;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.apps.InstalledApp;
import org.intrustd.appliance.control.ControlServer;
import org.intrustd.appliance.flock.FlockConnection;
import org.intrustd.appliance.install.Installer;
import org.intrustd.appliance.interapp.AppDirectory;
import org.intrustd.appliance.lan.LanFlock;
import org.intrustd.appliance.lan.LanPresence;
import org.intrustd.appliance.links.LinkSessions;
import org.intrustd.appliance.offsite.OffsiteBackups;
import org.intrustd.appliance.offsite.PeerHttp;
import org.intrustd.appliance.peers.PeerLinks;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.appliance.proxy.ChannelProxy;
import org.intrustd.appliance.settings.Settings;
import org.intrustd.appliance.settings.SettingsStore;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.identity.IdentityStore;
import org.intrustd.link.LinkFactory;

/**
 * The appliance daemon, wired by hand: identity → apps → proxy → links → flock connection.
 * {@link #start} returns once everything runs (registration with the flock continues in the
 * background); {@link #close} stops it all in reverse order.
 */
public final class ApplianceDaemon implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.appliance");
  /** How often running apps are health-checked. */
  static final long HEALTH_CHECK_SECONDS = 15;
  /** A link to another appliance with no channel open this long is closed (it is made again when needed). */
  static final java.time.Duration PEER_LINK_IDLE = java.time.Duration.ofMinutes(10);

  private final Identity identity;
  private final AppSupervisor apps;
  private final LinkFactory linkFactory;
  private final ChannelProxy proxy;
  private final LinkSessions sessions;
  private final FlockConnection flock;
  private final ScheduledExecutorService housekeeping;
  private final ControlServer control;
  private final AppEndpoints endpoints;
  private final PersonaStore personas;
  private final AccessStore access;
  private final AccessLog accessLog;
  private final SessionApi sessionApi;
  private final Claim claim;
  private final Optional<LanFlock> lanFlock;
  private final Optional<LanPresence> presence;

  private ApplianceDaemon(Identity identity, AppSupervisor apps, LinkFactory linkFactory, ChannelProxy proxy,
      LinkSessions sessions, FlockConnection flock, ScheduledExecutorService housekeeping, ControlServer control,
      AppEndpoints endpoints, PersonaStore personas, AccessStore access, AccessLog accessLog, SessionApi sessionApi,
      Claim claim, Optional<LanFlock> lanFlock, Optional<LanPresence> presence) {
    this.claim = claim;
    this.lanFlock = lanFlock;
    this.presence = presence;
    this.identity = identity;
    this.apps = apps;
    this.linkFactory = linkFactory;
    this.proxy = proxy;
    this.sessions = sessions;
    this.flock = flock;
    this.housekeeping = housekeeping;
    this.control = control;
    this.endpoints = endpoints;
    this.personas = personas;
    this.access = access;
    this.accessLog = accessLog;
    this.sessionApi = sessionApi;
  }

  /** The owner's control socket of the daemon whose state directory is {@code stateDir}. */
  public static Path controlSocket(Path stateDir) {
    return stateDir.resolve("control.sock");
  }

  /** Starts a daemon; {@code launcher} decides how apps run and {@code linkFactory} is owned by it. */
  public static ApplianceDaemon start(ApplianceConfig config, AppLauncher launcher, LinkFactory linkFactory) {
    Identity identity = IdentityStore.loadOrCreate(config.stateDir());
    SettingsStore settingsStore = new SettingsStore(config.stateDir());
    AtomicReference<Settings> settings = new AtomicReference<>(initialSettings(config, settingsStore));
    AppRegistry registry = AppRegistry.scan(config.appDirs());
    AppSupervisor apps = new AppSupervisor(registry, launcher, config.stateDir(),
        config.appStartTimeout(), config.appIdleTimeout(), InstantSource.system());
    Grants grants = Grants.load(config.stateDir());
    Path db = config.stateDir().resolve("appliance.db");
    PersonaStore personas = PersonaStore.open(db);
    AccessStore access = AccessStore.open(db);
    AccessLog accessLog = AccessLog.open(db, config.accessLogDetail());
    LinkAccess linkAccess = new LinkAccess(identity.id(), access, personas, config.publicApps(), InstantSource.system());
    access.onRevoke(linkAccess::enforce);
    Claim claim = Claim.start(personas);
    linkAccess.requireClaim(claim::claimed);
    linkAccess.sharedByOpeners((app, name) -> apps.installed().stream().filter(a -> a.id().equals(app)).findFirst()
        .map(a -> a.manifest().defines().stream().anyMatch(d -> d.name().equals(name) && d.sharedByOpeners()))
        .orElse(false));
    linkAccess.openToStrangers(grants::meetsStrangers);
    grants.onChange(app -> linkAccess.enforce()); // a stranger's channels close when the grant goes
    AppTokenApi appTokens = new AppTokenApi(identity.id(), access, linkAccess, id -> apps.installed().stream()
        .filter(a -> a.id().equals(id)).findFirst()
        .map(a -> a.manifest().defines().stream().map(AppManifest.Permission::name).collect(Collectors.toSet()))
        .orElse(Set.of()));
    PeerLinks peers = new PeerLinks(identity, linkFactory, () -> settings.get().flock(), access);
    AppEndpoints endpoints = new AppEndpoints(apps, grants, appTokens, new AppDirectory(personas, access, grants), peers);
    Installer installer = new Installer(config.stateDir(), registry, apps, endpoints::open, id -> {
      endpoints.close(id);
      grants.forget(id);
    });
    installer.recover();
    registry.all().forEach(app -> endpoints.open(app.id()));
    Path sessionSocket = config.stateDir().resolve("run").resolve("session.sock");
    SessionApi sessionApi;
    try {
      sessionApi = SessionApi.start(sessionSocket, identity.id(), personas, access, linkAccess,
          new LoginLimiter(InstantSource.system()), InstantSource.system(), claim, () -> settings.get().name());
    } catch (IOException e) {
      throw new AppException("cannot listen on " + sessionSocket + ": " + e.getMessage(), e);
    }
    ChannelProxy proxy = new ChannelProxy(apps, identity.id(), linkAccess, accessLog, sessionSocket,
        controlSocket(config.stateDir()));
    LinkSessions sessions = new LinkSessions(identity, linkFactory, proxy, linkAccess);
    LinkSessions.Signalling internet = sessions.signalling();
    FlockConnection flock = new FlockConnection(flocks(config, settings.get()), identity, settings.get().name(), internet);
    internet.attach(flock);
    Optional<LanFlock> lanFlock = config.lan().enabled()
        ? startLanFlock(identity, settings.get().name(), config, sessions) : Optional.empty();
    AtomicReference<Optional<LanPresence>> presenceLater = new AtomicReference<>(Optional.empty());
    OffsiteBackups offsite = new OffsiteBackups(config.stateDir(),
        () -> apps.installed().stream().map(InstalledApp::id).toList(), id -> apps.paths(id).dataDir(), apps::stop,
        PeerHttp.via(peers), identity.id().toString(), Clock.systemUTC());
    ControlServer control = ControlServer.start(controlSocket(config.stateDir()), identity.id(), apps, grants, installer,
        personas, access, accessLog, peers, offsite, () -> new ControlServer.Status(settings.get().name(), settings.get().flock(),
            flock.isRegistered(), sessions.liveLinks(), config.stateDir(), lanFlock.map(LanFlock::port), sessions.linkPaths()),
        next -> {
          synchronized (settingsStore) {
            settingsStore.save(next);
            settings.set(next);
          }
          flock.retarget(flocks(config, next), next.name());
          lanFlock.ifPresent(l -> l.rename(next.name()));
          presenceLater.get().ifPresent(p -> p.rename(next.name()));
          LOG.log(Level.INFO, "settings saved: name ''{0}'', flock {1}", next.name(), next.flock());
        });
    ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("housekeeping").daemon().factory());
    housekeeping.scheduleWithFixedDelay(apps::stopIdle, 30, 30, TimeUnit.SECONDS);
    housekeeping.scheduleWithFixedDelay(apps::checkHealth, HEALTH_CHECK_SECONDS, HEALTH_CHECK_SECONDS, TimeUnit.SECONDS);
    housekeeping.scheduleWithFixedDelay(offsite::tick, 1, 60, TimeUnit.SECONDS);
    housekeeping.scheduleWithFixedDelay(() -> peers.closeIdle(PEER_LINK_IDLE), 60, 60, TimeUnit.SECONDS);
    // Tokens and sessions also end by expiring; a second is the promise for open channels.
    housekeeping.scheduleWithFixedDelay(() -> {
      if (linkAccess.hasCredentialedChannels()) {
        linkAccess.enforce();
      }
    }, 1, 1, TimeUnit.SECONDS);
    housekeeping.scheduleWithFixedDelay(() -> accessLog.expire(config.accessLogRetention()), 1, 60 * 60, TimeUnit.SECONDS);
    flock.start();
    Optional<LanPresence> presence = lanFlock.map(local -> {
      LanPresence announcer = LanPresence.start(identity.id(), settings.get().name(), local.port(),
          config.lan().interfaces(), claim::claimed);
      claim.onClaimed(announcer::refresh);
      return announcer;
    });
    presenceLater.set(presence);
    LOG.log(Level.INFO, "appliance {0} ''{1}'' with apps {2}", identity.id(), settings.get().name(),
        registry.all().stream().map(a -> a.id()).toList());
    claim.code().ifPresent(code -> LOG.log(Level.WARNING, "this appliance has no owner yet: claim it with the one-time"
        + " code {0} (or on this machine: intrustd persona add NAME --role owner)", code));
    return new ApplianceDaemon(identity, apps, linkFactory, proxy, sessions, flock, housekeeping, control, endpoints,
        personas, access, accessLog, sessionApi, claim, lanFlock, presence);
  }

  /**
   * The flock URLs to register with, in order: the setting, and the command line's other nodes
   * of that flock while the setting is still the command line's first URL.
   */
  static List<URI> flocks(ApplianceConfig config, Settings settings) {
    if (!settings.flock().equals(config.flock())) {
      return List.of(settings.flock());
    }
    List<URI> all = new java.util.ArrayList<>(List.of(config.flock()));
    all.addAll(config.moreFlocks());
    return all;
  }

  /**
   * The name and flock to start with: those the owner saved (admin app, {@code intrustd
   * settings}) win over the command line's, which only give the first values.
   */
  private static Settings initialSettings(ApplianceConfig config, SettingsStore store) {
    Settings given = new Settings(config.name(), config.flock());
    return store.load().map(saved -> {
      if (!saved.equals(given)) {
        LOG.log(Level.INFO, "using the saved settings (name ''{0}'', flock {1}) rather than the command line''s",
            saved.name(), saved.flock());
      }
      return saved;
    }).orElse(given);
  }

  /** The appliance's own LAN flock; without one (it could not listen) the appliance still runs. */
  private static Optional<LanFlock> startLanFlock(Identity identity, String name, ApplianceConfig config,
      LinkSessions sessions) {
    try {
      return Optional.of(LanFlock.start(identity, name, config.lan().port(), sessions.signalling()));
    } catch (org.intrustd.flock.FlockException e) {
      LOG.log(Level.WARNING, "no LAN flock, so no LAN presence: {0}", e.getMessage());
      return Optional.empty();
    }
  }

  /** The port of the appliance's own LAN flock, when it runs one. */
  public Optional<Integer> lanPort() {
    return lanFlock.map(LanFlock::port);
  }

  /** The one-time claim code, while the appliance has no owner. */
  public Optional<String> claimCode() {
    return claim.code();
  }

  public ApplianceId id() {
    return identity.id();
  }

  public boolean isRegistered() {
    return flock.isRegistered();
  }

  /** Waits until the flock has accepted the registration; false on timeout. */
  public boolean awaitRegistered(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (!flock.isRegistered()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  @Override
  public void close() {
    // Order matters: exchanges still use their channels' native objects, so they end first,
    // then the links, and only then the engine that owns them all. LAN neighbours hear first.
    presence.ifPresent(LanPresence::close);
    control.close();
    sessionApi.close();
    endpoints.close();
    flock.close();
    lanFlock.ifPresent(LanFlock::close);
    housekeeping.shutdownNow();
    proxy.close();
    sessions.close();
    apps.close();
    linkFactory.close();
    accessLog.close();
    access.close();
    personas.close();
  }
}

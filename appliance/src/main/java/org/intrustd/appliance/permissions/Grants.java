package org.intrustd.appliance.permissions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.egress.InternetGrant;

/**
 * The daemon-level privileges the owner has granted each app, kept in {@code grants.json} in
 * the state directory (written atomically, so a crash keeps the old or the new set, never a
 * torn one). An app starts with none: no internet, no other app. Listeners hear of every change
 * so that a revocation takes effect at once (open connections are cut, not just new ones
 * refused). Thread-safe.
 */
public final class Grants {
  /** The permission that lets an app reach the internet through the daemon's egress proxy. */
  public static final String INTERNET = "internet";
  /** Prefix of the permission to open another app: {@code app:<id>}. */
  public static final String APP_PREFIX = "app:";
  /** The permission to call apps on paired appliances (docs/spec/peers.md). */
  public static final String PEER = "peer";
  /**
   * The permission to meet appliances that are not paired with this one (docs/spec/peers.md):
   * the app may call the app of the same id on any appliance, and any appliance may open it.
   */
  public static final String STRANGERS = "strangers";
  private static final String UNKNOWN_HINT = "': use internet, peer, strangers or app:<app-id>";

  private final Path file;
  private final Map<String, AppGrants> apps = new TreeMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  /**
   * One app's grants: internet (with the hosts it may reach; empty = any public host), apps it
   * may open, whether it may call apps on paired appliances, and whether it meets strangers.
   */
  public record AppGrants(Optional<List<String>> internet, List<String> openApps, boolean peers, boolean strangers) {
    public static final AppGrants NONE = new AppGrants(Optional.empty(), List.of(), false, false);

    public AppGrants {
      internet = internet.map(List::copyOf);
      openApps = List.copyOf(openApps);
    }

    /** Permission names, for listings: {@code internet}, {@code app:<id>}. */
    public List<String> names() {
      List<String> out = new ArrayList<>();
      internet.ifPresent(h -> out.add(INTERNET));
      openApps.forEach(a -> out.add(APP_PREFIX + a));
      if (peers) {
        out.add(PEER);
      }
      if (strangers) {
        out.add(STRANGERS);
      }
      return out;
    }

    boolean isEmpty() {
      return internet.isEmpty() && openApps.isEmpty() && !peers && !strangers;
    }
  }

  private Grants(Path file) {
    this.file = file;
  }

  /** Loads the grants kept in {@code stateDir}, or none. */
  public static Grants load(Path stateDir) {
    Grants g = new Grants(stateDir.resolve("grants.json"));
    if (Files.exists(g.file)) {
      try {
        JsonNode root = new ObjectMapper().readTree(Files.readString(g.file));
        root.path("apps").properties().forEach(e -> g.apps.put(e.getKey(), parse(e.getValue())));
      } catch (IOException | RuntimeException e) {
        throw new AppException("cannot read " + g.file + ": " + e.getMessage(), e);
      }
    }
    return g;
  }

  private static AppGrants parse(JsonNode node) {
    Optional<List<String>> internet = Optional.empty();
    if (node.has(INTERNET)) {
      List<String> hosts = new ArrayList<>();
      node.path(INTERNET).path("hosts").forEach(h -> hosts.add(h.asText()));
      internet = Optional.of(hosts);
    }
    List<String> open = new ArrayList<>();
    node.path("openApps").forEach(a -> open.add(a.asText()));
    return new AppGrants(internet, open, node.path(PEER).asBoolean(false), node.path(STRANGERS).asBoolean(false));
  }

  /** Called with the app id after each change of that app's grants. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  public synchronized AppGrants of(String appId) {
    return apps.getOrDefault(appId, AppGrants.NONE);
  }

  public boolean mayOpen(String caller, String target) {
    return of(caller).openApps().contains(target);
  }

  /** Whether {@code caller} may call apps on paired appliances. */
  public boolean mayCallPeers(String caller) {
    return of(caller).peers();
  }

  /** Whether {@code app} may call its namesakes on appliances not paired with this one, and be opened by any appliance. */
  public boolean meetsStrangers(String app) {
    return of(app).strangers();
  }

  /**
   * Grants {@code permission} to {@code appId}: {@code internet} (with {@code hosts}, rules like
   * {@code example.org:443}, or any public host when empty; granting again replaces the list)
   * or {@code app:<id>}. A bad permission or rule is a {@link BadGrant} and changes nothing.
   */
  public void grant(String appId, String permission, List<String> hosts) {
    synchronized (this) {
      AppGrants now = of(appId);
      AppGrants next;
      if (permission.equals(INTERNET)) {
        try {
          hosts = InternetGrant.parse(hosts).rules();
        } catch (IllegalArgumentException e) {
          throw new BadGrant(e.getMessage());
        }
        next = new AppGrants(Optional.of(hosts), now.openApps(), now.peers(), now.strangers());
      } else if (permission.startsWith(APP_PREFIX) && AppManifest.APP_ID.matcher(permission.substring(4)).matches()) {
        if (!hosts.isEmpty()) {
          throw new BadGrant("hosts only apply to the internet permission");
        }
        List<String> open = new ArrayList<>(now.openApps());
        if (!open.contains(permission.substring(4))) {
          open.add(permission.substring(4));
        }
        next = new AppGrants(now.internet(), open, now.peers(), now.strangers());
      } else if (permission.equals(PEER) || permission.equals(STRANGERS)) {
        if (!hosts.isEmpty()) {
          throw new BadGrant("hosts only apply to the internet permission");
        }
        boolean peer = permission.equals(PEER);
        next = new AppGrants(now.internet(), now.openApps(), now.peers() || peer, now.strangers() || !peer);
      } else {
        throw new BadGrant("unknown permission '" + permission + UNKNOWN_HINT);
      }
      apps.put(appId, next);
      save();
    }
    listeners.forEach(l -> l.accept(appId));
  }

  /** A grant that makes no sense (unknown permission, bad host rule); the message says why. */
  public static final class BadGrant extends IllegalArgumentException {
    BadGrant(String message) {
      super(message);
    }
  }

  /** Takes {@code permission} back; returns whether the app had it. */
  public boolean revoke(String appId, String permission) {
    boolean had;
    synchronized (this) {
      AppGrants now = of(appId);
      AppGrants next;
      if (permission.equals(INTERNET)) {
        had = now.internet().isPresent();
        next = new AppGrants(Optional.empty(), now.openApps(), now.peers(), now.strangers());
      } else if (permission.startsWith(APP_PREFIX)) {
        List<String> open = new ArrayList<>(now.openApps());
        had = open.remove(permission.substring(4));
        next = new AppGrants(now.internet(), open, now.peers(), now.strangers());
      } else if (permission.equals(PEER)) {
        had = now.peers();
        next = new AppGrants(now.internet(), now.openApps(), false, now.strangers());
      } else if (permission.equals(STRANGERS)) {
        had = now.strangers();
        next = new AppGrants(now.internet(), now.openApps(), now.peers(), false);
      } else {
        throw new BadGrant("unknown permission '" + permission + UNKNOWN_HINT);
      }
      if (!had) {
        return false;
      }
      apps.put(appId, next);
      save();
    }
    listeners.forEach(l -> l.accept(appId));
    return true;
  }

  /** Drops every grant of an app that was removed (a later app of that name starts with none). */
  public void forget(String appId) {
    synchronized (this) {
      if (apps.remove(appId) == null) {
        return;
      }
      save();
    }
    listeners.forEach(l -> l.accept(appId));
  }

  private void save() {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    ObjectNode all = root.putObject("apps");
    apps.forEach((id, g) -> {
      if (g.isEmpty()) {
        return;
      }
      ObjectNode app = all.putObject(id);
      g.internet().ifPresent(hosts -> {
        ArrayNode list = app.putObject(INTERNET).putArray("hosts");
        hosts.forEach(list::add);
      });
      if (!g.openApps().isEmpty()) {
        ArrayNode list = app.putArray("openApps");
        g.openApps().forEach(list::add);
      }
      if (g.peers()) {
        app.put(PEER, true);
      }
      if (g.strangers()) {
        app.put(STRANGERS, true);
      }
    });
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new AppException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}

package org.intrustd.appliance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.intrustd.appliance.access.AppTokenApi;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.egress.EgressProxy;
import org.intrustd.appliance.egress.InternetGrant;
import org.intrustd.appliance.interapp.AppCallGateway;
import org.intrustd.appliance.interapp.AppDirectory;
import org.intrustd.appliance.peers.PeerLinks;
import org.intrustd.appliance.permissions.Grants;

/**
 * The daemon's side of each app's two ways out of its sandbox: the gateway for calls to other
 * apps and the egress proxy to the network. Both are opened before the app can run (its socket
 * directory is the app's to write) and closed when it is removed. A change of grants rechecks
 * the app's open tunnels, so a revocation cuts them at once. Thread-safe.
 */
final class AppEndpoints implements AutoCloseable {
  private record Endpoints(AppCallGateway gateway, EgressProxy egress) {}

  private final AppSupervisor apps;
  private final Grants grants;
  private final AppTokenApi tokens;
  private final AppDirectory directory;
  private final PeerLinks peers;
  private final Map<String, Endpoints> open = new ConcurrentHashMap<>();

  AppEndpoints(AppSupervisor apps, Grants grants, AppTokenApi tokens, AppDirectory directory, PeerLinks peers) {
    this.apps = apps;
    this.directory = directory;
    this.peers = peers;
    this.grants = grants;
    this.tokens = tokens;
    grants.onChange(id -> Optional.ofNullable(open.get(id)).ifPresent(e -> e.egress().recheck()));
  }

  void open(String appId) {
    open.computeIfAbsent(appId, id -> {
      Path egressSocket = apps.paths(id).egressSocket();
      EgressProxy egress;
      try {
        Files.createDirectories(egressSocket.getParent());
        egress = EgressProxy.start(id, egressSocket, () -> grants.of(id).internet().map(InternetGrant::parse));
      } catch (IOException e) {
        throw new AppException("cannot listen on " + egressSocket + ": " + e.getMessage(), e);
      }
      return new Endpoints(AppCallGateway.start(id, apps.paths(id).daemonSocket(), grants, apps, tokens, directory,
          peers), egress);
    });
  }

  void close(String appId) {
    Endpoints e = open.remove(appId);
    if (e != null) {
      e.gateway().close();
      e.egress().close();
    }
  }

  @Override
  public void close() {
    open.keySet().forEach(this::close);
  }
}

package org.intrustd.flock;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.intrustd.core.id.ApplianceId;

/** The registry of a single flock process. Thread-safe. */
final class LocalApplianceRegistry implements ApplianceRegistry {
  private final ConcurrentMap<ApplianceId, ApplianceEndpoint> byId = new ConcurrentHashMap<>();

  @Override
  public Optional<ApplianceEndpoint> register(ApplianceId id, ApplianceEndpoint endpoint) {
    return Optional.ofNullable(byId.put(id, endpoint));
  }

  @Override
  public Optional<ApplianceEndpoint> find(ApplianceId id) {
    return Optional.ofNullable(byId.get(id));
  }

  @Override
  public void unregister(ApplianceId id, ApplianceEndpoint endpoint) {
    byId.remove(id, endpoint);
  }
}

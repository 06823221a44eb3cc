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
  public Optional<ApplianceSide> find(ApplianceId id) {
    return endpoint(id).map(ApplianceSide.Local::new);
  }

  /** The appliance's connection to this process. */
  Optional<ApplianceEndpoint> endpoint(ApplianceId id) {
    return Optional.ofNullable(byId.get(id));
  }

  @Override
  public void unregister(ApplianceId id, ApplianceEndpoint endpoint) {
    forget(id, endpoint);
  }

  /** {@link #unregister}, saying whether {@code endpoint} was still the appliance's connection. */
  boolean forget(ApplianceId id, ApplianceEndpoint endpoint) {
    return byId.remove(id, endpoint);
  }
}

package org.intrustd.flock;

import java.util.Optional;
import org.intrustd.core.id.ApplianceId;

/**
 * Which connection serves each registered appliance ID. An interface because a clustered
 * flock will keep this in a shared map (Hazelcast) instead of {@link LocalApplianceRegistry}.
 * Implementations are thread-safe.
 */
interface ApplianceRegistry {
  /** Makes {@code endpoint} the appliance's connection; returns the one it replaces. */
  Optional<ApplianceEndpoint> register(ApplianceId id, ApplianceEndpoint endpoint);

  Optional<ApplianceEndpoint> find(ApplianceId id);

  /** Forgets the appliance only if {@code endpoint} is still its connection, not a replacement. */
  void unregister(ApplianceId id, ApplianceEndpoint endpoint);
}

package org.intrustd.flock;

import java.util.Optional;
import org.intrustd.core.id.ApplianceId;

/**
 * Which connection serves each registered appliance ID: {@link LocalApplianceRegistry} for a
 * single node, {@link ClusteredRegistry} when nodes share one flock through Hazelcast.
 * Implementations are thread-safe.
 */
interface ApplianceRegistry extends AutoCloseable {
  /** Makes {@code endpoint} the appliance's connection; returns the one it replaces on this node. */
  Optional<ApplianceEndpoint> register(ApplianceId id, ApplianceEndpoint endpoint);

  /** Where the appliance is connected: here, or (in a cluster) on another node. */
  Optional<ApplianceSide> find(ApplianceId id);

  /** Forgets the appliance only if {@code endpoint} is still its connection, not a replacement. */
  void unregister(ApplianceId id, ApplianceEndpoint endpoint);

  @Override
  default void close() {}
}

package org.intrustd.flock;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One introduction: a client's session relayed to an appliance. Each side knows it by its own
 * id; the flock translates, so that neither learns the other's ids. In a cluster, when the two
 * connections are on different nodes, each node holds its own {@code Link} for the session,
 * with the far end as a remote side, and both know it by {@link #flockSession}. Thread-safe.
 */
final class Link {
  final String flockSession;
  final String clientSession;
  final ClientSide client;
  final ApplianceSide appliance;
  private final AtomicBoolean ended = new AtomicBoolean();

  Link(String flockSession, String clientSession, ClientSide client, ApplianceSide appliance) {
    this.flockSession = flockSession;
    this.clientSession = clientSession;
    this.client = client;
    this.appliance = appliance;
  }

  /**
   * Removes the session from both sides. True only for the one caller that ended it, which then
   * owes the other side a {@code bye}: a session ends exactly once however many events race.
   */
  boolean end() {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    client.forget(this);
    appliance.forget(this);
    return true;
  }
}

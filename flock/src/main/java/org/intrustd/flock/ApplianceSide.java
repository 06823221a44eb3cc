package org.intrustd.flock;

import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Offer;

/**
 * The appliance end of a {@link Link}: its connection on this node, or, in a cluster, its
 * connection on another node ({@link ClusteredRegistry.RemoteAppliance}). Thread-safe.
 */
sealed interface ApplianceSide permits ApplianceSide.Local, ClusteredRegistry.RemoteAppliance {
  /**
   * Opens the link's session at the appliance and sends it {@code offer}. A remote appliance
   * answers {@code ADDED} at once and refuses later, by an {@code error} for the session.
   */
  Sessions.Added open(Link link, Offer offer, int maxSessions);

  /** Relays a message whose {@code session} is the link's {@link Link#flockSession}. */
  void send(ApplianceMessage message);

  /** Drops the ended link from this side's table of open sessions. */
  void forget(Link link);

  record Local(ApplianceEndpoint endpoint) implements ApplianceSide {
    @Override
    public Sessions.Added open(Link link, Offer offer, int maxSessions) {
      Sessions.Added added = endpoint.sessions.add(link.flockSession, link, maxSessions);
      if (added == Sessions.Added.ADDED) {
        endpoint.send(offer);
      }
      return added;
    }

    @Override
    public void send(ApplianceMessage message) {
      endpoint.send(message);
    }

    @Override
    public void forget(Link link) {
      endpoint.sessions.remove(link.flockSession, link);
    }

    @Override
    public String toString() {
      return endpoint.toString();
    }
  }
}

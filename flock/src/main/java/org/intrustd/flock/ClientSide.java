package org.intrustd.flock;

import org.intrustd.core.signal.SignalMessage.ClientMessage;

/**
 * The client end of a {@link Link}: a connection on this node, or, in a cluster, one on another
 * node ({@link ClusteredRegistry.RemoteClient}). Thread-safe.
 */
sealed interface ClientSide permits ClientSide.Local, ClusteredRegistry.RemoteClient {
  /** Relays a message whose {@code session} is the link's {@link Link#clientSession}. */
  void send(ClientMessage message);

  /** Drops the ended link from this side's table of open sessions. */
  void forget(Link link);

  record Local(ClientEndpoint endpoint) implements ClientSide {
    @Override
    public void send(ClientMessage message) {
      endpoint.send(message);
    }

    @Override
    public void forget(Link link) {
      endpoint.sessions.remove(link.clientSession, link);
    }

    @Override
    public String toString() {
      return endpoint.toString();
    }
  }
}

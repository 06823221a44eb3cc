package org.intrustd.link;

/** One peer connection. Thread-safe; all callbacks go to its {@link LinkListener}. */
public interface Link {
  /** A short opaque id for logs and the X-Intrustd-Link header. */
  String id();

  void addRemoteCandidate(IceCandidate candidate);

  /** Opens a data channel (offering side); it fires {@link Channel.Handler#onOpen} when usable. */
  Channel openChannel(ChannelSpec spec);

  LinkState state();

  /** The path in use as last seen (see {@link LinkListener#onPathChange}); UNKNOWN until connected. */
  default LinkPath path() {
    return LinkPath.UNKNOWN;
  }

  /** Closes the link and every channel on it. Idempotent. */
  void close();
}

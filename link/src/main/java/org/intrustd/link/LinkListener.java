package org.intrustd.link;

/**
 * Events of one link. Called on the engine's threads: return quickly and never block, except
 * where a method says otherwise.
 */
public interface LinkListener {
  void onLocalCandidate(IceCandidate candidate);

  /**
   * The peer opened a channel. Set its handler before returning; messages are held until then.
   */
  void onChannel(Channel channel);

  void onStateChange(LinkState state);

  /**
   * The selected candidate pair now takes another path: once after the link connects, and
   * again whenever ICE moves it (from the relay to a direct pair, say).
   */
  default void onPathChange(LinkPath path) {}
}

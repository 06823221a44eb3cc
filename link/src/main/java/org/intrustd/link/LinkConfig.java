package org.intrustd.link;

import java.util.List;
import java.util.Optional;

/** Per-link settings: the STUN/TURN servers to use (none by default: host candidates only). */
public record LinkConfig(List<IceServer> iceServers) {
  public LinkConfig {
    iceServers = List.copyOf(iceServers);
  }

  public static LinkConfig hostOnly() {
    return new LinkConfig(List.of());
  }

  /** A STUN or TURN server, as in the W3C RTCIceServer. */
  public record IceServer(List<String> urls, Optional<String> username, Optional<String> credential) {
    public IceServer {
      urls = List.copyOf(urls);
    }
  }
}

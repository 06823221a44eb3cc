package org.intrustd.core.signal;

import java.util.List;
import java.util.Optional;

/**
 * The flock signalling protocol (docs/spec/flock.md) as records. Each endpoint has its own
 * sealed hierarchy, {@link ApplianceMessage} for {@code /appliance} and {@link ClientMessage}
 * for {@code /client}; messages that mean the same on both implement both. Binary members are
 * raw bytes here and base64url on the wire. Records hold arrays as given: treat them as
 * read-only.
 */
public final class SignalMessage {
  private SignalMessage() {}

  /** A message on the flock's {@code /appliance} endpoint, in either direction. */
  public sealed interface ApplianceMessage
      permits Challenge, Register, Registered, Ping, Pong, Offer, ApplianceAnswer, Candidate, Bye, Error {}

  /** A message on the flock's {@code /client} endpoint, in either direction. */
  public sealed interface ClientMessage
      permits Hello, Introduce, ClientAnswer, Candidate, Bye, Error, Ping, Pong {}

  /** An ICE server as in the W3C RTCIceServer dictionary. */
  public record IceServer(List<String> urls, Optional<String> username, Optional<String> credential) {
    public IceServer {
      urls = List.copyOf(urls);
    }
  }

  public record Challenge(byte[] nonce) implements ApplianceMessage {}

  public record Register(byte[] publicKey, String name, byte[] signature) implements ApplianceMessage {}

  public record Registered(String appliance, List<IceServer> iceServers) implements ApplianceMessage {
    public Registered {
      iceServers = List.copyOf(iceServers);
    }
  }

  public record Ping() implements ApplianceMessage, ClientMessage {}

  public record Pong() implements ApplianceMessage, ClientMessage {}

  /** A client's offer, relayed to the appliance under the flock's own session id. */
  /** A client's offer; {@code iceServers}, when given, are for this link (fresh TURN credentials) instead of those of {@code registered}. */
  public record Offer(String session, String sdp, List<IceServer> iceServers) implements ApplianceMessage {
    public Offer {
      iceServers = List.copyOf(iceServers);
    }

    public Offer(String session, String sdp) {
      this(session, sdp, List.of());
    }
  }

  /** The appliance's answer with its signature over {@code intrustd/answer/v1}(offer, answer). */
  public record ApplianceAnswer(String session, String sdp, byte[] signature) implements ApplianceMessage {}

  /** Trickle ICE; an empty {@code candidate} means end of candidates. */
  public record Candidate(String session, String candidate, Optional<String> sdpMid, int sdpMLineIndex)
      implements ApplianceMessage, ClientMessage {}

  public record Bye(String session, String reason) implements ApplianceMessage, ClientMessage {}

  public record Error(String code, String message, Optional<String> session)
      implements ApplianceMessage, ClientMessage {}

  public record Hello(List<IceServer> iceServers) implements ClientMessage {
    public Hello {
      iceServers = List.copyOf(iceServers);
    }
  }

  public record Introduce(String session, String appliance, String sdp) implements ClientMessage {}

  /** The appliance's answer as the client sees it: the flock adds the registered public key. */
  public record ClientAnswer(String session, String appliance, byte[] publicKey, String sdp, byte[] signature)
      implements ClientMessage {}
}

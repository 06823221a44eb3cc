package org.intrustd.flock;

import java.lang.System.Logger.Level;
import java.util.Optional;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.ErrorCode;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.intrustd.core.signal.SignalMessage.Pong;

/**
 * One connection on {@code /client}: introductions to appliances, and candidates and byes for
 * its sessions (flock.md "Messages on /client"). Thread-safety as in {@link Endpoint}.
 * Public only for Jetty's listener lookup (see {@link Endpoint}).
 */
public final class ClientEndpoint extends Endpoint {
  /** The {@code bye} reason an appliance gets when the client's connection goes away. */
  static final String CLIENT_GONE = "client-gone";

  /** This connection as the client end of its links. */
  private final ClientSide self = new ClientSide.Local(this);

  ClientEndpoint(Hub hub) {
    super(hub, 'c');
  }

  @Override
  void opened() {
    send(new Hello(hub.iceServers()));
  }

  @Override
  void received(String text) {
    switch (SignalCodec.decodeClient(text)) {
      case Decoded.Invalid<ClientMessage> invalid -> fail(invalid.code(), invalid.reason());
      case Decoded.Ok<ClientMessage> ok -> dispatch(ok.message());
    }
  }

  /** Queues one message to the client; any thread. */
  void send(ClientMessage message) {
    sendText(SignalCodec.encode(message));
  }

  @Override
  void send(Error error) {
    send((ClientMessage) error);
  }

  @Override
  void ended() {
    for (Link link : sessions.close()) {
      if (link.end()) {
        link.appliance.send(new Bye(link.flockSession, CLIENT_GONE));
      }
    }
  }

  private void dispatch(ClientMessage message) {
    switch (message) {
      case Introduce introduce -> introduce(introduce);
      case Candidate c -> openSession(c.session()).ifPresent(link -> link.appliance.send(
          new Candidate(link.flockSession, c.candidate(), c.sdpMid(), c.sdpMLineIndex())));
      case Bye bye -> openSession(bye.session()).filter(Link::end)
          .ifPresent(link -> link.appliance.send(new Bye(link.flockSession, bye.reason())));
      case Ping ping -> send(new Pong());
      case Hello hello -> notFromClient("hello");
      case ClientAnswer answer -> notFromClient("answer");
      case Pong pong -> notFromClient("pong");
      case Error error -> notFromClient("error");
    }
  }

  private void introduce(Introduce introduce) {
    String session = introduce.session();
    Optional<ApplianceId> id = ApplianceId.parse(introduce.appliance());
    if (id.isEmpty()) {
      refused(session, ErrorCode.INVALID_APPLIANCE_ID, "'" + introduce.appliance() + "' is not an appliance ID");
      return;
    }
    Optional<ApplianceSide> appliance = hub.registry().find(id.get());
    if (appliance.isEmpty()) {
      refused(session, ErrorCode.APPLIANCE_OFFLINE, id.get() + " is not registered here");
      return;
    }
    Link link = new Link(hub.newSessionId(), session, self, appliance.get());
    switch (sessions.add(session, link, hub.limits().introductionsPerClient())) {
      case ADDED -> offer(link, id.get(), introduce.sdp());
      case EXISTS -> refused(session, ErrorCode.SESSION_EXISTS, "session '" + session + "' is already open");
      case FULL -> refused(session, ErrorCode.TOO_MANY_SESSIONS,
          "at most " + hub.limits().introductionsPerClient() + " sessions per connection");
      case CLOSED -> { } // this connection is closing: nobody left to answer
    }
  }

  private void offer(Link link, ApplianceId id, String sdp) {
    // Fresh ICE servers for the appliance's end of this link: TURN credentials expire.
    Offer offer = new Offer(link.flockSession, sdp, hub.iceServers());
    switch (link.appliance.open(link, offer, hub.limits().sessionsPerAppliance())) {
      case ADDED -> {
        log(Level.INFO, "introduced '" + link.clientSession + "' to " + id + " at " + link.appliance);
        hub.metrics().introduced();
      }
      case FULL -> {
        link.end();
        refused(link.clientSession, ErrorCode.TOO_MANY_SESSIONS, id + " has too many sessions");
      }
      case CLOSED -> { // it went away between lookup and now
        link.end();
        refused(link.clientSession, ErrorCode.APPLIANCE_OFFLINE, id + " is not registered here");
      }
      case EXISTS -> throw new IllegalStateException("128-bit random session ids collided");
    }
  }

  private void refused(String session, ErrorCode code, String message) {
    log(Level.INFO, "introduction '" + session + "' refused: " + code.wire());
    hub.metrics().introductionFailed(code);
    refuse(code, message, session);
  }

  private void notFromClient(String type) {
    fail(ErrorCode.BAD_MESSAGE, "'" + type + "' is sent by the flock, not by a client");
  }
}

package org.intrustd.flock;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.crypto.SigningInput;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.ErrorCode;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.ApplianceAnswer;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.intrustd.core.signal.SignalMessage.Pong;
import org.intrustd.core.signal.SignalMessage.Register;
import org.intrustd.core.signal.SignalMessage.Registered;

/**
 * One connection on {@code /appliance}: challenge → register → registered, then relays answers,
 * candidates and byes to the clients of its sessions (flock.md "Messages on /appliance").
 * Thread-safety as in {@link Endpoint}; {@link #tick} runs on the housekeeper's thread.
 * Public only for Jetty's listener lookup (see {@link Endpoint}).
 */
public final class ApplianceEndpoint extends Endpoint {
  /** Where the registration is; volatile because the housekeeper reads it. */
  private sealed interface State {}

  private record AwaitingRegister(byte[] nonce, Instant deadline) implements State {}

  private record Online(ApplianceId appliance, byte[] publicKey) implements State {}

  private volatile State state;
  /** Whether this connection is counted as a registered appliance; it is uncounted once. */
  private final AtomicBoolean countedOnline = new AtomicBoolean();
  private volatile Instant lastHeard;

  ApplianceEndpoint(Hub hub) {
    super(hub, 'a');
  }

  @Override
  void opened() {
    byte[] nonce = hub.randomBytes(32);
    Instant now = hub.clock().instant();
    lastHeard = now;
    state = new AwaitingRegister(nonce, now.plus(hub.limits().challengeExpiry()));
    // The challenge goes out before the housekeeper watches its deadline: on a busy machine a
    // sweep could otherwise expire it before it was sent, and the peer saw only the error.
    send(new Challenge(nonce));
    hub.housekeeper().watch(this);
  }

  @Override
  void received(String text) {
    lastHeard = hub.clock().instant();
    switch (SignalCodec.decodeAppliance(text)) {
      case Decoded.Invalid<ApplianceMessage> invalid -> fail(invalid.code(), invalid.reason());
      case Decoded.Ok<ApplianceMessage> ok -> {
        switch (state) {
          case AwaitingRegister awaiting -> awaitingRegister(awaiting, ok.message());
          case Online online -> online(online, ok.message());
        }
      }
    }
  }

  /** Queues one message to the appliance; any thread. */
  void send(ApplianceMessage message) {
    sendText(SignalCodec.encode(message));
  }

  @Override
  void send(Error error) {
    send((ApplianceMessage) error);
  }

  /** Closes the connection when a deadline has passed; called by the housekeeper. */
  void tick(Instant now) {
    switch (state) {
      case AwaitingRegister awaiting -> {
        if (now.isAfter(awaiting.deadline())) {
          fail(ErrorCode.CHALLENGE_EXPIRED, "no 'register' within " + hub.limits().challengeExpiry());
        }
      }
      case Online online -> {
        if (Duration.between(lastHeard, now).compareTo(hub.limits().applianceIdle()) > 0) {
          close(StatusCode.SHUTDOWN, "idle for more than " + hub.limits().applianceIdle());
        }
      }
    }
  }

  @Override
  void ended() {
    hub.housekeeper().forget(this);
    uncountOnline();
    if (state instanceof Online online) {
      hub.registry().unregister(online.appliance(), this);
    }
    for (Link link : sessions.close()) {
      if (link.end()) {
        link.client.send(new Bye(link.clientSession, "appliance-offline"));
      }
    }
  }

  private void awaitingRegister(AwaitingRegister awaiting, ApplianceMessage message) {
    if (!(message instanceof Register register)) {
      fail(ErrorCode.BAD_MESSAGE, "only 'register' is accepted before 'registered'");
    } else if (hub.clock().instant().isAfter(awaiting.deadline())) {
      fail(ErrorCode.CHALLENGE_EXPIRED, "no 'register' within " + hub.limits().challengeExpiry());
    } else if (!Ed25519.verify(register.publicKey(), SigningInput.register(awaiting.nonce()), register.signature())) {
      fail(ErrorCode.BAD_SIGNATURE, "the signature does not verify with that public key over the challenge");
    } else if (!hub.admits(ApplianceId.fromPublicKey(register.publicKey()))) {
      fail(ErrorCode.NOT_ADMITTED, "this flock serves other appliances only");
    } else {
      register(register);
    }
  }

  private void register(Register register) {
    Online online = new Online(ApplianceId.fromPublicKey(register.publicKey()), register.publicKey().clone());
    state = online;
    countedOnline.set(true);
    hub.metrics().registered();
    // 'registered' goes out before anyone can find us, so that no offer overtakes it.
    send(new Registered(online.appliance().toString(), hub.iceServers()));
    Optional<ApplianceEndpoint> replaced = hub.registry().register(online.appliance(), this);
    log(Level.INFO, "registered " + online.appliance() + " '" + register.name() + "'"
        + replaced.map(old -> ", replacing " + old).orElse(""));
    replaced.ifPresent(old -> old.close(REPLACED, "replaced"));
    if (isOver()) { // closed while registering: ended() may have missed the registry entry
      hub.registry().unregister(online.appliance(), this);
      uncountOnline();
    }
  }

  private void uncountOnline() {
    if (countedOnline.compareAndSet(true, false)) {
      hub.metrics().unregistered();
    }
  }

  private void online(Online online, ApplianceMessage message) {
    switch (message) {
      case Ping ping -> send(new Pong());
      case ApplianceAnswer answer -> openSession(answer.session()).ifPresent(link -> link.client.send(
          new ClientAnswer(link.clientSession, online.appliance().toString(), online.publicKey(), answer.sdp(),
              answer.signature())));
      case Candidate c -> openSession(c.session()).ifPresent(link -> link.client.send(
          new Candidate(link.clientSession, c.candidate(), c.sdpMid(), c.sdpMLineIndex())));
      case Bye bye -> openSession(bye.session()).filter(Link::end)
          .ifPresent(link -> link.client.send(new Bye(link.clientSession, bye.reason())));
      case Register register -> fail(ErrorCode.BAD_MESSAGE, "already registered");
      case Challenge challenge -> notFromAppliance("challenge");
      case Registered registered -> notFromAppliance("registered");
      case Offer offer -> notFromAppliance("offer");
      case Pong pong -> notFromAppliance("pong");
      case Error error -> notFromAppliance("error");
    }
  }

  private void notFromAppliance(String type) {
    fail(ErrorCode.BAD_MESSAGE, "'" + type + "' is sent by the flock, not by an appliance");
  }
}

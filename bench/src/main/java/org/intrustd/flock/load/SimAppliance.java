package org.intrustd.flock.load;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Base64;
import java.util.SplittableRandom;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.crypto.SigningInput;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Register;

/**
 * A simulated appliance on {@code /appliance}: answers the challenge with a real Ed25519
 * registration (its key derived from {@link #seed} when the challenge comes, and dropped once
 * registered, so an idle one holds no key), sends {@code ping} every heartbeat interval, and
 * answers each offer with an answer and two candidates.
 */
final class SimAppliance extends WsConnection {
  /** What the run as a whole learns from its appliances; called on loop threads. */
  interface Events {
    void registered(SimAppliance appliance);

    void failed(SimAppliance appliance, String why);

    void ended(SimAppliance appliance, boolean wasRegistered, String why);
  }

  /** Per run, so that two runs against one flock register different appliances. */
  private static final long SALT = System.nanoTime();

  private final long seed;
  private final long heartbeatNanos;
  private final Wire wire;
  private final Events events;
  private String id;
  private boolean registered;
  private String refusal;
  long offers;
  long candidatesIn;

  SimAppliance(Loop loop, InetSocketAddress flock, InetAddress source, long seed, long heartbeatNanos, Wire wire,
      Events events) {
    super(loop, flock, source, "/appliance");
    this.seed = seed;
    this.heartbeatNanos = heartbeatNanos;
    this.wire = wire;
    this.events = events;
  }

  /** The number this run gave the appliance; its key derives from it. */
  long index() {
    return seed;
  }

  /** The canonical appliance ID the flock confirmed, or null before {@code registered}. */
  String id() {
    return id;
  }

  boolean isRegistered() {
    return registered && state() == State.OPEN;
  }

  @Override
  void opened() {
    // The flock speaks first (challenge).
  }

  @Override
  void text(String text) {
    switch (Wire.type(text)) {
      case "offer" -> {
        String session = Wire.member(text, "session");
        offers++;
        send(wire.answer(session));
        send(wire.applianceCandidate(0, session));
        send(wire.applianceCandidate(1, session));
      }
      case "candidate" -> candidatesIn++;
      case "pong", "bye" -> { }
      case "challenge" -> register(Base64.getUrlDecoder().decode(Wire.member(text, "nonce")));
      case "registered" -> {
        id = Wire.member(text, "appliance");
        registered = true;
        long first = heartbeatNanos / 2 + loop.random.nextLong(heartbeatNanos / 2);
        loop.heartbeatAt(System.nanoTime() + first, this);
        events.registered(this);
      }
      case "error" -> {
        if (!registered) {
          refusal = "error " + Wire.member(text, "code"); // the flock closes next: ended() reports it
        }
      }
      default -> { }
    }
  }

  /** A heartbeat is due: ping, and book the next one (nothing once the connection is over). */
  void heartbeat(long now) {
    if (state() == State.OPEN) {
      send(wire.ping);
      loop.heartbeatAt(now + heartbeatNanos, this);
    }
  }

  @Override
  void ended(String why) {
    if (!registered) {
      events.failed(this, refusal != null ? refusal : why);
    }
    events.ended(this, registered, why);
  }

  private void register(byte[] nonce) {
    byte[] seedBytes = new byte[32];
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + SALT);
    for (int i = 0; i < 32; i += 8) {
      long v = r.nextLong();
      for (int k = 0; k < 8; k++) {
        seedBytes[i + k] = (byte) (v >>> (8 * k));
      }
    }
    Ed25519.KeyMaterial key = Ed25519.fromSeed(seedBytes);
    byte[] signature = Ed25519.sign(key.keyPair().getPrivate(), SigningInput.register(nonce));
    send(SignalCodec.encode((ApplianceMessage) new Register(key.publicKey(), "load-" + seed, signature)));
  }
}

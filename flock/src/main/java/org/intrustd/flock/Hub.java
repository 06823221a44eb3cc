package org.intrustd.flock;

import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.signal.SignalMessage.IceServer;

/** What all connections of one flock share. Thread-safe. */
record Hub(FlockConfig config, ApplianceRegistry registry, Housekeeper housekeeper, SecureRandom random,
    AtomicLong connections, FlockMetrics metrics) {

  Hub(FlockConfig config, ApplianceRegistry registry, Housekeeper housekeeper, FlockMetrics metrics) {
    this(config, registry, housekeeper, new SecureRandom(), new AtomicLong(), metrics);
  }

  boolean admits(ApplianceId appliance) {
    return config.admitted().isEmpty() || config.admitted().contains(appliance);
  }

  Limits limits() {
    return config.limits();
  }

  InstantSource clock() {
    return config.clock();
  }

  /** The ICE servers for one end of an introduction: the configured ones, and fresh TURN credentials. */
  List<IceServer> iceServers() {
    if (config.turn().isEmpty()) {
      return config.iceServers();
    }
    List<IceServer> out = new java.util.ArrayList<>(config.iceServers());
    out.add(config.turn().get().mint(config.clock().instant()));
    metrics.turnCredentialMinted();
    return out;
  }

  /** A short id for log lines, {@code a…} for appliances and {@code c…} for clients. */
  String nextConnectionId(char kind) {
    return kind + Long.toString(connections.incrementAndGet(), 36);
  }

  byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** A flock-side session id: 128 random bits, so that no one can guess another's session. */
  String newSessionId() {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(16));
  }
}

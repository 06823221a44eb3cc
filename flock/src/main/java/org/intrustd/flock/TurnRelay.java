package org.intrustd.flock;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.intrustd.core.signal.SignalMessage.IceServer;

/**
 * A TURN relay (coturn with {@code use-auth-secret}) that shares a secret with the flock, and the
 * time-limited credentials the flock mints for it (the TURN REST API scheme,
 * draft-uberti-behave-turn-rest): the user name is the expiry in Unix seconds, a colon and a
 * label; the password is base64(HMAC-SHA1(secret, user name)). The relay checks both without
 * asking the flock, and refuses them once expired; the flock keeps no state.
 *
 * @param urls the relay as ICE URLs ({@code turn:HOST:PORT?transport=udp}, {@code …tcp})
 * @param secret the secret shared with the relay
 * @param lifetime how long a minted credential is good for
 */
public record TurnRelay(List<String> urls, byte[] secret, Duration lifetime) {
  public TurnRelay {
    urls = List.copyOf(urls);
    if (urls.isEmpty() || secret.length == 0 || lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException("a TURN relay needs URLs, a secret and a positive lifetime");
    }
    secret = secret.clone();
  }

  /** The relay at {@code hostPort}, over UDP and TCP, with credentials good for {@code lifetime}. */
  public static TurnRelay at(String hostPort, byte[] secret, Duration lifetime) {
    return new TurnRelay(List.of("turn:" + hostPort + "?transport=udp", "turn:" + hostPort + "?transport=tcp"), secret,
        lifetime);
  }

  /** Credentials good until {@code now} plus the lifetime, as an ICE server entry. */
  public IceServer mint(Instant now) {
    String user = now.plus(lifetime).getEpochSecond() + ":intrustd";
    return new IceServer(urls, Optional.of(user), Optional.of(password(secret, user)));
  }

  /** The password the relay expects for {@code user}. */
  static String password(byte[] secret, String user) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(secret, "HmacSHA1"));
      return Base64.getEncoder().encodeToString(mac.doFinal(user.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA1 is part of every JDK", e);
    }
  }
}

package org.intrustd.core.access;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a client signs with its device key to resume a session on a new link
 * (docs/spec/access.md, "Device keys and session binding"): a message naming the appliance,
 * the link's client DTLS fingerprint and the session, so a proof seen on one link is useless on
 * any other. Both ends build it here: the appliance to verify, Java clients to sign.
 */
public final class SessionProof {
  public static final String CONTEXT = "intrustd/session-proof/v1";
  private static final Pattern FINGERPRINT = Pattern.compile("(?m)^a=fingerprint:(\\S+) ([0-9A-Fa-f:]+)\\s*$");

  private SessionProof() {}

  /** The UTF-8 text to sign. */
  public static String message(String appliance, String fingerprint, String sessionId) {
    return CONTEXT + "\n" + appliance + "\n" + fingerprint + "\n" + sessionId;
  }

  /**
   * The client's DTLS certificate fingerprint from its offer ({@code sha-256 AB:CD:…}, algorithm
   * in lower case, hex in upper case), which the signed answer and DTLS tie to the link.
   */
  public static Optional<String> fingerprintOf(String offerSdp) {
    Matcher m = FINGERPRINT.matcher(offerSdp);
    return m.find() ? Optional.of(m.group(1).toLowerCase(Locale.ROOT) + " " + m.group(2).toUpperCase(Locale.ROOT))
        : Optional.empty();
  }
}

package org.intrustd.appliance.peers;

import java.util.Locale;
import java.util.Optional;
import org.intrustd.core.id.ApplianceId;

/**
 * What one owner gives another to pair their appliances (docs/spec/peers.md): the appliance's
 * ID and a one-time code, written {@code intrustd+pair://<appliance-id>/<code>}.
 */
public record PairingLink(ApplianceId appliance, String code) {
  public static final String SCHEME = "intrustd+pair://";
  private static final java.util.regex.Pattern CODE = java.util.regex.Pattern.compile("[A-Za-z0-9 -]{10,16}");

  /** A link as pasted: the scheme in any case, surrounding spaces ignored; empty for anything else. */
  public static Optional<PairingLink> parse(String text) {
    String t = text.strip();
    if (!t.toLowerCase(Locale.ROOT).startsWith(SCHEME) || t.length() > 200) {
      return Optional.empty();
    }
    String rest = t.substring(SCHEME.length());
    int slash = rest.indexOf('/');
    if (slash < 0 || !CODE.matcher(rest.substring(slash + 1)).matches()) {
      return Optional.empty();
    }
    return ApplianceId.parse(rest.substring(0, slash)).map(id -> new PairingLink(id, rest.substring(slash + 1)));
  }

  @Override
  public String toString() {
    return SCHEME + appliance + "/" + code;
  }
}

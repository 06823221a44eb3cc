package org.intrustd.flock;

import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.intrustd.core.id.ApplianceId;

/**
 * One message between flock nodes, on the receiving node's topic (docs/flock-cluster.md, "What
 * crosses between nodes"). Text, so that nothing but a string is ever deserialized from a
 * peer:
 *
 * <pre>
 * KIND SP FROM-NODE-UUID SP APPLIANCE-ID-OR-"-" LF BODY
 * </pre>
 *
 * <table>
 *   <caption>kinds</caption>
 *   <tr><th>kind</th><th>appliance</th><th>body</th></tr>
 *   <tr><td>{@code introduce}</td><td>the appliance</td><td>the {@code offer} for it (flock.md JSON)</td></tr>
 *   <tr><td>{@code to-appliance}</td><td>-</td><td>{@code candidate} or {@code bye}, appliance form</td></tr>
 *   <tr><td>{@code to-client}</td><td>-</td><td>{@code answer}, {@code candidate}, {@code bye} or {@code error}, client form</td></tr>
 *   <tr><td>{@code replaced}</td><td>the appliance</td><td>empty</td></tr>
 * </table>
 *
 * Every body message names its session by the flock's session id, which both nodes know.
 * Decoding never throws: anything malformed is empty.
 */
record ClusterEnvelope(Kind kind, UUID from, Optional<ApplianceId> appliance, String body) {
  enum Kind {
    INTRODUCE("introduce"), TO_APPLIANCE("to-appliance"), TO_CLIENT("to-client"), REPLACED("replaced");

    final String wire;

    Kind(String wire) {
      this.wire = wire;
    }
  }

  /** An envelope is at most this long: the protocol's 64 KiB message plus a header and a few additions. */
  static final int MAX_CHARS = 96 * 1024;
  private static final Pattern HEADER = Pattern.compile("([a-z-]{1,16}) ([0-9a-f-]{36}) ([A-Z0-9-]{1,80})");

  String encode() {
    return kind.wire + " " + from + " " + appliance.map(ApplianceId::toString).orElse("-") + "\n" + body;
  }

  static Optional<ClusterEnvelope> decode(String text) {
    if (text == null || text.length() > MAX_CHARS) {
      return Optional.empty();
    }
    int lf = text.indexOf('\n');
    if (lf < 0) {
      return Optional.empty();
    }
    var header = HEADER.matcher(text.substring(0, lf));
    if (!header.matches()) {
      return Optional.empty();
    }
    Optional<Kind> kind = kind(header.group(1));
    Optional<UUID> from = uuid(header.group(2));
    String id = header.group(3);
    Optional<ApplianceId> appliance = id.equals("-") ? Optional.empty() : ApplianceId.parse(id);
    if (kind.isEmpty() || from.isEmpty() || (!id.equals("-") && appliance.isEmpty())) {
      return Optional.empty();
    }
    boolean needsAppliance = kind.get() == Kind.INTRODUCE || kind.get() == Kind.REPLACED;
    if (needsAppliance != appliance.isPresent()) {
      return Optional.empty();
    }
    return Optional.of(new ClusterEnvelope(kind.get(), from.get(), appliance, text.substring(lf + 1)));
  }

  private static Optional<Kind> kind(String wire) {
    for (Kind k : Kind.values()) {
      if (k.wire.equals(wire)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  private static Optional<UUID> uuid(String text) {
    try {
      UUID u = UUID.fromString(text);
      return u.toString().equals(text) ? Optional.of(u) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}

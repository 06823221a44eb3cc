package org.intrustd.appliance.proxy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.intrustd.appliance.proxy.RequestHead.BodyFraming;

/**
 * Turns a client's request head into the one the app receives: the client cannot set trusted
 * headers (every {@code X-Intrustd-*} it sent is dropped before the daemon's own are added),
 * hop-by-hop fields (and those the client names in Connection) are dropped, and the connection
 * is one exchange long
 * (docs/spec/channels.md "Appliance rules").
 */
public final class RequestRewriter {
  private static final String TRUSTED_PREFIX = "x-intrustd-";
  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te",
      "upgrade", "host", "proxy-authorization", "proxy-authenticate");
  /**
   * Fields a client may name in Connection without effect: the body was framed by them, so
   * dropping them would let the app read a different body than the daemon forwarded.
   */
  private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding");

  private RequestRewriter() {}

  /** The head to send to the app, with {@code trusted} headers (names as given) added. */
  public static byte[] rewrite(RequestHead head, String appId, Map<String, String> trusted) {
    StringBuilder out = new StringBuilder(512);
    out.append(head.method()).append(' ').append(head.target()).append(" HTTP/1.1\r\n");
    out.append("Host: ").append(appId).append("\r\n");
    // Fields the client named in Connection are for this hop only (RFC 9110 §7.6.1).
    Set<String> connectionOptions = new HashSet<>();
    head.fields().stream().filter(f -> f.name().equalsIgnoreCase("connection"))
        .forEach(f -> Arrays.stream(f.value().split(",")).map(t -> t.strip().toLowerCase(Locale.ROOT))
            .filter(t -> !t.isEmpty() && !FRAMING.contains(t)).forEach(connectionOptions::add));
    for (RequestHead.Field f : head.fields()) {
      String name = f.name().toLowerCase(Locale.ROOT);
      if (name.startsWith(TRUSTED_PREFIX) || HOP_BY_HOP.contains(name) || connectionOptions.contains(name)) {
        continue;
      }
      out.append(f.name()).append(": ").append(f.value()).append("\r\n");
    }
    if (head.framing() instanceof BodyFraming.Upgrade) {
      out.append("Connection: Upgrade\r\n");
      out.append("Upgrade: ").append(head.first("Upgrade").orElseThrow()).append("\r\n");
    } else {
      out.append("Connection: close\r\n");
    }
    trusted.forEach((k, v) -> out.append(k).append(": ").append(v).append("\r\n"));
    out.append("\r\n");
    return out.toString().getBytes(StandardCharsets.ISO_8859_1);
  }
}

package org.intrustd.appliance.lan;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.intrustd.core.id.ApplianceId;

/**
 * What an appliance announces on its LAN with DNS-SD (docs/spec/lan.md): a service of type
 * {@code _intrustd._tcp} named after the appliance, whose TXT record carries its ID and name
 * and, only while it has no owner, {@code claim=open}. Once claimed, the record says nothing
 * about its claim state, so that a neighbour cannot tell a claimed appliance from others.
 *
 * @param port the TCP port of the appliance's LAN flock
 */
public record PresenceRecord(ApplianceId id, String name, boolean claimed, int port) {
  public static final String SERVICE_TYPE = "_intrustd._tcp.local.";
  public static final String TXT_VERSION = "1";
  /** A TXT entry is at most 255 bytes (RFC 6763 §6.1); the longest key here is 4 bytes plus '='. */
  private static final int MAX_NAME_BYTES = 255 - "name=".length();
  /** A DNS label is at most 63 bytes. */
  private static final int MAX_LABEL_BYTES = 63;

  public PresenceRecord {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be 1-65535, not " + port);
    }
    if (name.isBlank()) {
      throw new IllegalArgumentException("the name must not be blank");
    }
  }

  /** The TXT entries, in the order they are sent. */
  public Map<String, String> txt() {
    Map<String, String> txt = new LinkedHashMap<>();
    txt.put("txtvers", TXT_VERSION);
    txt.put("id", id.toString());
    txt.put("name", cut(name, MAX_NAME_BYTES));
    if (!claimed) {
      txt.put("claim", "open");
    }
    return txt;
  }

  /** The DNS-SD instance name: the friendly name, cut to one DNS label. */
  public String instanceName() {
    return cut(name, MAX_LABEL_BYTES);
  }

  /**
   * Reads a record a browser found on the LAN: empty unless it is a version 1 intrustd record
   * with a valid appliance ID. Unknown keys are ignored (later versions may add some); a
   * missing name falls back to the instance name.
   */
  public static Optional<PresenceRecord> parse(Map<String, String> txt, String instanceName, int port) {
    if (!TXT_VERSION.equals(txt.get("txtvers")) || port < 1 || port > 65535) {
      return Optional.empty();
    }
    Optional<ApplianceId> id = Optional.ofNullable(txt.get("id")).flatMap(ApplianceId::parse);
    if (id.isEmpty()) {
      return Optional.empty();
    }
    String name = Optional.ofNullable(txt.get("name")).filter(n -> !n.isBlank()).orElse(instanceName);
    if (name == null || name.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(new PresenceRecord(id.get(), name, !"open".equals(txt.get("claim")), port));
  }

  /** {@code s} cut to at most {@code maxBytes} of UTF-8, never inside a character. */
  static String cut(String s, int maxBytes) {
    if (s.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
      return s;
    }
    int bytes = 0;
    int end = 0;
    while (end < s.length()) {
      int cp = s.codePointAt(end);
      int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + n > maxBytes) {
        break;
      }
      bytes += n;
      end += Character.charCount(cp);
    }
    return s.substring(0, end);
  }
}

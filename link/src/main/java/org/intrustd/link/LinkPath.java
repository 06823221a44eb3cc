package org.intrustd.link;

import java.util.Map;
import java.util.Optional;

/**
 * Which way a link's packets go, from its selected ICE candidate pair: on one LAN, direct
 * across routers (through NAT, hole-punched), or through a TURN relay. The same rules as the
 * shim's {@code classifyPath} (web/shim/src/link.js; docs/relay.md), so that both ends of a
 * link name it alike.
 */
public enum LinkPath {
  DIRECT_LAN("direct-lan"), DIRECT_NAT("direct-nat"), RELAY("relay"), UNKNOWN("unknown");

  private final String label;

  LinkPath(String label) {
    this.label = label;
  }

  /** The name the shim, the control API and the logs use ({@code direct-lan}, …). */
  public String label() {
    return label;
  }

  /**
   * Classifies a pair by its candidates' types ({@code host}, {@code srflx}, {@code prflx},
   * {@code relay}) and addresses, this end's first: relay if either is a relay candidate;
   * direct-nat if either is server-reflexive; with both addresses known, direct-lan when they
   * share a subnet (/24 for IPv4, /64 for IPv6) and direct-nat otherwise; else by the types
   * alone (two host candidates: direct-lan; a peer-reflexive one: direct-nat).
   */
  public static LinkPath classify(String localType, String remoteType, String localAddress, String remoteAddress) {
    if (localType == null || remoteType == null) {
      return UNKNOWN;
    }
    if (localType.equals("relay") || remoteType.equals("relay")) {
      return RELAY;
    }
    if (localType.equals("srflx") || remoteType.equals("srflx")) {
      return DIRECT_NAT;
    }
    Optional<String> here = subnet(localAddress);
    Optional<String> there = subnet(remoteAddress);
    if (here.isPresent() && there.isPresent()) {
      return here.equals(there) ? DIRECT_LAN : DIRECT_NAT;
    }
    if (localType.equals("host") && remoteType.equals("host")) {
      return DIRECT_LAN;
    }
    if (localType.equals("prflx") || remoteType.equals("prflx")) {
      return DIRECT_NAT;
    }
    return UNKNOWN;
  }

  /**
   * The path of the selected pair in a WebRTC stats report (W3C webrtc-stats: the
   * {@code transport}'s {@code selectedCandidatePairId}, else a nominated, succeeded
   * {@code candidate-pair}), given as id → attributes with the stat's {@code type} among them.
   */
  public static LinkPath fromStats(Map<String, Map<String, Object>> stats) {
    Map<String, Object> pair = null;
    for (Map<String, Object> s : stats.values()) {
      if ("transport".equals(s.get("type")) && s.get("selectedCandidatePairId") instanceof String id && stats.containsKey(id)) {
        pair = stats.get(id);
        break;
      }
    }
    if (pair == null) {
      for (Map<String, Object> s : stats.values()) {
        if ("candidate-pair".equals(s.get("type")) && Boolean.TRUE.equals(s.get("nominated"))
            && "succeeded".equals(String.valueOf(s.get("state")).toLowerCase(java.util.Locale.ROOT))) {
          pair = s;
          break;
        }
      }
    }
    if (pair == null) {
      return UNKNOWN;
    }
    Map<String, Object> local = stats.getOrDefault(String.valueOf(pair.get("localCandidateId")), Map.of());
    Map<String, Object> remote = stats.getOrDefault(String.valueOf(pair.get("remoteCandidateId")), Map.of());
    return classify(text(local.get("candidateType")), text(remote.get("candidateType")), address(local), address(remote));
  }

  private static String address(Map<String, Object> candidate) {
    String a = text(candidate.get("address"));
    return a != null ? a : text(candidate.get("ip"));
  }

  private static String text(Object value) {
    return value == null ? null : value.toString().toLowerCase(java.util.Locale.ROOT);
  }

  /** The /24 of an IPv4 literal or the /64 of an IPv6 one; empty for anything else (an mDNS name). */
  static Optional<String> subnet(String address) {
    if (address == null) {
      return Optional.empty();
    }
    String a = address.toLowerCase(java.util.Locale.ROOT);
    if (a.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
      return Optional.of(a.substring(0, a.lastIndexOf('.')));
    }
    if (!a.contains(":") || !a.matches("[0-9a-f:.]+") || a.indexOf("::") != a.lastIndexOf("::")) {
      return Optional.empty();
    }
    String[] halves = a.split("::", -1);
    String[] left = halves[0].isEmpty() ? new String[0] : halves[0].split(":");
    String[] right = halves.length < 2 || halves[1].isEmpty() ? new String[0] : halves[1].split(":");
    String[] groups = new String[8];
    java.util.Arrays.fill(groups, "0");
    if (halves.length == 1) {
      System.arraycopy(left, 0, groups, 0, Math.min(8, left.length));
    } else {
      System.arraycopy(left, 0, groups, 0, Math.min(8, left.length));
      int from = Math.max(left.length, 8 - right.length);
      System.arraycopy(right, 0, groups, from, Math.min(right.length, 8 - from));
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      String g = groups[i].isEmpty() ? "0" : groups[i];
      if (g.length() > 4 || g.contains(".")) {
        return Optional.empty();
      }
      out.append(i == 0 ? "" : ":").append(Integer.parseInt(g, 16));
    }
    return Optional.of(out.toString());
  }
}

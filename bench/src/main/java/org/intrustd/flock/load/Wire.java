package org.intrustd.flock.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.ApplianceAnswer;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Ping;

/**
 * The messages the simulated peers send, made once by the real {@link SignalCodec} with markers
 * where the per-message values go, and checked to decode; at run time a message is a few
 * string appends. Incoming messages are read with {@link #member}, not a JSON parser: the
 * generator's CPU is the flock's CPU on a shared machine, and it need only route by type and
 * session (the flock's own output is checked by its tests).
 */
final class Wire {
  private static final String A = "@@A@@";
  private static final String B = "@@B@@";

  /** A data-channel-only offer as Chromium makes it for the shim (one m-line, no media). */
  static final String OFFER_SDP = String.join("\r\n",
      "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
      "a=extmap-allow-mixed", "a=msid-semantic: WMS", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
      "c=IN IP4 0.0.0.0", "a=ice-ufrag:Lq7r", "a=ice-pwd:M3QmYlcz0hKZdxqPgfu9q0yP", "a=ice-options:trickle",
      "a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CC:87:32:BE:DD:8C:66:A5:8E:50:55:EA:8C:D3:B6:5C:09:5E:D6:BC",
      "a=setup:actpass", "a=mid:0", "a=sctp-port:5000", "a=max-message-size:262144", "");
  /** The appliance's answer (libdatachannel's shape). */
  static final String ANSWER_SDP = String.join("\r\n",
      "v=0", "o=rtc 2832553394 0 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
      "a=msid-semantic:WMS *", "a=ice-options:ice2,trickle",
      "a=fingerprint:sha-256 2F:0C:91:37:8A:4B:0E:55:C1:93:71:66:A6:8D:4B:3E:93:0A:62:19:4C:73:2E:71:5E:D2:F8:5A:8C:3B:90:11",
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendrecv",
      "a=ice-ufrag:k0Zp", "a=ice-pwd:3a9qYp0ZlF8cR2xW5tN7vB1m", "a=setup:active", "a=sctp-port:5000",
      "a=max-message-size:262144", "");
  static final String[] CANDIDATES = {
      "candidate:1 1 UDP 2122317823 192.168.1.23 50402 typ host",
      "candidate:2 1 UDP 1686109951 198.51.100.7 50402 typ srflx raddr 192.168.1.23 rport 50402"};
  /**
   * The flock does not check answer signatures (flock.md: it relays them, the browser checks);
   * the simulated browsers do not check them either, so appliances send 64 fixed bytes of the
   * right length rather than spend the flock's shared CPU on Ed25519.
   */
  private static final byte[] SIGNATURE = new byte[64];

  private final Template introduce;
  private final Template browserCandidate0;
  private final Template browserCandidate1;
  private final Template browserBye;
  private final Template answer;
  private final Template applianceCandidate0;
  private final Template applianceCandidate1;
  final String ping;

  Wire() {
    introduce = client(new Introduce(A, B, OFFER_SDP));
    browserCandidate0 = client(new Candidate(A, CANDIDATES[0], Optional.of("0"), 0));
    browserCandidate1 = client(new Candidate(A, CANDIDATES[1], Optional.of("0"), 0));
    browserBye = client(new Bye(A, "done"));
    answer = appliance(new ApplianceAnswer(A, ANSWER_SDP, SIGNATURE));
    applianceCandidate0 = appliance(new Candidate(A, CANDIDATES[0], Optional.of("0"), 0));
    applianceCandidate1 = appliance(new Candidate(A, CANDIDATES[1], Optional.of("0"), 0));
    ping = SignalCodec.encode((ApplianceMessage) new Ping());
  }

  String introduce(String session, String appliance) {
    return introduce.fill(session, appliance);
  }

  String browserCandidate(int i, String session) {
    return (i == 0 ? browserCandidate0 : browserCandidate1).fill(session);
  }

  String bye(String session) {
    return browserBye.fill(session);
  }

  String answer(String session) {
    return answer.fill(session);
  }

  String applianceCandidate(int i, String session) {
    return (i == 0 ? applianceCandidate0 : applianceCandidate1).fill(session);
  }

  /** The string value of a top-level member such as {@code "type"} or {@code "session"}, or null. */
  static String member(String json, String name) {
    String key = "\"" + name + "\":\"";
    int at = json.indexOf(key);
    if (at < 0) {
      return null;
    }
    int from = at + key.length();
    int to = json.indexOf('"', from);
    return to < 0 ? null : json.substring(from, to);
  }

  /** The type: every message the flock sends starts with it ({@code {"type":"…"}). */
  static String type(String json) {
    if (json.startsWith("{\"type\":\"")) {
      int to = json.indexOf('"', 9);
      return to < 0 ? "" : json.substring(9, to);
    }
    String t = member(json, "type");
    return t == null ? "" : t;
  }

  private static Template client(ClientMessage m) {
    String json = SignalCodec.encode(m);
    String sample = json.replace(A, "s1").replace(B, "aaaa");
    if (!(SignalCodec.decodeClient(sample) instanceof Decoded.Ok<ClientMessage>)) {
      throw new IllegalStateException("not a valid client message: " + sample);
    }
    return new Template(json);
  }

  private static Template appliance(ApplianceMessage m) {
    String json = SignalCodec.encode(m);
    if (!(SignalCodec.decodeAppliance(json.replace(A, "s1")) instanceof Decoded.Ok<ApplianceMessage>)) {
      throw new IllegalStateException("not a valid appliance message: " + json);
    }
    return new Template(json);
  }

  /** A message split at its markers ({@link #A}, then {@link #B}). */
  private static final class Template {
    private final String[] parts;

    Template(String json) {
      List<String> p = new ArrayList<>();
      int from = 0;
      for (String marker : new String[] {A, B}) {
        int at = json.indexOf(marker, from);
        if (at < 0) {
          break;
        }
        p.add(json.substring(from, at));
        from = at + marker.length();
      }
      p.add(json.substring(from));
      parts = p.toArray(String[]::new);
    }

    String fill(String... values) {
      StringBuilder s = new StringBuilder(parts[parts.length - 1].length() + 256);
      for (int i = 0; i < parts.length - 1; i++) {
        s.append(parts[i]).append(values[i]);
      }
      return s.append(parts[parts.length - 1]).toString();
    }
  }
}

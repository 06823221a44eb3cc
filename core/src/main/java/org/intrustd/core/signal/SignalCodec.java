package org.intrustd.core.signal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.intrustd.core.signal.SignalMessage.ApplianceAnswer;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.intrustd.core.signal.SignalMessage.Pong;
import org.intrustd.core.signal.SignalMessage.Register;
import org.intrustd.core.signal.SignalMessage.Registered;

/**
 * JSON text ⇄ {@link SignalMessage} records for both flock endpoints (docs/spec/flock.md).
 * Pure functions, thread-safe. Decoding validates every member's type and bounds and never
 * throws on input: malformed text becomes {@link Decoded.Invalid}.
 */
public final class SignalCodec {
  /** Longest text message either side accepts, in UTF-8 bytes. */
  public static final int MAX_MESSAGE_BYTES = 65_536;

  private static final Pattern SESSION = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final int MAX_SDP = 60_000;
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(8).maxStringLength(MAX_MESSAGE_BYTES).maxNumberLength(20).build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(JsonParser.Feature.ALLOW_COMMENTS);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private SignalCodec() {}

  // ---------------------------------------------------------------- decode

  public static Decoded<ApplianceMessage> decodeAppliance(String text) {
    return decode(text, SignalCodec::applianceMessage);
  }

  public static Decoded<ClientMessage> decodeClient(String text) {
    return decode(text, SignalCodec::clientMessage);
  }

  private interface Reader<T> {
    T read(Fields f, String type);
  }

  private static <T> Decoded<T> decode(String text, Reader<T> reader) {
    if (text.length() > MAX_MESSAGE_BYTES || text.getBytes(StandardCharsets.UTF_8).length > MAX_MESSAGE_BYTES) {
      return new Decoded.Invalid<>(ErrorCode.MESSAGE_TOO_LARGE, "a message is at most " + MAX_MESSAGE_BYTES + " bytes");
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (Exception e) {
      return new Decoded.Invalid<>(ErrorCode.BAD_MESSAGE, "not JSON: " + firstLine(e.getMessage()));
    }
    if (root == null || !root.isObject()) {
      return new Decoded.Invalid<>(ErrorCode.BAD_MESSAGE, "a message is a JSON object");
    }
    try {
      Fields f = new Fields((ObjectNode) root);
      return new Decoded.Ok<>(reader.read(f, f.string("type", 32)));
    } catch (Malformed e) {
      return new Decoded.Invalid<>(ErrorCode.BAD_MESSAGE, e.getMessage());
    }
  }

  private static ApplianceMessage applianceMessage(Fields f, String type) {
    return switch (type) {
      case "challenge" -> new Challenge(f.bytes("nonce", 32));
      case "register" -> new Register(f.bytes("publicKey", 32), f.name("name"), f.bytes("signature", 64));
      case "registered" -> new Registered(f.string("appliance", 200), f.iceServers());
      case "ping" -> new Ping();
      case "pong" -> new Pong();
      case "offer" -> new Offer(f.session(), f.string("sdp", MAX_SDP), f.has("iceServers") ? f.iceServers() : List.of());
      case "answer" -> new ApplianceAnswer(f.session(), f.string("sdp", MAX_SDP), f.bytes("signature", 64));
      case "candidate" -> candidate(f);
      case "bye" -> bye(f);
      case "error" -> error(f);
      default -> throw new Malformed("unknown message type '" + type + "'");
    };
  }

  private static ClientMessage clientMessage(Fields f, String type) {
    return switch (type) {
      case "hello" -> new Hello(f.iceServers());
      case "introduce" -> new Introduce(f.session(), f.string("appliance", 200), f.string("sdp", MAX_SDP));
      case "answer" -> new ClientAnswer(f.session(), f.string("appliance", 200), f.bytes("publicKey", 32),
          f.string("sdp", MAX_SDP), f.bytes("signature", 64));
      case "candidate" -> candidate(f);
      case "bye" -> bye(f);
      case "error" -> error(f);
      case "ping" -> new Ping();
      case "pong" -> new Pong();
      default -> throw new Malformed("unknown message type '" + type + "'");
    };
  }

  private static Candidate candidate(Fields f) {
    return new Candidate(f.session(), f.string("candidate", 2048), f.optionalString("sdpMid", 64),
        f.integer("sdpMLineIndex", 0, 65_535));
  }

  private static Bye bye(Fields f) {
    return new Bye(f.session(), f.string("reason", 256));
  }

  private static Error error(Fields f) {
    return new Error(f.string("code", 64), f.string("message", 1024),
        f.has("session") ? Optional.of(f.session()) : Optional.empty());
  }

  // ---------------------------------------------------------------- encode

  public static String encode(ApplianceMessage message) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    switch (message) {
      case Challenge m -> o.put("type", "challenge").put("nonce", b64(m.nonce()));
      case Register m -> o.put("type", "register").put("publicKey", b64(m.publicKey()))
          .put("name", m.name()).put("signature", b64(m.signature()));
      case Registered m -> o.put("type", "registered").put("appliance", m.appliance())
          .set("iceServers", iceServers(m.iceServers()));
      case Offer m -> {
        o.put("type", "offer").put("session", m.session()).put("sdp", m.sdp());
        if (!m.iceServers().isEmpty()) {
          o.set("iceServers", iceServers(m.iceServers()));
        }
      }
      case ApplianceAnswer m -> o.put("type", "answer").put("session", m.session()).put("sdp", m.sdp())
          .put("signature", b64(m.signature()));
      case Ping m -> o.put("type", "ping");
      case Pong m -> o.put("type", "pong");
      case Candidate m -> candidate(o, m);
      case Bye m -> bye(o, m);
      case Error m -> error(o, m);
    }
    return o.toString();
  }

  public static String encode(ClientMessage message) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    switch (message) {
      case Hello m -> o.put("type", "hello").set("iceServers", iceServers(m.iceServers()));
      case Introduce m -> o.put("type", "introduce").put("session", m.session())
          .put("appliance", m.appliance()).put("sdp", m.sdp());
      case ClientAnswer m -> o.put("type", "answer").put("session", m.session()).put("appliance", m.appliance())
          .put("publicKey", b64(m.publicKey())).put("sdp", m.sdp()).put("signature", b64(m.signature()));
      case Ping m -> o.put("type", "ping");
      case Pong m -> o.put("type", "pong");
      case Candidate m -> candidate(o, m);
      case Bye m -> bye(o, m);
      case Error m -> error(o, m);
    }
    return o.toString();
  }

  private static void candidate(ObjectNode o, Candidate m) {
    o.put("type", "candidate").put("session", m.session()).put("candidate", m.candidate());
    m.sdpMid().ifPresentOrElse(mid -> o.put("sdpMid", mid), () -> o.putNull("sdpMid"));
    o.put("sdpMLineIndex", m.sdpMLineIndex());
  }

  private static void bye(ObjectNode o, Bye m) {
    o.put("type", "bye").put("session", m.session()).put("reason", m.reason());
  }

  private static void error(ObjectNode o, Error m) {
    o.put("type", "error").put("code", m.code()).put("message", m.message());
    m.session().ifPresent(s -> o.put("session", s));
  }

  private static ArrayNode iceServers(List<IceServer> servers) {
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    for (IceServer s : servers) {
      ObjectNode o = a.addObject();
      ArrayNode urls = o.putArray("urls");
      s.urls().forEach(urls::add);
      s.username().ifPresent(u -> o.put("username", u));
      s.credential().ifPresent(c -> o.put("credential", c));
    }
    return a;
  }

  private static String b64(byte[] b) {
    return B64.encodeToString(b);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 160 ? line.substring(0, 160) : line;
  }

  /** A member is missing or of the wrong type or size. */
  private static final class Malformed extends RuntimeException {
    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  /** Typed, bounded access to one message object's members. */
  private record Fields(ObjectNode node) {
    boolean has(String name) {
      return node.has(name) && !node.get(name).isNull();
    }

    String string(String name, int maxChars) {
      JsonNode v = node.get(name);
      if (v == null || !v.isTextual()) {
        throw new Malformed("'" + name + "' must be a string");
      }
      String s = v.textValue();
      if (s.length() > maxChars) {
        throw new Malformed("'" + name + "' is longer than " + maxChars + " characters");
      }
      return s;
    }

    Optional<String> optionalString(String name, int maxChars) {
      return has(name) ? Optional.of(string(name, maxChars)) : Optional.empty();
    }

    String name(String field) {
      String s = string(field, 64);
      if (s.isBlank() || s.chars().anyMatch(Character::isISOControl)) {
        throw new Malformed("'" + field + "' must be 1-64 printable characters");
      }
      return s;
    }

    String session() {
      String s = string("session", 64);
      if (!SESSION.matcher(s).matches()) {
        throw new Malformed("'session' must be 1-64 characters of [A-Za-z0-9_-]");
      }
      return s;
    }

    int integer(String name, int min, int max) {
      JsonNode v = node.get(name);
      if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
        throw new Malformed("'" + name + "' must be an integer from " + min + " to " + max);
      }
      return v.intValue();
    }

    byte[] bytes(String name, int length) {
      String s = string(name, 4 * length / 3 + 4);
      byte[] b;
      try {
        b = Base64.getUrlDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        throw new Malformed("'" + name + "' must be base64url");
      }
      if (b.length != length || s.endsWith("=")) {
        throw new Malformed("'" + name + "' must be " + length + " bytes in unpadded base64url");
      }
      return b;
    }

    List<IceServer> iceServers() {
      JsonNode v = node.get("iceServers");
      if (v == null || !v.isArray() || v.size() > 16) {
        throw new Malformed("'iceServers' must be an array of at most 16 servers");
      }
      List<IceServer> out = new ArrayList<>();
      for (JsonNode s : v) {
        if (!s.isObject()) {
          throw new Malformed("an ICE server is an object");
        }
        Fields sf = new Fields((ObjectNode) s);
        JsonNode urls = s.get("urls");
        if (urls == null || !urls.isArray() || urls.isEmpty() || urls.size() > 8) {
          throw new Malformed("an ICE server has 1-8 'urls'");
        }
        List<String> u = new ArrayList<>();
        for (JsonNode url : urls) {
          if (!url.isTextual() || url.textValue().length() > 512) {
            throw new Malformed("an ICE server URL is a string of at most 512 characters");
          }
          u.add(url.textValue());
        }
        out.add(new IceServer(u, sf.optionalString("username", 512), sf.optionalString("credential", 512)));
      }
      return out;
    }
  }
}

package org.intrustd.core.spec;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.crypto.SigningInput;
import org.intrustd.core.id.ApplianceId;

/**
 * Writes the deterministic parts of docs/spec/vectors (IDs and signatures) from fixed seeds.
 * Run by hand when the spec changes; the tests then hold the code to the files, so a change
 * in behaviour shows up as a failing test rather than silently new vectors.
 * Usage: SpecVectorsGenerator &lt;docs/spec/vectors dir&gt;
 */
public final class SpecVectorsGenerator {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final JsonNodeFactory J = JsonNodeFactory.instance;

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    ObjectMapper out = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    out.writeValue(dir.resolve("appliance-ids.json").toFile(), ids());
    out.writeValue(dir.resolve("signing.json").toFile(), signing());
  }

  static byte[] seed(int i) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(("intrustd test vector seed " + i).getBytes(StandardCharsets.UTF_8));
  }

  private static ObjectNode ids() throws Exception {
    ObjectNode root = J.objectNode();
    root.put("description", "Public keys with their appliance IDs (identity.md); 'typed' are other spellings that parse to 'id'.");
    ArrayNode valid = root.putArray("valid");
    String first = null;
    for (int i = 0; i < 6; i++) {
      byte[] pub = Ed25519.fromSeed(seed(i)).publicKey();
      String id = ApplianceId.fromPublicKey(pub).toString();
      first = first == null ? id : first;
      ObjectNode v = valid.addObject();
      v.put("publicKey", B64.encodeToString(pub)).put("id", id);
      ArrayNode typed = v.putArray("typed");
      typed.add(id.toLowerCase());
      typed.add(id.replace("-", ""));
      typed.add(id.replace("-", " "));
      typed.add("  " + id.replace('O', '0').replace('I', '1').replace('B', '8') + "\t");
    }
    ArrayNode invalid = root.putArray("invalid");
    String compact = first.replace("-", "");
    char check = compact.charAt(13);
    char wrong = check == 'A' ? 'B' : 'A';
    invalid.addObject().put("text", compact.substring(0, 13) + wrong + compact.substring(14)).put("why", "wrong check character in group 1");
    invalid.addObject().put("text", compact.substring(0, 55)).put("why", "55 characters");
    invalid.addObject().put("text", compact + "A").put("why", "57 characters");
    invalid.addObject().put("text", compact.substring(0, 20) + "9" + compact.substring(21)).put("why", "9 is not base32");
    invalid.addObject().put("text", "").put("why", "empty");
    invalid.addObject().put("text", compact.substring(0, 20) + "_" + compact.substring(21)).put("why", "underscore is not a separator");
    String swapped = compact.substring(0, 2) + compact.charAt(3) + compact.charAt(2) + compact.substring(4);
    if (!swapped.equals(compact)) {
      invalid.addObject().put("text", swapped).put("why", "two adjacent characters swapped");
    }
    return root;
  }

  private static ObjectNode signing() throws Exception {
    ObjectNode root = J.objectNode();
    root.put("description", "Signing inputs (identity.md) and Ed25519 signatures over them; Ed25519 is deterministic.");
    ArrayNode vectors = root.putArray("vectors");
    byte[] nonce = MessageDigest.getInstance("SHA-256").digest("flock nonce".getBytes(StandardCharsets.UTF_8));
    vector(vectors, 0, SigningInput.REGISTER_V1, new byte[][] {nonce}, null);
    String offer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n"
        + "a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa\r\na=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
        + "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";
    String answer = offer.replace("actpass", "active").replace("abcd", "wxyz").replace("11:22", "22:11");
    vector(vectors, 1, SigningInput.ANSWER_V1, null, new String[] {offer, answer});
    vector(vectors, 2, SigningInput.ANSWER_V1, null, new String[] {"", "ünïcødé ✓"});
    // A peer proof (peers.md): the callee's ID and the caller's DTLS fingerprint on the link.
    vector(vectors, 0, SigningInput.PEER_V1, null, new String[] {"F2EGSN4-XYLCSCW-JBQVRVG-G3YQMK5-AMML3ZD-Z36DH4H-NKAEDJ3-KZPXHQP",
        "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"});
    return root;
  }

  private static void vector(ArrayNode vectors, int seedIndex, String context, byte[][] raw, String[] utf8) throws Exception {
    Ed25519.KeyMaterial keys = Ed25519.fromSeed(seed(seedIndex));
    ObjectNode v = vectors.addObject();
    v.put("context", context);
    ArrayNode fields = v.putArray("fields");
    byte[][] bytes;
    if (raw != null) {
      bytes = raw;
      for (byte[] b : raw) {
        fields.addObject().put("b64url", B64.encodeToString(b));
      }
    } else {
      bytes = new byte[utf8.length][];
      for (int i = 0; i < utf8.length; i++) {
        fields.addObject().put("utf8", utf8[i]);
        bytes[i] = utf8[i].getBytes(StandardCharsets.UTF_8);
      }
    }
    byte[] input = SigningInput.of(context, bytes);
    v.put("input", B64.encodeToString(input));
    v.put("privateKeySeed", B64.encodeToString(keys.seed()));
    v.put("publicKey", B64.encodeToString(keys.publicKey()));
    v.put("signature", B64.encodeToString(Ed25519.sign(keys.keyPair().getPrivate(), input)));
  }
}

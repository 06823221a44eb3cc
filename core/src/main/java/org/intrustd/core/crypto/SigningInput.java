package org.intrustd.core.crypto;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The byte string a signature covers: the context and then each field, each item preceded by
 * its length as a big-endian u32 (docs/spec/identity.md "Signing inputs"). Length prefixes make
 * the encoding injective, and the context keeps a signature made for one purpose from being
 * valid for another.
 */
public final class SigningInput {
  public static final String REGISTER_V1 = "intrustd/register/v1";
  public static final String ANSWER_V1 = "intrustd/answer/v1";
  public static final String PEER_V1 = "intrustd/peer/v1";

  private SigningInput() {}

  public static byte[] of(String context, byte[]... fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    append(out, context.getBytes(StandardCharsets.US_ASCII));
    for (byte[] field : fields) {
      append(out, field);
    }
    return out.toByteArray();
  }

  public static byte[] register(byte[] nonce) {
    return of(REGISTER_V1, nonce);
  }

  public static byte[] answer(String offerSdp, String answerSdp) {
    return of(ANSWER_V1, offerSdp.getBytes(StandardCharsets.UTF_8), answerSdp.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * What an appliance signs to prove, on a link it opened to appliance {@code target}, that it
   * holds its identity key (docs/spec/peers.md): bound to the link by its own DTLS fingerprint.
   */
  public static byte[] peer(String target, String fingerprint) {
    return of(PEER_V1, target.getBytes(StandardCharsets.US_ASCII), fingerprint.getBytes(StandardCharsets.US_ASCII));
  }

  private static void append(ByteArrayOutputStream out, byte[] item) {
    int n = item.length;
    out.write(n >>> 24);
    out.write(n >>> 16);
    out.write(n >>> 8);
    out.write(n);
    out.writeBytes(item);
  }
}

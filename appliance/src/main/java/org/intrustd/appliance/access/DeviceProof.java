package org.intrustd.appliance.access;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;

/**
 * A session is bound to a device key: an ECDSA P-256 key pair the client keeps where it cannot
 * be read (the shim: a non-extractable WebCrypto key in IndexedDB). To resume a session on a
 * new link, the client signs {@link org.intrustd.core.access.SessionProof#message}, which names this appliance, the link's client
 * certificate fingerprint and the session: a signature seen on one link is useless on any other,
 * and a stolen session secret is useless without the key (docs/spec/access.md).
 */
public final class DeviceProof {
  /** The order of P-256's base point (FIPS 186-4 D.1.2.3): tells P-256 from other 256-bit curves. */
  private static final java.math.BigInteger P256_ORDER = new java.math.BigInteger(
      "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);

  private DeviceProof() {}

  /** The key, if {@code spki} is an X.509 SubjectPublicKeyInfo of a P-256 key; 400 otherwise. */
  public static PublicKey key(byte[] spki) {
    try {
      PublicKey key = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki));
      if (!(key instanceof ECPublicKey ec) || !ec.getParams().getOrder().equals(P256_ORDER)) {
        throw new AccessException(400, "the device key must be an ECDSA P-256 public key");
      }
      return key;
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new AccessException(400, "the device key is not an SPKI-encoded ECDSA P-256 public key");
    }
  }

  /** Whether {@code signature} (IEEE P1363, r‖s, as WebCrypto makes it) signs {@code message} with {@code spki}. */
  public static boolean verify(byte[] spki, String message, byte[] signature) {
    try {
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initVerify(key(spki));
      s.update(message.getBytes(StandardCharsets.UTF_8));
      return signature.length == 64 && s.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}

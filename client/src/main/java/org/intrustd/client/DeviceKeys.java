package org.intrustd.client;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/**
 * Device keys (docs/spec/access.md): a login or claim binds its session to a P-256 key the
 * client holds, sent as SPKI in base64url.
 */
public final class DeviceKeys {
  private DeviceKeys() { }

  /** A fresh P-256 key pair. */
  public static KeyPair generate() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no P-256", e);
    }
  }

  /** The public half as the session API takes it: SPKI, base64url without padding. */
  public static String encode(KeyPair keys) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(keys.getPublic().getEncoded());
  }
}

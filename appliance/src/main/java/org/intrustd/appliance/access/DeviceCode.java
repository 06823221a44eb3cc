package org.intrustd.appliance.access;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The code a device shows when it asks to be enrolled and the owner sees beside the request
 * (docs/spec/devices.md): 8 symbols derived from the device key and the session it asked for,
 * so the owner approves the device in front of them and not a stranger's request that came at
 * the same moment. Not a secret: a request is bound to its key, whoever reads the code.
 */
public final class DeviceCode {
  static final String CONTEXT = "intrustd/device-code/v1";
  /** The claim code's alphabet (no 0/O, 1/I/L): read off one screen and typed on another. */
  private static final String ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  private static final int LENGTH = 8;

  private DeviceCode() {}

  /**
   * {@code XXXX-XXXX}: the first 8 bytes of SHA-256(CONTEXT ‖ 0x00 ‖ deviceKey ‖ sessionHash),
   * as an unsigned number, written in base 31 with the least significant digit first.
   */
  public static String of(byte[] deviceKey, byte[] sessionHash) {
    byte[] context = CONTEXT.getBytes(StandardCharsets.US_ASCII);
    byte[] input = new byte[context.length + 1 + deviceKey.length + sessionHash.length];
    System.arraycopy(context, 0, input, 0, context.length);
    System.arraycopy(deviceKey, 0, input, context.length + 1, deviceKey.length);
    System.arraycopy(sessionHash, 0, input, context.length + 1 + deviceKey.length, sessionHash.length);
    byte[] digest = Secrets.sha256(input);
    long n = 0;
    for (int i = 0; i < 8; i++) {
      n = (n << 8) | (digest[i] & 0xff);
    }
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < LENGTH; i++) {
      s.append(ALPHABET.charAt((int) Long.remainderUnsigned(n, ALPHABET.length())));
      n = Long.divideUnsigned(n, ALPHABET.length());
    }
    return s.substring(0, 4) + "-" + s.substring(4);
  }

  /** A code as typed (any case, with or without spaces and dashes) in its canonical form; anything else unchanged. */
  static String normalise(String typed) {
    String bare = typed.replaceAll("[\\s-]", "").toUpperCase(Locale.ROOT);
    return bare.length() == LENGTH ? bare.substring(0, 4) + "-" + bare.substring(4) : typed;
  }
}

package org.intrustd.appliance.bundles;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.bundles.BundleException.Reason;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.crypto.SigningInput;
import org.intrustd.core.id.ApplianceId;

/**
 * The signed header at the start of a bundle file (docs/spec/bundles.md "Layout"). It is small
 * and bounded (at most {@value #MAX_SIZE} bytes), so a reader checks the signature before it
 * touches the payload, and then checks the payload against the signed digest while streaming.
 * <pre>
 * offset   size  field
 * 0        16    magic "INTRUSTD-BUNDLE\n"
 * 16       1     format version: 1
 * 17       1     n: length of the app id, 1..63
 * 18       n     app id, ASCII, [a-z0-9][a-z0-9-]*
 * 18+n     1     m: length of the app version, 1..64
 * 19+n     m     app version, ASCII (see {@link Version})
 * 19+n+m   32    publisher public key (raw Ed25519)
 * 51+n+m   8     payload length L, unsigned big-endian, 1..2^63-1
 * 59+n+m   32    SHA-256 of the payload
 * 91+n+m   64    Ed25519 signature over SigningInput("intrustd/bundle/v1",
 *                  public key, app id, app version, L as 8 bytes, SHA-256)
 * 155+n+m  L     payload: zstd frames whose content is a tar archive; the file ends here
 * </pre>
 * Arrays are copied in and out, so the record is immutable.
 */
public record BundleHeader(String appId, String version, byte[] publisherKey, long payloadLength, byte[] payloadSha256,
    byte[] signature) {
  public static final String CONTEXT = "intrustd/bundle/v1";
  static final byte[] MAGIC = "INTRUSTD-BUNDLE\n".getBytes(StandardCharsets.US_ASCII);
  static final int FORMAT_VERSION = 1;
  static final int MAX_SIZE = 155 + 63 + Version.MAX_LENGTH;
  private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};

  public BundleHeader {
    publisherKey = publisherKey.clone();
    payloadSha256 = payloadSha256.clone();
    signature = signature.clone();
  }

  @Override
  public byte[] publisherKey() {
    return publisherKey.clone();
  }

  @Override
  public byte[] payloadSha256() {
    return payloadSha256.clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  public ApplianceId publisher() {
    return ApplianceId.fromPublicKey(publisherKey);
  }

  /** Bytes from the start of the file to the payload. */
  public int size() {
    return 155 + appId.length() + version.length();
  }

  byte[] signingInput() {
    return signingInput(appId, version, publisherKey, payloadLength, payloadSha256);
  }

  static byte[] signingInput(String appId, String version, byte[] publisherKey, long payloadLength, byte[] sha256) {
    return SigningInput.of(CONTEXT, publisherKey, ascii(appId), ascii(version),
        ByteBuffer.allocate(8).putLong(payloadLength).array(), sha256);
  }

  boolean signatureValid() {
    return Ed25519.verify(publisherKey, signingInput(), signature);
  }

  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(size());
    b.put(MAGIC).put((byte) FORMAT_VERSION);
    b.put((byte) appId.length()).put(ascii(appId));
    b.put((byte) version.length()).put(ascii(version));
    b.put(publisherKey).putLong(payloadLength).put(payloadSha256).put(signature);
    return b.array();
  }

  /**
   * Decodes the header from the first bytes of a file ({@code start}: at least
   * {@value #MAX_SIZE} bytes, or the whole file when it is shorter). Checks the structure only,
   * not the signature; every problem is a {@link BundleException} saying what the file is.
   */
  static BundleHeader decode(byte[] start) {
    ByteBuffer b = ByteBuffer.wrap(start);
    if (start.length < MAGIC.length || !Arrays.equals(start, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw notABundle(start);
    }
    b.position(MAGIC.length);
    int format = u8(b);
    if (format != FORMAT_VERSION) {
      throw new BundleException(Reason.NOT_A_BUNDLE, "not a bundle this appliance can read: format version " + format
          + " (it reads version " + FORMAT_VERSION + ")");
    }
    String appId = text(b, "app id");
    if (!AppManifest.APP_ID.matcher(appId).matches()) {
      throw malformed("the app id '" + appId + "' is not an app id");
    }
    String version = text(b, "app version");
    if (Version.parse(version).isEmpty()) {
      throw malformed("the app version '" + version + "' is not a version");
    }
    byte[] key = bytes(b, 32);
    long length = ByteBuffer.wrap(bytes(b, 8)).getLong();
    if (length < 1) {
      throw malformed("the payload length is " + Long.toUnsignedString(length));
    }
    byte[] sha = bytes(b, 32);
    byte[] signature = bytes(b, 64);
    if (Arrays.equals(signature, new byte[64])) {
      throw new BundleException(Reason.UNSIGNED, "unsigned bundle: its signature is empty");
    }
    return new BundleHeader(appId, version, key, length, sha, signature);
  }

  /** Says what a file that does not start with the magic is, so the owner knows what went wrong. */
  private static BundleException notABundle(byte[] start) {
    int n = Math.min(start.length, MAGIC.length);
    if (n > 0 && n < MAGIC.length && Arrays.equals(start, 0, n, MAGIC, 0, n)) {
      return truncated();
    }
    if (start.length >= 4 && Arrays.equals(start, 0, 4, ZSTD_MAGIC, 0, 4)) {
      return new BundleException(Reason.UNSIGNED, "unsigned: a bare zstd stream, not a signed Intrustd bundle");
    }
    if (start.length >= 262 && new String(start, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
      return new BundleException(Reason.UNSIGNED, "unsigned: a bare tar archive, not a signed Intrustd bundle");
    }
    return new BundleException(Reason.NOT_A_BUNDLE, "not an Intrustd bundle (no INTRUSTD-BUNDLE header)");
  }

  private static String text(ByteBuffer b, String what) {
    int n = u8(b);
    if (n == 0) {
      throw malformed("the " + what + " is empty");
    }
    return new String(bytes(b, n), StandardCharsets.ISO_8859_1);
  }

  private static int u8(ByteBuffer b) {
    return bytes(b, 1)[0] & 0xff;
  }

  private static byte[] bytes(ByteBuffer b, int n) {
    if (b.remaining() < n) {
      throw truncated();
    }
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }

  private static BundleException truncated() {
    return new BundleException(Reason.TRUNCATED, "truncated bundle: the file ends inside its header");
  }

  private static BundleException malformed(String why) {
    return new BundleException(Reason.NOT_A_BUNDLE, "malformed bundle header: " + why);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}

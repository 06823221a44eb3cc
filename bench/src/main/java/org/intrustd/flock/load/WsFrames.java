package org.intrustd.flock.load;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.SplittableRandom;

/**
 * The few pieces of RFC 6455 a load client needs: the upgrade request, the end of the server's
 * response head, and client frames (masked, as a client must). Pure functions; the decoder
 * state lives in {@link WsConnection}.
 */
final class WsFrames {
  static final int TEXT = 0x1;
  static final int CONTINUATION = 0x0;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;
  static final int PONG = 0xA;

  private WsFrames() {}

  /** The HTTP/1.1 upgrade request for {@code path} on {@code hostPort}. */
  static byte[] upgradeRequest(String hostPort, String path, SplittableRandom random) {
    byte[] key = new byte[16];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) random.nextInt();
    }
    String request = "GET " + path + " HTTP/1.1\r\nHost: " + hostPort + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    return request.getBytes(StandardCharsets.US_ASCII);
  }

  /** The index just past {@code \r\n\r\n} in {@code b[from, to)}, or -1. */
  static int endOfHead(byte[] b, int from, int to) {
    for (int i = Math.max(from, 3); i < to; i++) {
      if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  /** One final client frame of {@code opcode} with {@code payload}, masked with {@code mask}. */
  static ByteBuffer clientFrame(int opcode, byte[] payload, int mask) {
    int n = payload.length;
    int header = 2 + (n < 126 ? 0 : n < 65_536 ? 2 : 8) + 4;
    byte[] f = new byte[header + n];
    f[0] = (byte) (0x80 | opcode);
    int p;
    if (n < 126) {
      f[1] = (byte) (0x80 | n);
      p = 2;
    } else if (n < 65_536) {
      f[1] = (byte) (0x80 | 126);
      f[2] = (byte) (n >>> 8);
      f[3] = (byte) n;
      p = 4;
    } else {
      f[1] = (byte) (0x80 | 127);
      for (int i = 0; i < 8; i++) {
        f[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
      }
      p = 10;
    }
    byte[] m = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
    System.arraycopy(m, 0, f, p, 4);
    p += 4;
    for (int i = 0; i < n; i++) {
      f[p + i] = (byte) (payload[i] ^ m[i & 3]);
    }
    return ByteBuffer.wrap(f);
  }

  static ByteBuffer text(String text, int mask) {
    return clientFrame(TEXT, text.getBytes(StandardCharsets.UTF_8), mask);
  }
}

package org.intrustd.link.frame;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One message of a stream channel (docs/spec/channels.md "Framing"):
 *
 * <pre>
 * byte 0   type: 0x00 DATA, 0x01 END, 0x02 RESET, 0x03 WINDOW
 * 1..n     DATA: 1-65,535 stream bytes; END: nothing; RESET: UTF-8 reason, at most 1,024 bytes;
 *          WINDOW: a 4-byte big-endian credit increment, 1 to 2^31-1 (see {@link FlowWindow})
 * </pre>
 */
public sealed interface StreamFrame {
  int MAX_MESSAGE = 65_536;
  int MAX_PAYLOAD = MAX_MESSAGE - 1;
  int MAX_REASON = 1_024;
  byte DATA = 0x00;
  byte END = 0x01;
  byte RESET = 0x02;
  byte WINDOW = 0x03;

  /** Stream bytes; the buffer is a view of the received message, valid only as long as it. */
  record Data(ByteBuffer payload) implements StreamFrame {}

  record End() implements StreamFrame {}

  record Reset(String reason) implements StreamFrame {}

  /** The receiver of this frame may send {@code increment} more DATA payload bytes. */
  record Window(int increment) implements StreamFrame {
    public Window {
      if (increment <= 0) {
        throw new IllegalArgumentException("a WINDOW increment is 1 to 2^31-1, not " + increment);
      }
    }
  }

  /** A decoded frame, or why the message is not one. */
  sealed interface Decoded {
    record Ok(StreamFrame frame) implements Decoded {}

    record Invalid(String reason) implements Decoded {}
  }

  /** Decodes one channel message without copying DATA payloads. Never throws. */
  static Decoded decode(ByteBuffer message) {
    int n = message.remaining();
    if (n == 0) {
      return new Decoded.Invalid("empty message");
    }
    if (n > MAX_MESSAGE) {
      return new Decoded.Invalid("message of " + n + " bytes; the maximum is " + MAX_MESSAGE);
    }
    byte type = message.get(message.position());
    ByteBuffer payload = message.slice(message.position() + 1, n - 1);
    return switch (type) {
      case DATA -> n == 1 ? new Decoded.Invalid("DATA without payload") : new Decoded.Ok(new Data(payload));
      case END -> n == 1 ? new Decoded.Ok(new End()) : new Decoded.Invalid("END with a payload");
      case RESET -> reset(payload);
      case WINDOW -> window(payload);
      default -> new Decoded.Invalid("unknown frame type " + (type & 0xff));
    };
  }

  private static Decoded window(ByteBuffer payload) {
    if (payload.remaining() != 4) {
      return new Decoded.Invalid("WINDOW with " + payload.remaining() + " payload bytes, not 4");
    }
    int increment = payload.getInt(payload.position());
    return increment <= 0
        ? new Decoded.Invalid("WINDOW increment " + Integer.toUnsignedLong(increment) + " is not 1 to 2^31-1")
        : new Decoded.Ok(new Window(increment));
  }

  private static Decoded reset(ByteBuffer payload) {
    if (payload.remaining() > MAX_REASON) {
      return new Decoded.Invalid("RESET reason over " + MAX_REASON + " bytes");
    }
    try {
      String reason = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(payload).toString();
      return new Decoded.Ok(new Reset(reason));
    } catch (CharacterCodingException e) {
      return new Decoded.Invalid("RESET reason is not UTF-8");
    }
  }

  /** Encodes a frame as a fresh message buffer, ready to send. */
  static ByteBuffer encode(StreamFrame frame) {
    return switch (frame) {
      case Data d -> {
        int n = d.payload().remaining();
        if (n == 0 || n > MAX_PAYLOAD) {
          throw new IllegalArgumentException("DATA carries 1-" + MAX_PAYLOAD + " bytes, not " + n);
        }
        ByteBuffer out = ByteBuffer.allocate(1 + n).put(DATA).put(d.payload().duplicate());
        yield out.flip();
      }
      case End e -> ByteBuffer.wrap(new byte[] {END});
      case Reset r -> {
        byte[] reason = r.reason().getBytes(StandardCharsets.UTF_8);
        int len = Math.min(reason.length, MAX_REASON);
        while (len > 0 && len < reason.length && (reason[len] & 0xC0) == 0x80) {
          len--; // never cut a UTF-8 sequence in two
        }
        yield ByteBuffer.allocate(1 + len).put(RESET).put(reason, 0, len).flip();
      }
      case Window w -> ByteBuffer.allocate(5).put(WINDOW).putInt(w.increment()).flip();
    };
  }
}

package org.intrustd.appliance.proxy;

import java.nio.ByteBuffer;

/**
 * Finds where a request body ends (RFC 9112 §6.3, §7.1) without changing it: the daemon
 * forwards the body byte for byte and must stop exactly at its end, so that bytes after it (a
 * smuggled second request) never reach the app. Not thread-safe; one per exchange.
 */
public final class BodyFramer {
  private static final int MAX_LINE = 4_096;
  private static final int MAX_TRAILERS = 16_384;

  /** Chunked-decoding states; DONE and FAILED are terminal. */
  private enum State { SIZE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_LINE, TRAILER_LF, DONE, FAILED }

  private final boolean chunked;
  private long remaining;
  private State state;
  private int lineLength;
  private int trailerBytes;
  private boolean sawSizeDigit;
  private boolean trailerLineEmpty;
  private String failure = "";

  private BodyFramer(boolean chunked, long length) {
    this.chunked = chunked;
    this.remaining = length;
    this.state = chunked ? State.SIZE : (length == 0 ? State.DONE : State.DATA);
  }

  public static BodyFramer forLength(long length) {
    return new BodyFramer(false, length);
  }

  public static BodyFramer chunked() {
    return new BodyFramer(true, 0);
  }

  public boolean isDone() {
    return state == State.DONE;
  }

  public boolean isFailed() {
    return state == State.FAILED;
  }

  public String failure() {
    return failure;
  }

  /**
   * Scans bytes of {@code in} from its position and returns how many of them belong to the
   * body (possibly fewer than remain, when the body ends inside). Does not move the position.
   * After a failure it returns 0.
   */
  public int scan(ByteBuffer in) {
    int start = in.position();
    int n = in.remaining();
    if (!chunked) {
      int take = (int) Math.min(n, remaining);
      remaining -= take;
      if (remaining == 0) {
        state = State.DONE;
      }
      return take;
    }
    int i = 0;
    while (i < n && state != State.DONE && state != State.FAILED) {
      byte b = in.get(start + i);
      if (state == State.DATA) {
        int take = (int) Math.min(n - i, remaining);
        i += take;
        remaining -= take;
        if (remaining == 0) {
          state = State.DATA_CR;
        }
        continue;
      }
      i++;
      step(b);
    }
    return state == State.FAILED ? 0 : i;
  }

  private void step(byte b) {
    switch (state) {
      case SIZE -> {
        int digit = Character.digit(b, 16);
        if (digit >= 0) {
          if (remaining > (Long.MAX_VALUE >> 4)) {
            fail("chunk size too large");
            return;
          }
          remaining = remaining * 16 + digit;
          sawSizeDigit = true;
          line();
        } else if (b == ';' && sawSizeDigit) {
          state = State.EXTENSION;
          line();
        } else if (b == '\r' && sawSizeDigit) {
          state = State.SIZE_LF;
        } else {
          fail("malformed chunk size");
        }
      }
      case EXTENSION -> {
        if (b == '\r') {
          state = State.SIZE_LF;
        } else if (b == '\n' || b < 0x20 && b != '\t' || b == 0x7f) {
          fail("malformed chunk extension");
        } else {
          line();
        }
      }
      case SIZE_LF -> {
        if (b != '\n') {
          fail("chunk size line without CRLF");
        } else if (remaining == 0) {
          state = State.TRAILER_LINE;
          trailerLineEmpty = true;
        } else {
          state = State.DATA;
        }
        lineLength = 0;
        sawSizeDigit = false;
      }
      case DATA_CR -> expect(b, '\r', State.DATA_LF);
      case DATA_LF -> {
        if (b == '\n') {
          state = State.SIZE;
        } else {
          fail("chunk data not followed by CRLF");
        }
      }
      case TRAILER_LINE -> {
        if (++trailerBytes > MAX_TRAILERS) {
          fail("trailers longer than " + MAX_TRAILERS + " bytes");
        } else if (b == '\r') {
          state = State.TRAILER_LF;
        } else if (b == '\n') {
          fail("trailer line without CRLF");
        } else {
          trailerLineEmpty = false;
        }
      }
      case TRAILER_LF -> {
        if (b != '\n') {
          fail("trailer line without CRLF");
        } else if (trailerLineEmpty) {
          state = State.DONE;
        } else {
          state = State.TRAILER_LINE;
          trailerLineEmpty = true;
        }
      }
      case DATA, DONE, FAILED -> throw new IllegalStateException("not a byte-wise state: " + state);
    }
  }

  private void expect(byte b, char wanted, State next) {
    if (b == wanted) {
      state = next;
    } else {
      fail("chunk data not followed by CRLF");
    }
  }

  private void line() {
    if (++lineLength > MAX_LINE) {
      fail("chunk size line longer than " + MAX_LINE + " bytes");
    }
  }

  private void fail(String why) {
    state = State.FAILED;
    failure = why;
  }
}

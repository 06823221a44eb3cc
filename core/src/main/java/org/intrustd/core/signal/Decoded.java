package org.intrustd.core.signal;

/** The outcome of decoding one message: malformed input is a value, never an exception. */
public sealed interface Decoded<T> {
  record Ok<T>(T message) implements Decoded<T> {}

  /** Why the input was rejected, phrased for the peer; {@code code} is what to answer with. */
  record Invalid<T>(ErrorCode code, String reason) implements Decoded<T> {}
}

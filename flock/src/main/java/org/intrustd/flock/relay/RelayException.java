package org.intrustd.flock.relay;

/** The relay could not start (coturn missing, its port taken, its directory not writable). */
public final class RelayException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  RelayException(String message, Throwable cause) {
    super(message, cause);
  }
}

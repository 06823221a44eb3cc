package org.intrustd.appliance.access;

/**
 * A credential or grant was refused, or cannot be found or stored. {@code status} is the HTTP
 * status that fits (400 bad input, 401 bad credential, 403 not allowed, 404 unknown, 429 too
 * many attempts, 500 storage); the message says why in words a person can act on.
 */
public final class AccessException extends RuntimeException {
  private final int status;
  private final long retryAfterSeconds;

  public AccessException(int status, String message) {
    this(status, message, -1, null);
  }

  public AccessException(int status, String message, long retryAfterSeconds, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public int status() {
    return status;
  }

  /** Seconds to wait before trying again, or -1. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}

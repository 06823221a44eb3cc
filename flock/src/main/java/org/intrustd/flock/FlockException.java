package org.intrustd.flock;

/** The flock could not start (for example: the port is taken). */
public final class FlockException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  FlockException(String message, Throwable cause) {
    super(message, cause);
  }
}

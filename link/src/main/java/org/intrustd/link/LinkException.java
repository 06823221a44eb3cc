package org.intrustd.link;

/** A link could not be set up or used; the message says why, for logs and peers. */
public final class LinkException extends RuntimeException {
  public LinkException(String message) {
    super(message);
  }

  public LinkException(String message, Throwable cause) {
    super(message, cause);
  }
}

package org.intrustd.appliance.apps;

/** An app cannot be read, started or reached; the message is fit to show the client. */
public final class AppException extends RuntimeException {
  public AppException(String message) {
    super(message);
  }

  public AppException(String message, Throwable cause) {
    super(message, cause);
  }
}

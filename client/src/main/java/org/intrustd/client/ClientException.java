package org.intrustd.client;

/** Why a client could not reach an appliance or complete an exchange; the message says it plainly. */
public final class ClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ClientException(String message) {
    super(message);
  }

  public ClientException(String message, Throwable cause) {
    super(message, cause);
  }
}

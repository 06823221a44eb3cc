package org.intrustd.client;

/** Why a client could not reach an appliance or complete an exchange; the message says it plainly. */
public final class ClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  /** The flock's error code when the flock refused (docs/spec/flock.md), else null. */
  private final String flockCode;

  public ClientException(String message) {
    super(message);
    this.flockCode = null;
  }

  /** The flock refused with {@code flockCode} ({@code appliance-offline}, {@code node-lost}, ...). */
  public ClientException(String message, String flockCode) {
    super(message);
    this.flockCode = flockCode;
  }

  /** The flock's error code, when this is the flock's refusal. */
  public java.util.Optional<String> flockCode() {
    return java.util.Optional.ofNullable(flockCode);
  }

  public ClientException(String message, Throwable cause) {
    super(message, cause);
    this.flockCode = null;
  }
}

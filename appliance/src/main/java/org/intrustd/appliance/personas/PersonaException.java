package org.intrustd.appliance.personas;

/** A persona cannot be added, changed or found; the message says why. */
public final class PersonaException extends RuntimeException {
  public PersonaException(String message) {
    super(message);
  }

  public PersonaException(String message, Throwable cause) {
    super(message, cause);
  }
}

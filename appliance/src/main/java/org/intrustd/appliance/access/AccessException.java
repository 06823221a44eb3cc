package org.intrustd.appliance.access;

import org.intrustd.appliance.net.LocalHttp.HttpProblem;

/**
 * A credential or grant was refused, or cannot be found or stored. Its status is the HTTP
 * status that fits (400 bad input, 401 bad credential, 403 not allowed, 404 unknown, 409
 * conflict, 429 too many attempts, 500 storage); the message says why in words a person can
 * act on. Being an {@link HttpProblem}, it reaches a client of any local API as that problem.
 */
public final class AccessException extends HttpProblem {
  public AccessException(int status, String message) {
    super(status, message);
  }

  public AccessException(int status, String message, long retryAfterSeconds, Throwable cause) {
    super(status, message, retryAfterSeconds, cause);
  }
}

package org.intrustd.core.signal;

/** The error codes of docs/spec/flock.md. */
public enum ErrorCode {
  BAD_MESSAGE("bad-message"),
  MESSAGE_TOO_LARGE("message-too-large"),
  RATE_LIMITED("rate-limited"),
  BAD_SIGNATURE("bad-signature"),
  CHALLENGE_EXPIRED("challenge-expired"),
  INVALID_APPLIANCE_ID("invalid-appliance-id"),
  APPLIANCE_OFFLINE("appliance-offline"),
  SESSION_EXISTS("session-exists"),
  UNKNOWN_SESSION("unknown-session"),
  TOO_MANY_SESSIONS("too-many-sessions"),
  NOT_ADMITTED("not-admitted"),
  /** A cluster node that carried the session went away; the introduction may be retried. */
  NODE_LOST("node-lost");

  private final String wire;

  ErrorCode(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }
}

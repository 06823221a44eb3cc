package org.intrustd.core.signal;

/** The error codes of docs/spec/flock.md, with whether the flock closes the connection. */
public enum ErrorCode {
  BAD_MESSAGE("bad-message", true),
  MESSAGE_TOO_LARGE("message-too-large", true),
  RATE_LIMITED("rate-limited", true),
  BAD_SIGNATURE("bad-signature", true),
  CHALLENGE_EXPIRED("challenge-expired", true),
  INVALID_APPLIANCE_ID("invalid-appliance-id", false),
  APPLIANCE_OFFLINE("appliance-offline", false),
  SESSION_EXISTS("session-exists", false),
  UNKNOWN_SESSION("unknown-session", false),
  TOO_MANY_SESSIONS("too-many-sessions", false);

  private final String wire;
  private final boolean closesConnection;

  ErrorCode(String wire, boolean closesConnection) {
    this.wire = wire;
    this.closesConnection = closesConnection;
  }

  public String wire() {
    return wire;
  }

  public boolean closesConnection() {
    return closesConnection;
  }
}

// Error classes of the shim. Every error the shim raises on purpose is one of these, so that
// callers (and the fuzz tests) can tell a documented failure from a bug.

/** Base class of all shim errors. */
export class IntrustdError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Text that is not an appliance ID (identity.md). */
export class InvalidApplianceIdError extends IntrustdError {}

/**
 * The flock's answer failed verification: the public key does not hash to the appliance ID
 * asked for, or the signature over (offer, answer) does not verify. The flock or the network
 * is hostile; the link is refused.
 */
export class IntrustdVerificationError extends IntrustdError {}

/** The link could not be set up or was lost. `code` is a flock error code or a local one. */
export class IntrustdLinkError extends IntrustdError {
  constructor(message, code = 'link-failed', options) {
    super(message, options);
    this.code = code;
  }
}

/** A stream frame (channels.md) that breaks the rules. */
export class FrameError extends IntrustdError {}

/** A stream was reset or ended before its data was complete. */
export class StreamError extends IntrustdError {}

/** Malformed or oversized HTTP/1.1 response. */
export class HttpParseError extends IntrustdError {}

/** WebSocket (RFC 6455) protocol violation; `closeCode` is the close code to send. */
export class WsProtocolError extends IntrustdError {
  constructor(message, closeCode = 1002) {
    super(message);
    this.closeCode = closeCode;
  }
}

/**
 * The appliance refused a login, a session or a token (spec/access.md). `status` is its HTTP
 * status (401 bad credentials, 429 too many attempts, …); `retryAfterSeconds` says when to try
 * again after a 429, else null.
 */
export class IntrustdAccessError extends IntrustdError {
  constructor(message, status, retryAfterSeconds = null) {
    super(message);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

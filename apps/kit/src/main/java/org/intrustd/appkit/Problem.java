package org.intrustd.appkit;

/**
 * A refusal with its HTTP status and a detail for the person: an app's handlers throw it, and its
 * front door answers it with {@link Replies#problem} (an RFC 9457 document).
 */
public final class Problem extends RuntimeException {
    public final int status;

    public Problem(int status, String detail) {
        super(detail);
        this.status = status;
    }
}

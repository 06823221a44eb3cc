package org.intrustd.appliance.egress;

import java.nio.ByteBuffer;
import org.intrustd.appliance.proxy.HeadSyntax;

/**
 * Incremental parser of the one request head an app sends to the egress proxy:
 *
 * <pre>
 *   CONNECT host:port HTTP/1.1 CRLF        request line, authority form (RFC 9112 §3.2.3)
 *   *( field-name ":" OWS field-value CRLF ) checked for syntax, otherwise ignored
 *   CRLF
 * </pre>
 *
 * Bounded: the head is at most {@link #MAX_HEAD_BYTES} bytes and {@link #MAX_FIELDS} fields.
 * Lines end in CRLF (no bare LF, no obs-fold). Other methods are answered 405 (the proxy
 * carries tunnels only); HTTP/1.0 is accepted as well as HTTP/1.1. It stops consuming at the
 * end of the head, leaving what follows (data the app sent ahead of the 200, such as a TLS
 * ClientHello) in the buffer. Never throws on any input. Not thread-safe; one per connection.
 */
final class ConnectParser {
  static final int MAX_HEAD_BYTES = 8_192;
  static final int MAX_FIELDS = 64;

  /** Parser states; DONE and FAILED are terminal. */
  enum State { READING, DONE, FAILED }

  /** The outcome of {@link #feed} and {@link #endOfInput}. */
  sealed interface Result {
    record NeedMore() implements Result {}

    record Connect(Target target) implements Result {}

    /** A 4xx or 5xx status and a reason for the app's developer. */
    record Refused(int status, String reason) implements Result {}
  }

  private final byte[] head = new byte[MAX_HEAD_BYTES];
  private int length;
  private State state = State.READING;
  private Result result = new Result.NeedMore();

  State state() {
    return state;
  }

  /** Consumes bytes up to the end of the head and says whether it is complete, incomplete or refused. */
  Result feed(ByteBuffer in) {
    while (state == State.READING && in.hasRemaining()) {
      if (length == MAX_HEAD_BYTES) {
        return fail(431, "the request head is longer than " + MAX_HEAD_BYTES + " bytes");
      }
      byte b = in.get();
      head[length++] = b;
      if (b == '\n' && HeadSyntax.endsHead(head, length)) {
        return parse();
      }
    }
    return result;
  }

  /** The app closed its side: a head still incomplete is refused. */
  Result endOfInput() {
    if (state == State.READING) {
      return fail(400, length == 0 ? "no request was sent" : "the connection ended before the request head did");
    }
    return result;
  }

  private Result fail(int status, String reason) {
    state = State.FAILED;
    result = new Result.Refused(status, reason);
    return result;
  }

  private Result parse() {
    String[] lines = HeadSyntax.lines(head, length);
    if (lines == null) {
      return fail(400, "a line ends without CRLF");
    }
    if (lines.length - 1 > MAX_FIELDS) {
      return fail(431, "more than " + MAX_FIELDS + " header fields");
    }
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      int colon = line.indexOf(':');
      if (colon <= 0 || !HeadSyntax.isToken(line.substring(0, colon))) {
        return fail(400, "header line " + i + " is not 'Name: value' (no folding, no space before ':')");
      }
      if (!line.substring(colon + 1).chars().allMatch(c -> c == '\t' || c >= 0x20 && c < 0x7f || c >= 0x80)) {
        return fail(400, "header line " + i + " has control characters");
      }
    }
    return requestLine(lines[0]);
  }

  private Result requestLine(String line) {
    String[] parts = line.split(" ", -1);
    if (parts.length != 3 || !HeadSyntax.isToken(parts[0])) {
      return fail(400, "the request line is not 'CONNECT host:port HTTP/1.1'");
    }
    if (!parts[0].equals("CONNECT")) {
      return fail(405, "this proxy only opens tunnels (CONNECT host:port); " + HostSyntax.printable(parts[0])
          + " requests, such as plain http:// URLs, are not carried");
    }
    if (!parts[2].equals("HTTP/1.1") && !parts[2].equals("HTTP/1.0")) {
      return fail(parts[2].matches("HTTP/[0-9]\\.[0-9]") ? 505 : 400, "the version must be HTTP/1.1");
    }
    try {
      Target target = Target.parse(parts[1]);
      state = State.DONE;
      result = new Result.Connect(target);
      return result;
    } catch (IllegalArgumentException e) {
      return fail(400, "the CONNECT target must be host:port: " + e.getMessage());
    }
  }

}

package org.intrustd.appliance.proxy;

import java.nio.charset.StandardCharsets;

/**
 * The HTTP/1.1 head syntax (RFC 9112) every strict head parser of the daemon shares: where a
 * head ends, its lines (CRLF only), and what a token is.
 */
public final class HeadSyntax {
  private HeadSyntax() {}

  /** Whether the first {@code length} bytes of {@code head} end with the empty line (CRLF CRLF). */
  public static boolean endsHead(byte[] head, int length) {
    return length >= 4 && head[length - 1] == '\n' && head[length - 2] == '\r' && head[length - 3] == '\n'
        && head[length - 4] == '\r';
  }

  /**
   * The lines of a complete head (without its final empty line), or null if a line ends with a
   * bare CR or LF. ISO-8859-1 maps bytes 1:1, so positions in the strings are positions in the bytes.
   */
  public static String[] lines(byte[] head, int length) {
    String[] lines = new String(head, 0, length - 4, StandardCharsets.ISO_8859_1).split("\r\n", -1);
    for (String line : lines) {
      if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
        return null;
      }
    }
    return lines;
  }

  /** RFC 9110 §5.6.2 token: one or more tchars. */
  public static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}

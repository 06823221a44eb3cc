package org.intrustd.appliance.net;

import java.nio.charset.StandardCharsets;

/** The responses the daemon writes itself (problems, local APIs, the egress proxy's refusals): one HTTP/1.1 shape. */
public final class HttpResponses {
  private HttpResponses() {}

  /**
   * A whole {@code Connection: close} response: status line, {@code Content-Type},
   * {@code Content-Length}, {@code extraHeaders} (complete CRLF-terminated lines, or ""), body.
   */
  public static byte[] build(int status, String contentType, String extraHeaders, byte[] body) {
    byte[] head = ("HTTP/1.1 " + status + " " + title(status) + "\r\n"
        + "Content-Type: " + contentType + "\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + extraHeaders
        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + body.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(body, 0, out, head.length, body.length);
    return out;
  }

  /** The reason phrase of the statuses the daemon sends. */
  public static String title(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 410 -> "Gone";
      case 413 -> "Content Too Large";
      case 422 -> "Unprocessable Content";
      case 429 -> "Too Many Requests";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      case 505 -> "HTTP Version Not Supported";
      default -> "Error";
    };
  }
}

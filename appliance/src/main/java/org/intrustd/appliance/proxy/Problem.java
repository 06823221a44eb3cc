package org.intrustd.appliance.proxy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * An error the daemon answers itself: an HTTP/1.1 response with an RFC 9457 problem body, and
 * a {@code Retry-After} when {@code retryAfterSeconds} is not negative.
 */
public record Problem(int status, String detail, long retryAfterSeconds) {

  public Problem(int status, String detail) {
    this(status, detail, -1);
  }

  public byte[] toResponse() {
    String title = title(status);
    ObjectNode body = JsonNodeFactory.instance.objectNode()
        .put("type", "about:blank").put("title", title).put("status", status).put("detail", detail);
    byte[] json = body.toString().getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + " " + title + "\r\n"
        + "Content-Type: application/problem+json\r\n"
        + "Content-Length: " + json.length + "\r\n"
        + "Cache-Control: no-store\r\n"
        + (retryAfterSeconds >= 0 ? "Retry-After: " + retryAfterSeconds + "\r\n" : "")
        + "Connection: close\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[h.length + json.length];
    System.arraycopy(h, 0, out, 0, h.length);
    System.arraycopy(json, 0, out, h.length, json.length);
    return out;
  }

  static String title(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 409 -> "Conflict";
      case 413 -> "Content Too Large";
      case 422 -> "Unprocessable Content";
      case 429 -> "Too Many Requests";
      case 401 -> "Unauthorized";
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

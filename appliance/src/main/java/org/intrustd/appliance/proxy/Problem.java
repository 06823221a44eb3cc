package org.intrustd.appliance.proxy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.charset.StandardCharsets;
import org.intrustd.appliance.net.HttpResponses;

/**
 * An error the daemon answers itself: an HTTP/1.1 response with an RFC 9457 problem body, and
 * a {@code Retry-After} when {@code retryAfterSeconds} is not negative.
 */
public record Problem(int status, String detail, long retryAfterSeconds) {

  public Problem(int status, String detail) {
    this(status, detail, -1);
  }

  public byte[] toResponse() {
    byte[] json = JsonNodeFactory.instance.objectNode().put("type", "about:blank")
        .put("title", HttpResponses.title(status)).put("status", status).put("detail", detail)
        .toString().getBytes(StandardCharsets.UTF_8);
    return HttpResponses.build(status, "application/problem+json", "Cache-Control: no-store\r\n"
        + (retryAfterSeconds >= 0 ? "Retry-After: " + retryAfterSeconds + "\r\n" : ""), json);
  }
}

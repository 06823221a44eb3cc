package org.intrustd.appliance.egress;

import java.nio.charset.StandardCharsets;
import org.intrustd.appliance.net.HttpResponses;

/**
 * The proxy's own answers. A refusal is a short {@code text/plain} explanation (the app's
 * developer reads it in {@code curl -v} or a client's error), then the connection closes.
 */
final class Reply {
  static final byte[] ESTABLISHED = "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private Reply() {}

  static byte[] refusal(int status, String reason) {
    return HttpResponses.build(status, "text/plain; charset=utf-8", status == 405 ? "Allow: CONNECT\r\n" : "",
        (reason + "\n").getBytes(StandardCharsets.UTF_8));
  }
}

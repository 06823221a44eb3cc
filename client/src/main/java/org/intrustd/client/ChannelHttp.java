package org.intrustd.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One whole HTTP/1.1 exchange on a channel to an app (channels.md): the request with its
 * body, then the response read to its end. For clients that move whole files (backups); a
 * response bigger than {@code maxBody} is refused rather than held.
 */
public final class ChannelHttp {
  /** A response with its whole body; header names in lower case. */
  public record Response(int status, Map<String, String> headers, byte[] body) {}

  private ChannelHttp() {}

  public static Response exchange(ChannelStream stream, String app, String method, String target, Map<String, String> headers,
      byte[] body, long maxBody) throws IOException {
    StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: ").append(app)
        .append("\r\n");
    headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    if (body.length > 0 || method.equals("PUT") || method.equals("POST")) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    OutputStream out = stream.out();
    out.write(head.toString().getBytes(StandardCharsets.UTF_8));
    out.write(body);
    out.close();
    return read(stream.in(), method.equals("HEAD"), maxBody);
  }

  static Response read(InputStream in, boolean head, long maxBody) throws IOException {
    HttpStream.Head response = HttpStream.readHead(in)
        .orElseThrow(() -> new IOException("the appliance ended the exchange with no response"));
    int status = HttpStream.status(response);
    Map<String, String> fields = new TreeMap<>();
    response.fields().forEach(f -> fields.merge(f.name().toLowerCase(Locale.ROOT), f.value().strip(), (a, b) -> a + ", " + b));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    if (!head && status != 204 && status != 304) {
      long length = response.bodyLength(-2);
      byte[] buf = new byte[64 * 1024];
      if (length == -1) {
        HttpStream.copyChunked(in, bytes, false, buf);
      } else if (length >= 0) {
        if (length > maxBody) {
          throw new IOException("a response of " + length + " bytes is more than this client takes");
        }
        HttpStream.copyExactly(in, bytes, length, buf);
      } else {
        in.transferTo(bytes);
      }
    }
    return new Response(status, fields, bytes.toByteArray());
  }
}

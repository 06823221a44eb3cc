package org.intrustd.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.intrustd.backup.HttpBackend;
import org.intrustd.client.ChannelStream;
import org.intrustd.client.ClientException;
import org.intrustd.client.HttpStream;

/**
 * HTTP exchanges with one app of an appliance over the end-to-end link, each on a channel of
 * its own (the daemon forwards it to the app, with the caller's identity). It owns the
 * signed-in link: closing it signs out. Thread-safe: the link carries several channels at once.
 */
final class LinkHttp implements HttpBackend.Transport {
  /** The largest response body read (a pack of the largest size a repository may choose). */
  static final long MAX_BODY = 160L << 20;

  private final Remote remote;
  private final String app;

  LinkHttp(Remote remote, String app) {
    this.remote = remote;
    this.app = app;
  }

  @Override
  public HttpBackend.Response exchange(String method, String target, Map<String, String> headers, byte[] body)
      throws IOException {
    try (ChannelStream stream = remote.client().open("http/" + app)) {
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
      return read(stream.in(), method.equals("HEAD"));
    } catch (ClientException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    remote.close();
  }

  /** A whole response: status, header fields (names in lower case), body. */
  static HttpBackend.Response read(InputStream in, boolean head) throws IOException {
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
        if (length > MAX_BODY) {
          throw new IOException("a response of " + length + " bytes is more than this client takes");
        }
        HttpStream.copyExactly(in, bytes, length, buf);
      } else {
        in.transferTo(bytes);
      }
    }
    return new HttpBackend.Response(status, fields, bytes.toByteArray());
  }
}

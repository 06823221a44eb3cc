package org.intrustd.appliance.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An HTTP/1.1 response read from a stream channel as a client must (channels.md): status line,
 * headers, and a body framed by Content-Length, chunked, or END.
 */
public record HttpResponse(int status, List<String[]> headers, byte[] body) {

  public Optional<String> header(String name) {
    return headers.stream().filter(h -> h[0].equalsIgnoreCase(name)).map(h -> h[1]).findFirst();
  }

  public String text() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /** A response head: status and headers; the body is still in the stream. */
  public record Head(int status, List<String[]> headers) {
    public Optional<String> header(String name) {
      return headers.stream().filter(h -> h[0].equalsIgnoreCase(name)).map(h -> h[1]).findFirst();
    }

    public Optional<Long> contentLength() {
      return header("Content-Length").map(Long::parseLong);
    }

    boolean chunked() {
      return header("Transfer-Encoding").map(v -> v.toLowerCase(Locale.ROOT).contains("chunked")).orElse(false);
    }
  }

  /** Reads a whole response and then the END that must follow it. */
  public static HttpResponse read(StreamChannel in) {
    Head head = readHead(in);
    byte[] body;
    if (head.chunked()) {
      body = readChunked(in);
    } else if (head.contentLength().isPresent()) {
      body = in.readExactly(Math.toIntExact(head.contentLength().get()));
    } else {
      return new HttpResponse(head.status(), head.headers(), in.readToEnd());
    }
    if (in.read() != -1) {
      throw new AssertionError("bytes after the response body, or no END");
    }
    return new HttpResponse(head.status(), head.headers(), body);
  }

  public static Head readHead(StreamChannel in) {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("END inside the response head: " + raw.toString(StandardCharsets.ISO_8859_1));
      }
      raw.write(b);
      byte[] a = raw.toByteArray();
      int n = a.length;
      if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
        break;
      }
      if (n > 65_536) {
        throw new AssertionError("response head over 64 KiB");
      }
    }
    String[] lines = raw.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    String[] status = lines[0].split(" ", 3);
    if (!status[0].equals("HTTP/1.1")) {
      throw new AssertionError("not an HTTP/1.1 status line: " + lines[0]);
    }
    List<String[]> headers = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.add(new String[] {lines[i].substring(0, colon), lines[i].substring(colon + 1).strip()});
    }
    return new Head(Integer.parseInt(status[1]), headers);
  }

  private static byte[] readChunked(StreamChannel in) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = line(in);
      int semi = sizeLine.indexOf(';');
      int size = Integer.parseInt(semi < 0 ? sizeLine : sizeLine.substring(0, semi), 16);
      if (size == 0) {
        while (!line(in).isEmpty()) {
          // trailers
        }
        return body.toByteArray();
      }
      body.writeBytes(in.readExactly(size));
      if (!line(in).isEmpty()) {
        throw new AssertionError("chunk data not followed by CRLF");
      }
    }
  }

  private static String line(StreamChannel in) {
    StringBuilder s = new StringBuilder();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new AssertionError("END inside a chunked body");
      }
      s.append((char) b);
    }
    if (s.isEmpty() || s.charAt(s.length() - 1) != '\r') {
      throw new AssertionError("bare LF in a chunked body");
    }
    return s.substring(0, s.length() - 1);
  }
}

package org.intrustd.client;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parses a whole HTTP/1.1 response (everything the appliance sent before END) with
 * {@link HttpStream}'s strict framing: the status line, headers, and a body framed by
 * Content-Length, chunked encoding, or the end of the stream. Anything malformed is a
 * {@link ClientException} that says what.
 */
final class ResponseParser {
  private ResponseParser() { }

  static HttpResult parse(byte[] all) {
    ByteArrayInputStream in = new ByteArrayInputStream(all);
    try {
      HttpStream.Head head = HttpStream.readHead(in)
          .orElseThrow(() -> new ClientException("the response ended before its head did (0 bytes)"));
      int status = HttpStream.status(head);
      if (!head.startLine().startsWith("HTTP/1.1 ")) {
        throw new ClientException("not an HTTP/1.1 status line: " + HttpStream.abbreviate(head.startLine()));
      }
      Map<String, List<String>> headers = new LinkedHashMap<>();
      head.fields().forEach(f -> headers.computeIfAbsent(f.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(f.value()));
      long length = head.bodyLength(-2);
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      if (length == -1) {
        try {
          HttpStream.copyChunked(in, body, false, new byte[8192]); // trailers, if any, are ignored
        } catch (EOFException e) {
          throw new ClientException("a chunk runs past the end of the response");
        }
      } else {
        in.transferTo(body);
        if (length >= 0 && body.size() != length) {
          throw new ClientException("the body has " + body.size() + " bytes; Content-Length said " + length);
        }
      }
      String[] parts = head.startLine().split(" ", 3);
      return new HttpResult(status, parts.length > 2 ? parts[2] : "", headers, body.toByteArray());
    } catch (IOException e) { // only the EOFs of a cut-short message: a byte array never fails
      throw new ClientException("the response is cut short: " + e.getMessage());
    }
  }
}

package org.intrustd.client;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * HTTP/1.1 message framing read from a stream as it arrives, for the exchanges a device relays
 * without holding them whole ({@code intrustd request}, {@code intrustd forward}): heads, and
 * bodies framed by Content-Length or chunked encoding. Strict like {@link ResponseParser}:
 * anything malformed is a {@link ClientException} that says what.
 */
public final class HttpStream {
  public static final int MAX_HEAD = 64 * 1024;
  private static final int MAX_CHUNK_LINE = 1024;
  private static final String TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";

  private HttpStream() {}

  /** A request or response head: its first line and its fields, in order. */
  public record Head(String startLine, List<Field> fields) {
    public record Field(String name, String value) {}

    /** The values of the field {@code name} (any case). */
    public List<String> values(String name) {
      return fields.stream().filter(f -> f.name().equalsIgnoreCase(name)).map(Field::value).toList();
    }

    /** Whether a comma-separated field {@code name} lists {@code token} (any case). */
    public boolean lists(String name, String token) {
      return values(name).stream().flatMap(v -> java.util.Arrays.stream(v.split(",")))
          .anyMatch(t -> t.strip().equalsIgnoreCase(token));
    }

    /**
     * How the body is framed: a length (0 when there is none), or -1 for chunked.
     * {@code untilEnd} is what a message with neither field has (a response: -2, to the end).
     */
    public long bodyLength(long untilEnd) {
      List<String> te = values("Transfer-Encoding");
      List<String> cl = values("Content-Length");
      if (!te.isEmpty()) {
        if (te.size() != 1 || !te.getFirst().strip().equalsIgnoreCase("chunked")) {
          throw new ClientException("an unsupported transfer encoding: " + te);
        }
        return -1;
      }
      if (cl.isEmpty()) {
        return untilEnd;
      }
      if (cl.size() != 1 || !cl.getFirst().strip().matches("[0-9]{1,18}")) { // one field only: no ambiguity to smuggle in
        throw new ClientException("a malformed Content-Length: " + cl);
      }
      return Long.parseLong(cl.getFirst().strip());
    }

    /** The head as sent: the start line, the fields but those named in {@code drop}, and the blank line. */
    public byte[] bytes(String... drop) {
      return bytes(List.of(drop), List.of());
    }

    /** The same with the fields {@code add} at the end. */
    public byte[] bytes(List<String> drop, List<Field> add) {
      StringBuilder s = new StringBuilder(startLine).append("\r\n");
      for (Field f : fields) {
        if (drop.stream().noneMatch(f.name()::equalsIgnoreCase)) {
          s.append(f.name()).append(": ").append(f.value()).append("\r\n");
        }
      }
      add.forEach(f -> s.append(f.name()).append(": ").append(f.value()).append("\r\n"));
      return s.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }
  }

  /**
   * Reads one head: empty when the stream ends before its first byte (a client that closed
   * between requests); a {@link ClientException} for one that is malformed, cut short or over
   * {@link #MAX_HEAD} bytes. Reads no byte past the head.
   */
  public static Optional<Head> readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream(512);
    int matched = 0; // of CR LF CR LF
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        if (head.size() == 0) {
          return Optional.empty();
        }
        throw new ClientException("the message ended before its head did (" + head.size() + " bytes)");
      }
      if (head.size() >= MAX_HEAD) {
        throw new ClientException("the head is over " + MAX_HEAD + " bytes");
      }
      head.write(b);
      matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
          ? matched + 1 : b == '\r' ? 1 : 0;
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    String[] lines = text.substring(0, text.length() - 4).split("\r\n", -1);
    if (lines[0].isEmpty() || !lines[0].matches("[\\x21-\\x7e][\\x20-\\x7e]*")) {
      throw new ClientException("a malformed start line: " + abbreviate(lines[0]));
    }
    List<Head.Field> fields = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0 || !lines[i].substring(0, colon).matches(TOKEN)
          || lines[i].chars().anyMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f)) {
        throw new ClientException("a malformed header: " + abbreviate(lines[i]));
      }
      fields.add(new Head.Field(lines[i].substring(0, colon), lines[i].substring(colon + 1).strip()));
    }
    return Optional.of(new Head(lines[0], List.copyOf(fields)));
  }

  /** Copies exactly {@code n} bytes; an {@link EOFException} if the stream ends first. */
  public static void copyExactly(InputStream in, OutputStream out, long n, byte[] buf) throws IOException {
    while (n > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n));
      if (r < 0) {
        throw new EOFException("the body ended " + n + " bytes short");
      }
      out.write(buf, 0, r);
      n -= r;
    }
  }

  /**
   * Copies one chunked body to its last chunk and trailers, with its framing when
   * {@code framing} (relaying it as it is) or decoded (the data only).
   */
  public static void copyChunked(InputStream in, OutputStream out, boolean framing, byte[] buf) throws IOException {
    while (true) {
      String line = line(in);
      int semi = line.indexOf(';');
      String hex = (semi < 0 ? line : line.substring(0, semi)).strip();
      if (!hex.matches("[0-9A-Fa-f]{1,15}")) {
        throw new ClientException("a malformed chunk size: " + abbreviate(line));
      }
      long size = Long.parseLong(hex, 16);
      if (framing) {
        out.write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      }
      if (size == 0) {
        for (String trailer = line(in); !trailer.isEmpty(); trailer = line(in)) {
          if (framing) {
            out.write((trailer + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
          }
        }
        if (framing) {
          out.write(CRLF);
        }
        return;
      }
      copyExactly(in, out, size, buf);
      if (!line(in).isEmpty()) {
        throw new ClientException("a chunk is not followed by CRLF");
      }
      if (framing) {
        out.write(CRLF);
      }
    }
  }

  private static final byte[] CRLF = {'\r', '\n'};

  /** One CRLF-terminated line of chunk framing, without the CRLF. */
  private static String line(InputStream in) throws IOException {
    StringBuilder s = new StringBuilder();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("the body ended inside its chunked framing");
      }
      if (b == '\r') {
        if (in.read() != '\n') {
          throw new ClientException("a bare CR in chunked framing");
        }
        return s.toString();
      }
      if (s.length() >= MAX_CHUNK_LINE) {
        throw new ClientException("a chunk line is over " + MAX_CHUNK_LINE + " bytes");
      }
      s.append((char) b);
    }
  }

  static String abbreviate(String s) {
    String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
    return printable.length() > 80 ? printable.substring(0, 80) + "…" : printable;
  }

  /** The status code of a response head; a {@link ClientException} for a malformed status line. */
  public static int status(Head response) {
    String[] parts = response.startLine().split(" ", 3);
    if (parts.length < 2 || !parts[0].matches("HTTP/1\\.[01]") || !parts[1].matches("[1-5][0-9][0-9]")) {
      throw new ClientException("not an HTTP/1.1 status line: " + abbreviate(response.startLine()));
    }
    return Integer.parseInt(parts[1]);
  }
}

package org.intrustd.appliance.proxy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.intrustd.appliance.proxy.RequestHead.BodyFraming;

/**
 * Incremental, strict parser of one HTTP/1.1 request head (RFC 9112 §2-§6). Feed it bytes as
 * they come; it stops consuming at the end of the head, so the caller keeps what follows (the
 * body). Strict on purpose: the daemon rewrites trusted headers, so any ambiguity a lenient
 * parser would resolve one way and the app another (bare LF, obs-fold, both Content-Length and
 * Transfer-Encoding, duplicate lengths, whitespace before the colon) is refused. Not
 * thread-safe; one per exchange.
 */
public final class RequestHeadParser {
  public static final int MAX_HEAD_BYTES = 65_536;
  static final int MAX_FIELDS = 128;

  /** Parser states; FAILED and DONE are terminal. */
  enum State { READING, DONE, FAILED }

  /** The outcome of {@link #feed}. */
  public sealed interface Result {
    record NeedMore() implements Result {}

    record Done(RequestHead head) implements Result {}

    /** A 4xx status and a human-readable reason. */
    record Failed(int status, String reason) implements Result {}
  }

  // Grows on demand up to MAX_HEAD_BYTES: most heads are well under a kilobyte.
  private byte[] head = new byte[1024];
  private int length;
  private State state = State.READING;
  private Result result = new Result.NeedMore();

  /**
   * Consumes bytes from {@code in} up to the end of the head (leaving the rest in it), and
   * says whether the head is complete, incomplete or invalid.
   */
  public Result feed(ByteBuffer in) {
    if (state != State.READING) {
      return result;
    }
    while (in.hasRemaining()) {
      if (length == MAX_HEAD_BYTES) {
        return fail(431, "the request head is longer than " + MAX_HEAD_BYTES + " bytes");
      }
      if (length == head.length) {
        head = java.util.Arrays.copyOf(head, Math.min(head.length * 4, MAX_HEAD_BYTES));
      }
      byte b = in.get();
      head[length++] = b;
      if (b == '\n' && HeadSyntax.endsHead(head, length)) {
        return parse();
      }
    }
    return result;
  }

  private Result fail(int status, String reason) {
    state = State.FAILED;
    result = new Result.Failed(status, reason);
    return result;
  }

  private Result parse() {
    String[] lines = HeadSyntax.lines(head, length);
    if (lines == null) {
      return fail(400, "a line ends without CRLF");
    }
    String[] requestLine = lines[0].split(" ", -1);
    if (requestLine.length != 3) {
      return fail(400, "the request line is not 'METHOD target HTTP/1.1'");
    }
    String method = requestLine[0];
    String target = requestLine[1];
    if (!HeadSyntax.isToken(method)) {
      return fail(400, "the method is not a token");
    }
    if (!requestLine[2].equals("HTTP/1.1")) {
      return fail(505, "only HTTP/1.1 is spoken on a channel");
    }
    if (!target.startsWith("/") || !isVisibleAscii(target)) {
      return fail(400, "the request target must be in origin form ('/path?query')");
    }
    List<RequestHead.Field> fields = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      int colon = line.indexOf(':');
      if (colon <= 0) {
        return fail(400, "a header line has no field name");
      }
      String name = line.substring(0, colon);
      if (!HeadSyntax.isToken(name)) {
        return fail(400, "the field name '" + printable(name) + "' is not a token (no folding, no space before ':')");
      }
      String value = trimOws(line.substring(colon + 1));
      if (!isFieldValue(value)) {
        return fail(400, "the value of '" + name + "' has control characters");
      }
      fields.add(new RequestHead.Field(name, value));
      if (fields.size() > MAX_FIELDS) {
        return fail(431, "more than " + MAX_FIELDS + " header fields");
      }
    }
    return framing(method, target, fields);
  }

  private Result framing(String method, String target, List<RequestHead.Field> fields) {
    RequestHead probe = new RequestHead(method, target, fields, new BodyFraming.None());
    List<String> lengths = fields.stream().filter(f -> f.name().equalsIgnoreCase("Content-Length"))
        .map(RequestHead.Field::value).toList();
    boolean hasTransferEncoding = fields.stream().anyMatch(f -> f.name().equalsIgnoreCase("Transfer-Encoding"));
    BodyFraming framing;
    if (hasTransferEncoding && !lengths.isEmpty()) {
      return fail(400, "both Transfer-Encoding and Content-Length");
    } else if (hasTransferEncoding) {
      List<String> codings = fields.stream().filter(f -> f.name().equalsIgnoreCase("Transfer-Encoding"))
          .map(RequestHead.Field::value).toList();
      if (codings.size() != 1 || !codings.get(0).equalsIgnoreCase("chunked")) {
        return fail(501, "the only transfer coding accepted is 'chunked'");
      }
      framing = new BodyFraming.Chunked();
    } else if (!lengths.isEmpty()) {
      if (lengths.size() > 1 || !lengths.get(0).matches("[0-9]{1,18}")) {
        return fail(400, "Content-Length must be one decimal number");
      }
      long n = Long.parseLong(lengths.get(0));
      framing = n == 0 ? new BodyFraming.None() : new BodyFraming.Length(n);
    } else {
      framing = new BodyFraming.None();
    }
    if (probe.listsToken("Connection", "upgrade") && probe.first("Upgrade").isPresent()) {
      if (!(framing instanceof BodyFraming.None)) {
        return fail(400, "an upgrade request has no body");
      }
      framing = new BodyFraming.Upgrade(probe.first("Upgrade").orElseThrow().toLowerCase(Locale.ROOT));
    }
    state = State.DONE;
    result = new Result.Done(new RequestHead(method, target, fields, framing));
    return result;
  }

  /**
   * Removes optional whitespace around a value: SP and HTAB only (RFC 9110 §5.6.3).
   * {@code String.strip()} would also remove VT, FF and 0x1C-0x1F, letting control characters
   * at either end of a value pass unnoticed.
   */
  private static String trimOws(String s) {
    int from = 0;
    int to = s.length();
    while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
      from++;
    }
    while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
      to--;
    }
    return s.substring(from, to);
  }


  private static boolean isVisibleAscii(String s) {
    return s.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  private static boolean isFieldValue(String s) {
    return s.chars().allMatch(c -> c == '\t' || c >= 0x20 && c != 0x7f);
  }

  private static String printable(String s) {
    String cut = s.length() > 40 ? s.substring(0, 40) : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }
}

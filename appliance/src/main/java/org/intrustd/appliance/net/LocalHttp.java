package org.intrustd.appliance.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.intrustd.appliance.proxy.Problem;
import org.intrustd.appliance.proxy.RequestHead;
import org.intrustd.appliance.proxy.RequestHeadParser;

/**
 * The small HTTP/1.1 server side the daemon's local JSON APIs share (the owner's control
 * socket, the session API behind the link): one request per connection with a small
 * Content-Length body, JSON answers, problems as {@code application/problem+json}.
 */
public final class LocalHttp {
  public static final ObjectMapper JSON = new ObjectMapper();

  private LocalHttp() {}

  /** A request: its head, its body, and its path and query taken apart. */
  public record Request(RequestHead head, byte[] body) {
    public String method() {
      return head.method();
    }

    /** The decoded, non-empty segments of the path. */
    public List<String> path() {
      String target = head.target();
      int q = target.indexOf('?');
      List<String> out = new ArrayList<>();
      for (String s : (q < 0 ? target : target.substring(0, q)).split("/")) {
        if (!s.isEmpty()) {
          out.add(decode(s));
        }
      }
      return out;
    }

    /** The query's parameters, decoded; the last of a repeated one wins. */
    public Map<String, String> query() {
      String target = head.target();
      int q = target.indexOf('?');
      Map<String, String> out = new LinkedHashMap<>();
      if (q >= 0) {
        for (String kv : target.substring(q + 1).split("&")) {
          if (kv.isEmpty()) {
            continue;
          }
          int eq = kv.indexOf('=');
          out.put(decode(eq < 0 ? kv : kv.substring(0, eq)), eq < 0 ? "" : decode(kv.substring(eq + 1)));
        }
      }
      return out;
    }

    public String header(String name) {
      return head.first(name).orElse(null);
    }

    /** The body as a JSON object, or a 400 problem. */
    public JsonNode json() {
      try {
        JsonNode node = JSON.readTree(body);
        if (node == null || !node.isObject()) {
          throw new HttpProblem(400, "the body must be a JSON object");
        }
        return node;
      } catch (IOException e) {
        throw new HttpProblem(400, "the body is not JSON: " + e.getMessage());
      }
    }

    private static String decode(String s) {
      try {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new HttpProblem(400, "bad escape in the request target: " + e.getMessage());
      }
    }
  }

  /**
   * A request the API refuses, with its HTTP status (and, for 429 and 503, when to retry); the
   * message says why in words a person can act on. Subclasses name the domain (access).
   */
  public static class HttpProblem extends RuntimeException {
    private final int status;
    private final long retryAfterSeconds;

    public HttpProblem(int status, String message) {
      this(status, message, -1, null);
    }

    public HttpProblem(int status, String message, long retryAfterSeconds) {
      this(status, message, retryAfterSeconds, null);
    }

    public HttpProblem(int status, String message, long retryAfterSeconds, Throwable cause) {
      super(message, cause, false, false);
      this.status = status;
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() {
      return status;
    }

    /** Seconds to wait before trying again, or -1. */
    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }

    public byte[] toResponse() {
      return new Problem(status, getMessage(), retryAfterSeconds).toResponse();
    }
  }

  /** Reads one request with a body of at most {@code maxBody} bytes framed by Content-Length. */
  public static Request read(SocketChannel ch, int maxBody) throws IOException {
    Head h = readHead(ch);
    return new Request(h.head(), readBody(ch, h.head(), h.rest(), maxBody));
  }

  /** A request head, and the bytes read after it. */
  public record Head(RequestHead head, ByteBuffer rest) {}

  /** Reads a request's head; its body is left to {@link #readBody} or {@link #saveBody}. */
  public static Head readHead(SocketChannel ch) throws IOException {
    RequestHeadParser parser = new RequestHeadParser();
    ByteBuffer buf = ByteBuffer.allocate(8192);
    while (true) {
      if (ch.read(buf) < 0) {
        throw new HttpProblem(400, "the request ended before its head did");
      }
      buf.flip();
      RequestHeadParser.Result r = parser.feed(buf);
      if (r instanceof RequestHeadParser.Result.Failed f) {
        throw new HttpProblem(f.status(), f.reason());
      }
      if (r instanceof RequestHeadParser.Result.Done d) {
        return new Head(d.head(), buf);
      }
      buf.compact();
    }
  }

  /**
   * Reads the body of a request whose head has been parsed; {@code rest} holds the bytes that
   * followed the head. Content-Length only, at most {@code maxBody} bytes.
   */
  public static byte[] readBody(SocketChannel ch, RequestHead head, ByteBuffer rest, int maxBody) throws IOException {
    long length = switch (head.framing()) {
      case RequestHead.BodyFraming.None n -> 0;
      case RequestHead.BodyFraming.Length l -> l.bytes();
      default -> throw new HttpProblem(400, "send the body with a Content-Length");
    };
    if (length > maxBody) {
      throw new HttpProblem(413, "bodies are at most " + maxBody + " bytes");
    }
    ByteBuffer body = ByteBuffer.allocate((int) length);
    body.put(rest.slice(rest.position(), Math.min(rest.remaining(), body.capacity())));
    while (body.hasRemaining()) {
      if (ch.read(body) < 0) {
        throw new HttpProblem(400, "the body is shorter than its Content-Length");
      }
    }
    return body.array();
  }

  /**
   * Streams a request's body (Content-Length, at most {@code maxBody} bytes) into {@code file},
   * for bodies too large to hold in memory; {@code rest} holds the bytes that followed the head.
   */
  public static void saveBody(SocketChannel ch, RequestHead head, ByteBuffer rest, Path file, long maxBody)
      throws IOException {
    if (!(head.framing() instanceof RequestHead.BodyFraming.Length l)) {
      throw new HttpProblem(411, "send the file with a Content-Length");
    }
    if (l.bytes() > maxBody) {
      throw new HttpProblem(413, "files are at most " + maxBody + " bytes");
    }
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      long left = l.bytes();
      ByteBuffer buf = rest.slice(rest.position(), (int) Math.min(rest.remaining(), left));
      while (true) {
        left -= buf.remaining();
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        if (left == 0) {
          break;
        }
        if (buf.capacity() < 65_536) {
          buf = ByteBuffer.allocate(65_536);
        }
        buf.clear().limit((int) Math.min(buf.capacity(), left));
        if (ch.read(buf) < 0) {
          throw new HttpProblem(400, "the body is shorter than its Content-Length");
        }
        buf.flip();
      }
      out.force(true);
    }
  }

  /** A 200 response with a JSON body that must not be cached (it may hold a secret). */
  public static byte[] ok(JsonNode body) {
    return HttpResponses.build(200, "application/json", "Cache-Control: no-store\r\n",
        body.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** How a local API answers one request; it may throw {@link HttpProblem} to refuse it. */
  @FunctionalInterface
  public interface Answer {
    byte[] get() throws IOException;
  }

  /**
   * Writes {@code answer}'s response to {@code ch}: a refusal as its problem response, anything
   * else thrown as a logged 500, so no request on a local API goes unanswered.
   */
  public static void respond(SocketChannel ch, System.Logger log, String api, Answer answer) throws IOException {
    byte[] response;
    try {
      response = answer.get();
    } catch (HttpProblem p) {
      response = p.toResponse();
    } catch (RuntimeException e) {
      log.log(System.Logger.Level.ERROR, api + " request failed", e);
      response = new HttpProblem(500, "internal error").toResponse();
    }
    ByteBuffer out = ByteBuffer.wrap(response);
    while (out.hasRemaining()) {
      ch.write(out);
    }
  }

  public static void requireMethod(Request request, String allowed) {
    if (!request.method().equals(allowed)) {
      throw new HttpProblem(405, "use " + allowed + " here");
    }
  }

  /** A required non-empty string field of a JSON body. */
  public static String text(JsonNode req, String field) {
    JsonNode v = req.get(field);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw new HttpProblem(400, "'" + field + "' must be a non-empty string");
    }
    return v.textValue();
  }
}

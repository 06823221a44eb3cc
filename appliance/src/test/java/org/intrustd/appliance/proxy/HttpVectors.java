package org.intrustd.appliance.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * docs/spec/vectors/http-requests.json, loaded once. Strings in the file are ISO-8859-1 (one
 * character per byte); entries with {@code generate} are expanded here as the file describes.
 */
final class HttpVectors {
  static final int MAX_HEAD = 65_536;

  /** A request the appliance accepts: the head, then {@code bodyBytes}, then {@code trailing} bytes. */
  record Valid(String why, byte[] request, String method, String target, String framing, int bodyBytes, int trailing) {
    int headBytes() {
      return request.length - bodyBytes - trailing;
    }

    /** What follows the head: the body, then the trailing bytes. */
    byte[] afterHead() {
      return java.util.Arrays.copyOfRange(request, headBytes(), request.length);
    }

    @Override
    public String toString() {
      return why;
    }
  }

  /** A request the appliance refuses: with {@code status} (head errors) or RESET (body errors after a head of {@code head} bytes). */
  record Invalid(String why, byte[] request, OptionalInt status, OptionalInt head) {
    @Override
    public String toString() {
      return why;
    }
  }

  private static final JsonNode ROOT = load();
  static final List<Valid> VALID = valid();
  static final List<Invalid> INVALID = invalid();

  private HttpVectors() {}

  private static JsonNode load() {
    Path file = Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", "http-requests.json");
    try {
      return new ObjectMapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Valid> valid() {
    List<Valid> out = new ArrayList<>();
    for (JsonNode v : ROOT.get("valid")) {
      out.add(new Valid(v.get("why").asText(), request(v), v.get("method").asText(), v.get("target").asText(),
          v.get("framing").asText(), v.get("bodyBytes").asInt(), v.get("trailing").asInt()));
    }
    return List.copyOf(out);
  }

  private static List<Invalid> invalid() {
    List<Invalid> out = new ArrayList<>();
    for (JsonNode v : ROOT.get("invalid")) {
      OptionalInt status = v.has("status") ? OptionalInt.of(v.get("status").asInt()) : OptionalInt.empty();
      OptionalInt head = v.has("head") ? OptionalInt.of(v.get("head").asInt()) : OptionalInt.empty();
      if (status.isPresent() == v.path("reset").asBoolean(false)) {
        throw new IllegalStateException("an invalid vector has either 'status' or 'reset': " + v);
      }
      out.add(new Invalid(v.get("why").asText(), request(v), status, head));
    }
    return List.copyOf(out);
  }

  private static byte[] request(JsonNode v) {
    if (v.has("request")) {
      return v.get("request").asText().getBytes(StandardCharsets.ISO_8859_1);
    }
    return switch (v.get("generate").asText()) {
      case "head-of-65536" -> paddedHead(MAX_HEAD);
      case "head-over-65536" -> paddedHead(MAX_HEAD + 1);
      default -> throw new IllegalStateException("unknown generated vector " + v);
    };
  }

  /** {@code GET / HTTP/1.1}, Host, and an X-Pad field that makes the head exactly {@code size} bytes. */
  static byte[] paddedHead(int size) {
    String start = "GET / HTTP/1.1\r\nHost: hello\r\nX-Pad: ";
    String end = "\r\n\r\n";
    return (start + "a".repeat(size - start.length() - end.length()) + end).getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Every request in the file, valid or not: seeds for mutation. */
  static List<byte[]> allRequests() {
    List<byte[]> all = new ArrayList<>();
    VALID.forEach(v -> all.add(v.request()));
    INVALID.forEach(v -> all.add(v.request()));
    return all;
  }
}

package org.intrustd.appliance.proxy;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A parsed HTTP/1.1 request head (RFC 9112 §3, §5): request line and header fields in their
 * original order and spelling. Immutable.
 */
public record RequestHead(String method, String target, List<Field> fields, BodyFraming framing) {
  public RequestHead {
    fields = List.copyOf(fields);
  }

  /** One header field line. */
  public record Field(String name, String value) {}

  /** How the request's body ends (RFC 9112 §6.3), or that the stream is upgraded after the head. */
  public sealed interface BodyFraming {
    record None() implements BodyFraming {}

    record Length(long bytes) implements BodyFraming {}

    record Chunked() implements BodyFraming {}

    record Upgrade(String protocol) implements BodyFraming {}
  }

  /** The first value of a field, by case-insensitive name. */
  public Optional<String> first(String name) {
    return fields.stream().filter(f -> f.name().equalsIgnoreCase(name)).map(Field::value).findFirst();
  }

  /** Whether a comma-separated field (such as Connection) lists a token, case-insensitively. */
  public boolean listsToken(String name, String token) {
    String t = token.toLowerCase(Locale.ROOT);
    return fields.stream().filter(f -> f.name().equalsIgnoreCase(name))
        .flatMap(f -> java.util.Arrays.stream(f.value().split(",")))
        .anyMatch(v -> v.strip().toLowerCase(Locale.ROOT).equals(t));
  }
}

package org.intrustd.client;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A whole HTTP/1.1 response read from a channel.
 *
 * @param headers lower-case names to their values, in order
 */
public record HttpResult(int status, String reason, Map<String, List<String>> headers, byte[] body) {
  public Optional<String> header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
  }

  public String text() {
    return new String(body, StandardCharsets.UTF_8);
  }
}

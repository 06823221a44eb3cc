package org.intrustd.core.access;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A permission name: {@code intrustd+perm://<app-id>/<name>[?<key>=<value>&...]}
 * (docs/spec/access.md). The app id {@code intrustd} is the daemon's own. Parameters narrow a
 * permission: a held permission implies a wanted one with the same app and name when every
 * parameter it has, the wanted one has with the same value (so {@code photos/view} implies
 * {@code photos/view?album=a}, and {@code photos/view?album=a} does not imply
 * {@code photos/view?album=b}). {@link #toString} is the canonical form: keys sorted, values
 * percent-encoded except for the unreserved characters, hex in upper case.
 */
public record Permission(String app, String name, SortedMap<String, String> params) {
  public static final String SCHEME = "intrustd+perm://";
  /** The daemon's own permissions use this app id, which no installed app may take. */
  public static final String DAEMON = "intrustd";
  public static final int MAX_LENGTH = 512;
  public static final int MAX_PARAMS = 8;
  private static final Pattern WORD = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  /** Administer the appliance: implies every permission. */
  public static final Permission ADMIN = new Permission(DAEMON, "admin", Map.of());

  public Permission {
    if (!WORD.matcher(app).matches() || !WORD.matcher(name).matches()) {
      throw new IllegalArgumentException("app and name must match " + WORD.pattern());
    }
    if (params.size() > MAX_PARAMS) {
      throw new IllegalArgumentException("at most " + MAX_PARAMS + " parameters");
    }
    TreeMap<String, String> copy = new TreeMap<>();
    params.forEach((k, v) -> {
      if (!WORD.matcher(k).matches() || v.isEmpty()) {
        throw new IllegalArgumentException("parameter keys must match " + WORD.pattern() + " and values be non-empty");
      }
      copy.put(k, v);
    });
    params = Collections.unmodifiableSortedMap(copy);
  }

  public Permission(String app, String name, Map<String, String> params) {
    this(app, name, new TreeMap<>(params));
  }

  /** May open channels to {@code appId}; held without an app parameter, any app. */
  public static Permission open(String appId) {
    return new Permission(DAEMON, "open", Map.of("app", appId));
  }

  /** Parses a permission, or says why it is not one. */
  public static Permission parse(String text) {
    if (text.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("a permission has at most " + MAX_LENGTH + " characters");
    }
    if (!text.startsWith(SCHEME)) {
      throw new IllegalArgumentException("a permission starts with " + SCHEME);
    }
    String rest = text.substring(SCHEME.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("a permission is " + SCHEME + "<app-id>/<name>");
    }
    String app = rest.substring(0, slash);
    String path = rest.substring(slash + 1);
    int q = path.indexOf('?');
    String name = q < 0 ? path : path.substring(0, q);
    if (!WORD.matcher(app).matches()) {
      throw new IllegalArgumentException("bad app id '" + app + "'");
    }
    if (!WORD.matcher(name).matches()) {
      throw new IllegalArgumentException("bad permission name '" + name + "' (one segment, " + WORD.pattern() + ")");
    }
    TreeMap<String, String> params = new TreeMap<>();
    if (q >= 0) {
      String query = path.substring(q + 1);
      if (query.isEmpty()) {
        throw new IllegalArgumentException("an empty query");
      }
      for (String pair : query.split("&", -1)) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("parameters are key=value");
        }
        String key = pair.substring(0, eq);
        if (!WORD.matcher(key).matches()) {
          throw new IllegalArgumentException("bad parameter key '" + key + "'");
        }
        String value = decode(pair.substring(eq + 1));
        if (value.isEmpty()) {
          throw new IllegalArgumentException("parameter '" + key + "' has an empty value");
        }
        if (params.put(key, value) != null) {
          throw new IllegalArgumentException("parameter '" + key + "' appears twice");
        }
      }
      if (params.size() > MAX_PARAMS) {
        throw new IllegalArgumentException("at most " + MAX_PARAMS + " parameters");
      }
    }
    return new Permission(app, name, params);
  }

  /** {@link #parse}, empty instead of an exception. */
  public static Optional<Permission> tryParse(String text) {
    try {
      return Optional.of(parse(text));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Whether holding this permission grants {@code wanted}; {@link #ADMIN} grants everything. */
  public boolean implies(Permission wanted) {
    if (equals(ADMIN)) {
      return true;
    }
    if (!app.equals(wanted.app) || !name.equals(wanted.name)) {
      return false;
    }
    for (Map.Entry<String, String> p : params.entrySet()) {
      if (!p.getValue().equals(wanted.params.get(p.getKey()))) {
        return false;
      }
    }
    return true;
  }

  public Optional<String> param(String key) {
    return Optional.ofNullable(params.get(key));
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder(SCHEME).append(app).append('/').append(name);
    char sep = '?';
    for (Map.Entry<String, String> p : params.entrySet()) {
      s.append(sep).append(p.getKey()).append('=').append(encode(p.getValue()));
      sep = '&';
    }
    return s.toString();
  }

  private static boolean unreserved(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  private static String encode(String value) {
    StringBuilder s = new StringBuilder();
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (unreserved(c)) {
        s.append((char) c);
      } else {
        s.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return s.toString();
  }

  private static String decode(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%') {
        int hi = i + 2 < text.length() ? Character.digit(text.charAt(i + 1), 16) : -1;
        int lo = i + 2 < text.length() ? Character.digit(text.charAt(i + 2), 16) : -1;
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException("a '%' must be followed by two hex digits");
        }
        out.write(hi << 4 | lo);
        i += 2;
      } else if (unreserved(c)) {
        out.write(c);
      } else {
        throw new IllegalArgumentException("character '" + c + "' must be percent-encoded");
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("a parameter value is not UTF-8");
    }
  }
}

package org.intrustd.appliance.bundles;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An app version, ordered like Semantic Versioning 2.0 with two relaxations (bundles.md
 * "Versions"): the core has one to four numbers, and a shorter core sorts just before the
 * same core padded with zeros, so that the order is total and consistent with equals.
 * Build metadata ({@code +...}) is refused because it would make two versions tie.
 * Immutable.
 */
public record Version(List<Integer> numbers, List<String> preRelease) implements Comparable<Version> {
  static final int MAX_LENGTH = 64;
  private static final Pattern NUMBER = Pattern.compile("0|[1-9][0-9]{0,8}");
  private static final Pattern IDENT = Pattern.compile("[0-9A-Za-z-]+");

  public Version {
    numbers = List.copyOf(numbers);
    preRelease = List.copyOf(preRelease);
  }

  /** The version a string spells, or empty when it is not one (see the class comment). */
  public static Optional<Version> parse(String text) {
    if (text.isEmpty() || text.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    int dash = text.indexOf('-');
    String core = dash < 0 ? text : text.substring(0, dash);
    List<Integer> numbers = new ArrayList<>();
    for (String n : core.split("\\.", -1)) {
      if (!NUMBER.matcher(n).matches()) {
        return Optional.empty();
      }
      numbers.add(Integer.parseInt(n));
    }
    if (numbers.size() > 4) {
      return Optional.empty();
    }
    List<String> pre = new ArrayList<>();
    if (dash >= 0) {
      for (String id : text.substring(dash + 1).split("\\.", -1)) {
        if (!IDENT.matcher(id).matches() || numeric(id) && !NUMBER.matcher(id).matches()) {
          return Optional.empty();
        }
        pre.add(id);
      }
    }
    return Optional.of(new Version(numbers, pre));
  }

  @Override
  public int compareTo(Version o) {
    for (int i = 0; i < 4; i++) {
      int c = Integer.compare(number(i), o.number(i));
      if (c != 0) {
        return c;
      }
    }
    int c = Integer.compare(numbers.size(), o.numbers.size());
    if (c != 0) {
      return c;
    }
    // A pre-release sorts before its release (SemVer §11.3).
    if (preRelease.isEmpty() || o.preRelease.isEmpty()) {
      return Boolean.compare(preRelease.isEmpty(), o.preRelease.isEmpty());
    }
    for (int i = 0; i < Math.min(preRelease.size(), o.preRelease.size()); i++) {
      c = compareIdentifiers(preRelease.get(i), o.preRelease.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(preRelease.size(), o.preRelease.size());
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder();
    numbers.forEach(n -> s.append(s.isEmpty() ? "" : ".").append(n));
    if (!preRelease.isEmpty()) {
      s.append('-').append(String.join(".", preRelease));
    }
    return s.toString();
  }

  private int number(int i) {
    return i < numbers.size() ? numbers.get(i) : 0;
  }

  /** Numeric identifiers compare as numbers and sort before alphanumeric ones (SemVer §11.4). */
  private static int compareIdentifiers(String a, String b) {
    boolean an = numeric(a);
    boolean bn = numeric(b);
    if (an && bn) {
      return Integer.compare(Integer.parseInt(a), Integer.parseInt(b));
    }
    return an != bn ? (an ? -1 : 1) : a.compareTo(b);
  }

  private static boolean numeric(String id) {
    return id.chars().allMatch(c -> c >= '0' && c <= '9');
  }
}

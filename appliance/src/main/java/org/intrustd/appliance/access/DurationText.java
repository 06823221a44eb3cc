package org.intrustd.appliance.access;

import java.time.Duration;

/** Durations as people type them: a number and m, h, d or w ({@code 30m}, {@code 12h}, {@code 7d}, {@code 2w}). */
public final class DurationText {
  private DurationText() {}

  public static Duration parse(String text) {
    if (text == null || !text.matches("[1-9][0-9]{0,5}[mhdw]")) {
      throw new AccessException(400, "a duration is a number and m, h, d or w (e.g. 7d), not '" + text + "'");
    }
    long n = Long.parseLong(text.substring(0, text.length() - 1));
    return switch (text.charAt(text.length() - 1)) {
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      case 'd' -> Duration.ofDays(n);
      default -> Duration.ofDays(7 * n);
    };
  }
}

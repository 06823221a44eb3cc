package org.intrustd.appliance.settings;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;

/**
 * What the owner may change while the appliance runs (the admin app's Settings page,
 * {@code intrustd settings}): its friendly name and the flock it registers with. Saved in the
 * state directory, they outlive restarts and win over the command line's {@code --name} and
 * {@code --flock}, which only give the first values.
 */
public record Settings(String name, URI flock) {
  public Settings {
    name = validName(name);
    flock = validFlock(flock);
  }

  /** 1-64 printable characters, trimmed: what the flock protocol carries (flock.md). */
  public static String validName(String name) {
    String n = name == null ? "" : name.strip();
    if (n.isEmpty() || n.length() > 64 || n.chars().anyMatch(Character::isISOControl)) {
      throw new InvalidSettings("the name must be 1 to 64 printable characters");
    }
    return n;
  }

  /** A ws:// or wss:// URL with a host. */
  public static URI validFlock(URI flock) {
    if (flock == null || flock.getHost() == null || !("ws".equals(flock.getScheme()) || "wss".equals(flock.getScheme()))
        || flock.getRawUserInfo() != null || flock.getRawFragment() != null) {
      throw new InvalidSettings("the flock must be a ws:// or wss:// URL with a host, like wss://flock.example.org");
    }
    return flock;
  }

  /** Parses a flock URL as typed. */
  public static URI parseFlock(String text) {
    try {
      return validFlock(new URI(text.strip()));
    } catch (URISyntaxException | NullPointerException e) {
      throw new InvalidSettings("the flock must be a ws:// or wss:// URL with a host, like wss://flock.example.org");
    }
  }

  /** These settings with the given changes. */
  public Settings with(Optional<String> newName, Optional<URI> newFlock) {
    return new Settings(newName.orElse(name), newFlock.orElse(flock));
  }

  /** A value the owner may not set, with why. */
  public static final class InvalidSettings extends IllegalArgumentException {
    public InvalidSettings(String message) {
      super(message);
    }
  }
}

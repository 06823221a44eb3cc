package org.intrustd.appliance.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Optional;
import org.intrustd.appliance.personas.PersonaStore;

/**
 * The first-run claim: an appliance with no owner makes a one-time code at start-up (printed on
 * its console and in its log), and whoever presents it through a link becomes the owner. Until
 * then the appliance opens only the apps its operator made public on its command line. Adding
 * the owner locally ({@code intrustd persona add NAME --role owner}) claims it too. Thread-safe.
 */
public final class Claim {
  /** No 0/O, 1/I/L: read off a screen and typed by hand. */
  private static final String ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  private static final int LENGTH = 10;

  private final PersonaStore personas;
  private final java.util.List<Runnable> onClaimed = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile String code;

  private Claim(PersonaStore personas, String code) {
    this.personas = personas;
    this.code = code;
  }

  /** A claim for this appliance: with a fresh code when it has no owner yet. */
  public static Claim start(PersonaStore personas) {
    return new Claim(personas, personas.owner().isPresent() ? null : generate(new SecureRandom()));
  }

  static String generate(SecureRandom random) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < LENGTH; i++) {
      s.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return s.substring(0, 5) + "-" + s.substring(5);
  }

  /** Runs {@code listener} after a claim through {@link #claim} succeeds. */
  public void onClaimed(Runnable listener) {
    onClaimed.add(listener);
  }

  public boolean claimed() {
    return personas.owner().isPresent();
  }

  /** The code, while the appliance has no owner. */
  public Optional<String> code() {
    return claimed() ? Optional.empty() : Optional.ofNullable(code);
  }

  /**
   * Makes {@code name} the owner if {@code presented} is the code (case, spaces and dashes do
   * not matter). Refuses with 409 once claimed and 401 for a wrong code.
   */
  public synchronized PersonaStore.Persona claim(String presented, String name, String displayName, String password) {
    String expected = code;
    if (claimed() || expected == null) {
      throw new AccessException(409, "this appliance is claimed already: log in instead");
    }
    byte[] a = normalise(presented).getBytes(StandardCharsets.US_ASCII);
    byte[] b = normalise(expected).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(a, b)) {
      throw new AccessException(401, "wrong claim code: use the one the appliance printed when it started");
    }
    PersonaStore.Persona owner = personas.create(name, displayName, PersonaStore.Role.OWNER, password);
    code = null;
    onClaimed.forEach(Runnable::run);
    return owner;
  }

  static String normalise(String s) {
    return s.replaceAll("[\\s-]", "").toUpperCase(Locale.ROOT);
  }
}

package org.intrustd.appliance.personas;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The appliance's users (personas) in its SQLite database: a name people log in with, a display
 * name, a role (one owner; admins; members) and an Argon2id password hash. SQLite in WAL mode
 * with full sync: a persona that {@link #create} returned survives a crash. One connection,
 * one writer at a time. Every refusal is a {@link PersonaException} saying why.
 */
public final class PersonaStore implements AutoCloseable {
  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  public static final int MIN_PASSWORD = 8;
  public static final int MAX_PASSWORD = 1024;

  /** What a persona may do on the appliance as a whole. */
  public enum Role {
    OWNER, ADMIN, MEMBER;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Role parse(String text) {
      for (Role r : values()) {
        if (r.label().equals(text)) {
          return r;
        }
      }
      throw new PersonaException("unknown role '" + text + "': use owner, admin or member");
    }
  }

  public record Persona(String name, String displayName, Role role, Instant created) {}

  private final Connection db;
  private final PasswordHasher hasher = new PasswordHasher();
  /** Hashed when a name is unknown, so that a failed login takes as long either way. */
  private final String decoy;

  private PersonaStore(Connection db) {
    this.db = db;
    this.decoy = hasher.hash("decoy password, never matches");
  }

  /** Opens (creating if needed) the database file. */
  public static PersonaStore open(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Connection db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
      try (Statement s = db.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=FULL");
        s.execute("PRAGMA busy_timeout=5000");
        s.execute("""
            CREATE TABLE IF NOT EXISTS personas (
              name TEXT PRIMARY KEY,
              display_name TEXT NOT NULL,
              role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
              password_hash TEXT NOT NULL,
              created_at INTEGER NOT NULL)""");
        // The database itself keeps "one owner", whatever the code above it does.
        s.execute("CREATE UNIQUE INDEX IF NOT EXISTS one_owner ON personas(role) WHERE role = 'owner'");
      }
      return new PersonaStore(db);
    } catch (java.io.IOException | SQLException e) {
      throw new PersonaException("cannot open the persona database " + file + ": " + e.getMessage(), e);
    }
  }

  public synchronized Persona create(String name, String displayName, Role role, String password) {
    checkName(name);
    checkPassword(password);
    if (displayName.isBlank() || displayName.length() > 128) {
      throw new PersonaException("a display name has 1 to 128 characters");
    }
    Instant now = Instant.now();
    try (PreparedStatement ps = db.prepareStatement(
        "INSERT INTO personas(name, display_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)")) {
      ps.setString(1, name);
      ps.setString(2, displayName);
      ps.setString(3, role.label());
      ps.setString(4, hasher.hash(password));
      ps.setLong(5, now.toEpochMilli());
      ps.executeUpdate();
    } catch (SQLException e) {
      if (e.getMessage() != null && e.getMessage().contains("UNIQUE")) {
        throw new PersonaException(e.getMessage().contains("personas.role") ? "the appliance already has an owner"
            : "a persona named '" + name + "' exists already");
      }
      throw new PersonaException("cannot add persona '" + name + "': " + e.getMessage(), e);
    }
    return new Persona(name, displayName, role, Instant.ofEpochMilli(now.toEpochMilli()));
  }

  public synchronized List<Persona> list() {
    List<Persona> out = new ArrayList<>();
    try (Statement s = db.createStatement();
        ResultSet rs = s.executeQuery("SELECT name, display_name, role, created_at FROM personas ORDER BY name")) {
      while (rs.next()) {
        out.add(persona(rs));
      }
    } catch (SQLException e) {
      throw new PersonaException("cannot list personas: " + e.getMessage(), e);
    }
    return out;
  }

  public synchronized Optional<Persona> find(String name) {
    try (PreparedStatement ps = db.prepareStatement(
        "SELECT name, display_name, role, created_at FROM personas WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(persona(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new PersonaException("cannot read persona '" + name + "': " + e.getMessage(), e);
    }
  }

  public Optional<Persona> owner() {
    return list().stream().filter(p -> p.role() == Role.OWNER).findFirst();
  }

  /** The persona, if {@code password} is its password; an unknown name costs the same time. */
  public Optional<Persona> verify(String name, String password) {
    String stored = storedHash(name);
    boolean ok = hasher.verify(password, stored == null ? decoy : stored);
    return ok && stored != null ? find(name) : Optional.empty();
  }

  public synchronized void setPassword(String name, String password) {
    checkPassword(password);
    update("UPDATE personas SET password_hash = ? WHERE name = ?", hasher.hash(password), name);
  }

  /** Removes a persona; the owner cannot be removed (hand ownership over first). */
  public synchronized void remove(String name) {
    Persona p = find(name).orElseThrow(() -> new PersonaException("no persona named '" + name + "'"));
    if (p.role() == Role.OWNER) {
      throw new PersonaException("the owner cannot be removed");
    }
    update("DELETE FROM personas WHERE name = ?", name);
  }

  private synchronized String storedHash(String name) {
    try (PreparedStatement ps = db.prepareStatement("SELECT password_hash FROM personas WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new PersonaException("cannot read persona '" + name + "': " + e.getMessage(), e);
    }
  }

  private void update(String sql, String... args) {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 1, args[i]);
      }
      if (ps.executeUpdate() == 0) {
        throw new PersonaException("no persona named '" + args[args.length - 1] + "'");
      }
    } catch (SQLException e) {
      throw new PersonaException("cannot change persona: " + e.getMessage(), e);
    }
  }

  private static Persona persona(ResultSet rs) throws SQLException {
    return new Persona(rs.getString(1), rs.getString(2), Role.parse(rs.getString(3)), Instant.ofEpochMilli(rs.getLong(4)));
  }

  private static void checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new PersonaException("a persona name must match " + NAME.pattern() + ", not '" + name + "'");
    }
  }

  private static void checkPassword(String password) {
    int n = password.codePointCount(0, password.length());
    if (n < MIN_PASSWORD || n > MAX_PASSWORD) {
      throw new PersonaException("a password has " + MIN_PASSWORD + " to " + MAX_PASSWORD + " characters");
    }
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      throw new PersonaException("cannot close the persona database: " + e.getMessage(), e);
    }
  }
}

package org.intrustd.appliance.personas;

import java.nio.file.Path;
import java.sql.Connection;
import org.intrustd.appliance.db.Sqlite;
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
      Connection db = Sqlite.open(file, true);
      try (Statement s = db.createStatement()) {
        s.execute("""
            CREATE TABLE IF NOT EXISTS personas (
              name TEXT PRIMARY KEY,
              display_name TEXT NOT NULL,
              role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
              password_hash TEXT NOT NULL,
              created_at INTEGER NOT NULL)""");
        if (!columns(s, "personas").contains("avatar")) {
          s.execute("ALTER TABLE personas ADD COLUMN avatar BLOB");
        }
        // The database itself keeps "one owner", whatever the code above it does.
        s.execute("CREATE UNIQUE INDEX IF NOT EXISTS one_owner ON personas(role) WHERE role = 'owner'");
      }
      return new PersonaStore(db);
    } catch (java.io.IOException | SQLException e) {
      throw new PersonaException("cannot open the persona database " + file + ": " + e.getMessage(), e);
    }
  }

  private static java.util.Set<String> columns(Statement s, String table) throws SQLException {
    java.util.Set<String> out = new java.util.HashSet<>();
    try (ResultSet rs = s.executeQuery("PRAGMA table_info(" + table + ")")) {
      while (rs.next()) {
        out.add(rs.getString("name"));
      }
    }
    return out;
  }

  /** The largest avatar kept: a small picture for a login screen, not a photo. */
  public static final int MAX_AVATAR = 48 * 1024;

  /** An avatar image and its media type. */
  public record Avatar(String type, byte[] data) {}

  /** Sets (or, with null, removes) a persona's avatar: a PNG, JPEG or WebP of at most {@link #MAX_AVATAR} bytes. */
  public synchronized void setAvatar(String name, byte[] image) {
    if (image != null) {
      if (image.length > MAX_AVATAR) {
        throw new PersonaException("an avatar is at most " + MAX_AVATAR / 1024 + " KiB");
      }
      mediaType(image).orElseThrow(() -> new PersonaException("an avatar is a PNG, JPEG or WebP image"));
    }
    try (PreparedStatement ps = db.prepareStatement("UPDATE personas SET avatar = ? WHERE name = ?")) {
      ps.setBytes(1, image);
      ps.setString(2, name);
      if (ps.executeUpdate() == 0) {
        throw new PersonaException("no persona named '" + name + "'");
      }
    } catch (SQLException e) {
      throw new PersonaException("cannot change persona: " + e.getMessage(), e);
    }
  }

  public synchronized Optional<Avatar> avatar(String name) {
    try (PreparedStatement ps = db.prepareStatement("SELECT avatar FROM personas WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        byte[] data = rs.next() ? rs.getBytes(1) : null;
        return data == null ? Optional.empty() : mediaType(data).map(t -> new Avatar(t, data));
      }
    } catch (SQLException e) {
      throw new PersonaException("cannot read persona '" + name + "': " + e.getMessage(), e);
    }
  }

  /** The image type from the file's magic bytes; only the three formats every browser shows. */
  static Optional<String> mediaType(byte[] b) {
    if (b.length > 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
      return Optional.of("image/png");
    }
    if (b.length > 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
      return Optional.of("image/jpeg");
    }
    if (b.length > 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E'
        && b[10] == 'B' && b[11] == 'P') {
      return Optional.of("image/webp");
    }
    return Optional.empty();
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

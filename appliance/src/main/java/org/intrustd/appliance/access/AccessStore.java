package org.intrustd.appliance.access;

import java.nio.file.Path;
import java.sql.Connection;
import org.intrustd.appliance.db.Sqlite;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.intrustd.core.access.Permission;

/**
 * Who holds what, in the appliance's SQLite database (the same file as the personas, WAL with
 * full sync, so a token or session this returned survives kill -9): grants to personas and to
 * {@code anyone}, tokens (share links) and login sessions. Secrets are stored only as SHA-256
 * hashes ({@link Secrets}). Revoked tokens and sessions are kept, marked, so the access log can
 * still name them. Thread-safe: one connection, one caller at a time.
 */
public final class AccessStore implements AutoCloseable {
  static final String TOKEN_PREFIX = "it1";
  static final String SESSION_PREFIX = "is1";
  /** A session not used for this long ends; each use pushes the end back. */
  public static final Duration SESSION_IDLE = Duration.ofDays(30);
  /** An enrolled device (docs/spec/devices.md) is a session that lasts this long unused: a laptop may sleep for months. */
  public static final Duration DEVICE_IDLE = Duration.ofDays(365);
  /** Enrolment requests the owner has not answered wait this long. */
  public static final Duration REQUEST_WAIT = Duration.ofHours(1);
  /** At most this many requests wait at once: a stranger cannot fill the owner's list. */
  public static final int MAX_REQUESTS = 32;
  public static final int MAX_TOKEN_PERMISSIONS = 32;
  public static final String ANYONE = "anyone";

  /** The subject of a grant to persona {@code name}. */
  public static String persona(String name) {
    return "persona:" + name;
  }

  public record Token(String id, List<Permission> permissions, Optional<String> persona, String label, String creator,
      Optional<String> createdFromApp, Instant created, Optional<Instant> expires, OptionalLong maxUses, long uses,
      Optional<Instant> revoked) {

    /** Why this token cannot be used at {@code now}, or empty when it can be. */
    public Optional<String> refusal(Instant now) {
      if (revoked.isPresent()) {
        return Optional.of("this token was revoked");
      }
      if (expires.isPresent() && !now.isBefore(expires.get())) {
        return Optional.of("this token expired at " + expires.get());
      }
      return Optional.empty();
    }
  }

  /** What a new token grants and to whom; {@code permissions} must not be empty. */
  public record TokenSpec(List<Permission> permissions, Optional<String> persona, String label, String creator,
      Optional<String> createdFromApp, Optional<Instant> expires, OptionalLong maxUses) {}

  /** A token just minted: {@code secret} is shown once and never stored. */
  public record MintedToken(String secret, Token token) {}

  /** A login session ({@code device} false: a browser or a one-off CLI login) or an enrolled device. */
  public record Session(String id, String persona, byte[] deviceKey, String label, Instant created, Instant lastUsed,
      Instant expires, boolean device) {}

  /** A paired appliance (docs/spec/peers.md): what it may open here. */
  public record Peer(String id, String name, List<String> allow, Instant paired, Optional<Instant> lastSeen) {}

  /** A pairing invitation: its code is shown once, only its hash is kept. */
  public record Invite(String code, List<String> allow, Instant expires) {}

  /** Pairing invitations last this long. */
  public static final Duration INVITE_WAIT = Duration.ofHours(1);
  private static final int MAX_INVITES = 16;

  /** A device waiting for the owner's approval; {@code id} is the id its session will have. */
  public record DeviceRequest(String id, String code, byte[] deviceKey, String label, Instant requested, Instant expires) {}

  /** A session just created: {@code secret} goes to the client once and is never stored. */
  public record NewSession(String secret, Session session) {}

  private final Connection db;
  private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  private AccessStore(Connection db) {
    this.db = db;
  }

  public static AccessStore open(Path file) {
    try {
      Connection db = Sqlite.open(file, true);
      try (Statement s = db.createStatement()) {
        s.execute("""
            CREATE TABLE IF NOT EXISTS grants (
              subject TEXT NOT NULL,
              permission TEXT NOT NULL,
              granted_at INTEGER NOT NULL,
              PRIMARY KEY (subject, permission))""");
        s.execute("""
            CREATE TABLE IF NOT EXISTS tokens (
              id TEXT PRIMARY KEY,
              hash BLOB NOT NULL UNIQUE,
              permissions TEXT NOT NULL,
              persona TEXT,
              label TEXT NOT NULL,
              creator TEXT NOT NULL,
              created_from_app TEXT,
              created_at INTEGER NOT NULL,
              expires_at INTEGER,
              max_uses INTEGER CHECK (max_uses IS NULL OR max_uses > 0),
              uses INTEGER NOT NULL DEFAULT 0,
              revoked_at INTEGER,
              CHECK (max_uses IS NULL OR uses <= max_uses))""");
        s.execute("""
            CREATE TABLE IF NOT EXISTS sessions (
              id TEXT PRIMARY KEY,
              hash BLOB NOT NULL UNIQUE,
              persona TEXT NOT NULL,
              device_key BLOB NOT NULL,
              label TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              last_used INTEGER NOT NULL,
              expires_at INTEGER NOT NULL,
              revoked_at INTEGER)""");
        s.execute("CREATE INDEX IF NOT EXISTS sessions_by_persona ON sessions(persona)");
        if (!hasColumn(db, "sessions", "kind")) { // databases made before devices existed
          s.execute("ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'login'");
        }
        s.execute("""
            CREATE TABLE IF NOT EXISTS peers (
              id TEXT PRIMARY KEY,
              name TEXT NOT NULL,
              allow TEXT NOT NULL,
              paired_at INTEGER NOT NULL,
              last_seen INTEGER)""");
        s.execute("""
            CREATE TABLE IF NOT EXISTS pair_invites (
              hash BLOB PRIMARY KEY,
              allow TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              expires_at INTEGER NOT NULL)""");
        s.execute("""
            CREATE TABLE IF NOT EXISTS device_requests (
              id TEXT PRIMARY KEY,
              hash BLOB NOT NULL UNIQUE,
              code TEXT NOT NULL UNIQUE,
              device_key BLOB NOT NULL,
              label TEXT NOT NULL,
              requested_at INTEGER NOT NULL,
              expires_at INTEGER NOT NULL)""");
      }
      return new AccessStore(db);
    } catch (java.io.IOException | SQLException e) {
      throw new AccessException(500, "cannot open the access database " + file + ": " + e.getMessage(), -1, e);
    }
  }

  /** Runs {@code listener} after every revocation (of a grant, token, session or persona). */
  public void onRevoke(Runnable listener) {
    listeners.add(listener);
  }

  private void revoked() {
    listeners.forEach(Runnable::run);
  }

  // ------------------------------------------------------------------ grants

  /** Grants {@code permission} to {@code subject} ({@link #persona} or {@link #ANYONE}); granting twice is harmless. */
  public synchronized void grant(String subject, Permission permission) {
    try (PreparedStatement ps = db.prepareStatement(
        "INSERT OR IGNORE INTO grants(subject, permission, granted_at) VALUES (?, ?, ?)")) {
      ps.setString(1, subject);
      ps.setString(2, permission.toString());
      ps.setLong(3, System.currentTimeMillis());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw storage("grant", e);
    }
  }

  /** Whether there was such a grant to remove. */
  public synchronized boolean revokeGrant(String subject, Permission permission) {
    boolean removed = update("DELETE FROM grants WHERE subject = ? AND permission = ?", subject, permission.toString()) > 0;
    revoked();
    return removed;
  }

  public synchronized List<Permission> grantsOf(String subject) {
    List<Permission> out = new ArrayList<>();
    try (PreparedStatement ps = db.prepareStatement("SELECT permission FROM grants WHERE subject = ? ORDER BY permission")) {
      ps.setString(1, subject);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Permission.tryParse(rs.getString(1)).ifPresent(out::add);
        }
      }
    } catch (SQLException e) {
      throw storage("read grants", e);
    }
    return out;
  }

  /** A persona is gone: its grants go, its sessions and the tokens acting as it are revoked. */
  public synchronized void forgetPersona(String name) {
    long now = System.currentTimeMillis();
    update("DELETE FROM grants WHERE subject = ?", persona(name));
    update("UPDATE sessions SET revoked_at = ? WHERE persona = ? AND revoked_at IS NULL", now, name);
    update("UPDATE tokens SET revoked_at = ? WHERE persona = ? AND revoked_at IS NULL", now, name);
    revoked();
  }

  // ------------------------------------------------------------------ tokens

  public synchronized MintedToken mint(TokenSpec spec) {
    if (spec.permissions().isEmpty() || spec.permissions().size() > MAX_TOKEN_PERMISSIONS) {
      throw new AccessException(400, "a token grants 1 to " + MAX_TOKEN_PERMISSIONS + " permissions");
    }
    if (spec.label().isBlank() || spec.label().length() > 200) {
      throw new AccessException(400, "a token's label has 1 to 200 characters");
    }
    if (spec.maxUses().isPresent() && spec.maxUses().getAsLong() < 1) {
      throw new AccessException(400, "maxUses must be at least 1");
    }
    Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
    if (spec.expires().isPresent() && !spec.expires().get().isAfter(now)) {
      throw new AccessException(400, "the expiry " + spec.expires().get() + " is in the past");
    }
    Secrets.Minted secret = Secrets.mint(TOKEN_PREFIX);
    try (PreparedStatement ps = db.prepareStatement("""
        INSERT INTO tokens(id, hash, permissions, persona, label, creator, created_from_app, created_at, expires_at,
          max_uses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
      ps.setString(1, secret.id());
      ps.setBytes(2, secret.hash());
      ps.setString(3, String.join(" ", spec.permissions().stream().map(Permission::toString).toList()));
      setOptional(ps, 4, spec.persona());
      ps.setString(5, spec.label());
      ps.setString(6, spec.creator());
      setOptional(ps, 7, spec.createdFromApp());
      ps.setLong(8, now.toEpochMilli());
      if (spec.expires().isPresent()) {
        ps.setLong(9, spec.expires().get().toEpochMilli());
      } else {
        ps.setNull(9, Types.INTEGER);
      }
      if (spec.maxUses().isPresent()) {
        ps.setLong(10, spec.maxUses().getAsLong());
      } else {
        ps.setNull(10, Types.INTEGER);
      }
      ps.executeUpdate();
    } catch (SQLException e) {
      throw storage("mint a token", e);
    }
    return new MintedToken(secret.text(), token(secret.id()).orElseThrow());
  }

  /**
   * Presents a token: counts one use and returns it, or refuses (401) an unknown, revoked,
   * expired or used-up one, saying which. The count and the checks are one statement, so
   * concurrent presentations never exceed {@code maxUses}.
   */
  public synchronized Token redeem(String secret, Instant now) {
    byte[] hash = Secrets.hash(TOKEN_PREFIX, secret)
        .orElseThrow(() -> new AccessException(401, "this is not an Intrustd token"));
    try (PreparedStatement ps = db.prepareStatement("""
        UPDATE tokens SET uses = uses + 1 WHERE hash = ? AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR uses < max_uses)""")) {
      ps.setBytes(1, hash);
      ps.setLong(2, now.toEpochMilli());
      if (ps.executeUpdate() == 1) {
        return token(Secrets.idOf(hash)).orElseThrow();
      }
    } catch (SQLException e) {
      throw storage("use a token", e);
    }
    Token t = token(Secrets.idOf(hash))
        .filter(x -> Arrays.equals(hashOf(x.id()), hash))
        .orElseThrow(() -> new AccessException(401, "unknown token: it was never issued by this appliance"));
    String why = t.refusal(now).orElse("this token has been used its " + t.maxUses().orElse(0) + " times");
    throw new AccessException(401, why);
  }

  public synchronized Optional<Token> token(String id) {
    List<Token> found = tokens("WHERE id = ?", id);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  /** All tokens, newest first; revoked ones only when asked. */
  public synchronized List<Token> tokens(boolean includeRevoked) {
    return tokens(includeRevoked ? "" : "WHERE revoked_at IS NULL");
  }

  /** Whether a token that was not yet revoked is revoked now. */
  public synchronized boolean revokeToken(String id) {
    boolean done = update("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        System.currentTimeMillis(), id) > 0;
    revoked();
    return done;
  }

  private byte[] hashOf(String id) {
    try (PreparedStatement ps = db.prepareStatement("SELECT hash FROM tokens WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getBytes(1) : new byte[0];
      }
    } catch (SQLException e) {
      throw storage("read a token", e);
    }
  }

  private List<Token> tokens(String where, Object... args) {
    List<Token> out = new ArrayList<>();
    try (PreparedStatement ps = db.prepareStatement("""
        SELECT id, permissions, persona, label, creator, created_from_app, created_at, expires_at, max_uses, uses,
          revoked_at FROM tokens\s""" + where + " ORDER BY created_at DESC, id")) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          List<Permission> perms = new ArrayList<>();
          for (String p : rs.getString(2).split(" ")) {
            Permission.tryParse(p).ifPresent(perms::add);
          }
          out.add(new Token(rs.getString(1), List.copyOf(perms), Optional.ofNullable(rs.getString(3)), rs.getString(4),
              rs.getString(5), Optional.ofNullable(rs.getString(6)), Instant.ofEpochMilli(rs.getLong(7)),
              instant(rs, 8), optionalLong(rs, 9), rs.getLong(10), instant(rs, 11)));
        }
      }
    } catch (SQLException e) {
      throw storage("read tokens", e);
    }
    return out;
  }

  // ------------------------------------------------------------------ sessions

  /** A new login session for {@code persona}, bound to the client's device key (SPKI bytes). */
  public synchronized NewSession createSession(String persona, byte[] deviceKey, String label) {
    Secrets.Minted secret = Secrets.mint(SESSION_PREFIX);
    insertSession(secret.id(), secret.hash(), persona, deviceKey, label, false);
    return new NewSession(secret.text(), session(secret.id()).orElseThrow());
  }

  private void insertSession(String id, byte[] hash, String persona, byte[] deviceKey, String label, boolean device) {
    long now = System.currentTimeMillis();
    try (PreparedStatement ps = db.prepareStatement("""
        INSERT INTO sessions(id, hash, persona, device_key, label, created_at, last_used, expires_at, kind)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
      ps.setString(1, id);
      ps.setBytes(2, hash);
      ps.setString(3, persona);
      ps.setBytes(4, deviceKey);
      ps.setString(5, label);
      ps.setLong(6, now);
      ps.setLong(7, now);
      ps.setLong(8, now + (device ? DEVICE_IDLE : SESSION_IDLE).toMillis());
      ps.setString(9, device ? "device" : "login");
      ps.executeUpdate();
    } catch (SQLException e) {
      throw storage("create a session", e);
    }
  }

  /** The live session whose secret this is, with its idle expiry pushed back; 401 otherwise. */
  public synchronized Session resume(String secret, Instant now) {
    byte[] hash = Secrets.hash(SESSION_PREFIX, secret)
        .orElseThrow(() -> new AccessException(401, "this is not an Intrustd session"));
    String id = Secrets.idOf(hash);
    try (PreparedStatement ps = db.prepareStatement("""
        UPDATE sessions SET last_used = ?, expires_at = ? + CASE kind WHEN 'device' THEN ? ELSE ? END
        WHERE hash = ? AND revoked_at IS NULL AND expires_at > ?""")) {
      ps.setLong(1, now.toEpochMilli());
      ps.setLong(2, now.toEpochMilli());
      ps.setLong(3, DEVICE_IDLE.toMillis());
      ps.setLong(4, SESSION_IDLE.toMillis());
      ps.setBytes(5, hash);
      ps.setLong(6, now.toEpochMilli());
      if (ps.executeUpdate() == 1) {
        return sessions("WHERE id = ?", id).get(0);
      }
    } catch (SQLException e) {
      throw storage("resume a session", e);
    }
    Optional<DeviceRequest> waiting = deviceRequest(id, now);
    if (waiting.isPresent()) {
      throw new AccessException(403, "this device waits for the owner's approval (code " + waiting.get().code() + ")");
    }
    throw new AccessException(401, "the session has ended (logged out, revoked or unused for "
        + SESSION_IDLE.toDays() + " days): log in again");
  }

  /** A session that has not ended. */
  public synchronized Optional<Session> session(String id) {
    List<Session> found = sessions("WHERE id = ? AND revoked_at IS NULL AND expires_at > ?", id,
        System.currentTimeMillis());
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  /** Live sessions, of one persona or of all. */
  public synchronized List<Session> sessions(Optional<String> persona) {
    long now = System.currentTimeMillis();
    return persona.isPresent()
        ? sessions("WHERE persona = ? AND revoked_at IS NULL AND expires_at > ?", persona.get(), now)
        : sessions("WHERE revoked_at IS NULL AND expires_at > ?", now);
  }

  public synchronized boolean revokeSession(String id) {
    boolean done = update("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        System.currentTimeMillis(), id) > 0;
    revoked();
    return done;
  }

  /** Revokes every session of {@code persona} but {@code except}; returns how many. */
  public synchronized int revokeSessionsOf(String persona, Optional<String> except) {
    int n = update("UPDATE sessions SET revoked_at = ? WHERE persona = ? AND revoked_at IS NULL AND id != ?",
        System.currentTimeMillis(), persona, except.orElse(""));
    revoked();
    return n;
  }

  private List<Session> sessions(String where, Object... args) {
    List<Session> out = new ArrayList<>();
    try (PreparedStatement ps = db.prepareStatement("""
        SELECT id, persona, device_key, label, created_at, last_used, expires_at, kind FROM sessions\s"""
        + where + " ORDER BY last_used DESC")) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Session(rs.getString(1), rs.getString(2), rs.getBytes(3), rs.getString(4),
              Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)), Instant.ofEpochMilli(rs.getLong(7)),
              "device".equals(rs.getString(8))));
        }
      }
    } catch (SQLException e) {
      throw storage("read sessions", e);
    }
    return out;
  }

  // ------------------------------------------------------------------ devices

  /**
   * Records that a device asks to be enrolled (docs/spec/devices.md): its key, and the hash of
   * the session secret it chose. Asking again with the same secret is the same request. 429 when
   * {@link #MAX_REQUESTS} wait already, 409 when that secret is a session's already.
   */
  public synchronized DeviceRequest requestDevice(byte[] deviceKey, byte[] sessionHash, String label, Instant now) {
    String id = Secrets.idOf(sessionHash);
    update("DELETE FROM device_requests WHERE expires_at <= ?", now.toEpochMilli());
    Optional<DeviceRequest> existing = deviceRequest(id, now);
    if (existing.isPresent()) {
      if (!Arrays.equals(existing.get().deviceKey(), deviceKey)) {
        throw new AccessException(409, "another device asked with that session already");
      }
      return existing.get();
    }
    if (!sessions("WHERE id = ?", id).isEmpty()) {
      throw new AccessException(409, "that session exists already: resume it, or enrol with a new one");
    }
    if (deviceRequests(now).size() >= MAX_REQUESTS) {
      throw new AccessException(429, MAX_REQUESTS + " devices wait for approval already; try again when the owner"
          + " has answered them", 60, null);
    }
    String code = DeviceCode.of(deviceKey, sessionHash);
    try (PreparedStatement ps = db.prepareStatement("""
        INSERT INTO device_requests(id, hash, code, device_key, label, requested_at, expires_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)""")) {
      ps.setString(1, id);
      ps.setBytes(2, sessionHash);
      ps.setString(3, code);
      ps.setBytes(4, deviceKey);
      ps.setString(5, label);
      ps.setLong(6, now.toEpochMilli());
      ps.setLong(7, now.plus(REQUEST_WAIT).toEpochMilli());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw storage("record a device request", e); // a code shared by two keys: ~1 in 10^12, and the caller may retry
    }
    return deviceRequest(id, now).orElseThrow();
  }

  /** The requests still waiting, oldest first. */
  public synchronized List<DeviceRequest> deviceRequests(Instant now) {
    return deviceRequests("WHERE expires_at > ? ORDER BY requested_at", now.toEpochMilli());
  }

  /** A waiting request by its id or its code (as typed: case, spaces and dashes do not matter). */
  public synchronized Optional<DeviceRequest> deviceRequest(String idOrCode, Instant now) {
    List<DeviceRequest> found = deviceRequests("WHERE (id = ? OR code = ?) AND expires_at > ?", idOrCode,
        DeviceCode.normalise(idOrCode), now.toEpochMilli());
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  /** Approves a waiting request: the device's session for {@code persona} exists from now on. */
  public synchronized Session approveDevice(DeviceRequest request, String persona) {
    byte[] hash;
    try (PreparedStatement ps = db.prepareStatement("SELECT hash FROM device_requests WHERE id = ?")) {
      ps.setString(1, request.id());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new AccessException(404, "no device waits with id '" + request.id() + "'");
        }
        hash = rs.getBytes(1);
      }
    } catch (SQLException e) {
      throw storage("read a device request", e);
    }
    update("DELETE FROM device_requests WHERE id = ?", request.id());
    insertSession(request.id(), hash, persona, request.deviceKey(), request.label(), true);
    return session(request.id()).orElseThrow();
  }

  /** Turns a waiting request down; whether there was one. */
  public synchronized boolean rejectDevice(String id) {
    return update("DELETE FROM device_requests WHERE id = ?", id) > 0;
  }

  private List<DeviceRequest> deviceRequests(String where, Object... args) {
    List<DeviceRequest> out = new ArrayList<>();
    try (PreparedStatement ps = db.prepareStatement(
        "SELECT id, code, device_key, label, requested_at, expires_at FROM device_requests " + where)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new DeviceRequest(rs.getString(1), rs.getString(2), rs.getBytes(3), rs.getString(4),
              Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6))));
        }
      }
    } catch (SQLException e) {
      throw storage("read device requests", e);
    }
    return out;
  }

  // ------------------------------------------------------------------ peers

  /**
   * A new one-time pairing code (a claim-style code, 10 symbols) that lets the appliance that
   * presents it pair with this one and open {@code allow}. 429 while {@value #MAX_INVITES} are live.
   */
  public synchronized Invite invite(List<String> allow, Instant now) {
    update("DELETE FROM pair_invites WHERE expires_at <= ?", now.toEpochMilli());
    if (count("SELECT COUNT(*) FROM pair_invites") >= MAX_INVITES) {
      throw new AccessException(429, MAX_INVITES + " pairing codes are live already; they lapse after "
          + INVITE_WAIT.toMinutes() + " minutes", 60, null);
    }
    String code = Claim.generate(new java.security.SecureRandom());
    Instant expires = Instant.ofEpochMilli(now.plus(INVITE_WAIT).toEpochMilli()); // as stored
    update("INSERT INTO pair_invites(hash, allow, created_at, expires_at) VALUES (?, ?, ?, ?)",
        inviteHash(code), String.join(" ", allow), now.toEpochMilli(), expires.toEpochMilli());
    return new Invite(code, List.copyOf(allow), expires);
  }

  /** Uses up a live pairing code: what it lets the peer open; empty for a wrong or lapsed code. */
  public synchronized Optional<List<String>> redeemInvite(String code, Instant now) {
    byte[] hash = inviteHash(code);
    try (PreparedStatement ps = db.prepareStatement("SELECT allow FROM pair_invites WHERE hash = ? AND expires_at > ?")) {
      ps.setBytes(1, hash);
      ps.setLong(2, now.toEpochMilli());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        List<String> allow = apps(rs.getString(1));
        update("DELETE FROM pair_invites WHERE hash = ?", hash);
        return Optional.of(allow);
      }
    } catch (SQLException e) {
      throw storage("redeem a pairing code", e);
    }
  }

  /** The live pairing codes (their hashes: codes are shown once), soonest to lapse first. */
  public synchronized List<Instant> inviteExpiries(Instant now) {
    List<Instant> out = new ArrayList<>();
    try (PreparedStatement ps = db.prepareStatement(
        "SELECT expires_at FROM pair_invites WHERE expires_at > ? ORDER BY expires_at")) {
      ps.setLong(1, now.toEpochMilli());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(Instant.ofEpochMilli(rs.getLong(1)));
        }
      }
    } catch (SQLException e) {
      throw storage("read pairing codes", e);
    }
    return out;
  }

  /** Records (or renews) a pairing; channels it no longer allows close at once. */
  public synchronized void pair(String id, String name, List<String> allow, Instant now) {
    update("""
        INSERT INTO peers(id, name, allow, paired_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET name = excluded.name, allow = excluded.allow""",
        id, name, String.join(" ", allow), now.toEpochMilli());
    revoked();
  }

  public synchronized Optional<Peer> peer(String id) {
    List<Peer> found = peers("WHERE id = ?", id);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  public synchronized List<Peer> peers() {
    return peers("ORDER BY paired_at");
  }

  /** Changes what a peer may open; whether it is paired. */
  public synchronized boolean allowPeer(String id, List<String> allow) {
    boolean done = update("UPDATE peers SET allow = ? WHERE id = ?", String.join(" ", allow), id) > 0;
    revoked();
    return done;
  }

  /** Forgets a peer; its channels close at once. Whether it was paired. */
  public synchronized boolean unpair(String id) {
    boolean done = update("DELETE FROM peers WHERE id = ?", id) > 0;
    revoked();
    return done;
  }

  /** The peer linked just now (shown to the owner). */
  public synchronized void peerSeen(String id, Instant now) {
    update("UPDATE peers SET last_seen = ? WHERE id = ?", now.toEpochMilli(), id);
  }

  private List<Peer> peers(String where, Object... args) {
    List<Peer> out = new ArrayList<>();
    try (PreparedStatement ps = db.prepareStatement("SELECT id, name, allow, paired_at, last_seen FROM peers " + where)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Peer(rs.getString(1), rs.getString(2), apps(rs.getString(3)), Instant.ofEpochMilli(rs.getLong(4)),
              instant(rs, 5)));
        }
      }
    } catch (SQLException e) {
      throw storage("read peers", e);
    }
    return out;
  }

  private static List<String> apps(String spaced) {
    return spaced.isBlank() ? List.of() : List.of(spaced.trim().split(" +"));
  }

  private static byte[] inviteHash(String code) {
    return Secrets.sha256(("intrustd/pair/v1\n" + Claim.normalise(code)).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }

  private long count(String sql) {
    try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getLong(1) : 0;
    } catch (SQLException e) {
      throw storage("count", e);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static boolean hasColumn(Connection db, String table, String column) throws SQLException {
    try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("PRAGMA table_info(" + table + ")")) {
      while (rs.next()) {
        if (rs.getString("name").equals(column)) {
          return true;
        }
      }
    }
    return false;
  }

  private int update(String sql, Object... args) {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      bind(ps, args);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw storage("update", e);
    }
  }

  private static void bind(PreparedStatement ps, Object... args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i]);
    }
  }

  private static void setOptional(PreparedStatement ps, int index, Optional<String> value) throws SQLException {
    if (value.isPresent()) {
      ps.setString(index, value.get());
    } else {
      ps.setNull(index, Types.VARCHAR);
    }
  }

  private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
  }

  private static OptionalLong optionalLong(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(v);
  }

  private static AccessException storage(String what, SQLException e) {
    return new AccessException(500, "cannot " + what + ": " + e.getMessage(), -1, e);
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      throw storage("close the access database", e);
    }
  }
}
